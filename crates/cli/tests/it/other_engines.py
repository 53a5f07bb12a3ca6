"""Runs `trawl ddl` output in DuckDB and in one Spark session (local[2]), runs the given queries
in both, and checks schema evolution: a file written without some columns reads them as NULL.

    other_engines.py TABLE_DIR DUCKDB_DDL SPARK_DDL QUERIES_JSON

QUERIES_JSON is a list of {"name", "duckdb", "spark"}. Prints one JSON object on stdout:
{"duckdb": {name: rows}, "spark": {name: rows}, "evolution": {...}, "seconds": {...}}, rows as
objects without their null values (as `trawl sql --format json` prints them), dates as
'YYYY-MM-DD'. Anything unexpected raises, so the exit code says it.
"""
import datetime
import json
import os
import sys
import time

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

table_dir, duckdb_ddl, spark_ddl, queries_file = sys.argv[1:5]
queries = json.load(open(queries_file))
seconds = {}


def statements(path):
    """The statements of a `trawl ddl` script: comment lines dropped, split at `;` line ends."""
    code = "\n".join(l for l in open(path).read().splitlines() if not l.startswith("--"))
    return [s.strip() for s in code.split(";\n") if s.strip().rstrip(";")]


def plain(v):
    if isinstance(v, (datetime.date, datetime.datetime)):
        return v.isoformat()
    if isinstance(v, dict):
        return {k: plain(x) for k, x in v.items() if x is not None}
    if isinstance(v, (list, tuple)):
        return [plain(x) for x in v]
    return v


def rows_of(names, tuples):
    return [{n: plain(v) for n, v in zip(names, t) if v is not None} for t in tuples]


# Schema evolution: a file as an older trawl would have written it, without columns added since
# (top-level `tlsdetails`, `unmapped`; nested `useridentity.sessioncontext.sourceidentity`), in a
# partition of its own.
EVOLVED_REGION = "zz-evolve-1"


def write_old_file():
    first = sorted(
        os.path.join(d, f)
        for d, _, fs in os.walk(table_dir)
        for f in fs
        if f.endswith(".parquet")
    )[0]
    t = pq.read_table(first).slice(0, 5).drop_columns(["tlsdetails", "unmapped"])
    ui = t.column("useridentity").combine_chunks()
    sc = ui.field("sessioncontext")
    keep = [f.name for f in sc.type if f.name != "sourceidentity"]
    sc_old = pa.StructArray.from_arrays(
        [sc.field(n) for n in keep], names=keep, mask=pc.invert(sc.is_valid())
    )
    ui_names = [f.name for f in ui.type]
    ui_old = pa.StructArray.from_arrays(
        [sc_old if n == "sessioncontext" else ui.field(n) for n in ui_names],
        names=ui_names,
        mask=pc.invert(ui.is_valid()),
    )
    t = t.set_column(t.schema.get_field_index("useridentity"), "useridentity", ui_old)
    folder = os.path.join(table_dir, f"region={EVOLVED_REGION}", "date=2024-03-01")
    os.makedirs(folder, exist_ok=True)
    pq.write_table(t, os.path.join(folder, "old-trawl.parquet"))
    return t.num_rows


EVOLUTION_SQL = f"""SELECT count(*) AS n, count(tlsdetails) AS tls, count(unmapped) AS unmapped,
    count(useridentity.sessioncontext.sourceidentity) AS sourceidentity,
    count(useridentity.sessioncontext.sessionissuer) AS issuer
  FROM cloudtrail WHERE region = '{EVOLVED_REGION}'"""

# DuckDB: the view as `trawl ddl` writes it.
t0 = time.time()
con = duckdb.connect()
for s in statements(duckdb_ddl):
    con.execute(s)
duck = {}
for q in queries:
    cur = con.execute(q["duckdb"])
    duck[q["name"]] = rows_of([d[0] for d in cur.description], cur.fetchall())
types = dict(con.execute("SELECT column_name, column_type FROM (DESCRIBE cloudtrail)").fetchall())
assert types["eventtime"] == "TIMESTAMP WITH TIME ZONE", types["eventtime"]
assert types["date"] == "DATE" and types["readonly"] == "BOOLEAN", types
seconds["duckdb"] = round(time.time() - t0, 2)

# Spark: one local session for everything.
t0 = time.time()
os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
from pyspark.sql import SparkSession  # noqa: E402  (only after SPARK_LOCAL_IP is set)

warehouse = os.path.join(os.path.dirname(os.path.abspath(spark_ddl)), "spark-warehouse")
spark = (
    SparkSession.builder.master("local[2]")
    .appName("trawl-other-engines")
    .config("spark.ui.enabled", "false")
    .config("spark.sql.shuffle.partitions", "2")
    .config("spark.sql.warehouse.dir", warehouse)
    # Tiny data on two cores: the JIT's C1 tier and the serial collector start fastest, and
    # adaptive execution only adds stages.
    .config("spark.driver.extraJavaOptions", "-XX:+UseSerialGC -XX:TieredStopAtLevel=1")
    .config("spark.sql.adaptive.enabled", "false")
    .getOrCreate()
)
spark.sparkContext.setLogLevel("ERROR")
seconds["spark_start"] = round(time.time() - t0, 2)
t0 = time.time()
for s in statements(spark_ddl):
    spark.sql(s)
sp = {}
for q in queries:
    df = spark.sql(q["spark"])
    sp[q["name"]] = rows_of(df.columns, [tuple(r) for r in df.collect()])
stypes = dict(spark.table("cloudtrail").dtypes)
assert stypes["eventtime"] == "timestamp", stypes["eventtime"]
assert stypes["date"] == "date" and stypes["readonly"] == "boolean", stypes
seconds["spark_queries"] = round(time.time() - t0, 2)

# Schema evolution, in both engines.
t0 = time.time()
old_rows = write_old_file()
cur = con.execute(EVOLUTION_SQL)
evolution = {"rows": old_rows, "duckdb": rows_of([d[0] for d in cur.description], cur.fetchall())}
spark.sql("MSCK REPAIR TABLE cloudtrail")
spark.sql("REFRESH TABLE cloudtrail")
df = spark.sql(EVOLUTION_SQL)
evolution["spark"] = rows_of(df.columns, [tuple(r) for r in df.collect()])
seconds["evolution"] = round(time.time() - t0, 2)
spark.stop()

print(json.dumps({"duckdb": duck, "spark": sp, "evolution": evolution, "seconds": seconds}))
