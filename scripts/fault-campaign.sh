#!/usr/bin/env bash
# The standing fault campaign (docs/reliability.md; not part of the default test run: ctest label
# `campaign`, or run it by hand). Starts a real `m2mdm server` (HTTPS, SQLite) and a real
# `m2mdm-device` (bootstrapped over UDP and registered), then plays scripts/fault_campaign.py:
# bad inputs at /dm, the REST API and the HTTP layer, and the device's push listener, each with the
# answer it must get. Prints a table; exits non-zero if any input got another answer, if the
# server or the device died, or if anything was stored that should not have been.
# Usage: scripts/fault-campaign.sh [BUILD_DIR] [SECTION...]   (BUILD_DIR default build/ci;
# sections: dm rest push, default all)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD_DIR=$(cd "${1:-$ROOT/build/ci}" && pwd)
shift || true
E2E_NAME=campaign
# shellcheck source=../tests/e2e/lib/device_server_fixture.sh
source "$ROOT/tests/e2e/lib/device_server_fixture.sh" "$BUILD_DIR/server/m2mdm" "$BUILD_DIR"
FC_URL=$URL FC_CA=$CA FC_ADMIN=$ADMIN FC_SHO=${AUTH[1]#Authorization: Bearer } FC_DEV=$DEV \
FC_UDP_PORT=$UDP_PORT FC_DEVICE_PID=$DPID FC_SERVER_PID=$PID FC_DEVICE_STATE="$WORK/devstate" \
FC_M2MDM=$M2MDM FC_WORK=$WORK FC_SRC=$ROOT \
  python3 "$ROOT/scripts/fault_campaign.py" "$@" || fail "the fault campaign found unexpected answers (above)"
echo "PASS fault campaign"
