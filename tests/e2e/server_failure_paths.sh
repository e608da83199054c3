#!/usr/bin/env bash
# End-to-end failure paths of issue 6, real binaries over loopback (`m2mdm server` over HTTPS +
# `m2mdm-device`): a PfC from an unknown CA is refused by the PVA; a tampered sealed package is
# delivered, refused by the device's TRE and reported as a failed job (no MCIM installed); a device
# that is offline when its job is submitted gets it in its next (client-initiated) session.
# $1 = m2mdm binary, $2 = build dir (m2mdm-device is $2/client/m2mdm-device).
set -euo pipefail
M2MDM=${1:?m2mdm binary}
BUILD=${2:?build dir}
DEVBIN="$BUILD/client/m2mdm-device"
SRC="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/m2mdm-e2e-fail-XXXXXX")
PID= DPID=
cleanup() {
  for p in $PID $DPID; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT
fail() {
  echo "FAIL: $*" >&2
  [ -f "$WORK/device.log" ] && { echo "--- device log" >&2; tail -20 "$WORK/device.log" >&2; }
  [ -f "$WORK/server.err" ] && { echo "--- server log" >&2; tail -20 "$WORK/server.err" >&2; }
  exit 1
}
[ -x "$DEVBIN" ] || fail "no m2mdm-device at $DEVBIN"
for tool in python3 jq curl; do command -v $tool >/dev/null || fail "$tool is required"; done

"$M2MDM" pki init --dir "$WORK/pki" >"$WORK/pki.txt"
pki() { sed -n "s/^$1: //p" "$WORK/pki.txt"; }
CA=$(pki tls-ca)
DEV=IMEI:490154203237518
"$M2MDM" pki device --dir "$WORK/pki" --id "$DEV" >"$WORK/device.txt"
TRE=$(sed -n 's/^tre-dir: //p' "$WORK/device.txt")
PFC=$(sed -n 's/^pfc: //p' "$WORK/device.txt")
free_port() { python3 -c 'import socket,sys; s=socket.socket(socket.AF_INET, getattr(socket, sys.argv[1])); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' "$1"; }
UDP_PORT=$(free_port SOCK_DGRAM)

# --- the device: waits for pushes on UDP.
"$DEVBIN" --listen "127.0.0.1:$UDP_PORT" --state-dir "$WORK/devstate" --tre-dir "$TRE" \
  --trust-anchors "$(pki sho-ca)" --sec USERPIN --pin 8372 --ca-file "$CA" 2>"$WORK/device.log" &
DPID=$!
wait_log() {  # wait_log PATTERN [COUNT] [SECONDS]
  local n=${2:-1} t=${3:-60}
  for _ in $(seq $((t * 10))); do
    [ "$(grep -c -- "$1" "$WORK/device.log" 2>/dev/null || true)" -ge "$n" ] && return 0
    kill -0 "$DPID" 2>/dev/null || fail "device exited"
    sleep 0.1
  done
  fail "device log never showed '$1' ($n times)"
}
wait_log "listening for WAP push"

# --- the server.
cat >"$WORK/server.toml" <<TOML
state_dir = "$WORK/state"
log_level = "info"
[tls]
cert = "$(pki tls-cert)"
key = "$(pki tls-key)"
[pva]
manufacturer_ca = ["$(pki manufacturer-ca)"]
[notify]
max_attempts = 3
retry_seconds = 60
TOML
"$M2MDM" server --config "$WORK/server.toml" --listen "127.0.0.1:0" --threads 2 >"$WORK/server.out" 2>"$WORK/server.err" &
PID=$!
URL=
for _ in $(seq 100); do
  URL=$(sed -n 's/^listening: //p' "$WORK/server.out")
  [ -n "$URL" ] && break
  kill -0 "$PID" 2>/dev/null || fail "server exited"
  sleep 0.1
done
[ -n "$URL" ] || fail "no listening line from the server"
CURL=(curl -sS --cacert "$CA" --max-time 10)
status() { "${CURL[@]}" -o "$WORK/body" -w '%{http_code}' "$@"; }
ADMIN=$(cat "$WORK/state/admin.token")
[ "$(status -H "Authorization: Bearer $ADMIN" -d '{"name":"sho-a"}' "$URL/api/v1/shos")" = 201 ] || fail "create sho"
AUTH=(-H "Authorization: Bearer $(jq -r .token "$WORK/body")")
printf '{"devId":"%s","pcid":"001010123456789","devicePin":"8372","pushAddress":"udp:127.0.0.1:%s"}\n' \
  "$DEV" "$UDP_PORT" >"$WORK/dev.ndjson"
[ "$(status "${AUTH[@]}" -H 'Content-Type: application/x-ndjson' --data-binary @"$WORK/dev.ndjson" \
      "$URL/api/v1/devices:import")" = 200 ] || fail "import: $(cat "$WORK/body")"

# --- 1. Bootstrap over UDP -> verified and applied -> INIT registration session over pinned TLS.
[ "$(status -X POST "${AUTH[@]}" "$URL/api/v1/devices/$DEV/bootstrap")" = 202 ] || fail "bootstrap: $(cat "$WORK/body")"
wait_log "bootstrap applied"
wait_log "completed: messages=" 1
echo "ok: $(grep -m1 'bootstrap applied' "$WORK/device.log")"
echo "ok: $(grep -m1 'completed: messages=' "$WORK/device.log")"
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
submit() {  # submit SEALED_FILE CORRELATOR -> job id
  local obj
  obj=$(base64 -w0 "$1")
  [ "$(status "${AUTH[@]}" -H 'Content-Type: application/json' \
        -d "{\"kind\":\"install\",\"object\":\"$obj\",\"authorisation\":\"sho-auth\",\"correlator\":\"$2\"}" \
        "$URL/api/v1/devices/$DEV/jobs")" = 202 ] || fail "job: $(cat "$WORK/body")"
  jq -r .id "$WORK/body"
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
"$M2MDM" sho seal --pfc "$PFC" --signer-cert "$(pki sho-cert)" --signer-key "$(pki sho-key)" --device "$DEV" \
  --counter 1 --in "$SRC/docs/examples/mcim-profile.json" --out "$WORK/mcim.sealed" >/dev/null
cp "$WORK/mcim.sealed" "$WORK/mcim.tampered"
size=$(stat -c %s "$WORK/mcim.tampered")
# flip one byte in the middle of the ciphertext
python3 - "$WORK/mcim.tampered" "$((size / 2))" <<'PY'
import sys
p, at = sys.argv[1], int(sys.argv[2])
b = bytearray(open(p, "rb").read()); b[at] ^= 0x5A; open(p, "wb").write(bytes(b))
PY
JOB=$(submit "$WORK/mcim.tampered" corr-tampered)
state=$(wait_job "$JOB")
[ "$state" = failed ] || fail "tampered package: job ended $state: $(cat "$WORK/body")"
code=$(jq -r .result.code "$WORK/body")
[ "$code" != 1200 ] && [ "$code" != null ] || fail "tampered package reported as $code: $(cat "$WORK/body")"
echo "ok: tampered package refused by the device, job $JOB failed with code $code"

# --- 3. Device offline when the job is submitted: delivered in its next session. (The same
#     counter 1 installs now, so the tampered delivery above installed nothing.)
kill -TERM "$DPID"; wait "$DPID" || true; DPID=
JOB=$(submit "$WORK/mcim.sealed" corr-later)
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
