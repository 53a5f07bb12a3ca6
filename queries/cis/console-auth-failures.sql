-- title: Console authentication failures
-- severity: low
-- controls: CIS AWS 1.2.0 3.6; CIS AWS 1.4.0 4.6; CIS AWS 1.5.0 4.6; CIS AWS 3.0.0 4.6; CIS AWS 4.0.0 4.6; CIS AWS 5.0.0 4.6; Security Hub CloudWatch.6
-- description: Failed AWS Management Console sign-ins (wrong password). Many of them may be a
-- brute-force or password-spraying attempt.

-- Published filter (Security Hub CloudWatch.6, CIS 1.2.0 3.6, 1.4.0+ 4.6):
--   { ($.eventName = ConsoleLogin) && ($.errorMessage = "Failed authentication") }
-- Exact match, as published: failures with another message ("No username found in supplied
-- account", MFA failures) are not reported.
SELECT
  eventtime,
  eventid,
  coalesce(useridentity.arn, useridentity.principalid, useridentity.username) AS principal,
  sourceipaddress,
  awsregion,
  useridentity.type AS identity_type,
  errormessage,
  json_extract_scalar(additionaleventdata, '$.MFAUsed') AS mfa_used,
  useragent
FROM cloudtrail
WHERE eventtime >= $since AND eventtime < $until
  AND eventname = 'ConsoleLogin'
  AND errormessage = 'Failed authentication'
ORDER BY eventtime, eventid
