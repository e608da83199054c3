#!/usr/bin/env bash
# End-to-end failure paths of issue 6, real binaries over loopback (`m2mdm server` over HTTPS +
# `m2mdm-device`): a PfC from an unknown CA is refused by the PVA; a tampered sealed package is
# delivered, refused by the device's TRE and reported as a failed job (no MCIM installed); a device
# that is offline when its job is submitted gets it in its next (client-initiated) session.
# $1 = m2mdm binary, $2 = build dir (m2mdm-device is $2/client/m2mdm-device).
set -euo pipefail
E2E_NAME=fail
# shellcheck source=lib/device_server_fixture.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/device_server_fixture.sh"
echo "ok: device bootstrapped and registered"

wait_job() {  # wait_job ID -> leaves the job JSON in $WORK/body, prints its state
  local state=
  for _ in $(seq 150); do
    [ "$(status "${AUTH[@]}" "$URL/api/v1/jobs/$1")" = 200 ] || fail "job status"
    state=$(jq -r .state "$WORK/body")
    case "$state" in succeeded|failed|expired) break ;; esac
    sleep 0.2
  done
  echo "$state"
}

# --- 1. PVA: a PfC issued by a CA the RO does not know is refused.
"$M2MDM" pki init --dir "$WORK/otherpki" >/dev/null
"$M2MDM" pki device --dir "$WORK/otherpki" --id IMEI:490154203237999 >"$WORK/other.txt"
OTHER_PFC=$(sed -n 's/^pfc: //p' "$WORK/other.txt")
[ "$(status "${AUTH[@]}" -H 'Content-Type: application/x-pem-file' --data-binary @"$OTHER_PFC" \
      "$URL/api/v1/pva/validate")" = 200 ] || fail "pva: $(cat "$WORK/body")"
[ "$(jq -r .valid "$WORK/body")" = false ] || fail "PfC from an unknown CA accepted: $(cat "$WORK/body")"
echo "ok: unknown-CA PfC refused: $(jq -c . "$WORK/body")"

# --- 2. Tampered package: delivered, refused by the TRE, reported; nothing installed.
seal_mcim "$WORK/mcim.sealed"
cp "$WORK/mcim.sealed" "$WORK/mcim.tampered"
size=$(stat -c %s "$WORK/mcim.tampered")
# flip one byte in the middle of the ciphertext
python3 - "$WORK/mcim.tampered" "$((size / 2))" <<'PY'
import sys
p, at = sys.argv[1], int(sys.argv[2])
b = bytearray(open(p, "rb").read()); b[at] ^= 0x5A; open(p, "wb").write(bytes(b))
PY
JOB=$(submit_install "$WORK/mcim.tampered" corr-tampered)
state=$(wait_job "$JOB")
[ "$state" = failed ] || fail "tampered package: job ended $state: $(cat "$WORK/body")"
code=$(jq -r .result.code "$WORK/body")
[ "$code" != 1200 ] && [ "$code" != null ] || fail "tampered package reported as $code: $(cat "$WORK/body")"
echo "ok: tampered package refused by the device, job $JOB failed with code $code"

# --- 3. Device offline when the job is submitted: delivered in its next session. (The same
#     counter 1 installs now, so the tampered delivery above installed nothing.)
kill -TERM "$DPID"; wait "$DPID" || true; DPID=
JOB=$(submit_install "$WORK/mcim.sealed" corr-later)
sleep 1
[ "$(status "${AUTH[@]}" "$URL/api/v1/jobs/$JOB")" = 200 ] || fail "job status"
case "$(jq -r .state "$WORK/body")" in succeeded|failed) fail "job ended while the device was offline: $(cat "$WORK/body")" ;; esac
echo "ok: job $JOB waits while the device is offline ($(jq -r .state "$WORK/body"))"
rc=0
"$DEVBIN" --once --state-dir "$WORK/devstate" --tre-dir "$TRE" --trust-anchors "$(pki sho-ca)" \
  --sec USERPIN --pin 8372 --ca-file "$CA" 2>>"$WORK/device.log" || rc=$?
[ "$rc" -eq 0 ] || fail "--once session exit status $rc"
state=$(wait_job "$JOB")
[ "$state" = succeeded ] && [ "$(jq -r .result.code "$WORK/body")" = 1200 ] \
  || fail "job after the device came back: $state $(cat "$WORK/body")"
echo "ok: device back online, client-initiated session, job $JOB succeeded (1200)"
