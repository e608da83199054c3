#!/usr/bin/env bash
# End-to-end in a real browser (docs/console.md): `m2mdm demo --devices 2` provisions a fleet and
# keeps its work directory; `m2mdm server` then runs on that store over HTTPS; a second SHO with a
# device of its own and a queued job for a demo device are added over the REST API; then
# tests/e2e/console_browser.py drives headless Chromium (Debian chromium + chromium-driver through
# python3-selenium) through the console at /console/: sign in (SHO, other SHO, operator), find a
# device by PCID, its jobs (result 1200), re-bootstrap, cancel and retry a job, the charts from
# /metrics, another SHO's device refused (404), the audit log, and no browser console error on any
# page. Screenshots and the browser log go to $2/console-browser/ (kept).
# Exit 77 (ctest: skipped) only when Chromium cannot start, with the reason printed.
# $1 = m2mdm binary, $2 = build dir (m2mdm-device is $2/client/m2mdm-device).
set -euo pipefail
M2MDM=${1:?m2mdm binary}
BUILD=${2:?build dir}
E2E_NAME=console
# shellcheck source=lib/server.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/server.sh"
OUT="$BUILD/console-browser"
rm -rf "$OUT"
mkdir -p "$OUT"
PY=/usr/bin/python3  # Debian's python3-selenium is installed for the system interpreter
skip() { echo "SKIP: Chromium cannot start: $*"; exit 77; }
command -v chromium >/dev/null || skip "chromium is not installed (scripts/install-deps.sh installs it)"
command -v chromedriver >/dev/null || skip "chromedriver is not installed (package chromium-driver)"
"$PY" -c 'import selenium' 2>/dev/null || skip "python3-selenium is not installed"
need jq curl sqlite3 sha256sum openssl
DEVBIN="$BUILD/client/m2mdm-device"
[ -x "$DEVBIN" ] || fail "no m2mdm-device at $DEVBIN"
started=$(date +%s)

# 1. A provisioned fleet: two real agents, install job 1200, SHO callback (docs/demo.md).
rc=0
timeout 300 "$M2MDM" demo --devices 2 --device-bin "$DEVBIN" --timeout 120 --work-dir "$WORK/demo" \
  >"$WORK/demo.out" 2>&1 || rc=$?
[ "$rc" -eq 0 ] || { cat "$WORK/demo.out" >&2; fail "m2mdm demo: exit status $rc"; }
grep -q '^2/2 devices provisioned in ' "$WORK/demo.out" || fail "no '2/2 devices provisioned' line"
echo "demo fleet provisioned in $(($(date +%s) - started)) s"

# 2. The demo does not keep its SHO's bearer token (only its SHA-256 is stored, docs/server.md):
# give the stopped store's demo SHO a token of ours.
SHO_A=console-sho-a-$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
DB="$WORK/demo/ro-state/m2mdm.sqlite"
changed=$(sqlite3 "$DB" "UPDATE shos SET token_hash = X'$(printf %s "$SHO_A" | sha256sum | cut -c1-64)' WHERE name = 'demo-sho'; SELECT changes();")
[ "$changed" = 1 ] || fail "the demo store has no SHO named demo-sho"

# 3. The server on the demo's store, HTTPS with the demo's test PKI.
PKI="$WORK/demo/pki"
start_server --listen 127.0.0.1:0 --state-dir "$WORK/demo/ro-state" --tls-cert "$PKI/tls-cert.pem" \
  --tls-key "$PKI/tls-key.pem" --threads 2 --log-level warn
CA="$PKI/tls-ca.pem"
ADMIN=$(cat "$WORK/demo/ro-state/admin.token")
CURL=(curl -sS --cacert "$CA" --max-time 10)
[ "$(status -H "Authorization: Bearer $SHO_A" "$URL/api/v1/devices")" = 200 ] || fail "SHO A's devices: $(cat "$WORK/body")"
jq -r '.devices[] | "\(.devId) \(.pcid)"' "$WORK/body" >"$WORK/devices.txt"
[ "$(wc -l <"$WORK/devices.txt")" = 2 ] || fail "expected the 2 demo devices: $(cat "$WORK/body")"
read -r DEV1 PCID1 < <(sed -n 1p "$WORK/devices.txt")
read -r DEV2 _ < <(sed -n 2p "$WORK/devices.txt")
# Another SHO with a device of its own.
[ "$(status -H "Authorization: Bearer $ADMIN" -d '{"name":"sho-b.example"}' "$URL/api/v1/shos")" = 201 ] \
  || fail "create sho-b: $(cat "$WORK/body")"
SHO_B=$(jq -r .token "$WORK/body")
[ "$(status -H "Authorization: Bearer $SHO_B" -d '[{"devId":"IMEI:990000000000001","pcid":"001019900000001"}]' \
      "$URL/api/v1/devices:import")" = 200 ] || fail "sho-b import: $(cat "$WORK/body")"
# A job the console will cancel (the demo agents are stopped: it stays queued or notified).
[ "$(status -H "Authorization: Bearer $SHO_A" -d '{"kind":"deactivate","object":"TUNJTTE=","authorisation":"console-test"}' \
      "$URL/api/v1/devices/$DEV2/jobs")" = 202 ] || fail "job for $DEV2: $(cat "$WORK/body")"
JOB=$(jq -r .id "$WORK/body")
SPKI=$(openssl x509 -in "$PKI/tls-cert.pem" -pubkey -noout | openssl pkey -pubin -outform der \
  | openssl dgst -sha256 -binary | base64)

# 4. The browser.
rc=0
"$PY" "$(dirname "${BASH_SOURCE[0]}")/console_browser.py" --url "$URL" --spki "$SPKI" --out "$OUT" \
  --sho-a "$SHO_A" --sho-b "$SHO_B" --operator "$ADMIN" --dev1 "$DEV1" --pcid1 "$PCID1" --dev2 "$DEV2" \
  --job "$JOB" || rc=$?
[ "$rc" -eq 77 ] && exit 77
[ "$rc" -eq 0 ] || fail "console_browser.py: exit status $rc (screenshots and browser log in $OUT)"
stop_server
echo "PASS console_browser ($(($(date +%s) - started)) s; screenshots in $OUT)"
