#!/usr/bin/env bash
# End-to-end: the real m2mdm-device binary. --help documents every flag; a bootstrap built with
# `m2mdm bootstrap build` is refused with a wrong PIN (state directory and TRE unchanged, exit 2),
# applied with the right one, refused a second time (not armed); --once fails with a reason when
# the DM server cannot be reached; the daemon applies a bootstrap received as a real UDP push,
# logs JSON lines, and exits 0 on SIGTERM.
# $1 = m2mdm binary, $2 = build dir (m2mdm-device is $2/client/m2mdm-device).
set -euo pipefail
M2MDM=${1:?m2mdm binary}
BUILD=${2:?build dir}
DEV="$BUILD/client/m2mdm-device"
SRC="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/m2mdm-e2e-device-XXXXXX")
DAEMON_PID=""
cleanup() {
  if [ -n "$DAEMON_PID" ]; then kill "$DAEMON_PID" 2>/dev/null || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT

fail() { echo "FAIL: $*" >&2; exit 1; }
[ -x "$DEV" ] || fail "no m2mdm-device at $DEV"
# A digest of every file below the given directories (names and bytes).
state_hash() { (cd "$1" && find . -type f -print0 | sort -z | xargs -0 sha256sum) | sha256sum; }

# 1. --help documents every flag.
"$DEV" --help >"$WORK/help.txt"
for flag in --state-dir --tre-dir --trust-anchors --production --listen --max-datagram --bootstrap --mac --sec \
            --pin --imsi --once --server-id --ca-file --log-format --log-level --manufacturer --model; do
  grep -q -- "$flag" "$WORK/help.txt" || fail "--help does not document $flag"
done
echo "ok: --help documents every flag"

# 2. A device: test PKI, its TRE, and the RO's bootstrap MAC'd with the device PIN 8372.
"$M2MDM" pki init --dir "$WORK/pki" >"$WORK/pki.txt"
pki() { sed -n "s/^$1: //p" "$WORK/pki.txt"; }
"$M2MDM" pki device --dir "$WORK/pki" --id IMEI:490154203237518 >"$WORK/device.txt"
TRE=$(sed -n 's/^tre-dir: //p' "$WORK/device.txt")
"$M2MDM" bootstrap build --config "$SRC/docs/examples/bootstrap.toml" --sec USERPIN --pin 8372 \
  --format push --out "$WORK/bootstrap.push" >/dev/null
STATE="$WORK/state"
run_dev() { "$DEV" --state-dir "$STATE" --tre-dir "$TRE" --trust-anchors "$(pki sho-ca)" --sec USERPIN "$@"; }

# 3. Wrong PIN: refused with a reason, exit 2; a second refusal changes no stored byte.
set +e
run_dev --pin 9999 --bootstrap "$WORK/bootstrap.push" >"$WORK/out" 2>"$WORK/err"; rc=$?
set -e
[ "$rc" -eq 2 ] || fail "wrong PIN: exit $rc, expected 2 ($(cat "$WORK/err"))"
grep -q "bootstrap refused" "$WORK/err" || fail "wrong PIN: no reason in $(cat "$WORK/err")"
grep -qi "mac" "$WORK/err" || fail "wrong PIN: reason does not name the MAC: $(cat "$WORK/err")"
before_state=$(state_hash "$STATE"); before_tre=$(state_hash "$TRE")
set +e
run_dev --pin 9999 --bootstrap "$WORK/bootstrap.push" >/dev/null 2>"$WORK/err"; rc=$?
set -e
[ "$rc" -eq 2 ] || fail "wrong PIN (again): exit $rc"
[ "$(state_hash "$STATE")" = "$before_state" ] || fail "a refused bootstrap changed the state directory"
[ "$(state_hash "$TRE")" = "$before_tre" ] || fail "a refused bootstrap changed the TRE directory"
echo "ok: wrong PIN refused (exit 2), state and TRE unchanged: $(grep -m1 'bootstrap refused' "$WORK/err")"

# 4. The right PIN: applied.
run_dev --pin 8372 --bootstrap "$WORK/bootstrap.push" 2>"$WORK/err" || fail "bootstrap with the right PIN: $(cat "$WORK/err")"
grep -q "bootstrap applied" "$WORK/err" || fail "no 'bootstrap applied' log line: $(cat "$WORK/err")"
grep -q "dpf.ro.example" "$WORK/err" || fail "log line does not name the server: $(cat "$WORK/err")"
echo "ok: bootstrap applied: $(grep -m1 'bootstrap applied' "$WORK/err")"

# 4b. Secrets at rest (issue 14): the DM account secrets, the nonces and the bootstrap record are
#     in the tree, sealed with the TRE's state key: neither generation holds them in clear.
for f in "$STATE/tree.m2mt" "$STATE/tree.m2mt.prev"; do
  [ -s "$f" ] || fail "no $f"
  [ "$(head -c 4 "$f")" = "M2MS" ] || fail "$f is not a sealed tree image"
  for clear in client-secret server-secret apnpw AAuthSecret AAuthData DMAcc Bootstrap; do
    if grep -aq -- "$clear" "$f"; then fail "$clear in clear in $f"; fi
  done
done
[ -f "$TRE/store/m2mdm.state-key.bin" ] || fail "no state key in the TRE's protected storage"
echo "ok: tree.m2mt and .prev sealed (no account secret, nonce or bootstrap record in clear)"

# 5. A second bootstrap of the same contexts: refused (no re-bootstrap armed), nothing changes.
after_boot=$(state_hash "$STATE")
set +e
run_dev --pin 8372 --bootstrap "$WORK/bootstrap.push" >/dev/null 2>"$WORK/err"; rc=$?
set -e
[ "$rc" -eq 2 ] || fail "second bootstrap: exit $rc, expected 2"
grep -q "already bootstrapped\|already_bootstrapped\|bootstrapped before" "$WORK/err" || \
  grep -q "bootstrap refused" "$WORK/err" || fail "second bootstrap: no reason: $(cat "$WORK/err")"
[ "$(state_hash "$STATE")" = "$after_boot" ] || fail "a refused second bootstrap changed the state"
echo "ok: second bootstrap refused: $(grep -m1 'bootstrap refused' "$WORK/err")"

# 6. --once against a DM server that cannot be reached (the example's DPF is on port 8443 of a
#    name that does not resolve here): exit 3 with a reason, the state unchanged.
set +e
timeout 120 "$DEV" --state-dir "$STATE" --tre-dir "$TRE" --trust-anchors "$(pki sho-ca)" --once \
  --ca-file "$(pki tls-ca)" >/dev/null 2>"$WORK/err"; rc=$?
set -e
[ "$rc" -eq 3 ] || fail "--once without a reachable server: exit $rc, expected 3 ($(cat "$WORK/err"))"
grep -q "session failed" "$WORK/err" || fail "--once: no reason: $(cat "$WORK/err")"
[ "$(state_hash "$STATE")" = "$after_boot" ] || fail "a failed session changed the state"
echo "ok: --once failed with a reason: $(tail -1 "$WORK/err")"

# 7. The daemon: a bootstrap as a real UDP push datagram, JSON logs, clean SIGTERM.
STATE2="$WORK/state2"
"$M2MDM" pki device --dir "$WORK/pki" --id IMEI:490154203237519 >"$WORK/device2.txt"
TRE2=$(sed -n 's/^tre-dir: //p' "$WORK/device2.txt")
PORT=$((20000 + RANDOM % 20000))
"$DEV" --state-dir "$STATE2" --tre-dir "$TRE2" --trust-anchors "$(pki sho-ca)" --sec USERPIN --pin 8372 \
  --listen "127.0.0.1:$PORT" --log-format json 2>"$WORK/daemon.log" &
DAEMON_PID=$!
for _ in $(seq 1 100); do grep -q "listening for WAP push" "$WORK/daemon.log" && break; sleep 0.1; done
grep -q "listening for WAP push" "$WORK/daemon.log" || fail "daemon did not start: $(cat "$WORK/daemon.log")"
cat "$WORK/bootstrap.push" >"/dev/udp/127.0.0.1/$PORT"
for _ in $(seq 1 300); do grep -q "bootstrap applied\|bootstrap refused" "$WORK/daemon.log" && break; sleep 0.1; done
grep -q "bootstrap applied" "$WORK/daemon.log" || fail "daemon did not apply the pushed bootstrap: $(cat "$WORK/daemon.log")"
printf 'garbage' >"/dev/udp/127.0.0.1/$PORT"
for _ in $(seq 1 100); do grep -q "push refused" "$WORK/daemon.log" && break; sleep 0.1; done
grep -q "push refused" "$WORK/daemon.log" || fail "daemon did not log the garbage push: $(cat "$WORK/daemon.log")"
kill -TERM "$DAEMON_PID"
set +e
wait "$DAEMON_PID"; rc=$?
set -e
DAEMON_PID=""
[ "$rc" -eq 0 ] || fail "daemon exit status $rc after SIGTERM: $(tail -3 "$WORK/daemon.log")"
grep -q "shutting down" "$WORK/daemon.log" || fail "no shutdown log line"
while IFS= read -r line; do
  case "$line" in
    '{"level":'*'"msg":'*'"ts":'*'}') ;;
    *) fail "not a JSON log line: $line" ;;
  esac
done <"$WORK/daemon.log"
echo "ok: daemon applied a UDP push bootstrap, refused garbage, JSON logs, exit 0 on SIGTERM"
echo "PASS device_cli"
