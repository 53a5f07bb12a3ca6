-- title: CloudTrail configuration changes
-- severity: medium
-- controls: CIS AWS 1.2.0 3.5; CIS AWS 1.4.0 4.5; CIS AWS 1.5.0 4.5; CIS AWS 3.0.0 4.5; CIS AWS 4.0.0 4.5; CIS AWS 5.0.0 4.5; Security Hub CloudWatch.5
-- description: Trails created, updated or deleted, and logging started or stopped. Stopping or
-- deleting a trail blinds every other detection (see also ir/defense-evasion).

-- Published filter (Security Hub CloudWatch.5, CIS 1.2.0 3.5, 1.4.0+ 4.5):
--   { ($.eventName = CreateTrail) || ($.eventName = UpdateTrail) || ($.eventName = DeleteTrail)
--     || ($.eventName = StartLogging) || ($.eventName = StopLogging) }
-- Translated as it stands (no eventSource term; failed calls included, see errorcode).
SELECT
  eventtime,
  eventid,
  coalesce(useridentity.arn, useridentity.principalid, useridentity.invokedby) AS principal,
  sourceipaddress,
  awsregion,
  eventsource,
  eventname,
  errorcode,
  json_extract_scalar(requestparameters, '$.name') AS trail,
  useragent
FROM cloudtrail
WHERE eventtime >= $since AND eventtime < $until
  AND eventname IN ('CreateTrail', 'UpdateTrail', 'DeleteTrail', 'StartLogging', 'StopLogging')
ORDER BY eventtime, eventid
