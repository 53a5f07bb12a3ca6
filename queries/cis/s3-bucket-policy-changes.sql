-- title: S3 bucket policy changes
-- severity: medium
-- controls: CIS AWS 1.2.0 3.8; CIS AWS 1.4.0 4.8; CIS AWS 1.5.0 4.8; CIS AWS 3.0.0 4.8; CIS AWS 4.0.0 4.8; CIS AWS 5.0.0 4.8; Security Hub CloudWatch.8
-- description: Changes to S3 bucket ACLs, policies, CORS, lifecycle and replication rules. A
-- policy or ACL change can make a bucket public; a replication rule can copy it elsewhere.

-- Published filter (Security Hub CloudWatch.8, CIS 1.2.0 3.8, 1.4.0+ 4.8):
--   { ($.eventSource = s3.amazonaws.com) && (($.eventName = PutBucketAcl)
--     || ($.eventName = PutBucketPolicy) || ($.eventName = PutBucketCors)
--     || ($.eventName = PutBucketLifecycle) || ($.eventName = PutBucketReplication)
--     || ($.eventName = DeleteBucketPolicy) || ($.eventName = DeleteBucketCors)
--     || ($.eventName = DeleteBucketLifecycle) || ($.eventName = DeleteBucketReplication)) }
-- Translated as it stands; failed calls are included (see errorcode).
SELECT
  eventtime,
  eventid,
  coalesce(useridentity.arn, useridentity.principalid, useridentity.invokedby) AS principal,
  sourceipaddress,
  awsregion,
  eventname,
  errorcode,
  json_extract_scalar(requestparameters, '$.bucketName') AS bucket,
  requestparameters
FROM cloudtrail
WHERE eventtime >= $since AND eventtime < $until
  AND eventsource = 's3.amazonaws.com'
  AND eventname IN (
    'PutBucketAcl', 'PutBucketPolicy', 'PutBucketCors', 'PutBucketLifecycle',
    'PutBucketReplication', 'DeleteBucketPolicy', 'DeleteBucketCors', 'DeleteBucketLifecycle',
    'DeleteBucketReplication')
ORDER BY eventtime, eventid
