-- title: Lambda layers published or added to functions
-- severity: medium
-- description: A layer version was published, or a function was created or reconfigured with
-- layers. Layer code runs inside the function with its role: a layer from another account
-- (foreign_layer) runs code the account does not control.

-- Event names carry the API version (PublishLayerVersion20181031,
-- UpdateFunctionConfiguration20150331v2, CreateFunction20150331, …). CloudTrail shows the
-- layers a call sets, not the ones the function had before, so an update that re-sends an
-- unchanged layer list is reported too; an update that clears the list (layers = []) is not.
-- Only calls that succeeded are reported.
WITH changed AS (
  SELECT
    eventtime,
    eventid,
    coalesce(useridentity.arn, useridentity.principalid, useridentity.invokedby) AS principal,
    sourceipaddress,
    awsregion,
    eventname,
    json_extract_scalar(requestparameters, '$.functionName') AS function_name,
    json_extract_scalar(requestparameters, '$.layerName') AS layer_name,
    coalesce(json_extract(requestparameters, '$.layers'),
             json_extract_scalar(responseelements, '$.layerVersionArn')) AS layers,
    coalesce(regexp_extract(json_extract_scalar(requestparameters, '$.functionName'),
                           '(?:^|:)(\d{12}):function:', 1),
             recipientaccountid, useridentity.accountid) AS account
  FROM cloudtrail
  WHERE eventtime >= $since AND eventtime < $until
    AND eventsource = 'lambda.amazonaws.com'
    AND errorcode IS NULL
    AND (regexp_like(eventname, '^PublishLayerVersion(\d{8}(v\d+)?)?$')
         OR (regexp_like(eventname,
               '^(CreateFunction|UpdateFunctionConfiguration)(\d{8}(v\d+)?)?$')
             AND json_extract(requestparameters, '$.layers') IS NOT NULL
             AND json_extract(requestparameters, '$.layers') <> '[]'))
)
SELECT
  eventtime,
  eventid,
  principal,
  sourceipaddress,
  awsregion,
  eventname,
  function_name,
  layer_name,
  layers,
  strpos(replace(coalesce(layers, ''), ':' || account || ':layer:', ''), ':layer:') > 0
    AS foreign_layer
FROM changed
ORDER BY eventtime, eventid
