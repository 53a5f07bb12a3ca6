-- title: Security group changes
-- severity: low
-- controls: CIS AWS 1.2.0 3.10; CIS AWS 1.4.0 4.10; CIS AWS 1.5.0 4.10; CIS AWS 3.0.0 4.10; CIS AWS 4.0.0 4.10; CIS AWS 5.0.0 4.10; Security Hub CloudWatch.10
-- description: Security groups created or deleted and their rules authorized, revoked or
-- modified. An ingress rule from 0.0.0.0/0 opens a port to the internet.

-- Published filters:
--   Security Hub CloudWatch.10, CIS 1.2.0 3.10, 1.4.0 / 3.0.0 / 4.0.0 4.10:
--     { ($.eventName = AuthorizeSecurityGroupIngress) || ($.eventName = AuthorizeSecurityGroupEgress)
--       || ($.eventName = RevokeSecurityGroupIngress) || ($.eventName = RevokeSecurityGroupEgress)
--       || ($.eventName = CreateSecurityGroup) || ($.eventName = DeleteSecurityGroup) }
--   CIS 5.0.0 4.10 adds || ($.eventName = ModifySecurityGroupRules), included here: it changes
--   rules in place, so leaving it out would miss rule changes. No eventSource term; failed calls
--   are included (see errorcode).
SELECT
  eventtime,
  eventid,
  coalesce(useridentity.arn, useridentity.principalid, useridentity.invokedby) AS principal,
  sourceipaddress,
  awsregion,
  eventname,
  errorcode,
  coalesce(json_extract_scalar(requestparameters, '$.groupId'),
           json_extract_scalar(requestparameters, '$.groupName')) AS security_group,
  strpos(coalesce(requestparameters, ''), '0.0.0.0/0') > 0
    OR strpos(coalesce(requestparameters, ''), '::/0') > 0 AS mentions_any_address,
  requestparameters
FROM cloudtrail
WHERE eventtime >= $since AND eventtime < $until
  AND eventname IN (
    'AuthorizeSecurityGroupIngress', 'AuthorizeSecurityGroupEgress',
    'RevokeSecurityGroupIngress', 'RevokeSecurityGroupEgress',
    'CreateSecurityGroup', 'DeleteSecurityGroup', 'ModifySecurityGroupRules')
ORDER BY eventtime, eventid
