#!/usr/bin/env bash
# Formats every project C++ file in place with clang-format and the repository's .clang-format
# (`make format`). scripts/checks/style.sh fails `make test` on any file this would change.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v clang-format >/dev/null || { echo "clang-format is not installed: run scripts/install-deps.sh" >&2; exit 1; }
scripts/project-files.sh | xargs -r -d '\n' -n 50 clang-format -i --style=file
echo "formatted $(scripts/project-files.sh | wc -l) files with $(clang-format --version | sed 's/.*version \([0-9.]*\).*/clang-format \1/')"
