#!/usr/bin/env bash
# Fuzzes every parser a stranger can reach (fuzz/, docs/fuzzing.md): builds the `fuzz` preset (clang, libFuzzer,
# ASan+UBSan) and runs each target for FUZZ_SECONDS (default 10) over its seed corpus plus what it finds. Fails on
# any crash, sanitizer report, broken invariant, timeout or leak; the input that caused it is kept under
# test-artifacts/fuzz/. `make fuzz` runs the same for longer (FUZZ_SECONDS=60). FUZZ_TARGETS="a b" limits the run;
# FUZZ_RUNS=N runs each target for N executions instead of a time (issue 18's 10 million: FUZZ_RUNS=10000000).
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$(pwd)

seconds=${FUZZ_SECONDS:-10}
runs=${FUZZ_RUNS:-}
artifacts=$root/test-artifacts/fuzz
work=$root/build/fuzz/corpus
all_targets=(protocol_reading protocol_status protocol_event protocol_ack protocol_topic readings_csv topology tariff
  blynk_frame blynk_session emoncms_input request_target)
read -r -a targets <<<"${FUZZ_TARGETS:-${all_targets[*]}}"

fail() {
  echo "fuzz check FAILED: $*" >&2
  exit 1
}

for tool in cmake ninja clang++; do
  command -v "$tool" >/dev/null || fail "'$tool' not found (scripts/install-deps.sh installs it)"
done
mkdir -p "$artifacts" "$work"

log=$artifacts/build.log
if ! nice -n 10 cmake --preset fuzz >"$log" 2>&1 || ! nice -n 10 cmake --build --preset fuzz -j 2 >>"$log" 2>&1; then
  cat "$log" >&2
  fail "the fuzz preset did not build (log: $log)"
fi

# The dictionary of a target, when it has one (the MQTT payloads share one).
dict_of() {
  case $1 in
    protocol_reading | protocol_status | protocol_event | protocol_ack) echo "$root/fuzz/corpus/protocol.dict" ;;
    protocol_topic) echo "$root/fuzz/corpus/topic.dict" ;;
    *) [ -f "$root/fuzz/corpus/$1.dict" ] && echo "$root/fuzz/corpus/$1.dict" ;;
  esac
  return 0
}

failed=()
for target in "${targets[@]}"; do
  bin=$root/build/fuzz/fuzz/fuzz_$target
  seeds=$root/fuzz/corpus/$target
  [ -x "$bin" ] || fail "no fuzz target '$target' ($bin)"
  [ -d "$seeds" ] || fail "no seed corpus for '$target' ($seeds)"
  mkdir -p "$work/$target"
  if [ -n "$runs" ]; then
    limit=(-runs="$runs")
    what="$runs executions"
  else
    limit=(-max_total_time="$seconds")
    what="${seconds} s"
  fi
  args=("${limit[@]}" -timeout=10 -rss_limit_mb=2048 -max_len=8192 -print_final_stats=1
    -artifact_prefix="$artifacts/$target-")
  dict=$(dict_of "$target")
  [ -n "$dict" ] && args+=(-dict="$dict")
  # New inputs go to build/fuzz/corpus/<target> (kept between runs), never into the repository's seeds.
  target_log=$artifacts/$target.log
  echo "-- fuzz_$target: $what"
  if ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    nice -n 10 "$bin" "${args[@]}" "$work/$target" "$seeds" >"$target_log" 2>&1; then
    grep -E '^stat::number_of_executed_units|^stat::average_exec_per_sec|^stat::peak_rss_mb' "$target_log" |
      tr '\n' ' ' | sed 's/^/   /'
    echo
  else
    tail -n 40 "$target_log" >&2
    failed+=("$target")
  fi
done

if [ ${#failed[@]} -gt 0 ]; then
  fail "${failed[*]} (logs and crash inputs in test-artifacts/fuzz/; reproduce: build/fuzz/fuzz/fuzz_<target> <crash file>)"
fi
echo "fuzz check passed: ${#targets[@]} targets, ${what} each"
