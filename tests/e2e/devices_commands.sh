#!/usr/bin/env bash
# End-to-end, real binaries over loopback: generic management commands. A real `m2mdm-device`
# (its own --model) is bootstrapped and registered with `m2mdm server` (lib/device_server_fixture.sh);
# then `m2mdm devices get|replace|exec` each queue one DM command (POST /api/v1/devices/{devId}/commands),
# the server pushes package 0, the device runs the session and answers, and the CLI prints the
# value or the status: Get ./DevInfo/Mod prints the model; Replace of the device's DMAcc Name and
# a Get of it back; an Exec; a Replace of ./DevInfo/Mod, which the device's ACL refuses (exit 2
# with the status printed, not hidden); the command's JSON holds every status.
# $1 = m2mdm binary, $2 = build dir (m2mdm-device is $2/client/m2mdm-device).
set -euo pipefail
E2E_NAME=devcmds
MODEL=e2e-model-42
DEVICE_EXTRA_ARGS=(--model "$MODEL")
# shellcheck source=lib/device_server_fixture.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/device_server_fixture.sh"
# The SHO's token (the fixture's AUTH header) in a file for the CLI.
printf '%s\n' "${AUTH[1]#Authorization: Bearer }" >"$WORK/sho.token"
CLI=(--url "$URL" --token-file "$WORK/sho.token" --ca-file "$CA" --timeout 60)

# cli VERB ARGS...: runs `m2mdm devices VERB`, stdout in $WORK/out, stderr in $WORK/err; sets RC.
cli() {
  RC=0
  "$M2MDM" devices "$1" "${CLI[@]}" "${@:2}" >"$WORK/out" 2>"$WORK/err" || RC=$?
}

# --- 1. Get ./DevInfo/Mod: the device's model, with progress on stderr.
cli get "$DEV" ./DevInfo/Mod
[ "$RC" = 0 ] || fail "get Mod exit $RC: $(cat "$WORK/out" "$WORK/err")"
[ "$(cat "$WORK/out")" = "$MODEL" ] || fail "get Mod printed '$(cat "$WORK/out")', not $MODEL"
grep -q "queued for $DEV" "$WORK/err" && grep -q ": completed" "$WORK/err" || fail "no progress: $(cat "$WORK/err")"
echo "ok: m2mdm devices get $DEV ./DevInfo/Mod -> $(cat "$WORK/out")"

# --- 2. Replace: the server's own DMAcc Name (its ACL lets this server Replace it), read back.
# The device holds accounts of other servers too (the bootstrap's m2m-app): their ACLs refuse us.
cli get "$DEV" ./DMAcc
[ "$RC" = 0 ] || fail "get DMAcc exit $RC: $(cat "$WORK/out" "$WORK/err")"
ACC= OTHER=
for x in $(tr '/' ' ' <"$WORK/out"); do
  cli get "$DEV" "./DMAcc/$x/ServerID"
  if [ "$RC" = 0 ] && [ "$(cat "$WORK/out")" = m2mdm-dpf ]; then ACC=$x; else OTHER=$x; fi
done
[ -n "$ACC" ] || fail "no DMAcc of m2mdm-dpf that the server may read"
cli replace "$DEV" "./DMAcc/$ACC/Name" "renamed-by-e2e"
[ "$RC" = 0 ] || fail "replace Name exit $RC: $(cat "$WORK/out" "$WORK/err")"
grep -q "status 200" "$WORK/out" || fail "replace Name: $(cat "$WORK/out")"
cli get "$DEV" "./DMAcc/$ACC/Name"
[ "$(cat "$WORK/out")" = renamed-by-e2e ] || fail "Name read back as '$(cat "$WORK/out")'"
echo "ok: replace ./DMAcc/$ACC/Name -> $(cat "$WORK/out")"

# --- 3. Exec: disarm a re-bootstrap (nothing armed: a harmless operation).
cli exec "$DEV" ./M2MSIMMobj/ReBootstrap/Operations/Disarm
[ "$RC" = 0 ] || fail "exec exit $RC: $(cat "$WORK/out" "$WORK/err")"
grep -Eq "status 20[02]" "$WORK/out" || fail "exec: $(cat "$WORK/out")"
echo "ok: exec ./M2MSIMMobj/ReBootstrap/Operations/Disarm -> $(cat "$WORK/out")"

# --- 4. Refused by the device's ACL: another server's account (425 permission denied, DM_TND 1.2
# §7), and the Get-only ./DevInfo/Mod. The status is printed (exit 2), not hidden.
[ -n "$OTHER" ] || fail "the bootstrap left no account of another server"
cli replace "$DEV" "./DMAcc/$OTHER/Name" "not-ours"
[ "$RC" = 2 ] || fail "replace of another server's account exit $RC: $(cat "$WORK/out" "$WORK/err")"
[ "$(cat "$WORK/out")" = "Replace ./DMAcc/$OTHER/Name: status 425" ] || fail "refused replace: $(cat "$WORK/out")"
echo "ok: refused by the ACL: $(cat "$WORK/out")"
cli replace "$DEV" ./DevInfo/Mod "not-allowed"
[ "$RC" = 2 ] || fail "refused replace exit $RC: $(cat "$WORK/out" "$WORK/err")"
[ "$(cat "$WORK/out")" = "Replace ./DevInfo/Mod: status 425" ] || fail "refused replace: $(cat "$WORK/out")"
echo "ok: refused: $(cat "$WORK/out")"
cli get "$DEV" ./DevInfo/Mod --json
[ "$RC" = 0 ] && [ "$(jq -r '.results[0].data' "$WORK/out" | base64 -d)" = "$MODEL" ] \
  || fail "the model changed or --json failed: $(cat "$WORK/out")"
[ "$(jq -r '.statuses[0].code' "$WORK/out")" = 200 ] || fail "--json statuses: $(cat "$WORK/out")"
echo "ok: the model is unchanged ($MODEL), --json carries statuses and results"

# --- 5. The REST API refuses a malformed request (strict validation) with 400.
[ "$(status "${AUTH[@]}" -H 'Content-Type: application/json' -d '{"commands":[{"verb":"Get","target":"../x"}]}' \
      "$URL/api/v1/devices/$DEV/commands")" = 400 ] || fail "bad target accepted: $(cat "$WORK/body")"
echo "ok: a relative target is refused: $(cat "$WORK/body")"

kill -TERM "$DPID"
wait "$DPID" || fail "device exit status $?"
DPID=
stop_server
echo "PASS"
