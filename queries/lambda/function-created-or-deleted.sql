-- title: Lambda functions created or deleted
-- severity: low
-- description: Lambda functions created or deleted. A new function can be a foothold that runs
-- with a powerful role; a deleted one can be a service taken down or evidence removed.

-- Event names carry the API version (CreateFunction20150331, DeleteFunction20150331, …); the
-- regular expression takes the bare name and any version suffix, but not CreateFunctionUrlConfig
-- (see lambda/function-url-auth-none). Only calls that succeeded are reported.
SELECT
  eventtime,
  eventid,
  coalesce(useridentity.arn, useridentity.principalid, useridentity.invokedby) AS principal,
  sourceipaddress,
  awsregion,
  eventname,
  json_extract_scalar(requestparameters, '$.functionName') AS function_name,
  json_extract_scalar(requestparameters, '$.runtime') AS runtime,
  json_extract_scalar(requestparameters, '$.role') AS execution_role,
  json_extract_scalar(requestparameters, '$.handler') AS handler,
  json_extract(requestparameters, '$.layers') AS layers,
  useragent
FROM cloudtrail
WHERE eventtime >= $since AND eventtime < $until
  AND eventsource = 'lambda.amazonaws.com'
  AND regexp_like(eventname, '^(CreateFunction|DeleteFunction)(\d{8}(v\d+)?)?$')
  AND errorcode IS NULL
ORDER BY eventtime, eventid
