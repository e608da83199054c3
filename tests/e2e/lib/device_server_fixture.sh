# Sourced by e2e scripts (not a test itself: tests/CMakeLists.txt registers only tests/e2e/*.sh).
# The common fixture of the device+server scripts: a test PKI, one `m2mdm-device --listen` agent,
# `m2mdm server` over HTTPS with the PVA CA, an SHO, the device imported with its PIN and push
# address, its bootstrap pushed over UDP, verified and applied, and the INIT registration session
# completed. Expects: set -euo pipefail; $1 = m2mdm binary, $2 = build dir; E2E_NAME (temp dir tag).
# Leaves: M2MDM BUILD DEVBIN SRC WORK PID DPID CA DEV TRE PFC URL AUTH, and fail/pki/wait_log/status.
M2MDM=${1:?m2mdm binary}
BUILD=${2:?build dir}
DEVBIN="$BUILD/client/m2mdm-device"
SRC="$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/m2mdm-e2e-${E2E_NAME:-fixture}-XXXXXX")
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
