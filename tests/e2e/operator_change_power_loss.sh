#!/usr/bin/env bash
# End-to-end power loss during operator change A and C (docs/operator-change.md, "Crash safety"):
# `m2mdm demo --operator-change A|C --kill-agent-at POINT` cuts the real agent's power (SIGKILL)
# at each point below, checks the powered-off TRE holds exactly one usable MCIM — the old SHO's
# or the new SHO's, never neither, never both — switches the agent on again, and the change must
# still complete (AKA with the new IMSI at the end). The points, in the order of the change:
#   package0   the agent verified the package 0 of the change's job (delivery about to start)
#   discarded  the agent reported the old MCIM discarded (the TRE's commit point is behind it)
#   installed  the agent reported the new MCIM installed (its result not yet at the RO)
# The TRE-level cuts (every write, sync, rename and directory sync) are unit tests
# (tests/client/operator_change_test.cpp).
# $1 = m2mdm binary, $2 = build dir (m2mdm-device is $2/client/m2mdm-device).
set -euo pipefail
E2E_NAME=ocpl
# shellcheck source=lib/demo.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/demo.sh"

for variant in A C; do
  for point in package0 discarded installed; do
    rc=0
    timeout 200 "$M2MDM" demo --devices 1 --operator-change "$variant" --kill-agent-at "$point" --device-bin "$DEVBIN" \
      --timeout 150 >"$WORK/out" 2>&1 || rc=$?
    [ "$rc" -eq 0 ] || fail "variant $variant, power loss at $point: exit status $rc"
    grep -qE "^\[dev 1\] power lost at $point \(the (old|new) MCIM alone usable; agent restarted, pid [0-9]+\)$" "$WORK/out" \
      || fail "variant $variant: no power loss at $point"
    grep -q "^1/1 devices provisioned and moved to sho-b.example (operator change $variant) in " "$WORK/out" \
      || fail "variant $variant, power loss at $point: the change did not complete"
    new_imsi_attached 1 >/dev/null
    echo "ok: variant $variant, power lost at $point: $(grep -o 'the \(old\|new\) MCIM alone usable' "$WORK/out")"
  done
done
echo "PASS operator_change_power_loss"
