"""Reads a trawl lake with DuckDB and pyarrow (Hive partitioning) and checks it against trawl's
own answers, given on the command line: rows, regions, dates, root events."""
import sys

import duckdb
import pyarrow.dataset as ds

table, rows, regions, dates, root = sys.argv[1], *map(int, sys.argv[2:6])

con = duckdb.connect()
got = con.execute(
    f"""SELECT count(*), count(DISTINCT region), count(DISTINCT date),
               sum(CASE WHEN useridentity.type = 'Root' THEN 1 ELSE 0 END)
        FROM read_parquet('{table}/*/*/*.parquet', hive_partitioning = true)"""
).fetchone()
assert tuple(got) == (rows, regions, dates, root), ("duckdb", got)
ts_type = con.execute(
    f"SELECT typeof(eventtime) FROM read_parquet('{table}/*/*/*.parquet') LIMIT 1"
).fetchone()[0]
assert ts_type.startswith("TIMESTAMP"), ts_type

dataset = ds.dataset(table, format="parquet", partitioning="hive")
t = dataset.to_table(columns=["eventtime", "useridentity", "region", "date"])
assert t.num_rows == rows, ("pyarrow", t.num_rows)
assert len(set(t.column("region").to_pylist())) == regions
assert str(t.schema.field("eventtime").type).startswith("timestamp[us"), t.schema.field("eventtime").type
print("duckdb and pyarrow agree:", got)
