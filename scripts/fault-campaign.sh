#!/usr/bin/env bash
# The standing fault campaign (docs/reliability.md; not part of the default test run: ctest label
# `campaign`, or run it by hand). Starts a real `m2mdm server` (HTTPS, SQLite) and a real
# `m2mdm-device` (bootstrapped over UDP and registered), then plays scripts/fault_campaign.py:
# bad inputs at /dm, the REST API and the HTTP layer, and the device's push listener, each with the
# answer it must get; then scripts/fault_kill.py: kill -9 of a server of its own at random moments
# during a provisioning run of a fleet (FC_KILL_DEVICES, default 1000; FC_KILLS, default 100) with
# the exactly-once proof; then `m2mdm demo --power-cuts` (section `agents`): real m2mdm-device agents
# (FC_AGENT_DEVICES, default 10) each killed FC_POWER_CUTS times (default 3) inside the DM sessions
# of their install and switched on again, with the device-side proof (never two active MCIMs,
# exactly one at the end, usable for AKA; one SHO callback per job); and on request (section
# `soak`, meant for a release build) scripts/fault_soak.py: FC_SOAK_SECONDS (default 1800) of
# `m2mdm load` with the server's RSS curve, which must stay flat. Prints a table per part; exits non-zero if any input got another answer,
# if the server or the device died, if anything was stored that should not have been, or if
# anything acknowledged was lost or doubled.
# Usage: scripts/fault-campaign.sh [BUILD_DIR] [SECTION...]   (BUILD_DIR default build/ci;
# sections: dm rest push kill agents soak; default all but soak)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD_DIR=$(cd "${1:-$ROOT/build/ci}" && pwd)
shift || true
SECTIONS=("$@")
[ ${#SECTIONS[@]} -gt 0 ] || SECTIONS=(dm rest push kill agents)
INPUTS=()
KILL=0
AGENTS=0
SOAK=0
for s in "${SECTIONS[@]}"; do
  case "$s" in
    dm|rest|push) INPUTS+=("$s") ;;
    kill) KILL=1 ;;
    agents) AGENTS=1 ;;
    soak) SOAK=1 ;;
    *) echo "fault-campaign: unknown section $s (dm rest push kill agents soak)" >&2; exit 2 ;;
  esac
done
E2E_NAME=campaign
# shellcheck source=../tests/e2e/lib/device_server_fixture.sh
source "$ROOT/tests/e2e/lib/device_server_fixture.sh" "$BUILD_DIR/server/m2mdm" "$BUILD_DIR"
if [ ${#INPUTS[@]} -gt 0 ]; then
  FC_URL=$URL FC_CA=$CA FC_ADMIN=$ADMIN FC_SHO=${AUTH[1]#Authorization: Bearer } FC_DEV=$DEV \
  FC_UDP_PORT=$UDP_PORT FC_DEVICE_PID=$DPID FC_SERVER_PID=$PID FC_DEVICE_STATE="$WORK/devstate" \
  FC_M2MDM=$M2MDM FC_WORK=$WORK FC_SRC=$ROOT \
    python3 "$ROOT/scripts/fault_campaign.py" "${INPUTS[@]}" || fail "the fault campaign found unexpected answers (above)"
fi
if [ "$KILL" = 1 ]; then
  FC_M2MDM=$M2MDM FC_WORK=$WORK FC_CA=$CA FC_TLS_CERT="$(pki tls-cert)" FC_TLS_KEY="$(pki tls-key)" \
  FC_MANUFACTURER_CA="$(pki manufacturer-ca)" \
    python3 "$ROOT/scripts/fault_kill.py" || fail "the kill campaign lost or doubled something (above)"
fi
if [ "$SOAK" = 1 ]; then
  FC_M2MDM=$M2MDM FC_WORK=$WORK FC_CA=$CA FC_TLS_CERT="$(pki tls-cert)" FC_TLS_KEY="$(pki tls-key)" \
  FC_MANUFACTURER_CA="$(pki manufacturer-ca)" \
    python3 "$ROOT/scripts/fault_soak.py" || fail "the soak found a loss (above)"
fi
if [ "$AGENTS" = 1 ]; then
  n=${FC_AGENT_DEVICES:-10} cuts=${FC_POWER_CUTS:-3}
  t0=$(date +%s)
  rc=0
  "$M2MDM" demo --devices "$n" --power-cuts "$cuts" --device-bin "$DEVBIN" --timeout 900 --work-dir "$WORK/agents" \
    >"$WORK/agents.out" 2>&1 || rc=$?
  made=$(grep -cE '^\[dev [0-9]+\] power cut [0-9]+ \(' "$WORK/agents.out" || true)
  one=$(grep -cE '^\[dev [0-9]+\] exactly one MCIM after the power cuts' "$WORK/agents.out" || true)
  aka=$(grep -cE '^\[dev [0-9]+\] attached with MCIM' "$WORK/agents.out" || true)
  during=$(grep -cE '^\[dev [0-9]+\] power cut [0-9]+ \([0-9]+ ms into the session, 0 active' "$WORK/agents.out" || true)
  echo
  echo "agents: $n m2mdm-device agents, $made power cuts inside install sessions ($during before the MCIM was active) in $(( $(date +%s) - t0 )) s"
  printf '%-62s %6s\n' check result
  ok() { printf '%-62s %6s\n' "$1" "$([ "$2" = 1 ] && echo ok || echo LOSS)"; [ "$2" = 1 ] || AGENT_LOSS=1; }
  AGENT_LOSS=0
  ok "the demo exited 0" "$([ "$rc" = 0 ] && echo 1 || echo 0)"
  ok "every device provisioned ($n/$n)" "$(grep -q "^$n/$n devices provisioned" "$WORK/agents.out" && echo 1 || echo 0)"
  ok "no cut left two active MCIMs; exactly one at the end ($one/$n)" "$([ "$one" = "$n" ] && echo 1 || echo 0)"
  ok "each device attaches with its installed MCIM ($aka/$n)" "$([ "$aka" = "$n" ] && echo 1 || echo 0)"
  ok "one SHO callback per job ($n)" "$(grep -q " $n SHO callback(s) received" "$WORK/agents.out" && echo 1 || echo 0)"
  ok "at least one cut per device landed in a session" "$([ "$made" -ge "$n" ] && echo 1 || echo 0)"
  if [ "$AGENT_LOSS" = 1 ]; then tail -40 "$WORK/agents.out"; fail "the agents section lost something (above)"; fi
fi
echo "PASS fault campaign"
