#!/usr/bin/env python3
"""Six typical CloudTrail questions, asked of the same Parquet lake by `trawl sql -c` and by the
DuckDB CLI, each as a whole process (start-up, listing the lake, planning, running, printing),
alternating, in the same run. Checks that both give the same answer, then prints the median
and best seconds of each and their ratio (below 1: trawl is faster). Timing waits for a quiet
machine (no rustc, other processes under a tenth of the CPU) and a round that something else
disturbed is timed again.

Each query is written the way a user of that engine writes it: Athena's functions for trawl
(element_at, json_extract_scalar), DuckDB's JSON functions for DuckDB.

Usage: query.py LAKE TRAWL DUCKDB [RUNS]   (RUNS: timed runs per engine and query, default 5)"""
import csv
import datetime
import io
import os
import re
import resource
import statistics
import subprocess
import sys
import time

lake, trawl, duckdb = sys.argv[1], sys.argv[2], sys.argv[3]
runs = int(sys.argv[4]) if len(sys.argv) > 4 else 5

# (name, trawl SQL, DuckDB SQL). Every column is named and every ORDER BY is total, so the two
# answers can be compared row by row.
QUERIES = [
    (
        "top event names",
        "SELECT eventname, count(*) AS n FROM cloudtrail GROUP BY eventname ORDER BY n DESC, eventname LIMIT 10",
        "SELECT eventname, count(*) AS n FROM cloudtrail GROUP BY eventname ORDER BY n DESC, eventname LIMIT 10",
    ),
    (
        "sign-ins without MFA",
        "SELECT eventtime, useridentity.arn AS arn, sourceipaddress FROM cloudtrail "
        "WHERE eventname = 'ConsoleLogin' AND element_at(additionaleventdata, 'MFAUsed') = 'No' "
        "ORDER BY eventtime, arn",
        "SELECT eventtime, useridentity.arn AS arn, sourceipaddress FROM cloudtrail "
        "WHERE eventname = 'ConsoleLogin' AND json_extract_string(additionaleventdata, '$.MFAUsed') = 'No' "
        "ORDER BY eventtime, arn",
    ),
    (
        "root use",
        "SELECT eventtime, eventname, sourceipaddress FROM cloudtrail "
        "WHERE useridentity.type = 'Root' AND useridentity.invokedby IS NULL "
        "AND eventtype <> 'AwsServiceEvent' ORDER BY eventtime, eventname",
        "SELECT eventtime, eventname, sourceipaddress FROM cloudtrail "
        "WHERE useridentity.type = 'Root' AND useridentity.invokedby IS NULL "
        "AND eventtype <> 'AwsServiceEvent' ORDER BY eventtime, eventname",
    ),
    (
        "AccessDenied by principal",
        "SELECT useridentity.arn AS principal, count(*) AS n FROM cloudtrail "
        "WHERE errorcode = 'AccessDenied' GROUP BY useridentity.arn ORDER BY n DESC, principal LIMIT 10",
        "SELECT useridentity.arn AS principal, count(*) AS n FROM cloudtrail "
        "WHERE errorcode = 'AccessDenied' GROUP BY useridentity.arn ORDER BY n DESC, principal LIMIT 10",
    ),
    (
        "one region-day",
        "SELECT eventsource, count(*) AS n FROM cloudtrail "
        "WHERE region = 'us-east-1' AND date = DATE '2024-03-03' "
        "GROUP BY eventsource ORDER BY n DESC, eventsource",
        "SELECT eventsource, count(*) AS n FROM cloudtrail "
        "WHERE region = 'us-east-1' AND date = DATE '2024-03-03' "
        "GROUP BY eventsource ORDER BY n DESC, eventsource",
    ),
    (
        "JSON field",
        "SELECT json_extract_scalar(requestparameters, '$.bucketName') AS bucket, count(*) AS n "
        "FROM cloudtrail WHERE eventsource = 's3.amazonaws.com' "
        "GROUP BY 1 ORDER BY n DESC, bucket LIMIT 10",
        "SELECT json_extract_string(requestparameters, '$.bucketName') AS bucket, count(*) AS n "
        "FROM cloudtrail WHERE eventsource = 's3.amazonaws.com' "
        "GROUP BY 1 ORDER BY n DESC, bucket LIMIT 10",
    ),
]

VIEW = (
    "CREATE VIEW cloudtrail AS SELECT * FROM read_parquet("
    f"'{lake}/cloudtrail/*/*/*.parquet', hive_partitioning = true, "
    "hive_types = {'region': VARCHAR, 'date': DATE});"
)


def trawl_cmd(sql):
    return [trawl, "--lake", lake, "sql", "--format", "csv", "-c", sql]


def duckdb_cmd(sql):
    return [duckdb, "-csv", "-nullvalue", "", "-c", f"{VIEW} {sql};"]


