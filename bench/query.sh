#!/usr/bin/env bash
# Query benchmark: six typical questions over the 1M-event lake, `trawl sql -c` against the DuckDB
# CLI reading the same Parquet files, both as whole processes, alternating, same run.
# Usage: bench/query.sh [EVENTS] [WORKDIR] [RUNS]   (defaults: 1000000, /tmp/trawl-bench, 5)
# TRAWL=path uses that binary instead of building target/release/trawl.
set -euo pipefail
cd "$(dirname "$0")/.."
events=${1:-1000000}
work=${2:-/tmp/trawl-bench}
runs=${3:-5}
mkdir -p "$work"

if [ -z "${TRAWL:-}" ]; then
  cargo build --release --locked -p trawl
  TRAWL=$PWD/target/release/trawl
fi

# The DuckDB CLI, from PyPI, in a virtualenv of its own. Its `bin/duckdb` is a Python script
# that starts the real binary (about 55 ms of Python before DuckDB runs): time the binary.
venv=$work/venv
if [ ! -x "$venv/bin/duckdb" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check duckdb-cli
fi
duckdb=$("$venv/bin/python" -c 'from duckdb_cli.__main__ import _find_binary; print(_find_binary())')

# The same seeded tree as bench/ingest.sh, ingested once into a lake of its own (ingest.sh
# deletes and rewrites lake-trawl on every run).
tree=$work/tree-$events
lake=$work/lake-query-$events
if [ ! -f "$tree/_manifest.json" ]; then
  rm -rf "$tree"
  "$TRAWL" generate --out "$tree" --events "$events" --days 7 --seed 1
fi
if [ ! -f "$lake/.complete" ]; then
  rm -rf "$lake"
  "$TRAWL" --lake "$lake" ingest "$tree"
  touch "$lake/.complete"
fi

echo "lake: $events events, $(find "$lake/cloudtrail" -name '*.parquet' | wc -l) Parquet files," \
  "$(du -sm "$lake/cloudtrail" | cut -f1) MiB; trawl $("$TRAWL" --version | cut -d' ' -f2)," \
  "DuckDB $("$duckdb" --version | cut -d' ' -f1); $(nproc) cores"
python3 bench/query.py "$lake" "$TRAWL" "$duckdb" "$runs"
