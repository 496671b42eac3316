#!/usr/bin/env bash
# Smoke run of every Google Benchmark program in the test build: each must start, run every
# benchmark briefly and exit 0. (Sanitizer builds: the figures here mean nothing; `make bench`
# measures on the optimised build.)
set -euo pipefail
cd "$(dirname "$0")/../.."
shopt -s nullglob
found=0
for b in build/asan/bench/*_bench; do
  found=1
  echo "-- $b"
  timeout 300 "$b" --benchmark_min_time=0.001 --benchmark_format=console > /dev/null
done
[ "$found" -eq 1 ] || { echo "no benchmark programs found in build/asan/bench" >&2; exit 1; }
echo "benchmark smoke: every program ran"
