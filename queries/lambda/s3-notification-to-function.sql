-- title: S3 bucket notifications sent to a Lambda function
-- severity: low
-- description: A bucket's event notifications were set to invoke a Lambda function
-- (PutBucketNotification or PutBucketNotificationConfiguration naming a function ARN). The
-- function then sees every matching object event; one in another account sees them too.

-- S3 records the configuration as it was sent, in either API's shape
-- (CloudFunctionConfiguration.CloudFunction or LambdaFunctionConfiguration.Function…), so the
-- function ARN is found by pattern in the request text rather than by one JSON path; the first
-- one is shown. A configuration that names no function (SNS/SQS only, or emptied) is not
-- reported. Only calls that succeeded are reported. foreign_function is true when the
-- function's account differs from the bucket owner's (the recipient account).
WITH notified AS (
  SELECT
    eventtime,
    eventid,
    coalesce(useridentity.arn, useridentity.principalid, useridentity.invokedby) AS principal,
    sourceipaddress,
    awsregion,
    eventname,
    json_extract_scalar(requestparameters, '$.bucketName') AS bucket,
    regexp_extract(requestparameters, '(arn:aws[a-z-]*:lambda:[^"\\,\]\}]+)', 1) AS function_arn,
    recipientaccountid,
    requestparameters
  FROM cloudtrail
  WHERE eventtime >= $since AND eventtime < $until
    AND eventsource = 's3.amazonaws.com'
    AND eventname LIKE 'PutBucketNotification%'
    AND errorcode IS NULL
)
SELECT
  eventtime,
  eventid,
  principal,
  sourceipaddress,
  awsregion,
  eventname,
  bucket,
  function_arn,
  split_part(function_arn, ':', 5) <> recipientaccountid AS foreign_function,
  requestparameters
FROM notified
WHERE function_arn IS NOT NULL
ORDER BY eventtime, eventid
