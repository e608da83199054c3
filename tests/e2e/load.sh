#!/usr/bin/env bash
# End-to-end: `m2mdm load` against a real `m2mdm server` over HTTPS on loopback. Two short runs
# (20 virtual devices, 4 in flight, 5 s): --mode session (a TLS handshake per session) and
# --mode message (connections kept). Each must exit 0 with sessions > 0, zero errors and every
# figure in its JSON; the server must then show all 40 devices registered (authenticated DM
# session with DevInfo; provisioned for those with a job) and seen. The session run also queues one install job per device
# (--install-size 4096): every job must end succeeded, its result delivered by the device's
# Generic Alert (simulated TRE) and acknowledged. Bounded: about 20 s.
# $1 = m2mdm binary, $2 = build dir.
set -euo pipefail
E2E_NAME=load
# shellcheck source=lib/server.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/server.sh"
start_pki_server
CURL=(curl -sS --cacert "$CA" --max-time 10)
new_sho sho-load >"$WORK/sho.token"
SHO=(-H "Authorization: Bearer $(cat "$WORK/sho.token")")

run=0
for mode in session message; do
  run=$((run + 1))
  JOBS=()
  [ "$mode" = session ] && JOBS=(--install-size 4096)
  timeout 60 "$M2MDM" load --url "$URL" --ca-file "$CA" --token-file "$WORK/sho.token" --devices 20 \
    --concurrency 4 --duration 5 --mode "$mode" --run-id "$run" --server-pid "$PID" --json ${JOBS[@]+"${JOBS[@]}"} \
    >"$WORK/$mode.json" 2>"$WORK/$mode.err" || fail "load --mode $mode: exit $?: $(tail -5 "$WORK/$mode.err")"
  J="$WORK/$mode.json"
  for key in mode devices concurrency elapsed_s sessions messages connections alerts_acknowledged sessions_per_s messages_per_s \
    errors errors_by_kind message_latency_ms.p50 message_latency_ms.p95 message_latency_ms.p99 \
    session_latency_ms.p50 session_latency_ms.p95 session_latency_ms.p99 server_cpu_s server_peak_rss_kb; do
    jq -e "getpath(\"$key\" | split(\".\")) != null" "$J" >/dev/null || fail "$mode: no $key in $(cat "$J")"
  done
  [ "$(jq -r .mode "$J")" = "$mode" ] || fail "$mode: mode $(jq -r .mode "$J")"
  [ "$(jq .sessions "$J")" -gt 0 ] || fail "$mode: no sessions: $(cat "$J")"
  [ "$(jq .errors "$J")" -eq 0 ] || fail "$mode: errors: $(cat "$J") $(grep 'error' "$WORK/$mode.err" | head -5)"
  [ "$(jq '.errors_by_kind | length' "$J")" -eq 0 ] || fail "$mode: errors by kind: $(cat "$J")"
  [ "$(jq .messages "$J")" -ge "$(jq .sessions "$J")" ] || fail "$mode: fewer messages than sessions"
  [ "$(jq .server_peak_rss_kb "$J")" -gt 0 ] || fail "$mode: no server RSS"
  grep -q '^t=1s sessions=' "$WORK/$mode.err" || fail "$mode: no progress line: $(cat "$WORK/$mode.err")"
  echo "ok: $mode: $(jq -c '{sessions, messages, connections, sessions_per_s, messages_per_s, errors}' "$J")"
done
# A TLS handshake per session vs connections kept: session mode opened one per session, message
# mode at most one per worker.
[ "$(jq .connections "$WORK/session.json")" -ge "$(jq .sessions "$WORK/session.json")" ] \
  || fail "session mode: fewer connections than sessions"
[ "$(jq .connections "$WORK/message.json")" -le 4 ] || fail "message mode: $(jq .connections "$WORK/message.json") connections"
echo "ok: connections: session mode $(jq .connections "$WORK/session.json"), message mode $(jq .connections "$WORK/message.json")"
# Each virtual device keeps its TLS session (its ticket) and offers it on its next connection:
# with 20 devices and more sessions than that, some connections were resumed.
[ "$(jq .sessions "$WORK/session.json")" -le 20 ] \
  || [ "$(jq .tls_resumed "$WORK/session.json")" -gt 0 ] || fail "session mode: no TLS session resumed: $(cat "$WORK/session.json")"
echo "ok: session mode resumed $(jq .tls_resumed "$WORK/session.json") TLS sessions"

# Run 1 provisioned: 20 install results acknowledged, every job succeeded.
[ "$(jq .alerts_acknowledged "$WORK/session.json")" -eq 20 ] \
  || fail "expected 20 acknowledged install alerts: $(jq .alerts_acknowledged "$WORK/session.json")"
for i in $(seq 0 19); do
  dev=$(printf 'IMEI:35000001%07d' "$i")
  [ "$(status "${SHO[@]}" "$URL/api/v1/devices/$dev/jobs")" = 200 ] || fail "jobs of $dev"
  jq -e '.jobs | length == 1 and .[0].state == "succeeded"' "$WORK/body" >/dev/null || fail "job of $dev: $(cat "$WORK/body")"
done
echo "ok: 20 install jobs succeeded (Add 4096 bytes, Exec 202, Generic Alert acknowledged)"

# The server saw every virtual device authenticate: registered (DevInfo after authentication), seen.
[ "$(status "${SHO[@]}" "$URL/api/v1/devices?limit=1000")" = 200 ] || fail "list devices"
jq -e '.devices | length == 40' "$WORK/body" >/dev/null || fail "expected 40 devices: $(jq '.devices | length' "$WORK/body")"
# Run 1's devices were provisioned (install result recorded), run 2's registered.
jq -e '[.devices[] | select(.devId | test("^IMEI:35000001[0-9]{7}$")) | select(.state == "provisioned" and .lastSeen > 0)]
       | length == 20' "$WORK/body" >/dev/null || fail "run 1 not all provisioned: $(jq -c '[.devices[] | {devId, state}]' "$WORK/body")"
jq -e '[.devices[] | select(.devId | test("^IMEI:35000002[0-9]{7}$")) | select(.state == "registered" and .lastSeen > 0)]
       | length == 20' "$WORK/body" >/dev/null || fail "run 2 not all registered: $(jq -c '[.devices[] | {devId, state}]' "$WORK/body")"
echo "ok: 40 load devices authenticated and seen (20 provisioned, 20 registered)"
stop_server
echo "PASS"
