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

provisioning_demo "$DEVBIN" "m2mdm demo"
steps_reported "attached with PCID" "bootstrap applied" "registered" "PVA: PfC valid" "MCIM installed" \
  "SHO callback received" "agent stopped" "attached with MCIM"
grep -q '2 SHO callback(s) received' "$WORK/out" || fail "callback count"
# A user-named work directory is kept: the agents' logs show the verified pushes.
for d in 1 2; do
  grep -q 'package 0 from' "$WORK/demo/device-$d.log" || fail "device $d log has no verified package 0"
done
cat "$WORK/out"
echo "PASS demo"
