-- title: Role assumed from another account
-- severity: medium
-- controls: MITRE ATT&CK T1078.004
-- description: AssumeRole calls where the caller's account is not the account of the role it
-- assumes. Expected for known partners and for an organization's own accounts; anything else
-- is someone from outside holding a role in the account.

-- The role's account is the fifth field of requestParameters.roleArn, or recipientAccountId when
-- there is no role ARN. Calls by AWS services (no caller account) are not reported; failed
-- attempts are (see errorcode). The same call can be recorded by both accounts' trails; each
-- record is reported.
WITH assumed AS (
  SELECT
    eventtime,
    eventid,
    coalesce(useridentity.arn, useridentity.principalid) AS principal,
    sourceipaddress,
    awsregion,
    eventname,
    errorcode,
    useridentity.type AS identity_type,
    useridentity.accountid AS caller_account,
    json_extract_scalar(requestparameters, '$.roleArn') AS role_arn,
    json_extract_scalar(requestparameters, '$.roleSessionName') AS role_session_name,
    coalesce(nullif(split_part(json_extract_scalar(requestparameters, '$.roleArn'), ':', 5), ''),
             recipientaccountid) AS role_account,
    recipientaccountid,
    useragent
  FROM cloudtrail
  WHERE eventtime >= $since AND eventtime < $until
    AND eventsource = 'sts.amazonaws.com'
    AND eventname = 'AssumeRole'
    AND coalesce(useridentity.type, '') <> 'AWSService'
)
SELECT
  eventtime,
  eventid,
  principal,
  sourceipaddress,
  awsregion,
  caller_account,
  role_account,
  role_arn,
  role_session_name,
  identity_type,
  errorcode,
  recipientaccountid,
  useragent
FROM assumed
WHERE caller_account IS NOT NULL
  AND caller_account <> ''
  AND caller_account <> role_account
ORDER BY eventtime, eventid