def normal(cell):
    """One cell as comparable text: timestamps to UTC ISO form (trawl prints `…Z`, DuckDB
    `… +00`)."""
    if re.fullmatch(r"\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d(:?\d\d)?)", cell):
        t = datetime.datetime.fromisoformat(cell.replace("Z", "+00:00"))
        return t.astimezone(datetime.timezone.utc).isoformat()
    return cell


def answer(cmd):
    out = subprocess.run(cmd, capture_output=True, text=True)
    if out.returncode != 0:
        sys.exit(f"failed ({out.returncode}): {' '.join(cmd)}\n{out.stderr}")
    return [[normal(c) for c in row] for row in csv.reader(io.StringIO(out.stdout))]


def timed(cmd):
    start = time.monotonic()
    out = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    wall = time.monotonic() - start
    if out.returncode != 0:
        sys.exit(f"failed ({out.returncode}): {' '.join(cmd)}\n{out.stderr.decode()}")
    return wall


def cpu_seconds():
    """CPU seconds used so far by the whole machine (all cores) and by our finished children."""
    with open("/proc/stat") as f:
        fields = [int(x) for x in f.readline().split()[1:]]
    ticks = sum(fields[:8]) - fields[3] - fields[4]  # all but idle, iowait and guest (in user)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ticks / os.sysconf("SC_CLK_TCK"), kids.ru_utime + kids.ru_stime


def others_share(since, wall):
    """The share of the machine's CPU that processes other than ours used since `since`."""
    machine0, ours0 = since
    machine1, ours1 = cpu_seconds()
    return max(0.0, (machine1 - machine0) - (ours1 - ours0)) / (wall * os.cpu_count())


def busy():
    """What keeps the machine from being quiet enough to time on: a build, or other processes
    using more than a tenth of the CPU over half a second."""
    if subprocess.run(["pgrep", "-x", "rustc"], stdout=subprocess.DEVNULL).returncode == 0:
        return "a build (rustc) is running"
    since = cpu_seconds()
    time.sleep(0.5)
    used = others_share(since, 0.5)
    return f"other processes use {used:.0%} of the CPU" if used > 0.10 else None


def wait_for_quiet(limit=900):
    """Waits (up to `limit` seconds) for a quiet machine; returns whether it got one."""
    start = time.monotonic()
    while (why := busy()) is not None:
        if time.monotonic() - start > limit:
            print(f"timing on a busy machine: {why}", file=sys.stderr)
            return False
        print(f"waiting: {why}", file=sys.stderr)
        time.sleep(10)
    return True


results = []
for name, t_sql, d_sql in QUERIES:
    t_rows, d_rows = answer(trawl_cmd(t_sql)), answer(duckdb_cmd(d_sql))
    same = t_rows == d_rows
    if not same:
        at = next(i for i, (a, b) in enumerate(zip(t_rows + [None], d_rows + [None])) if a != b)
        print(f"{name}: the answers differ at row {at}\n trawl:  {t_rows[at:at + 3]}\n"
              f" duckdb: {d_rows[at:at + 3]}", file=sys.stderr)
    # A round during which other processes took more than a tenth of the CPU is measured
    # again, up to twice.
    for attempt in range(3):
        quiet = wait_for_quiet()
        timed(trawl_cmd(t_sql)), timed(duckdb_cmd(d_sql))  # warm the page cache for both
        t_times, d_times = [], []
        since, start = cpu_seconds(), time.monotonic()
        for _ in range(runs):
            t_times.append(timed(trawl_cmd(t_sql)))
            d_times.append(timed(duckdb_cmd(d_sql)))
        others = others_share(since, time.monotonic() - start)
        quiet = quiet and others <= 0.10
        if quiet:
            break
        print(f"{name}: other processes took {others:.0%} of the CPU during the round",
              file=sys.stderr)
    t, d = statistics.median(t_times), statistics.median(d_times)
    results.append({"query": name, "rows": len(t_rows) - 1, "same": same, "quiet": quiet,
                    "trawl_s": round(t, 3), "duckdb_s": round(d, 3), "ratio": round(t / d, 2),
                    "trawl_min_s": round(min(t_times), 3), "duckdb_min_s": round(min(d_times), 3)})

print(f"{'query':26} {'rows':>4} {'same':>4} {'trawl s':>8} {'duckdb s':>9} {'ratio':>6}"
      f" {'best trawl':>10} {'best duckdb':>11} {'ratio':>6}")
for r in results:
    print(f"{r['query']:26} {r['rows']:4d} {'yes' if r['same'] else 'NO':>4} "
          f"{r['trawl_s']:8.3f} {r['duckdb_s']:9.3f} {r['ratio']:6.2f}"
          f" {r['trawl_min_s']:10.3f} {r['duckdb_min_s']:11.3f}"
          f" {r['trawl_min_s'] / r['duckdb_min_s']:6.2f}{'' if r['quiet'] else '  (machine busy)'}")
print(f"seconds: median and best of {runs} alternating runs per engine and query, whole processes;"
      " ratio = trawl / DuckDB (at or below 1.00: trawl as fast or faster)")
sys.exit(0 if all(r["same"] for r in results) else 1)
