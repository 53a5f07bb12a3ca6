#!/usr/bin/env bash
# Runs every test of the project from a fresh machine: installs what the tests need, then
# checks formatting and lints, then runs the unit and end-to-end tests.
set -euo pipefail
cd "$(dirname "$0")/.."

# Python engines the end-to-end tests read the lake with.
python3 -m pip install --quiet --disable-pip-version-check duckdb pyarrow

cargo fmt --all --check
cargo clippy --workspace --all-targets --locked -- -D warnings
cargo test --workspace --locked
