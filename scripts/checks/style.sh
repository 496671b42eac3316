#!/usr/bin/env bash
# Style check (part of `make test`; alone: `make style`): every project C++ file (scripts/project-files.sh) has a snake_case name and is
# clang-format clean (.clang-format; `make format` fixes it), and clang-tidy (.clang-tidy: naming and bug-prone
# checks, warnings are errors) finds nothing in the sources of the asan build's compilation database.
#
# Tests are left out of clang-tidy (every *_test.cc, tests/ folders, test_support/): a third of the translation
# units and heavy ones (gtest), and what tidy checks matters most in production code. Measured: about 6.5 s of
# CPU per source, so the ~115 non-test sources take about 6-7 min on an idle 2-core machine (the format check
# takes seconds).
# WATTGUARD_TIDY_TESTS=1 includes them. WATTGUARD_TIDY_JOBS sets the parallel clang-tidy runs (default: cores).
# WATTGUARD_TIDY_BUILD picks the build directory (default build/asan; `cmake --preset asan` writes it).
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
fail() { echo "style check: $*" >&2; exit 1; }

# Formatting differs between clang-format versions: the check uses Debian 12's, version 14.
clang_format=clang-format-14
command -v "$clang_format" >/dev/null || clang_format=clang-format
command -v "$clang_format" >/dev/null || fail "clang-format is not installed: run scripts/install-deps.sh"
"$clang_format" --version | grep -q 'version 14\.' ||
  fail "$("$clang_format" --version) is not clang-format 14 (Debian 12's), whose layout .clang-format describes"
clang_tidy=clang-tidy-14
command -v "$clang_tidy" >/dev/null || clang_tidy=clang-tidy
command -v "$clang_tidy" >/dev/null || fail "clang-tidy is not installed: run scripts/install-deps.sh"

mapfile -t files < <(scripts/project-files.sh)
[ "${#files[@]}" -gt 0 ] || fail "no project C++ files found"

# 1. File names: snake_case, .cc or .h.
bad_names=$(printf '%s\n' "${files[@]}" | grep -vE '^([a-z0-9_]+/)*[a-z][a-z0-9_]*\.(cc|h)$' || true)
[ -z "$bad_names" ] || fail "file names must be snake_case .cc/.h:
$bad_names"

# 2. clang-format: lists every file it would change, with the first changed lines of the first few.
mapfile -t unformatted < <(
  printf '%s\n' "${files[@]}" | xargs -d '\n' -n 50 "$clang_format" --style=file --dry-run --Werror 2>&1 |
    sed -n 's/^\([^ :][^:]*\):[0-9]*:[0-9]*: error: code should be clang-formatted.*/\1/p' | sort -u)
if [ "${#unformatted[@]}" -gt 0 ]; then
  for f in "${unformatted[@]:0:5}"; do
    echo "--- $f" >&2
    "$clang_format" --style=file "$f" | diff -U0 "$f" - | sed -n '3,12p' >&2 || true
  done
  fail "${#unformatted[@]} file(s) not clang-format clean (run \`make format\`): ${unformatted[*]}"
fi
echo "clang-format: ${#files[@]} files clean"

# 3. clang-tidy over the project's sources in the compilation database.
build_dir=${WATTGUARD_TIDY_BUILD:-build/asan}
db=$build_dir/compile_commands.json
[ -f "$db" ] || fail "no $db: configure the build first (\`cmake --preset asan\`; \`make test\` does)"
test_regex='_test\.cc$|(^|/)tests/|^test_support/'
[ "${WATTGUARD_TIDY_TESTS:-0}" = 1 ] && test_regex='^$'
mapfile -t sources < <(
  grep -o '"file": "[^"]*"' "$db" | sed 's/^"file": "\(.*\)"$/\1/' | sed "s#^$root/##" | grep -v '^/' |
    grep -Ev "$test_regex" | sort -u)
[ "${#sources[@]}" -gt 0 ] || fail "no project sources in $db"

log_dir=$(mktemp -d)
trap 'rm -rf "$log_dir"' EXIT
jobs=${WATTGUARD_TIDY_JOBS:-$(nproc)}
start_s=$(date +%s)
# One clang-tidy per source; each writes its log, and a .failed marker when it exits non-zero.
printf '%s\n' "${sources[@]}" | xargs -d '\n' -P "$jobs" -I{} sh -c '
  log="$1/$(printf "%s" "$2" | tr / _).log"
  "$3" -p "$4" --quiet "$2" >"$log" 2>&1 || touch "$log.failed"' _ "$log_dir" {} "$clang_tidy" "$build_dir"
elapsed_s=$(($(date +%s) - start_s))

# A header's finding shows up once per source including it: report each once, relative to the root.
findings=$(cat "$log_dir"/*.log | grep -E '^[^ ].*:[0-9]+:[0-9]+: (warning|error): ' | sed "s#^$root/##" | sort -u || true)
failed=$(find "$log_dir" -name '*.failed' | wc -l)
if [ -n "$findings" ]; then
  echo "$findings" >&2
  echo "findings per check:" >&2
  echo "$findings" | sed -E 's/.*\[([^],]+).*\]$/\1/' | sort | uniq -c | sort -rn >&2
  fail "clang-tidy: $(echo "$findings" | wc -l) finding(s) in ${#sources[@]} sources (${elapsed_s} s)"
fi
if [ "$failed" -gt 0 ]; then
  # No finding, yet clang-tidy failed: a compile error or a crash. Show the logs.
  for marker in "$log_dir"/*.failed; do cat "${marker%.failed}" >&2; done
  fail "clang-tidy failed on $failed source(s) without a finding (see above)"
fi
echo "clang-tidy: ${#sources[@]} sources clean (${elapsed_s} s, $jobs jobs)"
