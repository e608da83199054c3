#!/usr/bin/env bash
# End-to-end: `m2mdm server` on an ephemeral loopback port over HTTPS (test PKI from
# `m2mdm pki init`): the "listening:" line, /healthz, 401 without a token, SHO creation, import
# (idempotent), SHO isolation, PVA of a real PfC (valid, then revoked after a restart with the new
# CRL), config file + flag override, clean exit on SIGTERM with the store intact.
# $1 = m2mdm binary, $2 = build dir.
set -euo pipefail
M2MDM=${1:?m2mdm binary}
E2E_NAME=server
# shellcheck source=lib/server.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/server.sh"

make_pki
"$M2MDM" pki device --dir "$WORK/pki" --id IMEI:1 >"$WORK/dev1.txt"
"$M2MDM" pki device --dir "$WORK/pki" --id IMEI:2 >"$WORK/dev2.txt"
PFC1=$(sed -n 's/^pfc: //p' "$WORK/dev1.txt")
PFC2=$(sed -n 's/^pfc: //p' "$WORK/dev2.txt")

write_server_toml 'listen = "127.0.0.1:1"'
cat >>"$WORK/server.toml" <<TOML
manufacturer_crl = ["$(pki manufacturer-crl)"]
TOML

start() {
  start_server --config "$WORK/server.toml" --listen 127.0.0.1:0 --threads 2 "$@"
  case "$URL" in https://127.0.0.1:[0-9]*) ;; *) fail "unexpected URL $URL" ;; esac
}
CURL=(curl -sS --cacert "$(pki tls-ca)" --max-time 10)

start
ADMIN=$(cat "$WORK/state/admin.token")
[ "$(stat -c %a "$WORK/state/admin.token")" = 600 ] || fail "admin.token not 0600"
[ "$(stat -c %a "$WORK/state/store.key")" = 600 ] || fail "store.key not 0600"
[ "$(status "$URL/healthz")" = 200 ] && grep -qx ok "$WORK/body" || fail "/healthz"
for path in /api/v1/devices/IMEI:1 /api/v1/shos /api/v1/nothing/here; do
  [ "$(status "$URL$path")" = 401 ] || fail "$path without token not 401"
done
[ "$(status -H "Authorization: Bearer nope-nope-nope" "$URL/api/v1/shos")" = 401 ] || fail "bad token not 401"
# TLS 1.1 is refused.
if "${CURL[@]}" --tlsv1.1 --tls-max 1.1 -o /dev/null "$URL/healthz" 2>/dev/null; then fail "TLS 1.1 accepted"; fi

AUTH_OP=(-H "Authorization: Bearer $ADMIN")
[ "$(status "${AUTH_OP[@]}" -d '{"name":"sho-a"}' "$URL/api/v1/shos")" = 201 ] || fail "create sho-a: $(cat "$WORK/body")"
SHO_A=$(jq -r .token "$WORK/body")
[ "$(status "${AUTH_OP[@]}" -d '{"name":"sho-b"}' "$URL/api/v1/shos")" = 201 ] || fail "create sho-b"
SHO_B=$(jq -r .token "$WORK/body")
printf '%s\n' '{"devId":"IMEI:1","pcid":"001010000000001","k":"465b5ce8b199b49faa5f0a2ee238a6bc","opc":"cd63cb71954a9f4e48a5994e37a02baf"}' \
  '{"devId":"IMEI:2","pcid":"001010000000002"}' >"$WORK/devices.ndjson"
for expect in inserted unchanged; do
  [ "$(status -H "Authorization: Bearer $SHO_A" -H 'Content-Type: application/x-ndjson' --data-binary @"$WORK/devices.ndjson" \
        "$URL/api/v1/devices:import")" = 200 ] || fail "import: $(cat "$WORK/body")"
  [ "$(jq -r ".$expect" "$WORK/body")" = 2 ] || fail "import $expect: $(cat "$WORK/body")"
done
[ "$(status -H "Authorization: Bearer $SHO_A" "$URL/api/v1/devices/IMEI:1")" = 200 ] || fail "own device"
[ "$(status -H "Authorization: Bearer $SHO_B" "$URL/api/v1/devices/IMEI:1")" = 404 ] || fail "other SHO's device not 404"
if grep -q 465b5ce8 "$WORK/state/m2mdm.sqlite"* 2>/dev/null; then fail "K in clear in the store"; fi

[ "$(status -H "Authorization: Bearer $SHO_A" -H 'Content-Type: application/x-pem-file' --data-binary @"$PFC2" \
      "$URL/api/v1/pva/validate?devId=IMEI:2")" = 200 ] || fail "pva"
[ "$(jq -r .valid "$WORK/body")" = true ] || fail "PfC 2 not valid: $(cat "$WORK/body")"
[ "$(status -H "Authorization: Bearer $ADMIN" -d '{"pcid":"001010000000001","count":2}' "$URL/api/v1/icf/vectors")" = 200 ] \
  || fail "icf: $(cat "$WORK/body")"
[ "$(jq -r '.vectors | length' "$WORK/body")" = 2 ] || fail "icf count"
"${CURL[@]}" "$URL/metrics" >"$WORK/metrics"
grep -q '^m2mdm_devices{state="imported"} 2$' "$WORK/metrics" || fail "metrics devices"
grep -q '^m2mdm_http_requests_total{route="/api/v1/devices/import",method="POST",status="200"} 2$' "$WORK/metrics" \
  || fail "metrics requests: $(grep requests_total "$WORK/metrics")"
stop_server

# Revoke device 2, restart (state kept, new CRL), validate again: revoked.
"$M2MDM" pki revoke --dir "$WORK/pki" --id IMEI:2 >/dev/null
start --log-level warn
[ "$(status -H "Authorization: Bearer $SHO_A" "$URL/api/v1/devices/IMEI:2")" = 200 ] || fail "state lost over restart"
[ "$(jq -r .pfcValidation.valid "$WORK/body")" = true ] || fail "recorded verdict lost"
[ "$(status -H "Authorization: Bearer $SHO_A" -H 'Content-Type: application/x-pem-file' --data-binary @"$PFC2" \
      "$URL/api/v1/pva/validate?devId=IMEI:2")" = 200 ] || fail "pva 2"
[ "$(jq -r .valid "$WORK/body")" = false ] && jq -r .reason "$WORK/body" | grep -qi revoked || fail "revoked PfC: $(cat "$WORK/body")"
[ "$(status -H "Authorization: Bearer $SHO_A" -H 'Content-Type: application/x-pem-file' --data-binary @"$PFC1" \
      "$URL/api/v1/pva/validate")" = 200 ] && [ "$(jq -r .valid "$WORK/body")" = true ] || fail "PfC 1 no longer valid"
stop_server

# A corrupt store is refused with one clear line and left as it was.
cp "$WORK/state/m2mdm.sqlite" "$WORK/good.sqlite"
printf 'garbage' | dd of="$WORK/state/m2mdm.sqlite" bs=1 seek=0 conv=notrunc 2>/dev/null
sum_before=$(sha256sum <"$WORK/state/m2mdm.sqlite")
if "$M2MDM" server --config "$WORK/server.toml" --listen 127.0.0.1:0 >"$WORK/out" 2>"$WORK/err"; then fail "corrupt store accepted"; fi
grep -q "m2mdm: store" "$WORK/err" || fail "no clear reason: $(cat "$WORK/err")"
[ "$(sha256sum <"$WORK/state/m2mdm.sqlite")" = "$sum_before" ] || fail "corrupt store was modified"
echo "ok: server e2e"
