#!/usr/bin/env bash
# Runs every test of the project from a fresh machine: installs what the tests need, then
# checks formatting and lints, then runs the unit and end-to-end tests.
set -euo pipefail
cd "$(dirname "$0")/.."

# Python engines the end-to-end tests read the lake with, and moto: the S3-compatible server the
# S3 tests start on 127.0.0.1 (and stop) themselves.
python3 -m pip install --quiet --disable-pip-version-check duckdb pyarrow pyspark "moto[server]"

# tmux drives the interactive prompt in the end-to-end tests (crates/cli/tests/it/prompt.rs).
if ! command -v tmux >/dev/null; then
  sudo=; [ "$(id -u)" -eq 0 ] || sudo=sudo
  $sudo apt-get update -qq
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq tmux
fi

cargo fmt --all --check
cargo clippy --workspace --all-targets --locked -- -D warnings
# Snapshots are never written here: a changed or missing one fails.
INSTA_UPDATE=no cargo test --workspace --locked
