#!/usr/bin/env bash
# Ingest benchmark: 1M generated events, trawl vs DuckDB doing the same job, same files, same run.
# Usage: bench/ingest.sh [EVENTS] [WORKDIR] [ROUNDS]   (defaults: 1000000, /tmp/trawl-bench, 1)
# Each round times both engines, the one that goes first alternating; with several rounds the
# median ratio is printed too (a shared machine's speed drifts by a fifth within minutes).
set -euo pipefail
cd "$(dirname "$0")/.."
events=${1:-1000000}
work=${2:-/tmp/trawl-bench}
rounds=${3:-1}
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

# Bytes of the files under a folder: the lake each engine wrote.
files_size() {
  python3 -c 'import os, sys; print(sum(os.path.getsize(os.path.join(r, f)) for r, _, fs in os.walk(sys.argv[1]) for f in fs))' "$1"
}
run_trawl() {
  rm -rf "$work/lake-trawl"
  sync
  python3 bench/measure.py trawl -- "$trawl" --lake "$work/lake-trawl" ingest --threads "$threads" "$tree"
  files_size "$work/lake-trawl/cloudtrail"
}
run_duckdb() {
  rm -rf "$work/lake-duckdb"
  sync
  python3 bench/measure.py duckdb -- python3 bench/duckdb_ingest.py "$tree" "$work/lake-duckdb" "$threads"
  files_size "$work/lake-duckdb"
}

results=()
for round in $(seq "$rounds"); do
  if (( round % 2 )); then
    t=$(run_trawl)
    d=$(run_duckdb)
  else
    d=$(run_duckdb)
    t=$(run_trawl)
  fi
  results+=("$t" "$d")
done

python3 - "$events" "$json_bytes" "${results[@]}" <<'PY'
import json, statistics, sys
events, json_bytes = int(sys.argv[1]), int(sys.argv[2])
# Each engine's run printed its measurement, then its lake's size.
runs = []
for r in sys.argv[3:]:
    measured, lake_bytes = r.split("\n")
    runs.append(dict(json.loads(measured), lake_bytes=int(lake_bytes)))
print(f"{'round':5} {'engine':8} {'seconds':>8} {'events/s':>10} {'MB/s':>7} {'peak MiB':>9} {'lake MiB':>9} exit")
speed, memory = [], []
for n in range(len(runs) // 2):
    pair = runs[2 * n : 2 * n + 2]
    for r in pair:
        s = r["seconds"]
        print(f"{n + 1:5} {r['label']:8} {s:8.2f} {events / s:10.0f} {json_bytes / s / 1e6:7.1f} {r['peak_rss_mib']:9d} {r['lake_bytes'] / 2**20:9.1f} {r['exit']}")
    t, d = pair
    speed.append(d["seconds"] / t["seconds"])
    memory.append(t["peak_rss_mib"] / d["peak_rss_mib"])
    print(f"ratio: trawl is {speed[-1]:.2f}x DuckDB's events/s at {memory[-1]:.2f}x its peak memory")
if len(speed) > 1:
    print(f"median of {len(speed)} rounds: {statistics.median(speed):.2f}x the events/s "
          f"(range {min(speed):.2f}-{max(speed):.2f}x) at {statistics.median(memory):.2f}x the peak memory")
PY
