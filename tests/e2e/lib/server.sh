# Sourced by e2e scripts (not a test itself: tests/CMakeLists.txt registers only tests/e2e/*.sh).
# What every script that runs `m2mdm server` needs: a work directory removed at exit together with
# the background processes, fail() with the tails of the logs, the test PKI's file names, starting
# the server on a loopback port and waiting for its "listening:" line, stopping it with SIGTERM,
# curl returning the HTTP status, waiting for a line in a log, a free loopback port.
# Expects: set -euo pipefail; M2MDM = the m2mdm binary (default: $1 of the sourcing script); E2E_NAME = a tag for the temp directory;
# E2E_BG = names of the variables holding background PIDs to kill at exit (default: PID).
# Leaves: WORK; after start_server: PID (the server), URL (https://127.0.0.1:<port>), PORT; after
# start_pki_server also CA and ADMIN_FILE.
M2MDM=${M2MDM:-${1:?m2mdm binary}}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/m2mdm-e2e-${E2E_NAME:-test}-XXXXXX")
PID= URL=
E2E_BG=${E2E_BG:-PID}
e2e_cleanup() {
  local v
  for v in $E2E_BG; do [ -n "${!v:-}" ] && kill "${!v}" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$WORK"
}
trap e2e_cleanup EXIT

# fail MESSAGE: prints it with the last lines of the device and server logs, exits 1.
fail() {
  echo "FAIL: $*" >&2
  [ -f "$WORK/device.log" ] && { echo "--- device log" >&2; tail -20 "$WORK/device.log" >&2; }
  [ -f "$WORK/server.err" ] && { echo "--- server log" >&2; tail -20 "$WORK/server.err" >&2; }
  exit 1
}

# need TOOL...: fails unless every tool is on PATH.
need() {
  local tool
  for tool in "$@"; do command -v "$tool" >/dev/null || fail "$tool is required"; done
}

# make_pki: `m2mdm pki init` into $WORK/pki; pki NAME prints the path of one of its files.
make_pki() { "$M2MDM" pki init --dir "$WORK/pki" >"$WORK/pki.txt"; }
pki() { sed -n "s/^$1: //p" "$WORK/pki.txt"; }

# write_server_toml [LINE...]: $WORK/server.toml for `m2mdm server --config`: the LINEs (top-level
# keys), the state directory $WORK/state, TLS with the test PKI's server key and the PVA with its
# manufacturer CA. It ends inside [pva]: append more [pva] keys, then other tables.
write_server_toml() {
  {
    [ $# -eq 0 ] || printf '%s\n' "$@"
    cat <<TOML
state_dir = "$WORK/state"
log_level = "info"
[tls]
cert = "$(pki tls-cert)"
key = "$(pki tls-key)"
[pva]
manufacturer_ca = ["$(pki manufacturer-ca)"]
TOML
  } >"$WORK/server.toml"
}

# free_port SOCK_STREAM|SOCK_DGRAM: a port nobody listens on at 127.0.0.1.
free_port() {
  python3 -c 'import socket,sys; s=socket.socket(socket.AF_INET, getattr(socket, sys.argv[1])); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' "$1"
}

# wait_line FILE PATTERN [COUNT] [SECONDS] [PID]: until FILE has COUNT lines matching PATTERN
# (grep); fails after SECONDS or as soon as the process PID has exited.
wait_line() {
  local file=$1 pattern=$2 n=${3:-1} t=${4:-60} pid=${5:-}
  for _ in $(seq $((t * 10))); do
    [ "$(grep -c -- "$pattern" "$file" 2>/dev/null || true)" -ge "$n" ] && return 0
    [ -z "$pid" ] || kill -0 "$pid" 2>/dev/null || fail "process $pid exited before $(basename "$file") showed '$pattern'"
    sleep 0.1
  done
  fail "$(basename "$file") never showed '$pattern' ($n times)"
}

# start_server ARGS...: `m2mdm server ARGS` in the background (stdout $WORK/server.out, stderr
# appended to $WORK/server.err); waits up to 10 s for its "listening: URL" line.
start_server() {
  : >"$WORK/server.out"
  "$M2MDM" server "$@" >"$WORK/server.out" 2>>"$WORK/server.err" &
  PID=$!
  URL=
  for _ in $(seq 100); do
    URL=$(sed -n 's/^listening: //p' "$WORK/server.out")
    [ -n "$URL" ] && break
    kill -0 "$PID" 2>/dev/null || fail "server exited"
    sleep 0.1
  done
  [ -n "$URL" ] || fail "no listening line from the server"
  PORT=${URL##*:}
}

# start_pki_server ARGS...: needs jq and curl; make_pki unless done; start_server on a loopback port with the state in
# $WORK/state, TLS with the test PKI's server key, 2 threads, log level warn and ARGS. Sets CA (the
# PKI's TLS CA, for curl and the CLI's --ca-file) and ADMIN_FILE (the operator's bearer token file).
start_pki_server() {
  need jq curl
  [ -f "$WORK/pki.txt" ] || make_pki
  CA=$(pki tls-ca)
  start_server --listen 127.0.0.1:0 --state-dir "$WORK/state" --tls-cert "$(pki tls-cert)" \
    --tls-key "$(pki tls-key)" --threads 2 --log-level warn "$@"
  ADMIN_FILE="$WORK/state/admin.token"
}

# new_sho NAME [SIGNER]: creates the SHO NAME (with its signer's name SIGNER, if given) with the
# operator's token over POST /api/v1/shos (CA, URL: see start_pki_server); fails unless 201; prints
# the SHO's bearer token.
new_sho() {
  local body code
  body="{\"name\":\"$1\"${2:+,\"signer\":\"$2\"}}"
  code=$(curl -sS --cacert "$CA" --max-time 10 -H "Authorization: Bearer $(cat "$WORK/state/admin.token")" \
    -d "$body" -o "$WORK/sho.json" -w '%{http_code}' "$URL/api/v1/shos")
  [ "$code" = 201 ] || fail "create sho $1: HTTP $code $(cat "$WORK/sho.json")"
  jq -r .token "$WORK/sho.json"
}

# stop_server: SIGTERM; fails unless the server exits with status 0.
stop_server() {
  kill -TERM "$PID"
  local rc=0
  wait "$PID" || rc=$?
  PID=
  [ "$rc" -eq 0 ] || fail "server exit code $rc after SIGTERM"
}

# status CURL-ARGS...: runs "${CURL[@]}" (set by the script) with the body in $WORK/body and
# prints the HTTP status code.
status() { "${CURL[@]}" -o "$WORK/body" -w '%{http_code}' "$@"; }
