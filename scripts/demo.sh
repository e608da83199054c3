#!/usr/bin/env bash
# The main job: builds m2mdm (Release) and runs it. Idempotent; run as root on Debian 12
# (installs its own dependencies). Extra arguments are passed to `m2mdm demo`.
set -euo pipefail
cd "$(dirname "$0")/.."
# ccache keys on relative paths below the checkout, so clones in other folders share hits.
export CCACHE_BASEDIR="$PWD" CCACHE_NOHASHDIR=1
[ "$(id -u)" = 0 ] && ./scripts/install-deps.sh
cmake --preset release >/dev/null
cmake --build --preset release -j "$(nproc)"
bin=build/release/server
if "$bin/m2mdm" demo --help >/dev/null 2>&1; then
  exec "$bin/m2mdm" demo "$@"
fi
# `m2mdm demo` (docs/demo.md) finds build/release/client/m2mdm-device, which the release build
# above produces. Without the demo command (an older tree), walk through the steps offline.
exec ./scripts/walkthrough.sh "$bin/m2mdm"
