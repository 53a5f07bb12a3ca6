-- title: Logging and threat detection disabled or weakened
-- severity: high
-- controls: MITRE ATT&CK T1562.008; MITRE ATT&CK T1562.001
-- description: Calls that blind the defenders: CloudTrail trails stopped, deleted or changed
-- (event selectors too), CloudTrail Lake stores deleted or stopped, GuardDuty detectors deleted
-- or disabled and members disassociated, AWS Config recorders stopped or deleted, VPC flow logs
-- and DNS query logging deleted, S3 server access logging turned off, CloudWatch log groups
-- deleted, Security Hub, Access Analyzer, Macie and Inspector disabled.

-- Failed attempts are reported too (see errorcode): a refused StopLogging is still someone
-- trying. UpdateDetector counts only when it disables the detector or one of its data sources
-- or features (enable false / status DISABLED); PutBucketLogging only when it leaves no
-- LoggingEnabled (logging off). UpdateTrail and PutEventSelectors are always reported: whether
-- they narrowed logging needs the previous settings, which the event does not carry.
-- Overlaps on purpose with cis/cloudtrail-config-changes and cis/config-changes.
SELECT
  eventtime,
  eventid,
  coalesce(useridentity.arn, useridentity.principalid, useridentity.invokedby) AS principal,
  sourceipaddress,
  awsregion,
  eventsource,
  eventname,
  errorcode,
  coalesce(json_extract_scalar(requestparameters, '$.name'),
           json_extract_scalar(requestparameters, '$.trailName'),
           json_extract_scalar(requestparameters, '$.detectorId'),
           json_extract_scalar(requestparameters, '$.configurationRecorderName'),
           json_extract_scalar(requestparameters, '$.deliveryChannelName'),
           json_extract_scalar(requestparameters, '$.logGroupName'),
           json_extract_scalar(requestparameters, '$.bucketName'),
           json_extract_scalar(requestparameters, '$.eventDataStore'),
           json_extract_scalar(requestparameters, '$.analyzerName'),
           json_extract_scalar(requestparameters, '$.DeleteFlowLogsRequest.FlowLogId.content'),
           json_extract(requestparameters, '$.flowLogIds'),
           json_extract(requestparameters, '$.DeleteFlowLogsRequest.FlowLogId')) AS target,
  useridentity.accesskeyid AS accesskeyid,
  useragent,
  requestparameters
FROM cloudtrail
WHERE eventtime >= $since AND eventtime < $until
  AND (
    (eventsource = 'cloudtrail.amazonaws.com'
      AND eventname IN ('StopLogging', 'DeleteTrail', 'UpdateTrail', 'PutEventSelectors',
                        'DeleteEventDataStore', 'StopEventDataStoreIngestion'))
    OR (eventsource = 'guardduty.amazonaws.com'
      AND (eventname IN ('DeleteDetector', 'DisassociateFromMasterAccount',
                         'DisassociateFromAdministratorAccount', 'DisassociateMembers',
                         'DeleteMembers', 'StopMonitoringMembers')
           OR (eventname = 'UpdateDetector'
               AND regexp_like(coalesce(requestparameters, ''),
                               '"enable"\s*:\s*false|"status"\s*:\s*"DISABLED"'))))
    OR (eventsource = 'config.amazonaws.com'
      AND eventname IN ('StopConfigurationRecorder', 'DeleteConfigurationRecorder',
                        'DeleteDeliveryChannel'))
    OR (eventsource = 'ec2.amazonaws.com' AND eventname = 'DeleteFlowLogs')
    OR (eventsource = 'route53resolver.amazonaws.com'
      AND eventname IN ('DeleteResolverQueryLogConfig',
                        'DisassociateResolverQueryLogConfig'))
    OR (eventsource = 's3.amazonaws.com' AND eventname = 'PutBucketLogging'
      AND json_extract(requestparameters, '$.BucketLoggingStatus.LoggingEnabled') IS NULL)
    OR (eventsource = 'logs.amazonaws.com' AND eventname = 'DeleteLogGroup')
    OR (eventsource = 'securityhub.amazonaws.com'
      AND eventname IN ('DisableSecurityHub', 'BatchDisableStandards'))
    OR (eventsource = 'access-analyzer.amazonaws.com' AND eventname = 'DeleteAnalyzer')
    OR (eventsource = 'macie2.amazonaws.com' AND eventname = 'DisableMacie')
    OR (eventsource = 'inspector2.amazonaws.com' AND eventname = 'Disable')
  )
ORDER BY eventtime, eventid
