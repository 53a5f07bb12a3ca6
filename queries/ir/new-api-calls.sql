-- title: API calls a principal never made before
-- description: For each principal, the calls (event source and name) it made in the time window
-- but not once in the baseline days before it. A principal that suddenly lists, creates or
-- deletes things it never touched is worth a look. Hunting, not a detection.
-- param: baseline_days int = 30 — Days before the window that make the baseline

-- Role sessions are counted under the role (sessionIssuer ARN): every new session would
-- otherwise look new. principal_seen_before is false for principals with no calls at all in the
-- baseline; all their calls are new, which is a finding in itself (or a baseline too short).
-- Known principals doing new things come first. (IS NOT DISTINCT FROM is parenthesized: the
-- parser binds a following AND into its right operand.)
WITH calls AS (
  SELECT
    coalesce(useridentity.sessioncontext.sessionissuer.arn, useridentity.arn,
             useridentity.principalid, useridentity.invokedby) AS principal,
    eventsource,
    eventname,
    eventtime,
    eventid,
    sourceipaddress,
    errorcode
  FROM cloudtrail
  WHERE eventtime >= $since AND eventtime < $until
), baseline AS (
  SELECT DISTINCT
    coalesce(useridentity.sessioncontext.sessionissuer.arn, useridentity.arn,
             useridentity.principalid, useridentity.invokedby) AS principal,
    eventsource,
    eventname
  FROM cloudtrail
  WHERE eventtime >= date_add('day', 0 - $baseline_days, $since) AND eventtime < $since
), known AS (
  SELECT DISTINCT principal FROM baseline
), new_calls AS (
  SELECT c.*
  FROM calls c
  WHERE c.principal IS NOT NULL
    AND NOT EXISTS (
      SELECT 1 FROM baseline b
      WHERE b.principal = c.principal
        AND (b.eventsource IS NOT DISTINCT FROM c.eventsource)
        AND (b.eventname IS NOT DISTINCT FROM c.eventname))
)
SELECT
  n.principal,
  n.eventsource,
  n.eventname,
  k.principal IS NOT NULL AS principal_seen_before,
  count(*) AS calls,
  count(n.errorcode) AS failed,
  count(DISTINCT n.sourceipaddress) AS source_ips,
  min(n.eventtime) AS first_seen,
  max(n.eventtime) AS last_seen,
  min(n.eventid) AS an_eventid
FROM new_calls n
LEFT JOIN known k ON k.principal = n.principal
GROUP BY n.principal, n.eventsource, n.eventname, k.principal
ORDER BY principal_seen_before DESC, first_seen, n.principal, n.eventsource, n.eventname
