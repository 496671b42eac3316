#!/usr/bin/env bash
# End-to-end checks of `wattguard forecast`: a flat meter is forecast at its known value, lengths follow the
# horizon, p10 <= p50 <= p90, the cycle's total is the used energy plus the forecast rest (calendar month, or
# a tariff's bimonthly cycle), readings at or after --at change nothing, a meter with too little history gets
# its own error while the others are forecast, and bad input is refused with exit status 2 naming the field.
set -uo pipefail
wg="$1"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }

# Half-hourly readings in +10:00 (a time is the END of its half-hour), 2024-02-10 to 2024-03-31:
#   FLAT  0.25 kWh every half-hour;
#   DAILY 0.1 kWh at night, 0.9 kWh from 18:00 to 22:00 local, every day;
#   NEW   only from 2024-03-15: too little history at 2024-03-20.
python3 - "$work/readings.csv" <<'PY'
import sys, datetime as dt
tz = dt.timezone(dt.timedelta(hours=10))
start = dt.datetime(2024, 2, 10, tzinfo=tz)
with open(sys.argv[1], "w") as f:
    f.write("meter,time,kwh\n")
    for k in range(51 * 48):
        begin = start + dt.timedelta(minutes=30 * k)
        end = (begin + dt.timedelta(minutes=30)).isoformat()
        f.write(f"FLAT,{end},0.25\n")
        f.write(f"DAILY,{end},{0.9 if 18 <= begin.hour < 22 else 0.1}\n")
        if begin >= dt.datetime(2024, 3, 15, tzinfo=tz):
            f.write(f"NEW,{end},0.5\n")
PY
at="2024-03-20T00:00:00+10:00"

# 1. JSON Lines: one per meter, the keys of the issue, values near the known use.
"$wg" forecast --readings "$work/readings.csv" --at "$at" --json > "$work/out.jsonl" 2> "$work/err" \
  || fail "forecast --json exited $?: $(cat "$work/err")"
grep -q "meter NEW: no forecast: only 5.0 days" "$work/err" || fail "stderr lacks NEW's reason: $(cat "$work/err")"
python3 - "$work/out.jsonl" <<'PY' || fail "JSON output is wrong (see above)"
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1])]
by = {l["meter"]: l for l in lines}
assert set(by) == {"FLAT", "DAILY", "NEW"}, by.keys()
assert set(by["NEW"]) == {"meter", "error"} and "14" in by["NEW"]["error"], by["NEW"]
for m in ("FLAT", "DAILY"):
    f = by[m]
    assert list(f) == ["meter", "at", "step_s", "p10", "p50", "p90", "cycle_end_kwh"], list(f)
    assert f["at"] == "2024-03-20T00:00:00+10:00" and f["step_s"] == 1800, f
    assert len(f["p10"]) == len(f["p50"]) == len(f["p90"]) == 48, m
    assert all(a <= b <= c for a, b, c in zip(f["p10"], f["p50"], f["p90"])), m
    assert set(f["cycle_end_kwh"]) == {"p10", "p50", "p90"}
    c = f["cycle_end_kwh"]
    assert c["p10"] <= c["p50"] <= c["p90"], c
flat = by["FLAT"]
assert all(abs(x - 0.25) < 0.01 for x in flat["p50"]), flat["p50"]
# March in +10:00: 19 days used (228 kWh) + 12 days forecast (144 kWh).
assert abs(flat["cycle_end_kwh"]["p50"] - 372.0) < 1.0, flat["cycle_end_kwh"]
daily = by["DAILY"]["p50"]  # slot i starts at 00:00 + 30 min * i local
assert all(abs(daily[i] - 0.9) < 0.05 for i in range(37, 43)), daily  # 18:30-21:00, away from the steps
assert all(abs(daily[i] - 0.1) < 0.05 for i in range(0, 34)), daily
PY

# 2. Readings at or after --at change nothing.
python3 - "$work/readings.csv" "$work/later.csv" <<'PY'
import sys, datetime as dt
cut = dt.datetime.fromisoformat("2024-03-20T00:00:00+10:00")
with open(sys.argv[1]) as src, open(sys.argv[2], "w") as out:
    out.write(next(src))
    for line in src:
        m, t, k = line.strip().split(",")
        end = dt.datetime.fromisoformat(t)
        out.write(f"{m},{t},{float(k) * 7 if end > cut else k}\n")
