#!/usr/bin/env bash
# End-to-end: `m2mdm demo --devices 2 --operator-change C` with the build tree's m2mdm-device.
# Each device is provisioned for a first SHO, then moved to a second SHO by operator change
# variant C (docs/operator-change.md; seed 001 §5.4.4): the new SHO's bulk request carries, for
# the same USIM application (same ICCID), new IMSI, K and OTA keys sealed to the PfC, with the old
# SHO's token as its consent; the TRE replaces the old ones in place and resets the USIM; both
# SHOs hear the result; the registry names the new SHO, the old SHO is refused, and AKA runs with
# the new IMSI. Exit 0 only if both devices moved.
# $1 = m2mdm binary, $2 = build dir (m2mdm-device is $2/client/m2mdm-device).
set -euo pipefail
E2E_NAME=occ
# shellcheck source=lib/demo.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/demo.sh"

# Each device: the first SHO's result, its discard, its completion; the second SHO's ack and result.
operator_change_demo C 10 "bulk operator change requested (batch" \
  "old SHO acknowledged; relayed to the new SHO without old SHO details" "USIM updated in place (same ICCID"
for d in 1 2; do
  # The same USIM application: the ICCID stays, and the TRE reported replacing its credentials.
  iccid=$(sed -nE "s/^\[dev $d\] USIM updated in place \(same ICCID ([0-9]+), new IMSI; both SHOs told\)$/\1/p" "$WORK/out")
  [ -n "$iccid" ] || fail "device $d: no in-place update line"
  grep -q '"detail":"replaced the IMSI, K and OTA keys of '"$iccid"' of sho.example"' "$WORK/demo/device-$d.log" \
    || fail "device $d: the TRE did not report replacing the credentials of $iccid"
done
cat "$WORK/out"
echo "PASS operator_change_c"
