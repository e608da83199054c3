#!/usr/bin/env bash
# End-to-end: `m2mdm devices import` against a real `m2mdm server` over HTTPS on loopback — bulk
# import in batches with a progress line per batch, totals on stdout, idempotent re-import, and a
# bad batch named in a one-line failure with the devices before it kept.
# $1 = m2mdm binary, $2 = build dir.
set -euo pipefail
E2E_NAME=import
# shellcheck source=lib/server.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/server.sh"
start_pki_server
new_sho sho-bulk >"$WORK/sho.token"

# 1200 devices, 500 per request -> 3 batches.
for i in $(seq 1 1200); do
  printf '{"devId":"IMEI:35%013d","pcid":"00101%010d","devicePin":"%04d"}\n' "$i" "$i" "$((i % 10000))"
done >"$WORK/devices.ndjson"
IMPORT=("$M2MDM" devices import --url "$URL" --token-file "$WORK/sho.token" --ca-file "$CA" --batch 500)
"${IMPORT[@]}" "$WORK/devices.ndjson" >"$WORK/out1" 2>"$WORK/err1" || fail "import: $(cat "$WORK/err1")"
grep -qx "imported 500/1200 (41%)" "$WORK/err1" && grep -qx "imported 1200/1200 (100%)" "$WORK/err1" \
  || fail "progress lines: $(cat "$WORK/err1")"
[ "$(grep -c '^imported ' "$WORK/err1")" = 3 ] || fail "expected 3 progress lines: $(cat "$WORK/err1")"
grep -qx "devices: 1200 inserted: 1200 updated: 0 unchanged: 0" "$WORK/out1" || fail "totals: $(cat "$WORK/out1")"
echo "ok: $(cat "$WORK/out1")"

# Again: idempotent.
"${IMPORT[@]}" "$WORK/devices.ndjson" >"$WORK/out2" 2>"$WORK/err2" || fail "re-import: $(cat "$WORK/err2")"
grep -qx "devices: 1200 inserted: 0 updated: 0 unchanged: 1200" "$WORK/out2" || fail "re-import totals: $(cat "$WORK/out2")"
echo "ok: $(cat "$WORK/out2")"

# A malformed line in the second batch: exit 1, the batch named, the first batch kept.
{ sed -n 1,500p "$WORK/devices.ndjson"; echo '{"devId": '; sed -n 501,600p "$WORK/devices.ndjson"; } \
  | sed 's/IMEI:35/IMEI:36/; s/"00101/"00102/' >"$WORK/bad.ndjson"
rc=0
"${IMPORT[@]}" "$WORK/bad.ndjson" >"$WORK/out3" 2>"$WORK/err3" || rc=$?
[ "$rc" = 1 ] || fail "bad batch: exit $rc"
grep -q "devices 501-601: HTTP 400" "$WORK/err3" && grep -q "(500 imported before)" "$WORK/err3" \
  || fail "bad batch message: $(cat "$WORK/err3")"
[ "$(curl -sS --cacert "$CA" -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $(cat "$WORK/sho.token")" \
      "$URL/api/v1/devices/IMEI:360000000000001")" = 200 ] || fail "first batch not kept"
echo "ok: bad batch refused: $(tail -1 "$WORK/err3")"
