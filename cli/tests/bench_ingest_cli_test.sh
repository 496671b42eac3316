#!/usr/bin/env bash
# `wattguard bench ingest --storage postgresql` end to end: a short run on a private PostgreSQL (50 meters, 10 s)
# must store every reading (0 lost) and say "storage": "postgresql", and leave no server or directory behind; a
# run on a server given by --postgresql (one this script initdb's) must leave no database behind there; bad
# --storage and an unreachable --postgresql are refused with exit 1 and a message.
set -euo pipefail
wg="$1"
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
pg_bin=${WATTGUARD_PG_BIN:-/usr/lib/postgresql/15/bin}
[ -x "$pg_bin/initdb" ] || fail "no $pg_bin/initdb: install postgresql-15 (scripts/install-deps.sh)"

# Checks the JSON of one run: the storage named, readings stored, none lost, none dropped.
check_run() {
  python3 - "$1" "$2" <<'PY' || fail "$1: $(cat "$1")"
import json, sys
r = json.load(open(sys.argv[1]))
assert r["storage"] == "postgresql", r
assert r["lost"] == 0 and r["dropped"] == 0, r
assert r["readings_stored"] >= int(sys.argv[2]) and r["readings_stored"] == r["readings_sent"], r
assert r["latency_samples"] > 0 and r["latency_p99_ms"] > 0, r
for key in ("meters", "period_s", "duration_s", "fidelity", "transport", "connections", "journal",
            "readings_offered_per_s", "readings_per_s", "latency_p50_ms", "latency_max_ms", "replayed",
            "connect_s", "cpu_process_pct", "cpu_broker_pct", "interrupted"):
    assert key in r, key
PY
}

# 1. A private PostgreSQL: 50 meters every second for 10 s is at least 450 readings.
"$wg" bench ingest --storage postgresql --meters 50 --period 1 --duration 10 --json --no-progress \
  >"$work/private.json" 2>"$work/private.log" &
run=$!
wait "$run" || fail "bench ingest --storage postgresql failed"
check_run "$work/private.json" 450
ls -d "${TMPDIR:-/tmp}"/wattguard-pg-"$run"-* 2>/dev/null && fail "the private PostgreSQL's directory is left behind"
pgrep -f "wattguard-pg-$run-" && fail "the private PostgreSQL is still running"

# 2. --postgresql: a server of this script's; the run's database must be gone afterwards.
pg_dir="$work/pg"
mkdir -p "$pg_dir"
as_pg=()
if [ "$(id -u)" = 0 ]; then
  chown postgres "$pg_dir"
  chmod 711 "$work"
  as_pg=(runuser -u postgres --)
fi
pg_port=$(free_port)
"${as_pg[@]}" "$pg_bin/initdb" -D "$pg_dir/data" -U postgres -A trust --no-sync >"$work/initdb.log" 2>&1 ||
  fail "initdb failed"
"${as_pg[@]}" "$pg_bin/pg_ctl" -D "$pg_dir/data" -l "$pg_dir/server.log" -w -t 60 \
  -o "-c listen_addresses=127.0.0.1 -p $pg_port -k $pg_dir -c fsync=off" start >"$work/pg_ctl.log" 2>&1 ||
  fail "pg_ctl start failed: $(cat "$pg_dir/server.log")"
trap '"${as_pg[@]}" "$pg_bin/pg_ctl" -D "$pg_dir/data" -m immediate -w stop >/dev/null 2>&1; cleanup' EXIT
conninfo="host=127.0.0.1 port=$pg_port user=postgres dbname=postgres"
"$wg" bench ingest --storage postgresql --postgresql "$conninfo" --meters 20 --period 1 --duration 3 --json \
  --no-progress >"$work/given.json" 2>"$work/given.log" || fail "bench ingest --postgresql failed"
check_run "$work/given.json" 40
left=$(psql "$conninfo" -Atc "SELECT count(*) FROM pg_database WHERE datname LIKE 'wattguard_bench_%'")
[ "$left" = 0 ] || fail "$left bench database(s) left on the --postgresql server"

# 3. Refusals: exit 1 and a message naming the option.
"$wg" bench ingest --storage mysql --duration 1 >"$work/bad.out" 2>&1 && fail "--storage mysql was accepted"
grep -q -- "--storage" "$work/bad.out" || fail "no --storage in: $(cat "$work/bad.out")"
"$wg" bench ingest --postgresql "$conninfo" --duration 1 >"$work/bad.out" 2>&1 &&
  fail "--postgresql without --storage postgresql was accepted"
dead_port=$(free_port)
"$wg" bench ingest --storage postgresql --postgresql "host=127.0.0.1 port=$dead_port user=postgres" --duration 1 \
  >"$work/dead.out" 2>&1 && code=0 || code=$?
[ "$code" = 1 ] || fail "an unreachable --postgresql exited $code, not 1: $(cat "$work/dead.out")"
grep -q "cannot connect to PostgreSQL" "$work/dead.out" || fail "no reason in: $(cat "$work/dead.out")"
echo "bench ingest --storage postgresql: ok"
