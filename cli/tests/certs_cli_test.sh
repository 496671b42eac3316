#!/usr/bin/env bash
# End-to-end checks of `wattguard certs`: a pair made once with the names asked, the key private, the fingerprint
# the one openssl computes, the pair kept on a second run and replaced only with --renew, and bad input refused
# with exit status 2 and a message naming the option and value, the working pair untouched.
set -euo pipefail
wg="$1"
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
dir="$work/tls"

out=$("$wg" certs --dir "$dir" --name meters.example.org --name 192.0.2.7) || fail "certs exited $?"
grep -q "^made $dir/server.crt" <<<"$out" || fail "first run did not make the pair: $out"
grep -q "^names       meters.example.org, 192.0.2.7$" <<<"$out" || fail "names: $out"
[ "$(stat -c %a "$dir/server.key")" = 600 ] || fail "key mode $(stat -c %a "$dir/server.key")"
printed=$(sed -n 's/^sha256      //p' <<<"$out")
expected=$(openssl x509 -in "$dir/server.crt" -noout -fingerprint -sha256 | sed 's/^.*=//')
[ "$printed" = "$expected" ] || fail "fingerprint $printed, openssl says $expected"

again=$("$wg" certs --dir "$dir") || fail "second run exited $?"
grep -q "^kept $dir/server.crt" <<<"$again" || fail "second run did not keep the pair: $again"
[ "$(sed -n 's/^sha256      //p' <<<"$again")" = "$printed" ] || fail "the kept pair changed its fingerprint"

set +e
bad=$("$wg" certs --dir "$dir" --renew --name "bad name" 2>&1)
status=$?
set -e
[ "$status" = 2 ] || fail "a bad name exited $status"
grep -qF -- '--name "bad name": not a host name or an IP address' <<<"$bad" || fail "bad name message: $bad"
[ "$("$wg" certs --dir "$dir" | sed -n 's/^sha256      //p')" = "$printed" ] || fail "a refused renewal touched the pair"

renewed=$("$wg" certs --dir "$dir" --renew) || fail "--renew exited $?"
[ "$(sed -n 's/^sha256      //p' <<<"$renewed")" != "$printed" ] || fail "--renew kept the old certificate"

rm "$dir/server.key"
set +e
half=$("$wg" certs --dir "$dir" 2>&1)
status=$?
set -e
[ "$status" = 2 ] || fail "half a pair exited $status"
grep -qF "server.key: is missing while its pair exists" <<<"$half" || fail "half pair message: $half"
echo "certs: all checks passed"
