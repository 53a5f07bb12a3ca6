-- title: Lambda permission changes (all)
-- description: Every change to a function's or a layer's resource policy (AddPermission,
-- RemovePermission, AddLayerVersionPermission, RemoveLayerVersionPermission), failed calls
-- included, with what each grant exposes. A report: lambda/permission-public-or-foreign is the
-- detection for the grants that matter.

-- exposure: 'public', 'any account of organization …', 'foreign account …', 'foreign source
-- account …', 'foreign source ARN account …' (these are what the detection reports), 'service,
-- any source account' (a service principal with no SourceAccount or SourceArn: any account's
-- resource of that service may invoke), 'same account', or NULL when nothing was granted
-- (removals, failed calls with no parameters).
WITH changed AS (
  SELECT
    eventtime,
    eventid,
    coalesce(useridentity.arn, useridentity.principalid, useridentity.invokedby) AS principal,
    sourceipaddress,
    awsregion,
    eventname,
    errorcode,
    coalesce(json_extract_scalar(requestparameters, '$.functionName'),
             json_extract_scalar(requestparameters, '$.layerName')) AS function_or_layer,
    coalesce(json_extract_scalar(requestparameters, '$.qualifier'),
             json_extract_scalar(requestparameters, '$.versionNumber')) AS qualifier,
    json_extract_scalar(requestparameters, '$.statementId') AS statement_id,
    json_extract_scalar(requestparameters, '$.action') AS action,
    json_extract_scalar(requestparameters, '$.principal') AS granted_to,
    json_extract_scalar(requestparameters, '$.sourceAccount') AS source_account,
    json_extract_scalar(requestparameters, '$.sourceArn') AS source_arn,
    coalesce(json_extract_scalar(requestparameters, '$.principalOrgID'),
             json_extract_scalar(requestparameters, '$.organizationId')) AS principal_org_id,
    json_extract_scalar(requestparameters, '$.functionUrlAuthType') AS function_url_auth_type,
    recipientaccountid,
    useridentity.accountid AS caller_account
  FROM cloudtrail
  WHERE eventtime >= $since AND eventtime < $until
    AND eventsource = 'lambda.amazonaws.com'
    AND regexp_like(eventname,
      '^(AddPermission|RemovePermission|AddLayerVersionPermission|RemoveLayerVersionPermission)(\d{8}(v\d+)?)?$')
), accounts AS (
  SELECT
    *,
    coalesce(regexp_extract(function_or_layer, '(?:^|:)(\d{12}):(?:function|layer):', 1),
             recipientaccountid, caller_account) AS owner_account,
    regexp_extract(granted_to, '^(?:arn:aws[a-z-]*:(?:iam|sts)::)?(\d{12})(?::|$)', 1)
      AS grantee_account,
    regexp_extract(source_arn, '^arn:[^:]*:[^:]*:[^:]*:(\d{12}):', 1) AS source_arn_account
  FROM changed
)
SELECT
  eventtime,
  eventid,
  principal,
  sourceipaddress,
  awsregion,
  eventname,
  errorcode,
  CASE
    WHEN granted_to IS NULL THEN NULL
    WHEN grantee_account <> owner_account THEN 'foreign account ' || grantee_account
    WHEN source_account <> owner_account THEN 'foreign source account ' || source_account
    WHEN source_arn_account <> owner_account
      THEN 'foreign source ARN account ' || source_arn_account
    WHEN granted_to = '*' AND principal_org_id IS NOT NULL
         AND source_account IS NULL AND source_arn IS NULL
      THEN 'any account of organization ' || principal_org_id
    WHEN granted_to = '*' AND source_account IS NULL AND source_arn IS NULL THEN 'public'
    WHEN granted_to LIKE '%.amazonaws.com' AND source_account IS NULL AND source_arn IS NULL
      THEN 'service, any source account'
    ELSE 'same account'
  END AS exposure,
  function_or_layer,
  owner_account,
  qualifier,
  action,
  granted_to,
  source_account,
  source_arn,
  principal_org_id,
  function_url_auth_type,
  statement_id
FROM accounts
ORDER BY eventtime, eventid
