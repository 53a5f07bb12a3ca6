-- title: VPC changes
-- severity: low
-- controls: CIS AWS 1.2.0 3.14; CIS AWS 1.4.0 4.14; CIS AWS 1.5.0 4.14; CIS AWS 3.0.0 4.14; CIS AWS 4.0.0 4.14; CIS AWS 5.0.0 4.14; Security Hub CloudWatch.14
-- description: VPCs created, deleted or modified, peering connections requested, accepted,
-- rejected or deleted, and ClassicLink changes.

-- Published filter (Security Hub CloudWatch.14, CIS 1.2.0 3.14, 1.4.0+ 4.14):
--   { ($.eventName = CreateVpc) || ($.eventName = DeleteVpc) || ($.eventName = ModifyVpcAttribute)
--     || ($.eventName = AcceptVpcPeeringConnection) || ($.eventName = CreateVpcPeeringConnection)
--     || ($.eventName = DeleteVpcPeeringConnection) || ($.eventName = RejectVpcPeeringConnection)
--     || ($.eventName = AttachClassicLinkVpc) || ($.eventName = DetachClassicLinkVpc)
--     || ($.eventName = DisableVpcClassicLink) || ($.eventName = EnableVpcClassicLink) }
-- Translated as it stands (no eventSource term; failed calls included, see errorcode).
SELECT
  eventtime,
  eventid,
  coalesce(useridentity.arn, useridentity.principalid, useridentity.invokedby) AS principal,
  sourceipaddress,
  awsregion,
  eventname,
  errorcode,
  json_extract_scalar(requestparameters, '$.vpcId') AS vpc,
  requestparameters
FROM cloudtrail
WHERE eventtime >= $since AND eventtime < $until
  AND eventname IN ('CreateVpc', 'DeleteVpc', 'ModifyVpcAttribute', 'AcceptVpcPeeringConnection',
                    'CreateVpcPeeringConnection', 'DeleteVpcPeeringConnection',
                    'RejectVpcPeeringConnection', 'AttachClassicLinkVpc', 'DetachClassicLinkVpc',
                    'DisableVpcClassicLink', 'EnableVpcClassicLink')
ORDER BY eventtime, eventid
