#!/usr/bin/env bash
# End-to-end: `m2mdm demo --devices 2 --operator-change A` with the build tree's m2mdm-device.
# Each device is provisioned for a first SHO, then moved to a second SHO by operator change
# variant A (docs/operator-change.md): the old SHO's token, the new SHO's request and sealed
# MCIM, the device's discard + install in one TRE transaction, the old SHO's confirmation and
# acknowledgement (relayed filtered), the result, the registry naming the new SHO, the old SHO
# refused, and AKA with the new IMSI. Exit 0 only if both devices moved.
# $1 = m2mdm binary, $2 = build dir (m2mdm-device is $2/client/m2mdm-device).
set -euo pipefail
E2E_NAME=oca
# shellcheck source=lib/demo.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/demo.sh"

# Each device: the first SHO's result, its discard, its completion; the second SHO's ack and result.
operator_change_demo A 10 "operator change requested" \
  "old SHO acknowledged; relayed to the new SHO without old SHO details" "new MCIM installed"
cat "$WORK/out"
echo "PASS operator_change_a"
