#!/usr/bin/env bash
# End-to-end: the subscriber (the devices' owner, seed 004 "M2ME U/S") through the real binaries.
# 1. `m2mdm demo --operator-change A|B|C --subscriber`: each device is assigned to a subscriber
#    and its agent trusts only that subscriber's tokens (--owner-anchors/--owner); the RO refuses
#    the old SHO's token (403, 1412), the subscriber's token moves the device, a replay is refused,
#    the new SHO never sees the old SHO's data, the subscriber sees the change completed.
# 2. `m2mdm subscriber create|list|assign|devices|remove|authorise-change` against a real
#    `m2mdm server` over HTTPS: the subscriber's bearer token sees only its devices; for an owned
#    device the old SHO's token and another subscriber's are 403/1412 and the owner's gets past the
#    authorisation (409: no PfC yet); `openssl cms -verify` checks the subscriber's token.
# $1 = m2mdm binary, $2 = build dir (m2mdm-device is $2/client/m2mdm-device).
set -euo pipefail
E2E_NAME=ocsub
# shellcheck source=lib/demo.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/demo.sh"

for variant in A B C; do
  rc=0
  timeout 200 "$M2MDM" demo --devices 1 --operator-change "$variant" --subscriber --device-bin "$DEVBIN" \
    --timeout 150 --work-dir "$WORK/demo-$variant" >"$WORK/out" 2>&1 || rc=$?
  [ "$rc" -eq 0 ] || fail "variant $variant with a subscriber: exit status $rc"
  steps_in_order 1 "MCIM installed" "device assigned to the subscriber (owner.example)" \
    "change authorised by the subscriber (variant $variant" "old SHO's token refused: the subscriber authorises (403, resultCode 1412)" \
    "replayed token refused (403, resultCode 1412" "old SHO told: old MCIM discarded" \
    "registry names the new SHO (old SHO refused (404))" "old SHO's data hidden from the new SHO" \
    "subscriber sees the change completed"
  ! grep -qF "change authorised by the old SHO" "$WORK/out" || fail "variant $variant: the old SHO authorised"
  new_imsi_attached 1 >/dev/null
  echo "ok: variant $variant authorised by the subscriber"
done

# --- 2. the CLI and the REST role against a real server (lib/server.sh makes its own WORK)
rm -rf "$WORK"
# shellcheck source=lib/server.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/server.sh"
need jq curl openssl
make_pki
P="$WORK/pki"
"$M2MDM" pki sho --dir "$P" --id sho-b.example >/dev/null
"$M2MDM" pki subscriber --dir "$P" --id owner.example >"$WORK/pki.out" || fail "pki subscriber"
grep -q "^subscriber-ca: " "$WORK/pki.out" || fail "pki subscriber did not create the subscriber CA"
"$M2MDM" pki subscriber --dir "$P" --id stranger.example >/dev/null
start_pki_server --sho-trust-anchors "$(pki sho-ca)" --subscriber-trust-anchors "$P/subscriber-ca.pem"
CURL=(curl -sS --cacert "$CA")
new_sho old sho.example >"$WORK/old.token"
new_sho new sho-b.example >"$WORK/new.token"
for i in 1 2; do printf '{"devId":"IMEI:35000000000000%d","pcid":"0010100000000%02d"}\n' "$i" "$i"; done \
  >"$WORK/devices.ndjson"
"$M2MDM" devices import --url "$URL" --token-file "$WORK/old.token" --ca-file "$CA" "$WORK/devices.ndjson" \
  >/dev/null 2>&1 || fail "import"

SUB=("$M2MDM" subscriber)
T=(--url "$URL" --token-file "$ADMIN_FILE" --ca-file "$CA")
"${SUB[@]}" create "${T[@]}" owner.example >"$WORK/create.out" || fail "subscriber create"
grep -qE '^subscriber [0-9]+ owner\.example$' "$WORK/create.out" || fail "create line: $(cat "$WORK/create.out")"
OWNER_ID=$(sed -nE 's/^subscriber ([0-9]+) .*/\1/p' "$WORK/create.out")
sed -nE 's/^token: ([0-9a-f]{64})$/\1/p' "$WORK/create.out" >"$WORK/owner.token"
[ -s "$WORK/owner.token" ] || fail "no token line"
"${SUB[@]}" create "${T[@]}" --json stranger.example | jq -r .token >"$WORK/stranger.token"
rc=0; "${SUB[@]}" create "${T[@]}" owner.example >/dev/null 2>"$WORK/err" || rc=$?
[ "$rc" -eq 1 ] && grep -q "HTTP 409" "$WORK/err" || fail "a second owner.example: exit $rc $(cat "$WORK/err")"
[ "$("${SUB[@]}" list "${T[@]}" | wc -l)" -eq 2 ] || fail "list"
# An SHO's token is not the operator's.
rc=0; "${SUB[@]}" list --url "$URL" --token-file "$WORK/old.token" --ca-file "$CA" >/dev/null 2>&1 || rc=$?
[ "$rc" -eq 1 ] || fail "an SHO listed the subscribers"
# Assign: an unknown DevId assigns nothing.
rc=0; "${SUB[@]}" assign "${T[@]}" "$OWNER_ID" IMEI:350000000000001 IMEI:359999999999999 >/dev/null 2>"$WORK/err" || rc=$?
[ "$rc" -eq 1 ] && grep -q "HTTP 404" "$WORK/err" || fail "assign with an unknown DevId: exit $rc $(cat "$WORK/err")"
[ "$("${SUB[@]}" devices "${T[@]}" "$OWNER_ID" | wc -l)" -eq 0 ] || fail "a failed assignment assigned something"
"${SUB[@]}" assign "${T[@]}" "$OWNER_ID" IMEI:350000000000001 >"$WORK/assign.out" || fail "assign"
grep -qx "subscriber $OWNER_ID: 1 device(s) assigned, 1 changed" "$WORK/assign.out" || fail "assign line"
grep -q '^IMEI:350000000000001 imported sho ' <("${SUB[@]}" devices "${T[@]}" "$OWNER_ID") || fail "devices"

