# Sourced by e2e scripts (not a test itself: tests/CMakeLists.txt registers only tests/e2e/*.sh).
# The common fixture of the device+server scripts: a test PKI, one `m2mdm-device --listen` agent,
# `m2mdm server` over HTTPS with the PVA CA, an SHO, the device imported with its PIN and push
# address, its bootstrap pushed over UDP, verified and applied, and the INIT registration session
# completed. Expects: set -euo pipefail; $1 = m2mdm binary, $2 = build dir; E2E_NAME (temp dir tag);
# optional DEVICE_EXTRA_ARGS (an array of more m2mdm-device arguments, e.g. --model).
# Leaves: M2MDM BUILD DEVBIN SRC WORK PID DPID CA DEV TRE PFC URL AUTH, the helpers of
# lib/server.sh (fail pki status free_port wait_line start_server stop_server), wait_log,
# seal_mcim and submit_install.
M2MDM=${1:?m2mdm binary}
BUILD=${2:?build dir}
DEVBIN="$BUILD/client/m2mdm-device"
SRC="$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)"
DPID=
E2E_BG="PID DPID"
# shellcheck source=server.sh
source "$(dirname "${BASH_SOURCE[0]}")/server.sh"
[ -x "$DEVBIN" ] || fail "no m2mdm-device at $DEVBIN"
need python3 jq curl

make_pki
CA=$(pki tls-ca)
DEV=IMEI:490154203237518
"$M2MDM" pki device --dir "$WORK/pki" --id "$DEV" >"$WORK/device.txt"
TRE=$(sed -n 's/^tre-dir: //p' "$WORK/device.txt")
PFC=$(sed -n 's/^pfc: //p' "$WORK/device.txt")
UDP_PORT=$(free_port SOCK_DGRAM)

# --- the device: waits for pushes on UDP.
"$DEVBIN" --listen "127.0.0.1:$UDP_PORT" --state-dir "$WORK/devstate" --tre-dir "$TRE" \
  --trust-anchors "$(pki sho-ca)" --sec USERPIN --pin 8372 --ca-file "$CA" ${DEVICE_EXTRA_ARGS[@]+"${DEVICE_EXTRA_ARGS[@]}"} \
  2>"$WORK/device.log" &
DPID=$!
# wait_log PATTERN [COUNT] [SECONDS]: wait_line on the device log, failing if the device exits.
wait_log() { wait_line "$WORK/device.log" "$1" "${2:-1}" "${3:-60}" "$DPID"; }
wait_log "listening for WAP push"

# --- the server.
write_server_toml
cat >>"$WORK/server.toml" <<TOML
[notify]
max_attempts = 3
retry_seconds = 60
TOML
start_server --config "$WORK/server.toml" --listen "127.0.0.1:0" --threads 2
CURL=(curl -sS --cacert "$CA" --max-time 10)
ADMIN=$(cat "$WORK/state/admin.token")
[ "$(status -H "Authorization: Bearer $ADMIN" -d '{"name":"sho-a"}' "$URL/api/v1/shos")" = 201 ] || fail "create sho"
AUTH=(-H "Authorization: Bearer $(jq -r .token "$WORK/body")")
printf '{"devId":"%s","pcid":"001010123456789","devicePin":"8372","pushAddress":"udp:127.0.0.1:%s"}\n' \
  "$DEV" "$UDP_PORT" >"$WORK/dev.ndjson"
[ "$(status "${AUTH[@]}" -H 'Content-Type: application/x-ndjson' --data-binary @"$WORK/dev.ndjson" \
      "$URL/api/v1/devices:import")" = 200 ] || fail "import: $(cat "$WORK/body")"

# seal_mcim OUT: the docs' example MCIM profile sealed by the SHO to the device's PfC (counter 1).
seal_mcim() {
  "$M2MDM" sho seal --pfc "$PFC" --signer-cert "$(pki sho-cert)" --signer-key "$(pki sho-key)" --device "$DEV" \
    --counter 1 --in "$SRC/docs/examples/mcim-profile.json" --out "$1" >/dev/null || fail "sho seal"
}
# submit_install SEALED_FILE CORRELATOR [DEVID]: the SHO's install job for DEVID (default $DEV);
# fails unless 202; prints the job id.
submit_install() {
  local obj
  obj=$(base64 -w0 "$1")
  [ "$(status "${AUTH[@]}" -H 'Content-Type: application/json' \
        -d "{\"kind\":\"install\",\"object\":\"$obj\",\"authorisation\":\"sho-auth\",\"correlator\":\"$2\"}" \
        "$URL/api/v1/devices/${3:-$DEV}/jobs")" = 202 ] || fail "job: $(cat "$WORK/body")"
  jq -r .id "$WORK/body"
}

# --- 1. Bootstrap over UDP -> verified and applied -> INIT registration session over pinned TLS.
[ "$(status -X POST "${AUTH[@]}" "$URL/api/v1/devices/$DEV/bootstrap")" = 202 ] || fail "bootstrap: $(cat "$WORK/body")"
wait_log "bootstrap applied"
wait_log "completed: messages=" 1
echo "ok: $(grep -m1 'bootstrap applied' "$WORK/device.log")"
echo "ok: $(grep -m1 'completed: messages=' "$WORK/device.log")"
