-- title: IAM persistence: new users, keys, passwords, trust and federation
-- severity: medium
-- controls: MITRE ATT&CK T1136.003; MITRE ATT&CK T1098.001
-- description: Calls that give someone a lasting way back in: IAM users created or added to
-- groups, access keys, console passwords, SSH keys, signing certificates and service-specific
-- credentials created or changed, role trust policies rewritten, SAML/OIDC identity providers
-- created or changed. Routine for administrators, so check who and from where; a trust policy
-- naming another account deserves a close look (trusts_other_account).

-- Failed attempts are reported too (see errorcode): an attacker's refused CreateAccessKey is as
-- telling as a granted one. Only IAM's own calls (eventsource iam.amazonaws.com) count; Identity
-- Center and Transfer Family have same-named CreateUser calls that are not IAM users.
-- trusts_other_account: for UpdateAssumeRolePolicy, whether the new trust policy names an
-- account other than the caller's (a 12-digit account in an ARN, or an account id principal).
WITH calls AS (
  SELECT
    eventtime,
    eventid,
    coalesce(useridentity.arn, useridentity.principalid, useridentity.invokedby) AS principal,
    sourceipaddress,
    awsregion,
    eventname,
    errorcode,
    coalesce(json_extract_scalar(requestparameters, '$.userName'),
             json_extract_scalar(requestparameters, '$.roleName'),
             json_extract_scalar(requestparameters, '$.name'),
             json_extract_scalar(requestparameters, '$.uRL'),
             json_extract_scalar(requestparameters, '$.url'),
             json_extract_scalar(requestparameters, '$.sAMLProviderArn'),
             json_extract_scalar(requestparameters, '$.openIDConnectProviderArn'),
             useridentity.username) AS target,
    json_extract_scalar(requestparameters, '$.groupName') AS group_name,
    json_extract_scalar(requestparameters, '$.policyDocument') AS trust_policy,
    coalesce(recipientaccountid, useridentity.accountid) AS account,
    useridentity.accesskeyid AS accesskeyid,
    useragent
  FROM cloudtrail
  WHERE eventtime >= $since AND eventtime < $until
    AND eventsource = 'iam.amazonaws.com'
    AND eventname IN (
      'CreateUser', 'AddUserToGroup',
      'CreateAccessKey', 'UpdateAccessKey',
      'CreateLoginProfile', 'UpdateLoginProfile',
      'UploadSSHPublicKey', 'UploadSigningCertificate',
      'CreateServiceSpecificCredential', 'ResetServiceSpecificCredential',
      'UpdateAssumeRolePolicy',
      'CreateSAMLProvider', 'UpdateSAMLProvider',
      'CreateOpenIDConnectProvider', 'AddClientIDToOpenIDConnectProvider',
      'UpdateOpenIDConnectProviderThumbprint')
)
SELECT
  eventtime,
  eventid,
  principal,
  sourceipaddress,
  awsregion,
  eventname,
  errorcode,
  target,
  group_name,
  CASE WHEN eventname = 'UpdateAssumeRolePolicy' THEN
    regexp_like(replace(replace(coalesce(trust_policy, ''), ':' || account || ':', ''),
                        '"' || account || '"', ''),
                ':\d{12}:|"\d{12}"')
  END AS trusts_other_account,
  accesskeyid,
  useragent,
  trust_policy
FROM calls
ORDER BY eventtime, eventid
