#!/usr/bin/env bash
# Checks beyond CTest that `make test` runs: each part adds its script under scripts/checks/.
set -euo pipefail
cd "$(dirname "$0")/.."
shopt -s nullglob
for check in scripts/checks/*.sh; do
  echo "== $check"
  bash "$check"
done
