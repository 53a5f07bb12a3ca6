-- title: Unauthorized API calls
-- severity: low
-- controls: CIS AWS 1.2.0 3.1; CIS AWS 1.4.0 4.1; CIS AWS 1.5.0 4.1; CIS AWS 3.0.0 4.1; CIS AWS 4.0.0 4.1; CIS AWS 5.0.0 4.1; Security Hub CloudWatch.2
-- description: API calls refused for lack of permission (errorCode *UnauthorizedOperation or
-- AccessDenied*). Many in a short time may mean a stolen credential being tried out.
-- param: v3_exclusions bool = true — Apply the CIS 3.0.0+ exclusions (sourceIPAddress delivery.logs.amazonaws.com and eventName HeadBucket); false gives the CIS 1.2.0 / Security Hub CloudWatch.2 filter

-- Published filters:
--   CIS 1.2.0 3.1, Security Hub CloudWatch.2:
--     { ($.errorCode = "*UnauthorizedOperation") || ($.errorCode = "AccessDenied*") }
--   CIS 3.0.0 / 4.0.0 / 5.0.0 4.1:
--     { ($.errorCode ="*UnauthorizedOperation") || ($.errorCode ="AccessDenied*")
--       && ($.sourceIPAddress!="delivery.logs.amazonaws.com") && ($.eventName!="HeadBucket") }
-- Where SQL differs from the filter:
-- * The 3.0.0+ text has no parentheses around the two errorCode terms; the exclusions are meant
--   for both, so this reads it as (A || B) && C && D. (Read with && binding tighter, only
--   AccessDenied* would be filtered; log delivery and HeadBucket are refused with AccessDenied,
--   so both readings report the same events.)
-- * CIS 1.4.0 4.1 as transcribed joins the exclusions with ||, which would match nearly every
--   event; taken as an erratum, 1.4.0 is run with the 1.2.0 filter (v3_exclusions = false) or
--   the 3.0.0 one (the default).
-- * The wildcards are LIKE patterns, case-sensitive like CloudWatch's: "*UnauthorizedOperation"
--   is LIKE '%UnauthorizedOperation' (Client.UnauthorizedOperation), "AccessDenied*" is
--   LIKE 'AccessDenied%' (AccessDeniedException).
-- * CloudWatch's != does not match an event that lacks the field; SQL <> on NULL does not either,
--   so a record without sourceIPAddress or eventName is left out when the exclusions apply.
SELECT
  eventtime,
  eventid,
  coalesce(useridentity.arn, useridentity.principalid, useridentity.invokedby) AS principal,
  sourceipaddress,
  awsregion,
  eventsource,
  eventname,
  errorcode,
  errormessage,
  useridentity.accesskeyid AS accesskeyid,
  useragent
FROM cloudtrail
WHERE eventtime >= $since AND eventtime < $until
  AND (errorcode LIKE '%UnauthorizedOperation' OR errorcode LIKE 'AccessDenied%')
  AND (NOT $v3_exclusions
       OR (sourceipaddress <> 'delivery.logs.amazonaws.com' AND eventname <> 'HeadBucket'))
ORDER BY eventtime, eventid
