-- title: Burst of access-denied errors
-- severity: medium
-- description: Principals refused many times within an hour (errorCode AccessDenied* or
-- *UnauthorizedOperation): typical of a stolen credential probing what it may do. One row per
-- refused call that belongs to a burst.
-- param: threshold int = 20 — Refused calls by one principal within one hour that make a burst

-- A call belongs to a burst when some one-hour span that contains it holds at least threshold
-- refused calls of the same principal: window_calls counts the calls in the hour ending at each
-- call, and a call is kept when the largest such count in the hour after it (which covers every
-- span ending at or after it) reaches the threshold. Calls without an identity are grouped by
-- source address. Bursts that straddle the start of the time window are counted from its start.
WITH refused AS (
  SELECT
    eventtime,
    eventid,
    coalesce(useridentity.arn, useridentity.principalid, useridentity.invokedby) AS principal,
    coalesce(useridentity.arn, useridentity.principalid, useridentity.invokedby,
             'source ' || sourceipaddress) AS burst_key,
    sourceipaddress,
    awsregion,
    eventsource,
    eventname,
    errorcode,
    useridentity.accesskeyid AS accesskeyid,
    useragent
  FROM cloudtrail
  WHERE eventtime >= $since AND eventtime < $until
    AND (errorcode LIKE 'AccessDenied%' OR errorcode LIKE '%UnauthorizedOperation')
), counted AS (
  SELECT
    *,
    count(*) OVER (PARTITION BY burst_key ORDER BY eventtime
                   RANGE BETWEEN INTERVAL '1' HOUR PRECEDING AND CURRENT ROW) AS window_calls
  FROM refused
), marked AS (
  SELECT
    *,
    max(window_calls) OVER (PARTITION BY burst_key ORDER BY eventtime
                            RANGE BETWEEN CURRENT ROW AND INTERVAL '1' HOUR FOLLOWING)
      AS burst_calls
  FROM counted
)
SELECT
  eventtime,
  eventid,
  principal,
  sourceipaddress,
  awsregion,
  eventsource,
  eventname,
  errorcode,
  burst_calls,
  accesskeyid,
  useragent
FROM marked
WHERE burst_calls >= $threshold
ORDER BY eventtime, eventid
