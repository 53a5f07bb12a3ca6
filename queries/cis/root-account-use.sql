-- title: Root account used
-- severity: high
-- controls: CIS AWS 1.2.0 1.1; CIS AWS 1.2.0 3.3; CIS AWS 1.4.0 1.7; CIS AWS 1.4.0 4.3; CIS AWS 1.5.0 4.3; CIS AWS 3.0.0 4.3; CIS AWS 4.0.0 4.3; CIS AWS 5.0.0 4.3; Security Hub CloudWatch.1
-- description: Calls and sign-ins made with the root user's own credentials. Root credentials
-- should never be used for daily work; each use deserves an explanation.

-- Published filter (Security Hub CloudWatch.1; CIS 1.2.0 3.3, 1.4.0+ 4.3):
--   { $.userIdentity.type = "Root" && $.userIdentity.invokedBy NOT EXISTS
--     && $.eventType != "AwsServiceEvent" }
-- Where SQL differs from the filter:
-- * invokedBy NOT EXISTS is IS NULL. The lake stores an explicit "invokedBy": null as NULL too
--   (the null itself is kept in `unmapped`), which CloudWatch's NOT EXISTS would not match; such
--   records are not known to occur.
-- * eventType != "AwsServiceEvent": like CloudWatch's !=, SQL's <> does not match a record
--   without eventType (records of eventVersion 1.0/1.01 lack it), so those are not reported.
SELECT
  eventtime,
  eventid,
  coalesce(useridentity.arn, useridentity.principalid) AS principal,
  sourceipaddress,
  awsregion,
  eventsource,
  eventname,
  eventtype,
  errorcode,
  useridentity.accesskeyid AS accesskeyid,
  json_extract_scalar(additionaleventdata, '$.MFAUsed') AS mfa_used,
  useragent
FROM cloudtrail
WHERE eventtime >= $since AND eventtime < $until
  AND useridentity.type = 'Root'
  AND useridentity.invokedby IS NULL
  AND eventtype <> 'AwsServiceEvent'
ORDER BY eventtime, eventid
