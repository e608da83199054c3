#!/usr/bin/env bash
# End-to-end: `m2mdm demo --devices 2` with the build tree's m2mdm-device. The demo runs the RO
# server in-process over HTTPS and provisions both agents end to end (PCID AKA, bootstrap push,
# registration, PVA, seal, install job 1200, SHO callback, AKA with the installed MCIM); it must
# exit 0, and its summary must list both devices as provisioned with an MCIM IMSI.
# $1 = m2mdm binary, $2 = build dir (m2mdm-device is $2/client/m2mdm-device).
set -euo pipefail
E2E_NAME=demo
# shellcheck source=lib/demo.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/demo.sh"

rc=0
timeout 300 "$M2MDM" demo --devices 2 --device-bin "$DEVBIN" --timeout 240 --work-dir "$WORK/demo" >"$WORK/out" 2>&1 || rc=$?
[ "$rc" -eq 0 ] || fail "m2mdm demo exit status $rc"
grep -q '^2/2 devices provisioned in ' "$WORK/out" || fail "no '2/2 devices provisioned' summary line"
[ "$(grep -cE '^[12] +IMEI:[0-9]+ +00101[0-9]{10} +00101[0-9]{10} +1[0-9] +[0-9.]+ +provisioned$' "$WORK/out")" -eq 2 ] \
  || fail "the summary table does not list both devices as provisioned"
for d in 1 2; do
  for step in "attached with PCID" "bootstrap applied" "registered" "PVA: PfC valid" "MCIM installed" \
              "SHO callback received" "agent stopped" "attached with MCIM"; do
    grep -q "^\[dev $d\] $step" "$WORK/out" || fail "device $d never reported '$step'"
  done
done
grep -q '2 SHO callback(s) received' "$WORK/out" || fail "callback count"
# A user-named work directory is kept: the agents' logs show the verified pushes.
for d in 1 2; do
  grep -q 'package 0 from' "$WORK/demo/device-$d.log" || fail "device $d log has no verified package 0"
done
cat "$WORK/out"
echo "PASS demo"
