#!/usr/bin/env bash
# End-to-end: operator change A, B and C when the old SHO never acknowledges the discard
# (`m2mdm demo --operator-change X --no-ack`): nothing waits for it — each change completes, the
# change says "acknowledged": false, and the new SHO is never told of an acknowledgement.
# $1 = m2mdm binary, $2 = build dir (m2mdm-device is $2/client/m2mdm-device).
set -euo pipefail
E2E_NAME=ocnoack
# shellcheck source=lib/demo.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/demo.sh"

for variant in A B C; do
  rc=0
  timeout 200 "$M2MDM" demo --devices 1 --operator-change "$variant" --no-ack --device-bin "$DEVBIN" --timeout 150 \
    >"$WORK/out" 2>&1 || rc=$?
  [ "$rc" -eq 0 ] || fail "variant $variant without acknowledgement: exit status $rc"
  steps_in_order 1 "old SHO told: old MCIM discarded" "old SHO does not acknowledge (--no-ack): nothing waits for it" \
    "registry names the new SHO (old SHO refused (404))" \
    "completed without the old SHO's acknowledgement (acknowledged: false)"
  ! grep -qF "relayed to the new SHO" "$WORK/out" || fail "variant $variant: an acknowledgement was relayed"
  new_imsi_attached 1 >/dev/null
  echo "ok: variant $variant completed without the old SHO's acknowledgement"
done
echo "PASS operator_change_no_ack"
