#!/usr/bin/env bash
# End-to-end: `m2mdm demo --devices 2 --power-cuts 2`: each agent's power is cut (SIGKILL) twice
# inside the DM session(s) of its install and it is switched on again on the same state and TRE.
# The server pushes package 0 again after the stall, the install completes, and the demo checks on
# the device side that no cut left two active MCIMs and that each device ends with exactly one
# (this SHO's, usable: AKA with it), with one SHO callback for its job. Bounded: about 30 s.
# $1 = m2mdm binary, $2 = build dir (m2mdm-device is $2/client/m2mdm-device).
set -euo pipefail
E2E_NAME=demo_power_cuts
# shellcheck source=lib/demo.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/demo.sh"

rc=0
timeout 300 "$M2MDM" demo --devices 2 --power-cuts 2 --device-bin "$DEVBIN" --timeout 240 --work-dir "$WORK/demo" \
  >"$WORK/out" 2>&1 || rc=$?
[ "$rc" -eq 0 ] || { cat "$WORK/out"; fail "m2mdm demo --power-cuts exit status $rc"; }
grep -q '^2/2 devices provisioned in ' "$WORK/out" || fail "no '2/2 devices provisioned' summary line"
for d in 1 2; do
  cuts=$(grep -cE "^\[dev $d\] power cut [12] \([0-9]+ ms into the session, [01] active MCIM; agent restarted" "$WORK/out" || true)
  # A cut is skipped only when the job ended before the next session began (the line says so).
  [ "$cuts" -ge 1 ] || fail "device $d: no power cut reported"
  grep -q "^\[dev $d\] exactly one MCIM after the power cuts" "$WORK/out" || fail "device $d: not exactly one MCIM"
  grep -q "^\[dev $d\] attached with MCIM" "$WORK/out" || fail "device $d: no AKA with the installed MCIM"
done
grep -q '2 SHO callback(s) received' "$WORK/out" || fail "callback count"
cat "$WORK/out"
echo "PASS demo power cuts"
