-- title: Lambda permission opens a function to the public or another account
-- severity: high
-- description: A function's resource policy now lets anyone (principal "*") or another AWS account
-- invoke it: AddPermission for a public principal, an account or role of another account, or a
-- service principal whose SourceAccount or SourceArn is in another account. Anyone it names can
-- run the function with its role's permissions.

-- Lambda's event names carry the API version (AddPermission20150331, AddPermission20150331v2, …),
-- hence the regular expression. Only calls that succeeded change the policy: failed attempts
-- are not reported here (denied ones are in cis/unauthorized-api-calls).
-- Not reported (near misses): a service principal (s3.amazonaws.com, events.amazonaws.com, …)
-- or "*" restricted by SourceAccount/SourceArn to the function's own account, and grants to the
-- function's own account. A service principal with no SourceAccount and no SourceArn is only
-- listed by lambda/permissions (exposure 'service, any source account').
-- The function's account comes from the function ARN in functionName when there is one, else
-- from recipientAccountId.
WITH granted AS (
  SELECT
    eventtime,
    eventid,
    coalesce(useridentity.arn, useridentity.principalid, useridentity.invokedby) AS principal,
    sourceipaddress,
    awsregion,
    eventname,
    json_extract_scalar(requestparameters, '$.functionName') AS function_name,
    json_extract_scalar(requestparameters, '$.qualifier') AS qualifier,
    json_extract_scalar(requestparameters, '$.statementId') AS statement_id,
    json_extract_scalar(requestparameters, '$.action') AS action,
    json_extract_scalar(requestparameters, '$.principal') AS granted_to,
    json_extract_scalar(requestparameters, '$.sourceAccount') AS source_account,
    json_extract_scalar(requestparameters, '$.sourceArn') AS source_arn,
    json_extract_scalar(requestparameters, '$.principalOrgID') AS principal_org_id,
    json_extract_scalar(requestparameters, '$.functionUrlAuthType') AS function_url_auth_type,
    recipientaccountid,
    useridentity.accountid AS caller_account
  FROM cloudtrail
  WHERE eventtime >= $since AND eventtime < $until
    AND eventsource = 'lambda.amazonaws.com'
    AND regexp_like(eventname, '^AddPermission(\d{8}(v\d+)?)?$')
    AND errorcode IS NULL
), accounts AS (
  SELECT
    *,
    coalesce(regexp_extract(function_name, '(?:^|:)(\d{12}):function:', 1),
             recipientaccountid, caller_account) AS function_account,
    regexp_extract(granted_to, '^(?:arn:aws[a-z-]*:(?:iam|sts)::)?(\d{12})(?::|$)', 1)
      AS grantee_account,
    regexp_extract(source_arn, '^arn:[^:]*:[^:]*:[^:]*:(\d{12}):', 1) AS source_arn_account
  FROM granted
), classified AS (
  SELECT
    *,
    CASE
      WHEN grantee_account <> function_account THEN 'foreign account ' || grantee_account
      WHEN source_account <> function_account THEN 'foreign source account ' || source_account
      WHEN source_arn_account <> function_account
        THEN 'foreign source ARN account ' || source_arn_account
      WHEN granted_to = '*' AND principal_org_id IS NOT NULL
           AND source_account IS NULL AND source_arn IS NULL
        THEN 'any account of organization ' || principal_org_id
      WHEN granted_to = '*' AND source_account IS NULL AND source_arn IS NULL THEN 'public'
    END AS exposure
  FROM accounts
)
SELECT
  eventtime,
  eventid,
  principal,
  sourceipaddress,
  awsregion,
  eventname,
  exposure,
  function_name,
  function_account,
  qualifier,
  action,
  granted_to,
  source_account,
  source_arn,
  principal_org_id,
  function_url_auth_type,
  statement_id
FROM classified
WHERE exposure IS NOT NULL
ORDER BY eventtime, eventid
