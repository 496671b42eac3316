#!/usr/bin/env bash
# End-to-end checks of `wattguard bill`: JSON Lines of a small readings file equal the hand-worked bills below,
# --cycle picks one cycle, the table shows the same totals, and bad input is refused with exit status 2, a
# message naming the line and field, and no bill printed.
set -uo pipefail
wg="$1"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }

cat > "$work/tariff.toml" <<'TOML'
[[tariff]]
id = "domestic"
currency = "INR"
cycle = "monthly"
time_zone = "+05:30"
slab_mode = "telescopic"
slabs = [ { upto_kwh = 100, rate = 4.71 }, { upto_kwh = 300, rate = 10.29 },
          { upto_kwh = 500, rate = 14.55 }, { rate = 16.64 } ]
fixed_charge = 120.0
tax_percent = 16.0
tod = [ { from = "22:00", to = "06:00", factor = 0.8 } ]
TOML

# Hourly readings; a time is the end of its hour. 2024-03-31T18:30:00Z is midnight in +05:30, so that row is
# the hour 23:00-00:00 of 31 March (night, March); the row at 01:00 on 1 April is April's.
cat > "$work/readings.csv" <<'CSV'
meter,time,kwh
M1,2024-03-10T13:00:00+05:30,60
M1,2024-03-10T14:00:00+05:30,40
M1,2024-03-10T15:00:00+05:30,25
M1,2024-03-10T23:00:00+05:30,25
M1,2024-03-31T18:30:00Z,5
M1,2024-04-01T01:00:00+05:30,10
M2,2024-03-05T10:00:00+05:30,100
CSV

# M1, March, 155 kWh: 100 x 4.71 = 471.00 (slab 1); 25 x 10.29 = 257.25 (slab 2, day); 30 x 10.29 x 0.8 =
#   30 x 8.232 = 246.96 (slab 2, night: 22-23 h and 23-24 h). energy 975.21; subtotal 1095.21;
#   tax 16 % = 175.2336 -> 175.23; total 1270.44.
# M1, April, 10 kWh at night: 10 x 3.768 = 37.68; subtotal 157.68; tax 25.2288 -> 25.23; total 182.91.
# M2, March, exactly 100 kWh: 471.00; subtotal 591.00; tax 94.56; total 685.56.
cat > "$work/expected.jsonl" <<'JSON'
{"meter":"M1","tariff":"domestic","cycle":"2024-03","currency":"INR","kwh":155.000,"energy_charge":975.21,"fixed_charge":120.00,"tax":175.23,"total":1270.44,"lines":[{"from_kwh":0.000,"to_kwh":100.000,"kwh":100.000,"rate":4.71,"amount":471.00},{"from_kwh":100.000,"to_kwh":300.000,"kwh":25.000,"rate":10.29,"amount":257.25},{"from_kwh":100.000,"to_kwh":300.000,"kwh":30.000,"rate":8.232,"amount":246.96}]}
{"meter":"M1","tariff":"domestic","cycle":"2024-04","currency":"INR","kwh":10.000,"energy_charge":37.68,"fixed_charge":120.00,"tax":25.23,"total":182.91,"lines":[{"from_kwh":0.000,"to_kwh":100.000,"kwh":10.000,"rate":3.768,"amount":37.68}]}
{"meter":"M2","tariff":"domestic","cycle":"2024-03","currency":"INR","kwh":100.000,"energy_charge":471.00,"fixed_charge":120.00,"tax":94.56,"total":685.56,"lines":[{"from_kwh":0.000,"to_kwh":100.000,"kwh":100.000,"rate":4.71,"amount":471.00}]}
JSON

# 1. Every meter and cycle, as JSON Lines.
"$wg" bill --tariff "$work/tariff.toml" --readings "$work/readings.csv" --json > "$work/out.jsonl" 2> "$work/err" \
  || fail "bill --json exited $?: $(cat "$work/err")"
