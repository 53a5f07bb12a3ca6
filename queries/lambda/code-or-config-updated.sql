-- title: Lambda function code or configuration updated
-- severity: medium
-- description: New code deployed to a function, or its configuration changed (environment,
-- role, layers, handler, runtime, timeouts). Outside a deployment pipeline, this is how a
-- function gets backdoored.

-- Event names carry the API version (UpdateFunctionCode20150331v2,
-- UpdateFunctionConfiguration20150331v2, …). Only calls that succeeded are reported. Function
-- URL settings have their own query (lambda/function-url-auth-none).
SELECT
  eventtime,
  eventid,
  coalesce(useridentity.arn, useridentity.principalid, useridentity.invokedby) AS principal,
  sourceipaddress,
  awsregion,
  eventname,
  json_extract_scalar(requestparameters, '$.functionName') AS function_name,
  json_extract_scalar(requestparameters, '$.role') AS execution_role,
  json_extract(requestparameters, '$.layers') AS layers,
  coalesce(json_extract_scalar(requestparameters, '$.s3Bucket'),
           json_extract_scalar(requestparameters, '$.imageUri')) AS code_source,
  requestparameters,
  useragent
FROM cloudtrail
WHERE eventtime >= $since AND eventtime < $until
  AND eventsource = 'lambda.amazonaws.com'
  AND regexp_like(eventname, '^(UpdateFunctionCode|UpdateFunctionConfiguration)(\d{8}(v\d+)?)?$')
  AND errorcode IS NULL
ORDER BY eventtime, eventid
