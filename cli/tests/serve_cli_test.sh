#!/usr/bin/env bash
# `wattguard serve`, `users`, `meters provision` and `fleet` as an administrator runs them, as separate
# processes over real sockets: a Mosquitto broker with the provisioned password and ACL files, the
# server, and three virtual meters. Checks that readings arrive in the API, that sign-in refuses a
# wrong password, that bad options are refused with a message, and that a restart keeps the data.
set -euo pipefail

bin=${1:?usage: serve_cli_test.sh path/to/wattguard}
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
server_env

# --help and option errors.
"$bin" serve --help | grep -q -- "--http-port" || fail "serve --help does not list --http-port"
set +e
"$bin" serve --http-port 70000 >"$work/bad-option.out" 2>&1
status=$?
set -e
[ "$status" -ne 0 ] || fail "serve --http-port 70000 was accepted"
grep -q -- "--http-port" "$work/bad-option.out" || fail "the refusal of --http-port 70000 does not name the option"
printf '[http]\nport = "eighty"\n' >"$work/bad.toml"
set +e
"$bin" serve --config "$work/bad.toml" --check-config >"$work/bad-config.out" 2>&1
status=$?
set -e
[ "$status" -eq 2 ] || fail "a bad config file gave exit $status, expected 2"
grep -q "http.port" "$work/bad-config.out" || fail "the bad config message does not name http.port: $(cat "$work/bad-config.out")"

# --tariff: a good tariff file is counted; a bad one is refused naming the file, line and field.
cat >"$work/tariffs.toml" <<'TOML'
[[tariff]]
id = "domestic"
currency = "INR"
cycle = "monthly"
time_zone = "+05:30"
slab_mode = "telescopic"
slabs = [ { upto_kwh = 100, rate = 4.71 }, { rate = 10.29 } ]
fixed_charge = 120.0
tax_percent = 16.0
TOML
"$bin" serve --tariff "$work/tariffs.toml" --check-config | grep -q "1 tariff version" ||
  fail "serve --tariff did not load the tariff"
sed 's/rate = 10.29/rate = -10.29/' "$work/tariffs.toml" >"$work/bad-tariffs.toml"
set +e
"$bin" serve --tariff "$work/bad-tariffs.toml" --check-config >"$work/bad-tariff.out" 2>&1
status=$?
set -e
[ "$status" -eq 2 ] || fail "a bad tariff file gave exit $status, expected 2"
grep -q "bad-tariffs.toml:7" "$work/bad-tariff.out" || fail "the tariff refusal does not name file and line: $(cat "$work/bad-tariff.out")"
grep -q "slabs\[1\].rate" "$work/bad-tariff.out" || fail "the tariff refusal does not name the field: $(cat "$work/bad-tariff.out")"

# Accounts, meters and the server's broker user, written by the CLI into the data directory.
"$bin" meters provision --count 3 --prefix cli- --width 3 --area north --data "$data" \
  --credentials-out "$work/credentials.csv" >/dev/null
echo "a-long-admin-password" | "$bin" users add admin --role admin --password-stdin --data "$data" >/dev/null
echo "a-long-consumer-password" | "$bin" users add carol --role consumer --meters cli-001 --password-stdin \
  --data "$data" >/dev/null
"$bin" meters broker-user --data "$data" --password-out "$work/server-password" >/dev/null
[ "$(stat -c %a "$work/server-password")" = 600 ] || fail "the server's password file is not private"
[ "$(stat -c %a "$data/wattguard.db")" = 600 ] || fail "the database is $(stat -c %a "$data/wattguard.db"), not 600"
# A chosen password comes from a file or standard input, never from the command line.
echo "a-chosen-broker-password" | "$bin" meters broker-user --data "$data" --user extra --password-file - \
  --password-out "$work/extra-password" >/dev/null
[ "$(cat "$work/extra-password")" = "a-chosen-broker-password" ] || fail "--password-file - was not used"
# A Home Assistant user: listed in the ACL, may command relays through the server's topics only.
"$bin" meters broker-user --data "$data" --user hass --homeassistant --password-out "$work/hass-password" >/dev/null
grep -qx "# homeassistant: hass" "$data/mosquitto/acl" || fail "broker-user --homeassistant is not in the ACL"
sed -n '/^user hass$/,/^$/p' "$data/mosquitto/acl" | grep -qx "topic write wattguard/ha/+/relay/set" ||
  fail "the Home Assistant user may not write relay/set: $(cat "$data/mosquitto/acl")"

user_line=""
[ "$(id -u)" -eq 0 ] && user_line="user $(id -un)"
cat >"$work/mosquitto.conf" <<EOF
listener $mqtt_port 127.0.0.1
allow_anonymous false
password_file $data/mosquitto/passwd
acl_file $data/mosquitto/acl
persistence false
$user_line
EOF
mosquitto -c "$work/mosquitto.conf" >"$work/mosquitto.log" 2>&1 &
pids+=($!)

