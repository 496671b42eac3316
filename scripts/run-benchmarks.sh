#!/usr/bin/env bash
# Runs every benchmark on the optimised build (`make bench`), 5 repetitions, medians reported.
set -euo pipefail
cd "$(dirname "$0")/.."
shopt -s nullglob
for b in build/release/bench/*_bench; do
  echo "== $b"
  "$b" --benchmark_repetitions=5 --benchmark_report_aggregates_only=true "$@"
done
