-- title: IAM policy changes
-- severity: medium
-- controls: CIS AWS 1.2.0 3.4; CIS AWS 1.4.0 4.4; CIS AWS 1.5.0 4.4; CIS AWS 3.0.0 4.4; CIS AWS 4.0.0 4.4; CIS AWS 5.0.0 4.4; Security Hub CloudWatch.4
-- description: IAM policies created, changed, deleted, attached or detached (inline and managed,
-- for users, groups and roles). Changes to permissions should be reviewed.

-- Published filter (Security Hub CloudWatch.4, CIS 1.2.0 3.4, 1.4.0+ 4.4): eventName is one of
-- the 16 names below, with no eventSource term. Translated as it stands, so it also matches
-- same-named calls of other services (Organizations CreatePolicy/DeletePolicy, IoT
-- CreatePolicy/CreatePolicyVersion/…): the eventsource column tells them apart. Failed calls
-- match too (errorcode shows them), as in CloudWatch.
SELECT
  eventtime,
  eventid,
  coalesce(useridentity.arn, useridentity.principalid, useridentity.invokedby) AS principal,
  sourceipaddress,
  awsregion,
  eventsource,
  eventname,
  errorcode,
  coalesce(json_extract_scalar(requestparameters, '$.userName'),
           json_extract_scalar(requestparameters, '$.groupName'),
           json_extract_scalar(requestparameters, '$.roleName')) AS target,
  coalesce(json_extract_scalar(requestparameters, '$.policyArn'),
           json_extract_scalar(requestparameters, '$.policyName')) AS policy
FROM cloudtrail
WHERE eventtime >= $since AND eventtime < $until
  AND eventname IN (
    'DeleteGroupPolicy', 'DeleteRolePolicy', 'DeleteUserPolicy',
    'PutGroupPolicy', 'PutRolePolicy', 'PutUserPolicy',
    'CreatePolicy', 'DeletePolicy', 'CreatePolicyVersion', 'DeletePolicyVersion',
    'AttachRolePolicy', 'DetachRolePolicy', 'AttachUserPolicy', 'DetachUserPolicy',
    'AttachGroupPolicy', 'DetachGroupPolicy')
ORDER BY eventtime, eventid
