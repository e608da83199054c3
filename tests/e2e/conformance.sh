#!/usr/bin/env bash
# End-to-end: `m2mdm conformance` against the real `m2mdm-device` daemon over loopback. The device
# is bootstrapped (OMA CP, `m2mdm bootstrap build`) with the conformance test account: ServerID
# m2mdm-conformance, AppAddr https://127.0.0.1:<port>/dm pinned to the test PKI's TLS key, the
# documented secrets and start nonces. The suite asks for sessions with package 0 over UDP and
# for client-initiated ones with SIGUSR1 (--trigger-command). Checks: --list names every case with
# its clause; the DIGEST account passes every case it can run (exit 0, JUnit XML without failures,
# at least 30 passed); a wrong ./DevInfo/Mod makes the judged case fail (exit 1), so the suite
# does judge; HMAC and BASIC accounts pass their authentication cases.
# $1 = m2mdm binary, $2 = build dir (m2mdm-device is $2/client/m2mdm-device).
set -euo pipefail
M2MDM=${1:?m2mdm binary}
BUILD=${2:?build dir}
DEV="$BUILD/client/m2mdm-device"
E2E_NAME=conformance
E2E_BG="DPID"
DPID=
# shellcheck source=lib/server.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/server.sh"
[ -x "$DEV" ] || fail "no m2mdm-device at $DEV"
make_pki

# server_auth LEVEL TYPE NAME SECRET DATA: one [[context.server.auth]] table of the bootstrap TOML
# (the device's credential APPSRV, the server's CLIENT).
server_auth() {
  cat <<TOML
    [[context.server.auth]]
    level = "$1"
    type = "$2"
    name = "$3"
    secret = "$4"
    data = "$5"
TOML
}

# device AUTH DEVID [DAEMON ARGS...]: a bootstrapped m2mdm-device daemon with the test account of
# type AUTH; leaves DPID (its pid), PUSH_PORT (its UDP push port) and HTTP_PORT (the AppAddr's port).
device() {
  local auth=$1 id=$2 dir="$WORK/dev-$1-$2"
  shift 2
  mkdir -p "$dir"
  "$M2MDM" pki device --dir "$WORK/pki" --id "$id" >"$dir/pki.txt"
  local tre
  tre=$(sed -n 's/^tre-dir: //p' "$dir/pki.txt")
  HTTP_PORT=$(free_port SOCK_STREAM)
  PUSH_PORT=$(free_port SOCK_DGRAM)
  cat >"$dir/bootstrap.toml" <<TOML
name = "m2mdm conformance"
provurl = "https://127.0.0.1:$HTTP_PORT/prov"
[[context]]
role = "mcim-provisioning"
  [context.nap]
  napid = "NAP-LAB"
  name = "lab"
  apn = "lab.example"
  [context.server]
  server_id = "m2mdm-conformance"
  name = "m2mdm conformance"
  addr = "https://127.0.0.1:$HTTP_PORT/dm"
  init = false
  spki_pem = "$(pki tls-cert)"
$(server_auth APPSRV "$auth" "$id" conformance-client-secret Y29uZm9ybWFuY2UtYw==)
$(server_auth CLIENT "$auth" m2mdm-conformance conformance-server-secret Y29uZm9ybWFuY2Utcw==)
TOML
  "$M2MDM" bootstrap build --config "$dir/bootstrap.toml" --sec USERPIN --pin 1234 --format push \
    --out "$dir/bootstrap.push" >/dev/null
  "$DEV" --state-dir "$dir/state" --tre-dir "$tre" --trust-anchors "$(pki sho-ca)" --sec USERPIN --pin 1234 \
    --ca-file "$(pki tls-ca)" --bootstrap "$dir/bootstrap.push" 2>"$dir/bootstrap.log" \
    || fail "bootstrap of the $auth device: $(cat "$dir/bootstrap.log")"
  "$DEV" --state-dir "$dir/state" --tre-dir "$tre" --trust-anchors "$(pki sho-ca)" --sec USERPIN --pin 1234 \
    --ca-file "$(pki tls-ca)" --listen "127.0.0.1:$PUSH_PORT" "$@" 2>"$WORK/device.log" &
  DPID=$!
  wait_line "$WORK/device.log" "listening for WAP push" 1 20 "$DPID"
}

stop_device() {
  kill -TERM "$DPID"
  wait "$DPID" || fail "m2mdm-device exit status $? after SIGTERM"
  DPID=
}

# conformance AUTH DEVID ARGS...: the suite against the running device; stdout in $WORK/run.out.
conformance() {
  local auth=$1 id=$2
  shift 2
  set +e
  timeout 300 "$M2MDM" conformance --listen "127.0.0.1:$HTTP_PORT" --tls-cert "$(pki tls-cert)" \
    --tls-key "$(pki tls-key)" --push "127.0.0.1:$PUSH_PORT" --trigger-command "kill -USR1 $DPID" \
    --dev-id "$id" --auth "$auth" --session-timeout 10 --quiet-ms 300 "$@" >"$WORK/run.out" 2>"$WORK/run.err"
  RC=$?
  set -e
  sed -n 's/^\[ *[0-9]*\/[0-9]*\] PASS  \([a-z0-9_]*\).*/\1/p' "$WORK/run.out" >>"$WORK/passed.txt"
}

