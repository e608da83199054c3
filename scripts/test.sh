#!/usr/bin/env bash
# Builds m2mdm with warnings as errors and ASan+UBSan, runs every unit, conformance and
# end-to-end test (and, with M2MDM_FUZZ_SMOKE=1, the libFuzzer smoke of scripts/fuzz-smoke.sh).
# Idempotent; run as root on Debian 12 (installs its own dependencies).
set -euo pipefail
cd "$(dirname "$0")/.."
# ccache keys on relative paths below the checkout, so clones in other folders share hits.
export CCACHE_BASEDIR="$PWD" CCACHE_NOHASHDIR=1
[ "$(id -u)" = 0 ] && ./scripts/install-deps.sh
jobs=$(nproc)
cmake --preset ci >/dev/null
cmake --build --preset ci -j "$jobs"
ctest --preset ci -j "$jobs"
# The fuzz smoke (scripts/fuzz-smoke.sh) joins the default run once it has been verified green
# on a quiet machine; set M2MDM_FUZZ_SMOKE=1 to include it now.
if [ "${M2MDM_FUZZ_SMOKE:-0}" = 1 ]; then
  ./scripts/fuzz-smoke.sh
fi
