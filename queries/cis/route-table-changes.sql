-- title: Route table changes
-- severity: low
-- controls: CIS AWS 1.2.0 3.13; CIS AWS 1.4.0 4.13; CIS AWS 1.5.0 4.13; CIS AWS 3.0.0 4.13; CIS AWS 4.0.0 4.13; CIS AWS 5.0.0 4.13; Security Hub CloudWatch.13
-- description: Route tables and routes created, replaced or deleted, and route tables
-- associated or disassociated. A changed route can send traffic somewhere unexpected.

-- Published filter (Security Hub CloudWatch.13, CIS 1.2.0 3.13, 1.4.0+ 4.13):
--   { ($.eventName = CreateRoute) || ($.eventName = CreateRouteTable)
--     || ($.eventName = ReplaceRoute) || ($.eventName = ReplaceRouteTableAssociation)
--     || ($.eventName = DeleteRouteTable) || ($.eventName = DeleteRoute)
--     || ($.eventName = DisassociateRouteTable) }
-- Translated as it stands: there is no eventSource term, so API Gateway v2's CreateRoute and
-- DeleteRoute (apigateway.amazonaws.com, HTTP/WebSocket API routes) match too, as they do in
-- CloudWatch; the eventsource column tells them apart. Failed calls are included.
SELECT
  eventtime,
  eventid,
  coalesce(useridentity.arn, useridentity.principalid, useridentity.invokedby) AS principal,
  sourceipaddress,
  awsregion,
  eventsource,
  eventname,
  errorcode,
  json_extract_scalar(requestparameters, '$.routeTableId') AS route_table,
  coalesce(json_extract_scalar(requestparameters, '$.destinationCidrBlock'),
           json_extract_scalar(requestparameters, '$.destinationIpv6CidrBlock')) AS destination,
  requestparameters
FROM cloudtrail
WHERE eventtime >= $since AND eventtime < $until
  AND eventname IN ('CreateRoute', 'CreateRouteTable', 'ReplaceRoute',
                    'ReplaceRouteTableAssociation', 'DeleteRouteTable', 'DeleteRoute',
                    'DisassociateRouteTable')
ORDER BY eventtime, eventid
