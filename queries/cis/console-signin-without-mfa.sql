-- title: Console sign-in without MFA
-- severity: medium
-- controls: CIS AWS 1.2.0 3.2; CIS AWS 1.4.0 4.2; CIS AWS 1.5.0 4.2; CIS AWS 3.0.0 4.2; CIS AWS 4.0.0 4.2; CIS AWS 5.0.0 4.2; Security Hub CloudWatch.3
-- description: AWS Management Console sign-ins whose additionalEventData.MFAUsed is not "Yes".
-- A password alone protects these sessions.
-- param: iam_users_only bool = false — Use the long form (Security Hub CloudWatch.3, offered by CIS 3.0.0+ against single-sign-on false positives): only successful sign-ins of IAM users

-- Published filters:
--   CIS 1.2.0 3.2, 1.4.0 4.2, 3.0.0+ 4.2 (default here):
--     { ($.eventName = "ConsoleLogin") && ($.additionalEventData.MFAUsed != "Yes") }
--   Security Hub CloudWatch.3, CIS 3.0.0+ alternative (iam_users_only = true):
--     { ($.eventName = "ConsoleLogin") && ($.additionalEventData.MFAUsed != "Yes")
--       && ($.userIdentity.type = "IAMUser") && ($.responseElements.ConsoleLogin = "Success") }
-- Where SQL differs from the filter:
-- * additionalEventData and responseElements are JSON text here, read with json_extract_scalar.
-- * MFAUsed != "Yes" on a record WITHOUT additionalEventData.MFAUsed: CloudWatch's != does not
--   match a missing field (it takes ($.x != "v") || ($.x NOT EXISTS) to match one), and SQL's <>
--   on NULL does not either, so such sign-ins are not reported, as with the published filter.
--   To report them too, write coalesce(json_extract_scalar(...), '') <> 'Yes'.
-- * The short form also reports failed sign-ins (MFA is never reached) and federated sign-ins
--   (AssumedRole; MFA happens at the identity provider); root sign-ins are reported as well,
--   and also by cis/root-account-use.
SELECT
  eventtime,
  eventid,
  coalesce(useridentity.arn, useridentity.principalid, useridentity.username) AS principal,
  sourceipaddress,
  awsregion,
  useridentity.type AS identity_type,
  json_extract_scalar(additionaleventdata, '$.MFAUsed') AS mfa_used,
  json_extract_scalar(responseelements, '$.ConsoleLogin') AS result,
  errormessage,
  useragent
FROM cloudtrail
WHERE eventtime >= $since AND eventtime < $until
  AND eventname = 'ConsoleLogin'
  AND json_extract_scalar(additionaleventdata, '$.MFAUsed') <> 'Yes'
  AND (NOT $iam_users_only
       OR (useridentity.type = 'IAMUser'
           AND json_extract_scalar(responseelements, '$.ConsoleLogin') = 'Success'))
ORDER BY eventtime, eventid
