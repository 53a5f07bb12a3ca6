#!/usr/bin/env bash
# Ingest benchmark: 1M generated events, trawl vs DuckDB doing the same job, same files, same run.
# Usage: bench/ingest.sh [EVENTS] [WORKDIR]   (defaults: 1000000, /tmp/trawl-bench)
set -euo pipefail
cd "$(dirname "$0")/.."
events=${1:-1000000}
work=${2:-/tmp/trawl-bench}
threads=$(nproc)
python3 -m pip install --quiet --disable-pip-version-check duckdb
cargo build --release --locked -p trawl
trawl=$PWD/target/release/trawl

tree=$work/tree-$events
if [ ! -f "$tree/_manifest.json" ]; then
  rm -rf "$tree"
  "$trawl" generate --out "$tree" --events "$events" --days 7 --seed 1
fi
# The JSON size is counted once per tree (inflating every file takes a core ~15 s): counted
# before every run, it also left the engine timed first to start on a machine just worked hard.
if [ ! -f "$tree/_json_bytes" ]; then
  python3 - "$tree" > "$tree/_json_bytes.partial" <<'PY'
import gzip, os, sys
total = 0
for root, _, files in os.walk(os.path.join(sys.argv[1], "AWSLogs")):
    for f in files:
        with gzip.open(os.path.join(root, f)) as g:
            total += len(g.read())
print(total)
PY
  mv "$tree/_json_bytes.partial" "$tree/_json_bytes"  # only a whole count is kept
fi
json_bytes=$(cat "$tree/_json_bytes")
gz_bytes=$(du -sb "$tree/AWSLogs" | cut -f1)
echo "input: $events events, $(find "$tree/AWSLogs" -type f | wc -l) files, $((gz_bytes >> 20)) MiB gzip, $((json_bytes >> 20)) MiB JSON; $threads threads"

sync
rm -rf "$work/lake-trawl" "$work/lake-duckdb"
t=$(python3 bench/measure.py trawl -- "$trawl" --lake "$work/lake-trawl" ingest --threads "$threads" "$tree")
sync
d=$(python3 bench/measure.py duckdb -- python3 bench/duckdb_ingest.py "$tree" "$work/lake-duckdb" "$threads")

python3 - "$t" "$d" "$events" "$json_bytes" "$work" <<'PY'
import json, os, sys
t, d = json.loads(sys.argv[1]), json.loads(sys.argv[2])
events, json_bytes, work = int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
def size(p):
    return sum(os.path.getsize(os.path.join(r, f)) for r, _, fs in os.walk(p) for f in fs)
rows = []
for r, lake in ((t, "lake-trawl/cloudtrail"), (d, "lake-duckdb")):
    eps = events / r["seconds"]
    rows.append((r["label"], r["seconds"], eps, json_bytes / r["seconds"] / 1e6, r["peak_rss_mib"], size(os.path.join(work, lake)) / 2**20, r["exit"]))
print(f"{'engine':8} {'seconds':>8} {'events/s':>10} {'MB/s':>7} {'peak MiB':>9} {'lake MiB':>9} exit")
for name, s, eps, mbs, rss, lake, code in rows:
    print(f"{name:8} {s:8.2f} {eps:10.0f} {mbs:7.1f} {rss:9d} {lake:9.1f} {code}")
print(f"ratio: trawl is {rows[0][2] / rows[1][2]:.2f}x DuckDB's events/s at {rows[0][4] / rows[1][4]:.2f}x its peak memory")
PY