diff "$work/expected.jsonl" "$work/out.jsonl" > "$work/diff" || fail "bills differ from the hand-worked ones: $(cat "$work/diff")"
# Each line is a JSON object with exactly the issue's keys (and currency).
python3 - "$work/out.jsonl" <<'PY' || fail "JSON lines do not have the issue's keys"
import json, sys
for line in open(sys.argv[1]):
    bill = json.loads(line)
    assert set(bill) == {"meter", "tariff", "cycle", "currency", "kwh", "energy_charge", "fixed_charge", "tax",
                         "total", "lines"}, bill.keys()
    for l in bill["lines"]:
        assert set(l) == {"from_kwh", "to_kwh", "kwh", "rate", "amount"}, l.keys()
PY

# 2. --cycle picks the cycle holding that month.
"$wg" bill --tariff "$work/tariff.toml" --readings "$work/readings.csv" --cycle 2024-04 --json > "$work/april.jsonl" \
  || fail "bill --cycle exited $?"
sed -n 2p "$work/expected.jsonl" | cmp -s - "$work/april.jsonl" || fail "--cycle 2024-04 printed: $(cat "$work/april.jsonl")"

# 3. The table shows the same totals.
"$wg" bill --tariff "$work/tariff.toml" --readings "$work/readings.csv" > "$work/table.txt" || fail "bill exited $?"
grep -q "1270.44 INR" "$work/table.txt" || fail "table lacks M1's March total: $(cat "$work/table.txt")"
grep -q "22:00-06:00 x0.8" "$work/table.txt" || fail "table lacks the night window"
grep -q "running bill" "$work/table.txt" || fail "table does not call April's bill a running bill"

# 4. Bad input: exit 2, the message names the place, nothing on stdout.
expect_refusal() {  # expect_refusal "what" "pattern in stderr" args...
  local what="$1" pattern="$2"; shift 2
  "$wg" "$@" > "$work/out" 2> "$work/err"
  local rc=$?
  [ "$rc" -eq 2 ] || fail "$what: exit status $rc, want 2"
  grep -qF -- "$pattern" "$work/err" || fail "$what: stderr lacks '$pattern': $(cat "$work/err")"
  [ ! -s "$work/out" ] || fail "$what: printed bills from bad input: $(head -2 "$work/out")"
}
sed 's/rate = 10.29/rate = -10.29/' "$work/tariff.toml" > "$work/negative.toml"
expect_refusal "negative rate" "line 7, field slabs[1].rate" bill --tariff "$work/negative.toml" --readings "$work/readings.csv" --json
sed 's/upto_kwh = 300/upto_kwh = 90/' "$work/tariff.toml" > "$work/unordered.toml"
expect_refusal "unordered slabs" "line 7, field slabs[1].upto_kwh" bill --tariff "$work/unordered.toml" --readings "$work/readings.csv"
sed 's/"INR"/"RUPEE"/' "$work/tariff.toml" > "$work/currency.toml"
expect_refusal "unknown currency" "line 3, field currency" bill --tariff "$work/currency.toml" --readings "$work/readings.csv"
sed 's|"+05:30"|"Asia/Kolkata"|' "$work/tariff.toml" > "$work/zone.toml"
expect_refusal "named zone" "line 5, field time_zone" bill --tariff "$work/zone.toml" --readings "$work/readings.csv"
sed 's/to = "06:00"/to = "22:00"/' "$work/tariff.toml" > "$work/tod.toml"
expect_refusal "empty ToD window" "line 11, field tod[0].to" bill --tariff "$work/tod.toml" --readings "$work/readings.csv"
expect_refusal "bad cycle" "field --cycle" bill --tariff "$work/tariff.toml" --readings "$work/readings.csv" --cycle 2024-13
expect_refusal "unknown tariff id" "field --tariff-id" bill --tariff "$work/tariff.toml" --readings "$work/readings.csv" --tariff-id shop
expect_refusal "missing tariff file" "cannot open" bill --tariff "$work/none.toml" --readings "$work/readings.csv"
{ cat "$work/readings.csv"; echo "M2,2024-03-05T11:00:00+05:30,-4"; } > "$work/bad.csv"
expect_refusal "negative energy" "line 9, field kwh" bill --tariff "$work/tariff.toml" --readings "$work/bad.csv" --json
expect_refusal "no readings option" "--readings" bill --tariff "$work/tariff.toml"

if [ "$failures" -gt 0 ]; then
  echo "$failures failure(s)"
  exit 1
fi
echo "bill CLI: all checks passed"
