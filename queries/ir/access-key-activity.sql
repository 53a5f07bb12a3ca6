-- title: Everything an access key did
-- description: Every call made with one access key, and with the temporary keys it obtained
-- (AssumeRole, GetSessionToken, GetFederationToken … called with the key return new ASIA… keys,
-- which are followed one step). For scoping a leaked or suspicious key.
-- param: access_key_id string — The access key to follow (AKIA… or ASIA…)

-- via is the key itself or the temporary key obtained with it. A temporary key obtained before
-- the time window is followed only if the call that minted it falls inside the window.
WITH minted AS (
  SELECT DISTINCT json_extract_scalar(responseelements, '$.credentials.accessKeyId') AS key
  FROM cloudtrail
  WHERE eventtime >= $since AND eventtime < $until
    AND useridentity.accesskeyid = $access_key_id
    AND json_extract_scalar(responseelements, '$.credentials.accessKeyId') IS NOT NULL
)
SELECT
  eventtime,
  eventid,
  coalesce(useridentity.arn, useridentity.principalid) AS principal,
  sourceipaddress,
  awsregion,
  eventsource,
  eventname,
  errorcode,
  readonly,
  useridentity.accesskeyid AS via,
  useragent,
  requestparameters
FROM cloudtrail
WHERE eventtime >= $since AND eventtime < $until
  AND (useridentity.accesskeyid = $access_key_id
       OR useridentity.accesskeyid IN (SELECT key FROM minted))
ORDER BY eventtime, eventid
