#!/usr/bin/env bash
# Smoke test of `wattguard bench forecast` on tiny generated data: two long-format gzip data sets of a few
# households over 50 days, plus one long-format export in households/. It must run, report every data set with
# held-out and tuning figures under every key, and say which split it reports; --max-households limits the homes.
set -uo pipefail
wg="$1"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }

mkdir -p "$work/data/households-real" "$work/data/households"
python3 - "$work/data" <<'PY'
import gzip, math, random, sys, datetime as dt
random.seed(5)
root = sys.argv[1]
def use(h, k):
    hour = (k % 48) / 2
    return round((0.2 + 0.1 * h + 0.5 * math.exp(-(hour - 19) ** 2 / 4)) * random.uniform(0.6, 1.4), 3)
for name, homes in (("alpha_tiny", 4), ("beta_tiny", 3)):
    with gzip.open(f"{root}/households-real/{name}.csv.gz", "wt") as f:
        f.write("household,time,kwh\n")
        for h in range(homes):
            start = dt.datetime(2013, 1, 1)
            for k in range(50 * 48):
                t = start + dt.timedelta(minutes=30 * k)
                f.write(f"{name[0].upper()}-{h},{t:%Y-%m-%dT%H:%M},{use(h, k)}\n")
# The four-homes directory's long layout (account, NMI, device, type, register, rate, start, end, kWh, ...).
with open(f"{root}/households/home1.csv", "w") as f:
    f.write("AccountNumber,NMI,DeviceNumber,DeviceType,RegisterCode,RateTypeDescription,StartDate,EndDate,"
            "ProfileReadValue,RegisterReadValue,QualityFlag\n")
    start = dt.datetime(2019, 6, 1)
    for k in range(50 * 48):
        t = start + dt.timedelta(minutes=30 * k)
        e = t + dt.timedelta(minutes=30)
        f.write(f"1,N,D,C,R,G,{t.day}/{t.month}/{t:%y} {t.hour}:{t.minute:02d},"
                f"{e.day}/{e.month}/{e:%y} {e.hour}:{e.minute:02d},{use(1, k)},0,A\n")
PY

"$wg" bench forecast --data "$work/data" --json > "$work/out.json" 2> "$work/err" || fail "bench forecast exited $?: $(cat "$work/err")"
grep -q "scoring ALPHA" "$work/err" || fail "no progress on stderr: $(cat "$work/err")"
python3 - "$work/out.json" <<'PY' || fail "bench JSON lacks keys (see above)"
import json, math, sys
r = json.load(open(sys.argv[1]))
assert r["reported"] == "held_out" and "FNV-1a" in r["split"], r.keys()
assert [s["name"] for s in r["sets"]] == ["ALPHA", "BETA", "AU4"], [s["name"] for s in r["sets"]]
keys = {"households", "days", "points", "mae_kwh", "best_baseline", "ratio_to_best_baseline", "daily_mape_pct",
        "mape_days_excluded", "coverage_p10_p90", "cycles", "cycle_end_ape_pct_median", "cycle_end_ape_pct_p90",
        "cycle_end_coverage"}
homes = 0
for s in r["sets"]:
    for split in ("held_out", "tuning"):
        got = s[split]
        assert set(got) == keys, (s["name"], split, set(got) ^ keys)
        assert set(got["mae_kwh"]) == {"model", "yesterday", "last_week", "median_7d"}
        homes += got["households"]
        if got["points"] > 0:
            assert got["mae_kwh"]["model"] > 0 and 0 <= got["coverage_p10_p90"] <= 1, got
assert homes == 8, homes
assert set(r["params"]) == {"weights", "lower_quantile", "upper_quantile", "total_spread_scale"}
assert r["seconds"] >= 0
PY

"$wg" bench forecast --data "$work/data" --max-households 1 --no-progress > "$work/table.txt" 2> "$work/err2" \
  || fail "table run exited $?"
[ ! -s "$work/err2" ] || fail "--no-progress still wrote: $(cat "$work/err2")"
grep -q "held-out" "$work/table.txt" && grep -q "MAE model" "$work/table.txt" || fail "table: $(cat "$work/table.txt")"
[ "$(grep -c ' homes ' "$work/table.txt")" -eq 6 ] || fail "want 3 sets x 2 splits: $(cat "$work/table.txt")"
"$wg" bench forecast --data "$work/none" > /dev/null 2>&1
[ $? -eq 2 ] || fail "a missing --data directory is not exit 2"
"$wg" bench forecast --data "$work/data" --write-trees "$work/trees.cc" > /dev/null 2> "$work/err3"
[ $? -eq 2 ] && grep -q -- "--tune" "$work/err3" || fail "--write-trees without --tune: $(cat "$work/err3")"
[ ! -e "$work/trees.cc" ] || fail "--write-trees without --tune wrote a file"

if [ "$failures" -gt 0 ]; then
  echo "$failures failure(s)"
  exit 1
fi
echo "bench forecast CLI: all checks passed"