echo "password_file = \"$work/server-password\"" | write_server_config

start_server

# Sign-in: a wrong password is refused without saying which part was wrong; the right one opens a session.
status=$(curl -s -o "$work/refused.json" -w '%{http_code}' -H 'Content-Type: application/json' \
  -d '{"name":"admin","password":"not-the-password"}' "$url/api/v1/session")
[ "$status" = 401 ] || fail "wrong password answered $status"
grep -q bad_credentials "$work/refused.json" || fail "wrong password answer: $(cat "$work/refused.json")"
status=$(curl -s -c "$work/cookies" -o /dev/null -w '%{http_code}' -H 'Content-Type: application/json' \
  -d '{"name":"admin","password":"a-long-admin-password"}' "$url/api/v1/session")
[ "$status" = 200 ] || fail "admin sign-in answered $status"

# Three virtual meters report every second through the broker; their readings must reach the API.
"$bin" fleet --meters 3 --period 1 --id-prefix cli- --id-width 3 --first 1 --broker "127.0.0.1:$mqtt_port" \
  --credentials "$work/credentials.csv" --state "$work/fleet-state" --fidelity fast --duration 8 \
  >"$work/fleet.log" 2>&1 || fail "the fleet failed"

curl -s -b "$work/cookies" "$url/api/v1/meters" >"$work/meters.json"
python3 - "$work/meters.json" <<'EOF' || fail "meters after the fleet ran: $(cat "$work/meters.json")"
import json, sys
meters = {m["id"]: m for m in json.load(open(sys.argv[1]))["meters"]}
assert set(meters) == {"cli-001", "cli-002", "cli-003"}, sorted(meters)
for m in meters.values():
    assert m.get("last_reading") and m["last_reading"]["vrms"] > 100, m
EOF
curl -s -b "$work/cookies" "$url/api/v1/health" >"$work/health.json"
stored=$(python3 -c 'import json,sys; h=json.load(open(sys.argv[1])); print(h["readings"]["stored"])' "$work/health.json") ||
  fail "health: $(cat "$work/health.json")"
[ "$stored" -ge 15 ] || fail "only $stored readings stored from 3 meters over 8 s"

# A consumer sees only their own meter.
curl -s -c "$work/carol" -o /dev/null -H 'Content-Type: application/json' \
  -d '{"name":"carol","password":"a-long-consumer-password"}' "$url/api/v1/session"
status=$(curl -s -b "$work/carol" -o /dev/null -w '%{http_code}' "$url/api/v1/meters/cli-002")
[ "$status" = 403 ] || [ "$status" = 404 ] || fail "carol opened cli-002: $status"

# SIGTERM stops the server cleanly; a restart serves the same readings.
kill -TERM "$server_pid"
wait "$server_pid" || fail "serve exited with $? on SIGTERM"
grep -q "stopped" "$work/serve.log" || fail "serve did not log its shutdown"
start_server
status=$(curl -s -c "$work/cookies" -o /dev/null -w '%{http_code}' -H 'Content-Type: application/json' \
  -d '{"name":"admin","password":"a-long-admin-password"}' "$url/api/v1/session")
[ "$status" = 200 ] || fail "sign-in after restart answered $status"
now=$(date +%s)
for m in cli-001 cli-002 cli-003; do
  curl -s -b "$work/cookies" "$url/api/v1/meters/$m/readings?from=$((now - 600))&to=$((now + 60))&step=5" \
    >"$work/readings-$m.json"
  n=$(python3 -c 'import json,sys; print(sum(p["count"] for p in json.load(open(sys.argv[1]))["points"]))' \
    "$work/readings-$m.json") || fail "$m readings after the restart: $(cat "$work/readings-$m.json")"
  [ "$n" -ge 5 ] || fail "$m has $n readings after the restart"
done

# `users remove` releases the user's meters: a new user of the same name (any case) inherits nothing.
"$bin" users remove carol --data "$data" | grep -q "1 meter(s) released" || fail "users remove did not release cli-001"
echo "another-long-password" | "$bin" users add CAROL --role consumer --password-stdin --data "$data" >/dev/null
"$bin" meters list --json --data "$data" 2>/dev/null | python3 -c '
import json, sys
owners = {m["id"]: m["owner"] for m in map(json.loads, sys.stdin)}
sys.exit(0 if owners["cli-001"] == "" else 1)' || fail "cli-001 kept the removed user as its owner"
sleep 6  # the running server reloads its meter registry every 5 s (a change made behind its back, as here)
curl -s -c "$work/carol2" -o /dev/null -H 'Content-Type: application/json' \
  -d '{"name":"CAROL","password":"another-long-password"}' "$url/api/v1/session"
status=$(curl -s -b "$work/carol2" -o /dev/null -w '%{http_code}' "$url/api/v1/meters/cli-001")
[ "$status" = 404 ] || fail "a new CAROL opened the removed carol's meter cli-001: $status"
echo "serve CLI: ok"