# 1. --list: every case with its spec clause.
"$M2MDM" conformance --list >"$WORK/list.txt"
cases=$(grep -c '^[a-z0-9_]\+  ' "$WORK/list.txt")
[ "$cases" -ge 35 ] || fail "--list shows $cases cases: $(cat "$WORK/list.txt")"
[ "$(grep '^[a-z0-9_]\+  ' "$WORK/list.txt" | grep -vc '§')" -eq 0 ] || fail "a case without a clause in --list"
echo "ok: --list names $cases cases, each with its clause"

# 2. The DIGEST account: every case it can run passes.
ID=IMEI:490154203237518
device DIGEST "$ID"
start=$(date +%s)
conformance DIGEST "$ID" --report "$WORK/report"
secs=$(( $(date +%s) - start ))
cat "$WORK/run.out"
[ "$RC" -eq 0 ] || fail "conformance exit $RC: $(tail -5 "$WORK/run.err")"
grep -q '^\[setup\] nonce sync: ok' "$WORK/run.out" || fail "the nonce sync failed"
passed=$(grep -c '^\[ *[0-9]*/[0-9]*\] PASS' "$WORK/run.out")
[ "$passed" -ge 30 ] || fail "only $passed cases passed"
! grep -q '^\[ *[0-9]*/[0-9]*\] FAIL' "$WORK/run.out" || fail "a case failed"
grep -q '<testsuite name="m2mdm conformance" tests="[0-9]*" failures="0"' "$WORK/report.xml" \
  || fail "JUnit report: $(head -3 "$WORK/report.xml")"
[ "$(grep -c '<testcase classname="[^"]*§' "$WORK/report.xml")" -eq "$cases" ] \
  || fail "the JUnit report does not name every case's clause"
grep -q "rule: DM_RepPro 1.2 §6.6.4" "$WORK/report.txt" || fail "the text report lacks the rules"
grep -q "package 0 from m2mdm-conformance .*verified\|package0_verified\|package 0" "$WORK/device.log" \
  || fail "the device saw no package 0"
echo "ok: DIGEST account: $passed passed, 0 failed ($(tail -1 "$WORK/report.txt")), ${secs} s"

# 3. The suite judges: the device reports another ./DevInfo/Mod than the lab says.
conformance DIGEST "$ID" --cases 'client_initiated_1201_package1_devinfo,atomic_all_succeed_applied' --mod other-model
[ "$RC" -eq 1 ] || fail "a wrong --mod: exit $RC, expected 1 ($(cat "$WORK/run.out"))"
grep -q 'FAIL  client_initiated_1201_package1_devinfo' "$WORK/run.out" || fail "the DevInfo case did not fail"
grep -q 'PASS  atomic_all_succeed_applied' "$WORK/run.out" || fail "an unrelated case failed: $(cat "$WORK/run.out")"
grep -q 'Results data for ./DevInfo/Mod is "m2mdm-device", expected "other-model"' "$WORK/run.out" \
  || fail "no reason: $(cat "$WORK/run.out")"
echo "ok: a wrong ./DevInfo/Mod fails its case with the reason (exit 1)"
stop_device

# 4. HMAC and BASIC accounts: their authentication cases.
for auth in HMAC BASIC; do
  id=IMEI:49015420323752$([ "$auth" = HMAC ] && echo 1 || echo 2)
  device "$auth" "$id"
  conformance "$auth" "$id"
  [ "$RC" -eq 0 ] || fail "$auth account: exit $RC: $(cat "$WORK/run.out")"
  n=$(grep -c '^\[ *[0-9]*/[0-9]*\] PASS' "$WORK/run.out")
  want=$([ "$auth" = HMAC ] && echo 2 || echo 1)
  [ "$n" -eq "$want" ] || fail "$auth account: $n passed, expected $want: $(cat "$WORK/run.out")"
  echo "ok: $auth account: $(sed -n 's/.*PASS  \([a-z0-9_]*\).*/\1/p' "$WORK/run.out" | tr '\n' ' ')"
  stop_device
done

# 5. A device with a small MaxObjSize (--max-obj-size 100) takes the case that sends a whole
# object above it; every other run's device announces 2 MiB and reports it SKIP.
device DIGEST IMEI:490154203237539 --max-obj-size 100
conformance DIGEST IMEI:490154203237539 --cases large_object_whole_over_max_obj_size_413
[ "$RC" -eq 0 ] || fail "small MaxObjSize: exit $RC: $(cat "$WORK/run.out")"
grep -q 'PASS  large_object_whole_over_max_obj_size_413' "$WORK/run.out" || fail "whole-object 413: $(cat "$WORK/run.out")"
echo "ok: a device announcing MaxObjSize 100 refuses a whole 200-byte object with 413"
stop_device

# 6. Across the runs every case of the suite passed against m2mdm-device.
missing=$(grep -o '^[a-z0-9_]\+  ' "$WORK/list.txt" | tr -d ' ' | sort -u | comm -23 - <(sort -u "$WORK/passed.txt"))
[ -z "$missing" ] || fail "cases that passed in no run: $missing"
echo "ok: all $cases cases passed against m2mdm-device (DIGEST, HMAC, BASIC and small-MaxObjSize runs)"
echo "PASS conformance"
