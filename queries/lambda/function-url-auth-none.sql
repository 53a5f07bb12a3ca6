-- title: Lambda function URL without authentication
-- severity: high
-- description: A function URL was created or changed with AuthType NONE: anyone on the internet
-- who knows the URL can invoke the function, with no AWS signature.

-- Event names carry the API version (CreateFunctionUrlConfig20211031,
-- UpdateFunctionUrlConfig20211031). AuthType AWS_IAM (signed requests only) is not reported,
-- nor are failed calls. A public function URL also needs a resource-policy statement for
-- lambda:InvokeFunctionUrl with principal "*" (see lambda/permission-public-or-foreign).
SELECT
  eventtime,
  eventid,
  coalesce(useridentity.arn, useridentity.principalid, useridentity.invokedby) AS principal,
  sourceipaddress,
  awsregion,
  eventname,
  json_extract_scalar(requestparameters, '$.functionName') AS function_name,
  json_extract_scalar(requestparameters, '$.qualifier') AS qualifier,
  json_extract_scalar(requestparameters, '$.authType') AS auth_type,
  json_extract_scalar(responseelements, '$.functionUrl') AS function_url,
  json_extract(requestparameters, '$.cors') AS cors
FROM cloudtrail
WHERE eventtime >= $since AND eventtime < $until
  AND eventsource = 'lambda.amazonaws.com'
  AND regexp_like(eventname, '^(CreateFunctionUrlConfig|UpdateFunctionUrlConfig)(\d{8}(v\d+)?)?$')
  AND json_extract_scalar(requestparameters, '$.authType') = 'NONE'
  AND errorcode IS NULL
ORDER BY eventtime, eventid
