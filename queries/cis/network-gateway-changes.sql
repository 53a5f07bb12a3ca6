-- title: Network gateway changes
-- severity: low
-- controls: CIS AWS 1.2.0 3.12; CIS AWS 1.4.0 4.12; CIS AWS 1.5.0 4.12; CIS AWS 3.0.0 4.12; CIS AWS 4.0.0 4.12; CIS AWS 5.0.0 4.12; Security Hub CloudWatch.12
-- description: Customer and internet gateways created, deleted, attached or detached. They
-- decide which traffic can enter or leave a VPC.

-- Published filter (Security Hub CloudWatch.12, CIS 1.2.0 3.12, 1.4.0+ 4.12):
--   { ($.eventName = CreateCustomerGateway) || ($.eventName = DeleteCustomerGateway)
--     || ($.eventName = AttachInternetGateway) || ($.eventName = CreateInternetGateway)
--     || ($.eventName = DeleteInternetGateway) || ($.eventName = DetachInternetGateway) }
-- Translated as it stands (no eventSource term; failed calls included, see errorcode).
SELECT
  eventtime,
  eventid,
  coalesce(useridentity.arn, useridentity.principalid, useridentity.invokedby) AS principal,
  sourceipaddress,
  awsregion,
  eventname,
  errorcode,
  coalesce(json_extract_scalar(requestparameters, '$.internetGatewayId'),
           json_extract_scalar(requestparameters, '$.customerGatewayId')) AS gateway,
  json_extract_scalar(requestparameters, '$.vpcId') AS vpc,
  requestparameters
FROM cloudtrail
WHERE eventtime >= $since AND eventtime < $until
  AND eventname IN ('CreateCustomerGateway', 'DeleteCustomerGateway', 'AttachInternetGateway',
                    'CreateInternetGateway', 'DeleteInternetGateway', 'DetachInternetGateway')
ORDER BY eventtime, eventid
