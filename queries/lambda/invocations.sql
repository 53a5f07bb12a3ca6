-- title: Who invokes which Lambda functions
-- description: Lambda Invoke data events by caller and function: how many calls, failures,
-- source addresses, first and last seen. Needs a trail that logs Lambda data events.

-- Callers that are role sessions are counted under the role (sessionIssuer ARN), so each new
-- session does not make a new row; sessions counts them. AWS services show as their invokedBy.
SELECT
  coalesce(useridentity.sessioncontext.sessionissuer.arn, useridentity.arn,
           useridentity.principalid, useridentity.invokedby) AS caller,
  coalesce(json_extract_scalar(requestparameters, '$.functionName'),
           resources[1]['arn']) AS function_name,
  awsregion,
  count(*) AS invocations,
  count(errorcode) AS failed,
  count(DISTINCT useridentity.arn) AS sessions,
  count(DISTINCT sourceipaddress) AS source_ips,
  min(sourceipaddress) AS a_source_ip,
  min(eventtime) AS first_seen,
  max(eventtime) AS last_seen
FROM cloudtrail
WHERE eventtime >= $since AND eventtime < $until
  AND eventsource = 'lambda.amazonaws.com'
  AND eventname = 'Invoke'
GROUP BY 1, 2, 3
ORDER BY invocations DESC, caller, function_name
