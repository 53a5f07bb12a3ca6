-- title: Source addresses and user agents of a principal
-- description: Where a principal called from and with what client: one row per source address
-- and user agent, with calls, failures, first and last seen. New addresses or tools next to the
-- usual ones stand out.
-- param: principal string — An ARN (user, role, assumed-role session or root), a principal ID, an access key ID or an IAM user name

-- A role ARN (arn:aws:iam::…:role/…) matches every session of the role through its session
-- issuer. A user name matches in every account that has such a user.
SELECT
  sourceipaddress,
  useragent,
  count(*) AS calls,
  count(errorcode) AS failed,
  count(DISTINCT eventname) AS distinct_calls,
  count(DISTINCT awsregion) AS regions,
  count(DISTINCT useridentity.arn) AS identities,
  min(eventtime) AS first_seen,
  max(eventtime) AS last_seen,
  min(eventid) AS an_eventid
FROM cloudtrail
WHERE eventtime >= $since AND eventtime < $until
  AND (useridentity.arn = $principal
       OR useridentity.principalid = $principal
       OR useridentity.accesskeyid = $principal
       OR useridentity.username = $principal
       OR useridentity.sessioncontext.sessionissuer.arn = $principal)
GROUP BY sourceipaddress, useragent
ORDER BY first_seen, sourceipaddress, useragent
