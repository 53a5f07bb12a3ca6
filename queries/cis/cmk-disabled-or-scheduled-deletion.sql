-- title: Customer-managed KMS keys disabled or scheduled for deletion
-- severity: medium
-- controls: CIS AWS 1.2.0 3.7; CIS AWS 1.4.0 4.7; CIS AWS 1.5.0 4.7; CIS AWS 3.0.0 4.7; CIS AWS 4.0.0 4.7; CIS AWS 5.0.0 4.7; Security Hub CloudWatch.7
-- description: KMS keys disabled or scheduled for deletion. Data encrypted under a deleted key
-- is lost for good; a disabled key stops every service that depends on it.

-- Published filter (Security Hub CloudWatch.7, CIS 1.2.0 3.7, 1.4.0+ 4.7):
--   { ($.eventSource = kms.amazonaws.com) && (($.eventName = DisableKey)
--     || ($.eventName = ScheduleKeyDeletion)) }
-- Translated as it stands. AWS managed keys cannot be disabled or deleted, so every success
-- is about a customer-managed key; failed calls are included (see errorcode).
SELECT
  eventtime,
  eventid,
  coalesce(useridentity.arn, useridentity.principalid, useridentity.invokedby) AS principal,
  sourceipaddress,
  awsregion,
  eventname,
  errorcode,
  json_extract_scalar(requestparameters, '$.keyId') AS key_id,
  json_extract_scalar(requestparameters, '$.pendingWindowInDays') AS pending_window_days,
  json_extract_scalar(responseelements, '$.deletionDate') AS deletion_date
FROM cloudtrail
WHERE eventtime >= $since AND eventtime < $until
  AND eventsource = 'kms.amazonaws.com'
  AND eventname IN ('DisableKey', 'ScheduleKeyDeletion')
ORDER BY eventtime, eventid