# The subscriber's own token: its device only.
owner() { "${CURL[@]}" -H "Authorization: Bearer $(cat "$WORK/owner.token")" "$@"; }
[ "$(owner "$URL/api/v1/devices" | jq -r '.devices | map(.devId) | join(",")')" = "IMEI:350000000000001" ] \
  || fail "the subscriber's device list"
[ "$(owner -o /dev/null -w '%{http_code}' "$URL/api/v1/devices/IMEI:350000000000002")" = 404 ] \
  || fail "the subscriber sees a device it does not own"
[ "$("${CURL[@]}" -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $(cat "$WORK/stranger.token")" \
  "$URL/api/v1/devices/IMEI:350000000000001")" = 404 ] || fail "another subscriber sees the device"

# Tokens: the old SHO's, a stranger's and the owner's, for the owned device.
"$M2MDM" sho authorise-change --signer-cert "$P/sho-cert.pem" --signer-key "$P/sho-key.pem" \
  --device IMEI:350000000000001 --to-sho sho-b.example --out "$WORK/old.der" >/dev/null
for who in owner stranger; do
  "${SUB[@]}" authorise-change --signer-cert "$P/subscribers/$who.example/subscriber-cert.pem" \
    --signer-key "$P/subscribers/$who.example/subscriber-key.pem" --device IMEI:350000000000001 \
    --from-sho sho.example --to-sho sho-b.example --out "$WORK/$who.der" >"$WORK/$who.show" || fail "authorise $who"
done
grep -qx "by: subscriber owner.example" "$WORK/owner.show" || fail "the token does not name the subscriber"
"$M2MDM" sho show-change-token --in "$WORK/owner.der" --ca "$P/subscriber-ca.pem" | grep -qx "signer: owner.example (verified)" \
  || fail "show-change-token"
openssl cms -verify -binary -inform DER -in "$WORK/owner.der" -CAfile "$P/subscriber-ca.pem" -purpose any 2>/dev/null \
  | jq -e '.by == "subscriber" and .subscriber == "owner.example"' >/dev/null || fail "openssl cms -verify"
ask() {  # ask TOKEN_DER -> "STATUS RESULTCODE"
  local body
  body=$(jq -cn --arg a "$(base64 -w0 "$1")" --arg o "$(printf sealed | base64 -w0)" \
    '{variant:"A",authorisation:$a,object:$o}')
  "${CURL[@]}" -H "Authorization: Bearer $(cat "$WORK/new.token")" -d "$body" -o "$WORK/ask.json" -w '%{http_code}' \
    "$URL/api/v1/devices/IMEI:350000000000001/operator-change" >"$WORK/ask.code"
  echo "$(cat "$WORK/ask.code") $(jq -r '.resultCode // "-"' "$WORK/ask.json")"
}
[ "$(ask "$WORK/old.der")" = "403 1412" ] || fail "the old SHO's token was not refused for an owned device"
[ "$(ask "$WORK/stranger.der")" = "403 1412" ] || fail "another subscriber's token was not refused"
[ "$(ask "$WORK/owner.der")" = "409 -" ] || fail "the owner's token did not get past the authorisation"
# Removed from the subscriber, the device takes the old SHO's token again (up to the PfC check).
"${SUB[@]}" remove "${T[@]}" "$OWNER_ID" IMEI:350000000000001 | grep -qx "removed IMEI:350000000000001 from subscriber $OWNER_ID" \
  || fail "remove"
[ "$(ask "$WORK/old.der")" = "409 -" ] || fail "after removal the old SHO's token is refused"
echo "PASS operator_change_subscriber"
