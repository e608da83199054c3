#!/usr/bin/env bash
# End-to-end, real binaries over loopback: `m2mdm-device --listen` against `m2mdm server` (HTTPS,
# test PKI). The server's DRF pushes the bootstrap over UDP to the device, which verifies it with
# its PIN, applies it and (INIT) opens a registration session over TLS pinned to the server key
# from the bootstrap; the SHO submits an install job with an MCIM sealed by `m2mdm sho seal`; the
# server pushes package 0, the device verifies its digest and runs the server-initiated session
# in which the MCIM is delivered, opened in the TRE, installed, and reported (job succeeded, code
# 1200). Finally SIGTERM stops the device with exit status 0.
# $1 = m2mdm binary, $2 = build dir (m2mdm-device is $2/client/m2mdm-device).
set -euo pipefail
E2E_NAME=devsrv
# shellcheck source=lib/device_server_fixture.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/device_server_fixture.sh"
[ "$(status "${AUTH[@]}" "$URL/api/v1/devices/$DEV")" = 200 ] && [ "$(jq -r .state "$WORK/body")" = registered ] \
  || fail "device not registered after the INIT session: $(cat "$WORK/body")"

# --- 2. The SHO seals an MCIM to the device's PfC and submits the install job: package 0.
seal_mcim "$WORK/mcim.sealed"
JOB=$(submit_install "$WORK/mcim.sealed" corr-dev-1)
wait_log "package 0 from .* verified"
wait_log "completed: messages=" 2 90
echo "ok: $(grep -m1 'package 0 from' "$WORK/device.log")"
state=
for _ in $(seq 100); do
  [ "$(status "${AUTH[@]}" "$URL/api/v1/jobs/$JOB")" = 200 ] || fail "job status"
  state=$(jq -r .state "$WORK/body")
  case "$state" in succeeded|failed|expired) break ;; esac
  sleep 0.2
done
[ "$state" = succeeded ] || fail "job ended $state: $(cat "$WORK/body")"
[ "$(jq -r .result.code "$WORK/body")" = 1200 ] || fail "job result code: $(cat "$WORK/body")"
echo "ok: install job $JOB succeeded: $(cat "$WORK/body")"

# --- 3. Clean shutdown.
kill -TERM "$DPID"
rc=0
wait "$DPID" || rc=$?
DPID=
[ "$rc" -eq 0 ] || fail "device exit status $rc after SIGTERM"
grep -q "shutting down" "$WORK/device.log" || fail "no shutdown line"
echo "ok: device stopped cleanly"

# --- 4. --listen --once: a second device waits for its bootstrap push, runs one session, exits 0.
DEV2=IMEI:490154203237526
"$M2MDM" pki device --dir "$WORK/pki" --id "$DEV2" >"$WORK/device2.txt"
TRE2=$(sed -n 's/^tre-dir: //p' "$WORK/device2.txt")
UDP2=$(free_port SOCK_DGRAM)
"$DEVBIN" --listen "127.0.0.1:$UDP2" --once --state-dir "$WORK/devstate2" --tre-dir "$TRE2" \
  --trust-anchors "$(pki sho-ca)" --sec USERPIN --pin 4711 --ca-file "$CA" 2>"$WORK/device2.log" &
DPID=$!
for _ in $(seq 100); do grep -q "listening for WAP push" "$WORK/device2.log" 2>/dev/null && break; sleep 0.1; done
printf '{"devId":"%s","pcid":"001010123456790","devicePin":"4711","pushAddress":"udp:127.0.0.1:%s"}\n' \
  "$DEV2" "$UDP2" >"$WORK/dev2.ndjson"
[ "$(status "${AUTH[@]}" -H 'Content-Type: application/x-ndjson' --data-binary @"$WORK/dev2.ndjson" \
      "$URL/api/v1/devices:import")" = 200 ] || fail "import 2: $(cat "$WORK/body")"
[ "$(status -X POST "${AUTH[@]}" "$URL/api/v1/devices/$DEV2/bootstrap")" = 202 ] || fail "bootstrap 2: $(cat "$WORK/body")"
rc=0
for _ in $(seq 600); do kill -0 "$DPID" 2>/dev/null || break; sleep 0.1; done
wait "$DPID" || rc=$?
DPID=
[ "$rc" -eq 0 ] || fail "--listen --once exit status $rc: $(tail -5 "$WORK/device2.log")"
grep -q "bootstrap applied" "$WORK/device2.log" && grep -q "completed: messages=" "$WORK/device2.log" \
  || fail "--listen --once: $(cat "$WORK/device2.log")"
echo "ok: --listen --once applied its pushed bootstrap, ran one session and exited 0"
echo "PASS device_server"
