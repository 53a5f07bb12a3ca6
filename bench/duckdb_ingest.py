#!/usr/bin/env python3
"""DuckDB doing trawl's ingest job on the same files, its fastest faithful way: raw JSON objects,
from_json into a typed structure with the free-form payloads typed JSON, unnest(Records), and a
Hive-partitioned zstd Parquet COPY. Usage: duckdb_ingest.py TREE OUT THREADS"""
import sys

import duckdb

tree, out, threads = sys.argv[1], sys.argv[2], int(sys.argv[3])
text = ["eventVersion", "eventTime", "eventSource", "eventName", "awsRegion", "sourceIPAddress",
        "userAgent", "errorCode", "errorMessage", "requestID", "eventID", "eventType",
        "apiVersion", "recipientAccountId", "sharedEventID", "vpcEndpointId", "eventCategory",
        "sessionCredentialFromConsole"]
free = ["userIdentity", "requestParameters", "responseElements", "additionalEventData",
        "resources", "serviceEventDetails", "addendum", "edgeDeviceDetails", "tlsDetails",
        "insightDetails"]
fields = {**{k: "VARCHAR" for k in text}, **{k: "JSON" for k in free},
          "readOnly": "BOOLEAN", "managementEvent": "BOOLEAN"}
structure = "{\"Records\":[{" + ",".join(f'"{k}":"{v}"' for k, v in fields.items()) + "}]}"
con = duckdb.connect()
con.execute(f"SET threads = {threads}")
con.execute("SET preserve_insertion_order = false")
con.execute(f"""
COPY (
  SELECT r.*, r.awsRegion AS region, CAST(CAST(r.eventTime AS TIMESTAMPTZ) AS DATE) AS date
  FROM (
    SELECT unnest(from_json(json, '{structure}').Records) AS r
    FROM read_json_objects('{tree}/AWSLogs/**/*.json.gz', format = 'unstructured', compression = 'gzip')
  )
) TO '{out}' (FORMAT PARQUET, PARTITION_BY (region, date), COMPRESSION zstd)
""")