PY
"$wg" forecast --readings "$work/later.csv" --at "$at" --json > "$work/later.jsonl" 2>/dev/null || fail "later data: exit $?"
cmp -s "$work/out.jsonl" "$work/later.jsonl" || fail "changing readings after --at changed the forecast"

# 3. --horizon-hours sets the length; a time inside a half-hour is rounded down.
"$wg" forecast --readings "$work/readings.csv" --at "2024-03-19T14:10:00Z" --horizon-hours 6 --json \
  > "$work/six.jsonl" 2>/dev/null || fail "--horizon-hours 6 exited $?"
python3 - "$work/six.jsonl" <<'PY' || fail "--horizon-hours 6 output is wrong"
import json, sys
f = [json.loads(l) for l in open(sys.argv[1]) if '"FLAT"' in l][0]
assert len(f["p50"]) == 12, len(f["p50"])
assert f["at"] == "2024-03-19T14:00:00Z", f["at"]
PY

# 4. A tariff's cycle: bimonthly March-April in +10:00 ends 2024-05-01: 228 kWh used + 42 days x 12 kWh.
cat > "$work/tariff.toml" <<'TOML'
[[tariff]]
id = "home"
currency = "AUD"
cycle = "bimonthly"
time_zone = "+10:00"
slab_mode = "telescopic"
slabs = [ { rate = 0.3 } ]
fixed_charge = 0
tax_percent = 0
TOML
"$wg" forecast --readings "$work/readings.csv" --at "$at" --tariff "$work/tariff.toml" --json \
  > "$work/tariff.jsonl" 2>/dev/null || fail "--tariff exited $?"
python3 - "$work/tariff.jsonl" <<'PY' || fail "--tariff cycle_end_kwh is wrong"
import json, sys
f = [json.loads(l) for l in open(sys.argv[1]) if '"FLAT"' in l][0]
assert abs(f["cycle_end_kwh"]["p50"] - 732.0) < 2.0, f["cycle_end_kwh"]
PY

# 5. The table for people.
"$wg" forecast --readings "$work/readings.csv" --at "$at" > "$work/table.txt" 2>/dev/null || fail "table exited $?"
grep -q "meter FLAT, forecast from 2024-03-20T00:00:00+10:00" "$work/table.txt" || fail "table lacks FLAT: $(head -3 "$work/table.txt")"
# FLAT's cycle line: 372 kWh (228 used + 144 forecast) to within 1 kWh, as in the JSON.
awk '/^meter FLAT/ { flat = 1 } /^meter / && !/^meter FLAT/ { flat = 0 }
  flat && /cycle 2024-03 ends 2024-04-01T00:00:00\+10:00: / { v = $5 + 0; ok = (v > 371 && v < 373) }
  END { exit ok ? 0 : 1 }' "$work/table.txt" || fail "table lacks FLAT's cycle line near 372 kWh: $(grep cycle "$work/table.txt")"

# 6. Bad input: exit 2, the message names the field, nothing on stdout.
expect_refusal() {  # expect_refusal "what" "pattern in stderr" args...
  local what="$1" pattern="$2"; shift 2
  "$wg" "$@" > "$work/out" 2> "$work/err"
  local rc=$?
  [ "$rc" -eq 2 ] || fail "$what: exit status $rc, want 2"
  grep -qF -- "$pattern" "$work/err" || fail "$what: stderr lacks '$pattern': $(cat "$work/err")"
  [ ! -s "$work/out" ] || fail "$what: printed a forecast from bad input: $(head -c 200 "$work/out")"
}
expect_refusal "bad --at" "field --at" forecast --readings "$work/readings.csv" --at "20/03/2024"
expect_refusal "zero horizon" "--horizon-hours" forecast --readings "$work/readings.csv" --at "$at" --horizon-hours 0
expect_refusal "missing readings" "cannot" forecast --readings "$work/none.csv" --at "$at"
{ cat "$work/readings.csv"; echo "FLAT,2024-04-01T00:30:00+10:00,-1"; } > "$work/bad.csv"
expect_refusal "negative energy" "field kwh" forecast --readings "$work/bad.csv" --at "$at"
expect_refusal "tariff id without tariff" "field --tariff-id" forecast --readings "$work/readings.csv" --at "$at" --tariff-id x
expect_refusal "unknown tariff id" "field --tariff-id" forecast --readings "$work/readings.csv" --at "$at" --tariff "$work/tariff.toml" --tariff-id shop

if [ "$failures" -gt 0 ]; then
  echo "$failures failure(s)"
  exit 1
fi
echo "forecast CLI: all checks passed"
