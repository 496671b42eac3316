#!/usr/bin/env bash
# Prints the project's C++ files, one per line, relative to the repository root: every *.cc and *.h that git
# tracks (or would track: new files count too) outside build/, web/ and node_modules/. Used by format.sh and
# checks/style.sh so that both judge the same files.
set -euo pipefail
cd "$(dirname "$0")/.."
{
  if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
    git ls-files --cached --others --exclude-standard -- '*.cc' '*.h'
  else
    find . -type f \( -name '*.cc' -o -name '*.h' \) -printf '%P\n'
  fi
} | grep -Ev '^(build|web)/|(^|/)node_modules/' | sort -u | while IFS= read -r f; do
  [ -f "$f" ] && printf '%s\n' "$f"
done
exit 0
