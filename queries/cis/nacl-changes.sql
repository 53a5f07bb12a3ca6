-- title: Network ACL changes
-- severity: low
-- controls: CIS AWS 1.2.0 3.11; CIS AWS 1.4.0 4.11; CIS AWS 1.5.0 4.11; CIS AWS 3.0.0 4.11; CIS AWS 4.0.0 4.11; CIS AWS 5.0.0 4.11; Security Hub CloudWatch.11
-- description: Network ACLs and their entries created, deleted or replaced, and ACLs
-- re-associated with subnets.

-- Published filter (Security Hub CloudWatch.11, CIS 1.2.0 3.11, 1.4.0+ 4.11):
--   { ($.eventName = CreateNetworkAcl) || ($.eventName = CreateNetworkAclEntry)
--     || ($.eventName = DeleteNetworkAcl) || ($.eventName = DeleteNetworkAclEntry)
--     || ($.eventName = ReplaceNetworkAclEntry) || ($.eventName = ReplaceNetworkAclAssociation) }
-- Translated as it stands (no eventSource term; failed calls included, see errorcode).
SELECT
  eventtime,
  eventid,
  coalesce(useridentity.arn, useridentity.principalid, useridentity.invokedby) AS principal,
  sourceipaddress,
  awsregion,
  eventname,
  errorcode,
  json_extract_scalar(requestparameters, '$.networkAclId') AS network_acl,
  requestparameters
FROM cloudtrail
WHERE eventtime >= $since AND eventtime < $until
  AND eventname IN ('CreateNetworkAcl', 'CreateNetworkAclEntry', 'DeleteNetworkAcl',
                    'DeleteNetworkAclEntry', 'ReplaceNetworkAclEntry',
                    'ReplaceNetworkAclAssociation')
ORDER BY eventtime, eventid
