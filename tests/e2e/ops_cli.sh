#!/usr/bin/env bash
# End-to-end, real binaries over loopback: the daily-work commands against `m2mdm server` (HTTPS,
# test PKI) with one real `m2mdm-device` provisioned through them (lib/device_server_fixture.sh)
# and two more devices imported: `m2mdm jobs show --wait` follows an install job to "succeeded"
# (exit 0); `jobs list|cancel|retry` on a queued job of a device with no push address (cancelled
# once, 409 the second time, `show --wait` exit 1, retried as a new queued job; a succeeded job is
# not retried) and `jobs list` of every device; `devices list` as a table, filtered by state, page
# by page with the next --after on stderr, --all, --json, --search by PCID and by DevId prefix, and
# the operator's list; `devices show` with the device's jobs and operator changes;
# `operator-change list|show`; another SHO's token refused (404, exit 1); a bad filter refused
# before any request.
# $1 = m2mdm binary, $2 = build dir (m2mdm-device is $2/client/m2mdm-device).
set -euo pipefail
E2E_NAME=opscli
# shellcheck source=lib/device_server_fixture.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/device_server_fixture.sh"
printf '%s\n' "${AUTH[1]#Authorization: Bearer }" >"$WORK/sho.token"
T=(--url "$URL" --token-file "$WORK/sho.token" --ca-file "$CA")
# run ARGS...: `m2mdm ARGS`, stdout in $WORK/out, stderr in $WORK/err; sets RC.
run() {
  RC=0
  "$M2MDM" "$@" >"$WORK/out" 2>"$WORK/err" || RC=$?
}
show_io() { echo "exit $RC; stdout: $(cat "$WORK/out"); stderr: $(cat "$WORK/err")"; }

# --- 1. Two more devices of this SHO (no push address: their jobs stay queued).
printf '{"devId":"IMEI:490154203237600","pcid":"001010123456800"}\n{"devId":"IMEI:490154203237601","pcid":"001010123456801"}\n' \
  >"$WORK/more.ndjson"
run devices import "${T[@]}" "$WORK/more.ndjson"
[ "$RC" = 0 ] || fail "import: $(show_io)"

# --- 2. An install job for the real device, followed with `jobs show --wait` until it succeeded.
seal_mcim "$WORK/mcim.sealed"
JOB=$(submit_install "$WORK/mcim.sealed" corr-ops-1)
run jobs show "${T[@]}" --wait --wait-timeout 90 "$JOB"
[ "$RC" = 0 ] || fail "jobs show --wait: $(show_io)"
grep -qx "state: succeeded" "$WORK/out" && grep -qx "result.code: 1200" "$WORK/out" && grep -qx "kind: install" "$WORK/out" \
  || fail "jobs show: $(show_io)"
grep -qE "^updated: [0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z$" "$WORK/out" || fail "times not as UTC: $(show_io)"
echo "ok: jobs show --wait $JOB -> succeeded, result 1200"

# --- 3. A queued job: listed, cancelled once, refused the second time; --wait says how it ended.
D2=IMEI:490154203237600
JOB2=$(submit_install "$WORK/mcim.sealed" corr-ops-2 "$D2")
run jobs list "${T[@]}" --device "$D2"
[ "$RC" = 0 ] || fail "jobs list: $(show_io)"
head -1 "$WORK/out" | grep -qE "^ID +KIND +STATE +ATTEMPTS +RESULT +CORRELATOR +UPDATED$" || fail "jobs list header: $(show_io)"
grep -qE "^$JOB2 +install +queued +0 +- +corr-ops-2 " "$WORK/out" || fail "jobs list row: $(show_io)"
run jobs list "${T[@]}" --device "$D2" --state succeeded --json
[ "$RC" = 0 ] && [ "$(jq '.jobs | length' "$WORK/out")" = 0 ] || fail "jobs list --state succeeded: $(show_io)"
run jobs cancel "${T[@]}" "$JOB2"
[ "$RC" = 0 ] && grep -qx "job $JOB2 cancelled (install for $D2)" "$WORK/out" || fail "jobs cancel: $(show_io)"
run jobs cancel "${T[@]}" "$JOB2"
[ "$RC" = 1 ] && grep -q "HTTP 409: job is cancelled: only a queued or notified job can be cancelled" "$WORK/err" \
  || fail "second cancel: $(show_io)"
run jobs show "${T[@]}" --wait "$JOB2"
[ "$RC" = 1 ] && grep -qx "state: cancelled" "$WORK/out" && grep -qx "m2mdm: job $JOB2 cancelled" "$WORK/err" \
  || fail "jobs show --wait of a cancelled job: $(show_io)"
run jobs retry "${T[@]}" "$JOB2"
[ "$RC" = 0 ] || fail "jobs retry: $(show_io)"
JOB3=$(sed -n "s/^job $JOB2 retried as job \([0-9]*\) (install for $D2, queued)\$/\1/p" "$WORK/out")
[ -n "$JOB3" ] || fail "jobs retry line: $(show_io)"
run jobs retry "${T[@]}" "$JOB"
[ "$RC" = 1 ] && grep -q "HTTP 409: job is succeeded: only a failed, expired or cancelled job can be retried" "$WORK/err" \
  || fail "retry of a succeeded job: $(show_io)"
# Every device's jobs of this SHO (GET /api/v1/jobs), the state filtered by the server.
run jobs list "${T[@]}" --state queued --json
[ "$RC" = 0 ] && [ "$(jq -c '[.jobs[].id]' "$WORK/out")" = "[$JOB3]" ] || fail "jobs list --state queued (all devices): $(show_io)"
run jobs list "${T[@]}"
[ "$RC" = 0 ] && [ "$(wc -l <"$WORK/out")" = 4 ] || fail "jobs list (all devices): $(show_io)"
echo "ok: jobs list/cancel $JOB2 -> cancelled; again -> 409, exit 1; retried as $JOB3; jobs of every device"

