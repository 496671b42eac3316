#!/usr/bin/env bash
# The short fault drills (`wattguard bench faults --short --json`, docs/fault-drills.md) against the real broker,
# a `wattguard serve` process and virtual meters: fails when any drill lost a reading, stored one twice, did not
# recover within 30 s of its fault's end, or broke off. A drill this machine cannot run (no tmpfs mount without
# root, no libfaketime) is reported as skipped and does not fail the check. Runs the asan binary of `make test`
# (WATTGUARD_BIN).
set -euo pipefail
cd "$(dirname "$0")/../.."
bin=${WATTGUARD_BIN:-build/asan/cli/wattguard}
[ -x "$bin" ] || { echo "faults check: no wattguard binary at $bin (build the asan preset first)" >&2; exit 1; }
out=$(mktemp)
trap 'rm -f "$out"' EXIT
timeout 600 "$bin" bench faults --short --json ${FAULTS_ARGS:-} >"$out"
cat "$out"
python3 - "$out" <<'PY'
import json, sys
target_s = 30
failures, drills = [], 0
for line in open(sys.argv[1]):
    line = line.strip()
    if not line:
        continue
    d = json.loads(line)
    drills += 1
    name = d["drill"]
    if d.get("skipped"):
        print(f"faults check: {name} skipped: {d['skipped']}", file=sys.stderr)
        continue
    if d.get("error"):
        failures.append(f"{name}: broke off: {d['error']}")
        continue
    if d["lost"] > 0:
        failures.append(f"{name}: {d['lost']} of {d['sent']} readings lost")
    if d["stored_twice"] > 0:
        failures.append(f"{name}: {d['stored_twice']} readings stored twice")
    if d["recovered_s"] is None or d["recovered_s"] > target_s:
        failures.append(f"{name}: not recovered within {target_s} s of the fault's end (recovered_s {d['recovered_s']})")
if drills == 0:
    failures.append("no drill reported")
for f in failures:
    print("faults check FAILED: " + f, file=sys.stderr)
sys.exit(1 if failures else 0)
PY
echo "faults check: every drill 0 lost, 0 stored twice, recovered within 30 s"
