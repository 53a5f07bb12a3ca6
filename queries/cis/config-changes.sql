-- title: AWS Config configuration changes
-- severity: medium
-- controls: CIS AWS 1.2.0 3.9; CIS AWS 1.4.0 4.9; CIS AWS 1.5.0 4.9; CIS AWS 3.0.0 4.9; CIS AWS 4.0.0 4.9; CIS AWS 5.0.0 4.9; Security Hub CloudWatch.9
-- description: AWS Config recorders stopped or changed and delivery channels changed or
-- deleted. Without them resource history and Config rules go dark.

-- Published filter (Security Hub CloudWatch.9, CIS 1.2.0 3.9, 1.4.0+ 4.9):
--   { ($.eventSource = config.amazonaws.com) && (($.eventName = StopConfigurationRecorder)
--     || ($.eventName = DeleteDeliveryChannel) || ($.eventName = PutDeliveryChannel)
--     || ($.eventName = PutConfigurationRecorder)) }
-- Translated as it stands; failed calls are included (see errorcode). DeleteConfigurationRecorder
-- is not in the published filter (ir/defense-evasion reports it).
SELECT
  eventtime,
  eventid,
  coalesce(useridentity.arn, useridentity.principalid, useridentity.invokedby) AS principal,
  sourceipaddress,
  awsregion,
  eventname,
  errorcode,
  requestparameters
FROM cloudtrail
WHERE eventtime >= $since AND eventtime < $until
  AND eventsource = 'config.amazonaws.com'
  AND eventname IN ('StopConfigurationRecorder', 'DeleteDeliveryChannel', 'PutDeliveryChannel',
                    'PutConfigurationRecorder')
ORDER BY eventtime, eventid
