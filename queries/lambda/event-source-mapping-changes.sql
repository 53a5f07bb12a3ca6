-- title: Lambda event source mappings changed
-- severity: low
-- description: Event source mappings (SQS, Kinesis, DynamoDB streams, Kafka, MQ … feeding a
-- function) created, updated or deleted. A new mapping hands a stream's records to a function;
-- a deleted or disabled one stops processing.

-- Event names carry the API version (CreateEventSourceMapping20150331, …). Only calls that
-- succeeded are reported.
SELECT
  eventtime,
  eventid,
  coalesce(useridentity.arn, useridentity.principalid, useridentity.invokedby) AS principal,
  sourceipaddress,
  awsregion,
  eventname,
  coalesce(json_extract_scalar(requestparameters, '$.functionName'),
           json_extract_scalar(responseelements, '$.functionArn')) AS function_name,
  coalesce(json_extract_scalar(requestparameters, '$.eventSourceArn'),
           json_extract_scalar(responseelements, '$.eventSourceArn')) AS event_source_arn,
  coalesce(json_extract_scalar(requestparameters, '$.uUID'),
           json_extract_scalar(requestparameters, '$.uuid'),
           json_extract_scalar(responseelements, '$.uUID')) AS mapping_uuid,
  json_extract_scalar(requestparameters, '$.enabled') AS enabled
FROM cloudtrail
WHERE eventtime >= $since AND eventtime < $until
  AND eventsource = 'lambda.amazonaws.com'
  AND regexp_like(eventname,
    '^(CreateEventSourceMapping|UpdateEventSourceMapping|DeleteEventSourceMapping)(\d{8}(v\d+)?)?$')
  AND errorcode IS NULL
ORDER BY eventtime, eventid
