#!/usr/bin/env bash
# End-to-end (issue 14 finding 5): the operator registers devices without an SHO (`m2mdm devices
# import` with the operator token), an SHO claims them with `m2mdm devices claim` and their device
# PINs; a wrong PIN, an unknown DevId and another SHO's device get the same "not claimed"; an SHO's
# import of another SHO's DevId answers like a fresh import and leaves the device alone.
# $1 = m2mdm binary, $2 = build dir.
set -euo pipefail
E2E_NAME=claim
# shellcheck source=lib/server.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/server.sh"
start_pki_server --claim-max-failures 5
for s in a b; do new_sho "sho-$s" >"$WORK/sho-$s.token"; done

# The factory's records, imported by the operator: no SHO.
for i in 1 2 3; do
  printf '{"devId":"IMEI:37%013d","pcid":"00103%010d","devicePin":"48291%d"}\n' "$i" "$i" "$i"
done >"$WORK/factory.ndjson"
"$M2MDM" devices import --url "$URL" --token-file "$ADMIN_FILE" --ca-file "$CA" "$WORK/factory.ndjson" \
  >"$WORK/out0" 2>"$WORK/err0" || fail "operator import: $(cat "$WORK/err0")"
grep -qx "devices: 3 inserted: 3 updated: 0 unchanged: 0" "$WORK/out0" || fail "operator import: $(cat "$WORK/out0")"

CLAIM=("$M2MDM" devices claim --url "$URL" --ca-file "$CA")
# A claims two with the right PIN.
printf '%s\n' '{"devId":"IMEI:370000000000001","devicePin":"482911"}' \
  '{"devId":"IMEI:370000000000002","devicePin":"482912"}' >"$WORK/claims-a.ndjson"
"${CLAIM[@]}" --token-file "$WORK/sho-a.token" "$WORK/claims-a.ndjson" >"$WORK/out1" 2>"$WORK/err1" \
  || fail "claim: $(cat "$WORK/err1")"
grep -qx "claimed IMEI:370000000000001" "$WORK/out1" && grep -qx "claims: 2 claimed: 2 not claimed: 0" "$WORK/out1" \
  || fail "claim output: $(cat "$WORK/out1")"
echo "ok: $(tail -1 "$WORK/out1")"

# B: A's device with its right PIN, a wrong PIN, an unknown DevId -> the same "not claimed", exit 1.
printf '%s\n' '{"devId":"IMEI:370000000000001","devicePin":"482911"}' \
  '{"devId":"IMEI:370000000000003","devicePin":"000000"}' \
  '{"devId":"IMEI:379999999999999","devicePin":"482911"}' >"$WORK/claims-b.ndjson"
rc=0
"${CLAIM[@]}" --token-file "$WORK/sho-b.token" "$WORK/claims-b.ndjson" >"$WORK/out2" 2>"$WORK/err2" || rc=$?
[ "$rc" = 1 ] || fail "refused claims: exit $rc"
[ "$(grep -c '^not claimed IMEI:' "$WORK/out2")" = 3 ] || fail "refusals: $(cat "$WORK/out2")"
grep -qx "claims: 3 claimed: 0 not claimed: 3" "$WORK/out2" || fail "refusal totals: $(cat "$WORK/out2")"
grep -q "3 of 3 devices not claimed" "$WORK/err2" || fail "refusal message: $(cat "$WORK/err2")"
echo "ok: $(tail -1 "$WORK/out2")"
# The same body for each of B's refusals, straight from the API.
for body in '{"devId":"IMEI:370000000000001","devicePin":"482911"}' '{"devId":"IMEI:379999999999998","devicePin":"1"}'; do
  curl -sS --cacert "$CA" -o "$WORK/r" -w '%{http_code} ' -H "Authorization: Bearer $(cat "$WORK/sho-b.token")" \
    -d "$body" "$URL/api/v1/devices:claim" >>"$WORK/codes"
  cat "$WORK/r" >>"$WORK/bodies"; echo >>"$WORK/bodies"
done
[ "$(cat "$WORK/codes")" = "404 404 " ] || fail "refusal codes: $(cat "$WORK/codes")"
[ "$(sort -u "$WORK/bodies" | wc -l)" = 1 ] || fail "refusal bodies differ: $(cat "$WORK/bodies")"

# B's import of A's DevId: the answer of a fresh import, and the device stays A's.
echo '{"devId":"IMEI:370000000000001","pcid":"00109000000001","devicePin":"1"}' >"$WORK/squat.ndjson"
echo '{"devId":"IMEI:370000000000009","pcid":"00109000000009","devicePin":"1"}' >"$WORK/fresh.ndjson"
IMPORT_B=("$M2MDM" devices import --url "$URL" --token-file "$WORK/sho-b.token" --ca-file "$CA")
"${IMPORT_B[@]}" "$WORK/squat.ndjson" >"$WORK/out3" 2>/dev/null || fail "squat import failed"
"${IMPORT_B[@]}" "$WORK/fresh.ndjson" >"$WORK/out4" 2>/dev/null || fail "fresh import failed"
cmp -s "$WORK/out3" "$WORK/out4" || fail "import answers differ: $(cat "$WORK/out3") vs $(cat "$WORK/out4")"
[ "$(curl -sS --cacert "$CA" -H "Authorization: Bearer $(cat "$WORK/sho-a.token")" \
      "$URL/api/v1/devices/IMEI:370000000000001" | jq -r .pcid)" = 001030000000001 ] || fail "A's device changed"
echo "ok: squat import answered like a fresh one: $(cat "$WORK/out3")"

# Brute force: B has failed 5 claims now (3 + 2): the next one is 429, and the CLI says so.
rc=0
"${CLAIM[@]}" --token-file "$WORK/sho-b.token" "$WORK/claims-b.ndjson" >"$WORK/out5" 2>"$WORK/err5" || rc=$?
[ "$rc" = 1 ] && grep -q "HTTP 429" "$WORK/err5" || fail "throttle: exit $rc $(cat "$WORK/err5")"
echo "ok: throttled: $(cat "$WORK/err5")"
