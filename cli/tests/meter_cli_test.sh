#!/usr/bin/env bash
# End-to-end checks of `wattguard meter`: replay of a recording gives the live simulation's
# readings, and bad input is refused with exit status 2, a message naming line and field, and
# no reading printed.
set -uo pipefail
wg="$1"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }

# Pull the measured fields (not the truth) out of JSON lines, in a fixed order.
fields() { grep -o '"\(vrms\|irms\|p_w\|q_var\|freq_hz\|e_import_wh\|e_export_wh\)":[-0-9.e]*' | grep -v truth; }

# 1. Replay equals live.
"$wg" meter simulate --irms 4 --pf 0.7 --lead --seconds 15 --seed 5 --json > "$work/live.json" || fail "simulate exited $?"
"$wg" meter record --irms 4 --pf 0.7 --lead --seconds 15 --seed 5 --out "$work/rec.csv" > "$work/record.txt" || fail "record exited $?"
replay_args=$(sed -n 's/^replay with: wattguard meter replay //p' "$work/record.txt")
# shellcheck disable=SC2086
"$wg" meter replay $replay_args --json > "$work/replay.json" || fail "replay exited $?"
# simulate's lines carry a nested "truth" object with the same keys: drop it before comparing.
sed 's/,"truth":{[^}]*}//' "$work/live.json" | fields > "$work/live.fields"
fields < "$work/replay.json" > "$work/replay.fields"
[ -s "$work/live.fields" ] || fail "simulate printed no readings"
cmp -s "$work/live.fields" "$work/replay.fields" || fail "replay readings differ from live: $(diff "$work/live.fields" "$work/replay.fields" | head -4)"
[ "$(wc -l < "$work/replay.json")" -eq 3 ] || fail "expected 3 periods from 15 s"

# Binary recordings carry their rate and width.
"$wg" meter record --irms 4 --pf 0.7 --lead --seconds 15 --seed 5 --out "$work/rec.wgrec" > /dev/null || fail "binary record"
"$wg" meter replay --samples "$work/rec.wgrec" $(echo "$replay_args" | sed 's/--samples [^ ]*//; s/--rate [0-9]*//; s/--bits [0-9]*//') --json \
  | fields > "$work/bin.fields"
cmp -s "$work/live.fields" "$work/bin.fields" || fail "binary replay differs from live"

# 2. Bad input: exit 2, message names the line/field or option, nothing on stdout.
expect_refusal() {  # expect_refusal "what" "pattern in stderr" args...
  local what="$1" pattern="$2"; shift 2
  "$wg" "$@" > "$work/out" 2> "$work/err"
  local rc=$?
  [ "$rc" -eq 2 ] || fail "$what: exit status $rc, want 2"
  grep -q -- "$pattern" "$work/err" || fail "$what: stderr lacks '$pattern': $(cat "$work/err")"
  [ ! -s "$work/out" ] || fail "$what: printed readings from bad data: $(head -2 "$work/out")"
}
head -40001 "$work/rec.csv" > "$work/bad_row.csv"; echo "2048,x12" >> "$work/bad_row.csv"
expect_refusal "malformed row" "line 40002, field i" meter replay --samples "$work/bad_row.csv" --rate 4000 --v-scale 0.47 --i-scale 0.05
head -30000 "$work/rec.csv" > "$work/range.csv"; echo "4096,2048" >> "$work/range.csv"; tail -20000 "$work/rec.csv" >> "$work/range.csv"
expect_refusal "value outside ADC range" "line 30001, field v" meter replay --samples "$work/range.csv" --rate 4000 --v-scale 0.47 --i-scale 0.05
printf 'v,i\n2048,2048\n2048\n' > "$work/missing.csv"
expect_refusal "missing column" "line 3" meter replay --samples "$work/missing.csv" --rate 4000 --v-scale 0.47 --i-scale 0.05
: > "$work/empty.csv"
expect_refusal "empty file" "empty" meter replay --samples "$work/empty.csv" --rate 4000 --v-scale 0.47 --i-scale 0.05
expect_refusal "rate 0" "--rate" meter replay --samples "$work/rec.csv" --rate 0 --v-scale 0.47 --i-scale 0.05
expect_refusal "bits out of range" "--bits" meter replay --samples "$work/rec.csv" --rate 4000 --bits 9 --v-scale 0.47 --i-scale 0.05
expect_refusal "zero scale" "--v-scale" meter replay --samples "$work/rec.csv" --rate 4000 --v-scale 0 --i-scale 0.05
expect_refusal "negative scale" "--i-scale" meter replay --samples "$work/rec.csv" --rate 4000 --v-scale 0.47 --i-scale -1
expect_refusal "no rate for CSV" "--rate" meter replay --samples "$work/rec.csv" --v-scale 0.47 --i-scale 0.05
expect_refusal "missing file" "cannot open" meter replay --samples "$work/none.csv" --rate 4000 --v-scale 0.47 --i-scale 0.05
expect_refusal "bad harmonics" "--harmonics" meter simulate --harmonics 3:abc --seconds 5

# 3. Calibration from a reference recording recovers the constants record printed.
"$wg" meter calibrate --samples "$work/rec.csv" --rate 4000 --ref-v 230 --ref-i 4 --ref-pf 0.7 --lead > "$work/cal.txt" || fail "calibrate exited $?"
want_phase=$(echo "$replay_args" | sed -n 's/.*--phase-deg \([-0-9.]*\).*/\1/p')
got_phase=$(sed -n 's/^phase_deg = //p' "$work/cal.txt")
awk -v a="$want_phase" -v b="$got_phase" 'BEGIN { d = a - b; if (d < 0) d = -d; exit !(d < 0.05) }' \
  || fail "calibrate phase $got_phase, want $want_phase"

# 4. --help on every meter command.
for sub in simulate record replay calibrate; do
  "$wg" meter "$sub" --help > "$work/help" 2>&1 || fail "meter $sub --help exited $?"
  grep -q -- "--" "$work/help" || fail "meter $sub --help printed no options"
done

if [ "$failures" -eq 0 ]; then echo "meter CLI: every check passed"; else echo "meter CLI: $failures checks failed"; fi
[ "$failures" -eq 0 ]
