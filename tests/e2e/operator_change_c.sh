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

rc=0
timeout 300 "$M2MDM" demo --devices 2 --operator-change C --device-bin "$DEVBIN" --timeout 240 \
  --work-dir "$WORK/demo" >"$WORK/out" 2>&1 || rc=$?
[ "$rc" -eq 0 ] || fail "m2mdm demo --operator-change C exit status $rc"
grep -q '^2/2 devices provisioned and moved to sho-b.example (operator change C) in ' "$WORK/out" \
  || fail "no '2/2 devices provisioned and moved' summary line"
[ "$(grep -cE '^[12] +IMEI:[0-9]+ +00101[0-9]{10} +00101[0-9]{10} +[0-9]+ +[0-9.]+ +moved to sho-b.example$' "$WORK/out")" -eq 2 ] \
  || fail "the summary table does not list both devices as moved"
for d in 1 2; do
  for step in "MCIM installed" "change authorised by the old SHO" "PVA: PfC valid for the new SHO" \
              "bulk operator change requested (batch" "old SHO told: old MCIM discarded" \
              "old SHO acknowledged; relayed to the new SHO without old SHO details" "USIM updated in place (same ICCID" \
              "registry names the new SHO (old SHO refused (404))" "agent stopped"; do
    grep -qF "[dev $d] $step" "$WORK/out" || fail "device $d never reported '$step'"
  done
  # The AKA at the end runs with the new SHO's IMSI, which differs from the first one.
  first=$(grep -E "^\[dev $d\] MCIM sealed \(IMSI [0-9]+, [0-9]+ bytes\)$" "$WORK/out" | sed -E 's/.*IMSI ([0-9]+).*/\1/')
  second=$(grep -E "^\[dev $d\] MCIM sealed \(IMSI [0-9]+, [0-9]+ bytes, by sho-b.example\)$" "$WORK/out" | sed -E 's/.*IMSI ([0-9]+).*/\1/')
  [ -n "$first" ] && [ -n "$second" ] && [ "$first" != "$second" ] || fail "device $d: no distinct first/second IMSI"
  grep -qF "[dev $d] attached with MCIM (IMSI $second, AKA RES == XRES)" "$WORK/out" \
    || fail "device $d did not attach with the new SHO's IMSI $second"
  # The same USIM application: the ICCID stays.
  iccid=$(sed -nE "s/^\[dev $d\] USIM updated in place \(same ICCID ([0-9]+), new IMSI; both SHOs told\)$/\1/p" "$WORK/out")
  [ -n "$iccid" ] || fail "device $d: no in-place update line"
  grep -q '"detail":"replaced the IMSI, K and OTA keys of '"$iccid"' of sho.example"' "$WORK/demo/device-$d.log" \
    || fail "device $d: the TRE did not report replacing the credentials of $iccid"
done
# Each device: the first SHO's result, its discard, its completion; the second SHO's ack and result.
grep -q '10 SHO callback(s) received' "$WORK/out" || fail "callback count"
cat "$WORK/out"
echo "PASS operator_change_c"
