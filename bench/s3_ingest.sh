#!/usr/bin/env bash
# S3 ingest benchmark: the same generated tree ingested from disk and from a local S3 server
# (moto on 127.0.0.1), same run, at several --concurrency; then into a lake kept in S3.
# Usage: bench/s3_ingest.sh [EVENTS] [WORKDIR]   (defaults: 200000, /tmp/trawl-s3-bench)
set -euo pipefail
cd "$(dirname "$0")/.."
events=${1:-200000}
work=${2:-/tmp/trawl-s3-bench}
python3 -m pip install --quiet --disable-pip-version-check "moto[server]" boto3
if [ -z "${TRAWL:-}" ]; then
  cargo build --release --locked -p trawl
  TRAWL=$PWD/target/release/trawl
fi

mkdir -p "$work"
tree=$work/tree-$events
if [ ! -f "$tree/_manifest.json" ]; then
  rm -rf "$tree"
  "$TRAWL" generate --out "$tree" --events "$events" --days 7 --seed 1
fi
files=$(find "$tree/AWSLogs" -type f | wc -l)

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
moto_server -H 127.0.0.1 -p "$port" >"$work/moto.log" 2>&1 &
moto=$!
trap 'kill $moto 2>/dev/null || true' EXIT
until python3 -c "import socket; socket.create_connection(('127.0.0.1', $port))" 2>/dev/null; do sleep 0.2; done
endpoint=http://127.0.0.1:$port
python3 crates/cli/tests/it/s3_put.py "$endpoint" src "" "$tree"
mkdir -p "$work/empty"
python3 crates/cli/tests/it/s3_put.py "$endpoint" lakes "" "$work/empty"
export AWS_ACCESS_KEY_ID=bench AWS_SECRET_ACCESS_KEY=bench AWS_REGION=us-east-1
s3=(--s3-endpoint "$endpoint")
echo "input: $events events in $files files; $(nproc) cores"

run() { # label lake args…
  local label=$1 lake=$2
  shift 2
  rm -rf "$lake"
  python3 bench/measure.py "$label" -- "$TRAWL" "${s3[@]}" --lake "$lake" ingest "$@"
}
results=()
results+=("$(run disk "$work/lake-disk" "$tree")")
for c in 8 32 128; do
  results+=("$(run "s3 source, --concurrency $c" "$work/lake-s3-$c" --concurrency "$c" s3://src/)")
done
results+=("$(run "s3 source, lake in s3" "s3://lakes/bench-$RANDOM/" s3://src/)")

python3 - "$events" "${results[@]}" <<'PY'
import json, sys
events = int(sys.argv[1])
rows = [json.loads(r) for r in sys.argv[2:]]
disk = rows[0]["seconds"]
print(f"{'run':<34} {'seconds':>8} {'events/s':>10} {'vs disk':>8} {'peak MiB':>9}")
for r in rows:
    s = r["seconds"]
    print(f"{r['label']:<34} {s:>8.2f} {events / s:>10.0f} {s / disk:>7.2f}x {r['peak_rss_mib']:>9}")
PY
