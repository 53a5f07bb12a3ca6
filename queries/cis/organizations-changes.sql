-- title: AWS Organizations changes
-- severity: medium
-- controls: CIS AWS 1.4.0 4.15; CIS AWS 1.5.0 4.15; CIS AWS 3.0.0 4.15; CIS AWS 4.0.0 4.15; CIS AWS 5.0.0 4.15
-- description: Changes to the organization: accounts created, invited, moved, removed or
-- leaving, organizational units and policies (SCPs and others) changed, handshakes accepted or
-- declined. CIS asks for this in the management account.

-- Published filter (CIS 1.4.0+ 4.15; not in Security Hub's CloudWatch controls):
--   { ($.eventSource = organizations.amazonaws.com) && (($.eventName = "AcceptHandshake")
--     || ($.eventName = "AttachPolicy") || ($.eventName = "CreateAccount")
--     || ($.eventName = "CreateOrganizationalUnit") || ($.eventName = "CreatePolicy")
--     || ($.eventName = "DeclineHandshake") || ($.eventName = "DeleteOrganization")
--     || ($.eventName = "DeleteOrganizationalUnit") || ($.eventName = "DeletePolicy")
--     || ($.eventName = "DetachPolicy") || ($.eventName = "DisablePolicyType")
--     || ($.eventName = "EnablePolicyType") || ($.eventName = "InviteAccountToOrganization")
--     || ($.eventName = "LeaveOrganization") || ($.eventName = "MoveAccount")
--     || ($.eventName = "RemoveAccountFromOrganization") || ($.eventName = "UpdatePolicy")
--     || ($.eventName = "UpdateOrganizationalUnit")) }
-- Translated as it stands (18 names; failed calls included, see errorcode). Organizations is a
-- global service: its events are recorded in us-east-1.
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
  AND eventsource = 'organizations.amazonaws.com'
  AND eventname IN ('AcceptHandshake', 'AttachPolicy', 'CreateAccount', 'CreateOrganizationalUnit',
                    'CreatePolicy', 'DeclineHandshake', 'DeleteOrganization',
                    'DeleteOrganizationalUnit', 'DeletePolicy', 'DetachPolicy',
                    'DisablePolicyType', 'EnablePolicyType', 'InviteAccountToOrganization',
                    'LeaveOrganization', 'MoveAccount', 'RemoveAccountFromOrganization',
                    'UpdatePolicy', 'UpdateOrganizationalUnit')
ORDER BY eventtime, eventid
