#!/usr/bin/env bash
# End-to-end: `m2mdm operator-change request|status` against a real `m2mdm server` over HTTPS on
# loopback, with tokens made by `m2mdm sho authorise-change` — the bulk request's per-device
# results through the real binaries: a valid C token gets past the authorisation (then 409: the
# device has not reported its PfC), an expired, a self-signed (by the new SHO) and a tampered
# token are 403 with resultCode 1412, an unknown DevId too; the CLI prints each, exits 1, and
# `status` shows the batch. Nothing changed for any device.
# $1 = m2mdm binary, $2 = build dir.
set -euo pipefail
E2E_NAME=occli
# shellcheck source=lib/server.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/server.sh"
make_pki
start_pki_server --sho-trust-anchors "$(pki sho-ca)"
"$M2MDM" pki sho --dir "$WORK/pki" --id sho-b.example >/dev/null
ADMIN=$(cat "$ADMIN_FILE")
CURL=(curl -sS --cacert "$CA")
new_sho old sho.example >"$WORK/old.token"
new_sho new sho-b.example >"$WORK/new.token"
for i in 1 2 3 4; do printf '{"devId":"IMEI:35000000000000%d","pcid":"0010100000000%02d"}\n' "$i" "$i"; done \
  >"$WORK/devices.ndjson"
"$M2MDM" devices import --url "$URL" --token-file "$WORK/old.token" --ca-file "$CA" "$WORK/devices.ndjson" \
  >/dev/null 2>&1 || fail "import"

token() {  # token DEVICE SIGNER_DIR [ARGS...] -> base64 of the DER token
  local dev=$1 dir=$2
  shift 2
  "$M2MDM" sho authorise-change --signer-cert "$dir/sho-cert.pem" --signer-key "$dir/sho-key.pem" --device "$dev" \
    --to-sho sho-b.example --variant C --out "$WORK/t.der" "$@" >/dev/null || fail "authorise-change $dev"
  base64 -w0 "$WORK/t.der"
}
P="$WORK/pki"
good=$(token IMEI:350000000000001 "$P")
expired=$(token IMEI:350000000000002 "$P" --issued $(( $(date +%s) - 7200 )) --valid-for 600)
# The new SHO's own signature over a token naming the old SHO as the signer.
"$M2MDM" sho authorise-change --signer-cert "$P/sho-cert.pem" --signer-key "$P/sho-key.pem" \
  --device IMEI:350000000000003 --to-sho sho-b.example --variant C --out "$WORK/genuine.der" >/dev/null
openssl cms -sign -binary -nodetach -outform DER -signer "$P/shos/sho-b.example/sho-cert.pem" \
  -inkey "$P/shos/sho-b.example/sho-key.pem" -in <(openssl cms -verify -binary -inform DER -in "$WORK/genuine.der" \
  -noverify 2>/dev/null) -out "$WORK/forged.der" 2>/dev/null || fail "openssl cms -sign"
forged=$(base64 -w0 "$WORK/forged.der")
tampered=$(token IMEI:350000000000004 "$P" | base64 -d | { f=$(mktemp); cat >"$f"; \
  python3 -c 'import sys; b=bytearray(open(sys.argv[1],"rb").read()); b[len(b)//2]^=1; sys.stdout.buffer.write(b)' "$f"; \
  rm -f "$f"; } | base64 -w0)
obj=$(printf 'sealed' | base64 -w0)
{
  printf '{"devId":"IMEI:350000000000001","authorisation":"%s","object":"%s"}\n' "$good" "$obj"
  printf '{"devId":"IMEI:350000000000002","authorisation":"%s","object":"%s"}\n' "$expired" "$obj"
  printf '{"devId":"IMEI:350000000000003","authorisation":"%s","object":"%s"}\n' "$forged" "$obj"
  printf '{"devId":"IMEI:350000000000004","authorisation":"%s","object":"%s"}\n' "$tampered" "$obj"
  printf '{"devId":"IMEI:359999999999999","authorisation":"%s","object":"%s"}\n' "$good" "$obj"
} >"$WORK/changes.ndjson"

rc=0
"$M2MDM" operator-change request --url "$URL" --token-file "$WORK/new.token" --ca-file "$CA" --variant C --wait \
  "$WORK/changes.ndjson" >"$WORK/out" 2>"$WORK/err" || rc=$?
cat "$WORK/out" "$WORK/err"
[ "$rc" = 1 ] || fail "request: exit $rc (expected 1: devices refused)"
grep -q '^IMEI:350000000000001 refused: HTTP 409 conflict: the device has not reported its PfC yet$' "$WORK/out" \
  || fail "the valid token did not get past the authorisation"
for d in 2 3 4; do
  grep -q "^IMEI:35000000000000$d refused: HTTP 403 authorization_failed: " "$WORK/out" || fail "device $d not refused with 403"
done
grep -q '^IMEI:359999999999999 refused: HTTP 403 authorization_failed: no valid authorisation for this device$' \
  "$WORK/out" || fail "unknown DevId"
grep -qE '^batch [0-9]+: 0 accepted, 5 refused$' "$WORK/out" || fail "batch line"
batch=$(sed -nE 's/^batch ([0-9]+): 0 accepted.*/\1/p' "$WORK/out")
grep -qx "batch $batch: 0/0 completed, 0 failed, 0 in progress" "$WORK/err" || fail "progress line"
# status, as the new SHO; the old SHO does not see the batch.
"$M2MDM" operator-change status --url "$URL" --token-file "$WORK/new.token" --ca-file "$CA" "$batch" \
  >/dev/null 2>"$WORK/status.err" || fail "status: $(cat "$WORK/status.err")"
rc=0
"$M2MDM" operator-change status --url "$URL" --token-file "$WORK/old.token" --ca-file "$CA" "$batch" \
  >/dev/null 2>"$WORK/status2.err" || rc=$?
[ "$rc" = 1 ] && grep -q "HTTP 404" "$WORK/status2.err" || fail "the old SHO saw the batch: $(cat "$WORK/status2.err")"
# Nothing changed: every device is still the old SHO's, no change and no job exists.
for i in 1 2 3 4; do
  [ "$("${CURL[@]}" -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $(cat "$WORK/old.token")" \
        "$URL/api/v1/devices/IMEI:35000000000000$i")" = 200 ] || fail "device $i left the old SHO"
  [ "$("${CURL[@]}" -H "Authorization: Bearer $ADMIN" "$URL/api/v1/devices/IMEI:35000000000000$i/operator-changes" \
        | jq '.operatorChanges | length')" = 0 ] || fail "device $i has a change"
done
stop_server
echo "PASS operator_change_cli"