# --- 4. devices list: a table, a state filter, pages, --all, --json.
run devices list "${T[@]}"
[ "$RC" = 0 ] || fail "devices list: $(show_io)"
head -1 "$WORK/out" | grep -qE "^DEVID +PCID +STATE +SHO +SUBSCRIBER +LAST SEEN$" || fail "devices list header: $(show_io)"
[ "$(wc -l <"$WORK/out")" = 4 ] || fail "devices list rows: $(show_io)"
grep -qE "^$DEV +001010123456789 +provisioned +[0-9]+ +- +[0-9]{4}-" "$WORK/out" || fail "devices list row: $(show_io)"
run devices list "${T[@]}" --state imported
[ "$RC" = 0 ] && [ "$(wc -l <"$WORK/out")" = 3 ] && ! grep -q "$DEV" "$WORK/out" || fail "--state imported: $(show_io)"
run devices list "${T[@]}" --limit 2
[ "$RC" = 0 ] && [ "$(wc -l <"$WORK/out")" = 3 ] || fail "--limit 2: $(show_io)"
next=$(sed -n 's/^more devices: --after \(.*\) (or --all)$/\1/p' "$WORK/err")
[ -n "$next" ] || fail "no next page on stderr: $(show_io)"
run devices list "${T[@]}" --limit 2 --after "$next" --json
[ "$RC" = 0 ] && [ "$(jq '.devices | length' "$WORK/out")" = 1 ] && [ "$(jq 'has("next")' "$WORK/out")" = false ] \
  || fail "second page: $(show_io)"
run devices list "${T[@]}" --all --json
[ "$RC" = 0 ] && [ "$(jq '.devices | length' "$WORK/out")" = 3 ] || fail "--all: $(show_io)"
run devices list "${T[@]}" --search 001010123456789
[ "$RC" = 0 ] && [ "$(wc -l <"$WORK/out")" = 2 ] && grep -q "^$DEV " "$WORK/out" || fail "--search PCID: $(show_io)"
run devices list "${T[@]}" --search IMEI:49015420323760 --json
[ "$RC" = 0 ] && [ "$(jq '.devices | length' "$WORK/out")" = 2 ] || fail "--search DevId prefix: $(show_io)"
run devices list --url "$URL" --token-file "$WORK/state/admin.token" --ca-file "$CA" --all --json
[ "$RC" = 0 ] && [ "$(jq '.devices | length' "$WORK/out")" = 3 ] || fail "the operator's devices list: $(show_io)"
echo "ok: devices list (table, --state, --limit/--after, --all, --json, --search, the operator)"

# --- 5. devices show: the device, its jobs and operator changes.
run devices show "${T[@]}" "$DEV"
[ "$RC" = 0 ] || fail "devices show: $(show_io)"
grep -qx "devId: $DEV" "$WORK/out" && grep -qx "state: provisioned" "$WORK/out" && grep -qx "jobs: 1" "$WORK/out" \
  && grep -qx "operator changes: 0" "$WORK/out" && grep -qE "^$JOB +install +succeeded " "$WORK/out" \
  || fail "devices show: $(show_io)"
run devices show "${T[@]}" "$DEV" --json
[ "$RC" = 0 ] && [ "$(jq -r '.device.devId, (.jobs | length), (.operatorChanges | length)' "$WORK/out" | tr '\n' ' ')" = "$DEV 1 0 " ] \
  || fail "devices show --json: $(show_io)"
run operator-change list "${T[@]}" --device "$DEV"
[ "$RC" = 0 ] && [ "$(wc -l <"$WORK/out")" = 1 ] && grep -q "^ID  *DEVID  *VARIANT  *STATE" "$WORK/out" \
  || fail "operator-change list: $(show_io)"
run operator-change list "${T[@]}" --json
[ "$RC" = 0 ] && [ "$(jq '.operatorChanges | length' "$WORK/out")" = 0 ] || fail "operator-change list (in progress): $(show_io)"
run operator-change show "${T[@]}" 4242
[ "$RC" = 1 ] && grep -q "operator change 4242: HTTP 404" "$WORK/err" || fail "operator-change show 4242: $(show_io)"
echo "ok: devices show, operator-change list/show"

# --- 6. Another SHO sees none of it; a bad filter is refused before any request.
[ "$(status -H "Authorization: Bearer $ADMIN" -d '{"name":"sho-other"}' "$URL/api/v1/shos")" = 201 ] || fail "sho 2"
jq -r .token "$WORK/body" >"$WORK/other.token"
O=(--url "$URL" --token-file "$WORK/other.token" --ca-file "$CA")
run devices show "${O[@]}" "$DEV"
[ "$RC" = 1 ] && grep -q "^m2mdm: device $DEV: HTTP 404" "$WORK/err" || fail "other SHO, devices show: $(show_io)"
run jobs show "${O[@]}" "$JOB"
[ "$RC" = 1 ] && grep -q "^m2mdm: job $JOB: HTTP 404" "$WORK/err" || fail "other SHO, jobs show: $(show_io)"
run devices list "${O[@]}"
[ "$RC" = 0 ] && [ "$(wc -l <"$WORK/out")" = 1 ] || fail "other SHO, devices list: $(show_io)"
run jobs list "${T[@]}" --device "$DEV" --state finished
[ "$RC" != 0 ] && grep -q "unknown job state 'finished'" "$WORK/err" || fail "bad --state: $(show_io)"
echo "ok: another SHO's token refused (404); a bad filter refused"
echo "PASS ops_cli"
