#!/usr/bin/env bash
# End-to-end: `m2mdm demo --devices 2 --operator-change B` with the build tree's m2mdm-device.
# Each device is provisioned for a first SHO, then moved to a second SHO by operator change
# variant B (docs/operator-change.md; seed 004 §5.2.5.8.3.2): the old SHO's token resets the
# device to the pristine state (every MCIM removed, the discard confirmed to the old SHO and
# acknowledged), the device attaches with its PCID again, the DRF re-bootstraps it with the new
# SHO as its SHO, the new SHO's MCIM is queued once the device used its new DM credentials and
# is installed; the registry names the new SHO, the old SHO is refused, and AKA runs with the new
# IMSI. Exit 0 only if both devices moved.
# $1 = m2mdm binary, $2 = build dir (m2mdm-device is $2/client/m2mdm-device).
set -euo pipefail
E2E_NAME=ocb
# shellcheck source=lib/demo.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/demo.sh"

# Each device: the first SHO's result; the old SHO's discard and completion; the new SHO's
# acknowledgement, reset result and install result. The steps in the order seed 004 §5.2.5.8.3.2
# gives them.
operator_change_demo B 12 "operator change requested" \
  "device back to the pristine state (reset job succeeded, code 1200)" \
  "re-bootstrap applied (the DRF names sho-b.example)" "new SHO's MCIM queued" "new MCIM installed"
for d in 1 2; do
  # Two PCID attaches: the first provisioning and after the reset (steps 4-6).
  [ "$(grep -cF "[dev $d] attached with PCID (AKA RES == XRES)" "$WORK/out")" -eq 2 ] \
    || fail "device $d did not attach with its PCID again after the reset"
  # The device refused nothing it should have taken (a refused re-bootstrap would show here).
  ! grep -q '"event":"bootstrap_refused"' "$WORK/demo/device-$d.log" || fail "device $d refused a bootstrap"
done
cat "$WORK/out"
echo "PASS operator_change_b"
