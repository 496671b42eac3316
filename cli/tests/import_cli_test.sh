#!/usr/bin/env bash
# `wattguard import topology|readings` against a real `wattguard serve` process (its own data directory and
# port; the MQTT side points at a port with no broker, which the server tolerates: only the HTTP API is used).
# Checks: --help, a good topology and readings are stored (seen through the API), a re-import stores nothing
# twice, bad files exit 2 with the server's message naming the line and change nothing, a missing token
# exits 2, an unreachable server exits 1.
set -euo pipefail

bin=${1:?usage: import_cli_test.sh path/to/wattguard}
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
server_env

"$bin" import --help | grep -q "topology" || fail "import --help does not list topology"
"$bin" import topology --help | grep -q -- "--server" || fail "import topology --help lacks --server"
"$bin" import readings --help | grep -q "WATTGUARD_TOKEN" || fail "import readings --help does not mention WATTGUARD_TOKEN"

"$bin" meters provision --count 4 --prefix imp- --width 3 --area north --data "$data" \
  --credentials-out "$work/credentials.csv" >/dev/null
token=$("$bin" users token --scope admin --label import-test --data "$data")
read_token=$("$bin" users token --scope read --label import-test --data "$data")

printf '[theft]\ncycle_s = 3600\n' | write_server_config
start_server

# Without a token: bad input (2), before anything is sent.
printf 'transformer,meter,role\nT1,imp-001,check\nT1,imp-002,consumer\nT1,imp-003,consumer\nT1,imp-004,consumer\n' >"$work/T.csv"
set +e
env -u WATTGUARD_TOKEN "$bin" import topology "$work/T.csv" --server "$url" >"$work/out" 2>"$work/err"
status=$?
set -e
[ "$status" -eq 2 ] || fail "import without a token exited $status"
grep -q "WATTGUARD_TOKEN" "$work/err" || fail "no-token message: $(cat "$work/err")"

# A good topology.
WATTGUARD_TOKEN="$token" "$bin" import topology "$work/T.csv" --server "$url" >"$work/out" ||
  fail "import topology exited $?: $(cat "$work/out")"
grep -q "1 transformers, 3 consumers" "$work/out" || fail "import topology printed: $(cat "$work/out")"

# A bad one (unknown meter on line 3): exit 2, the server's message names the line; nothing changes.
printf 'transformer,meter,role\nT2,imp-001,check\nT2,imp-999,consumer\n' >"$work/bad.csv"
set +e
"$bin" import topology "$work/bad.csv" --server "$url" --token "$token" >"$work/out" 2>"$work/err"
status=$?
set -e
[ "$status" -eq 2 ] || fail "bad topology exited $status"
grep -q "line 3" "$work/err" && grep -q "unknown meter" "$work/err" || fail "bad topology message: $(cat "$work/err")"
curl -s -H "Authorization: Bearer $read_token" "$url/api/v1/transformers" >"$work/transformers.json"
python3 - "$work/transformers.json" <<'EOF' || fail "transformers after import: $(cat "$work/transformers.json")"
import json, sys
t = json.load(open(sys.argv[1]))["transformers"]
assert [x["id"] for x in t] == ["T1"], t
assert t[0]["check_meter"] == "imp-001" and t[0]["consumer_count"] == 3, t
EOF

# Readings: one day of 15-minute intervals for the four meters (check = consumers + 3 %).
python3 - "$work/R.csv" <<'EOF'
import sys, time
end0 = (int(time.time()) // 900) * 900 - 86400
with open(sys.argv[1], "w") as f:
    f.write("meter,time,kwh\n")
    for k in range(96):
        t = end0 + 900 * (k + 1)
        c = [0.1 + 0.01 * ((k * (i + 3)) % 11) for i in range(3)]
        f.write(f"imp-001,{t},{sum(c) * 1.03:.4f}\n")
        for i in range(3):
            f.write(f"imp-00{i + 2},{t},{c[i]:.4f}\n")
EOF
WATTGUARD_TOKEN="$token" "$bin" import readings "$work/R.csv" --server "$url" >"$work/out" ||
  fail "import readings exited $?: $(cat "$work/out")"
grep -q "384 rows, 4 meters, 384 intervals stored, 0 already stored" "$work/out" || fail "import readings printed: $(cat "$work/out")"
WATTGUARD_TOKEN="$token" "$bin" import readings "$work/R.csv" --server "$url" --json >"$work/again.json" ||
  fail "re-import exited $?"
python3 -c 'import json,sys; a=json.load(open(sys.argv[1])); assert a["intervals_stored"] == 0 and a["intervals_skipped"] == 384, a' \
  "$work/again.json" || fail "re-import stored again: $(cat "$work/again.json")"
now=$(date +%s)
curl -s -H "Authorization: Bearer $read_token" \
  "$url/api/v1/meters/imp-001/readings?from=$((now - 2 * 86400))&to=$((now + 60))&step=15m" >"$work/readings.json"
python3 - "$work/readings.json" "$work/R.csv" <<'EOF' || fail "imported energies: $(head -c 600 "$work/readings.json")"
import csv, json, sys
points = json.load(open(sys.argv[1]))["points"]
want = {int(r["time"]) * 1000: float(r["kwh"]) for r in csv.DictReader(open(sys.argv[2])) if r["meter"] == "imp-001"}
got = {p["t_ms"] + 900000: p["energy_import_wh"] / 1000 for p in points}
assert len(got) == 96, len(got)
for t, kwh in want.items():
    assert abs(got[t] - kwh) < 1e-6, (t, got.get(t), kwh)
EOF

# A bad readings row: exit 2 naming the line; the meter's data is unchanged.
printf 'meter,time,kwh\nimp-002,%s,0.1\nimp-002,%s,lots\n' "$((now + 900))" "$((now + 1800))" >"$work/badR.csv"
set +e
"$bin" import readings "$work/badR.csv" --server "$url" --token "$token" >"$work/out" 2>"$work/err"
status=$?
set -e
[ "$status" -eq 2 ] || fail "bad readings exited $status"
grep -q "line 3" "$work/err" && grep -q "kwh" "$work/err" || fail "bad readings message: $(cat "$work/err")"

# A read-only token is refused by the server (exit 1, says so); no server at all is exit 1 too.
set +e
"$bin" import readings "$work/R.csv" --server "$url" --token "$read_token" >"$work/out" 2>"$work/err"
status=$?
set -e
[ "$status" -eq 1 ] || fail "read token import exited $status"
grep -q "403" "$work/err" || fail "read token message: $(cat "$work/err")"
set +e
"$bin" import readings "$work/R.csv" --server "http://127.0.0.1:$mqtt_port" --token "$token" >"$work/out" 2>"$work/err"
status=$?
set -e
[ "$status" -eq 1 ] || fail "unreachable server exited $status"
grep -q "cannot reach" "$work/err" || fail "unreachable message: $(cat "$work/err")"
set +e
"$bin" import readings "$work/missing.csv" --server "$url" --token "$token" >"$work/out" 2>"$work/err"
status=$?
set -e
[ "$status" -eq 2 ] || fail "missing file exited $status"
echo "import CLI: ok"
