#!/usr/bin/env bash
# Builds m2mdm with warnings as errors and ASan+UBSan, runs every unit, conformance and
# end-to-end test, then builds the libFuzzer targets with clang and runs each for a short smoke.
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
if [ "${M2MDM_SKIP_FUZZ:-0}" != 1 ]; then
  cmake --preset fuzz >/dev/null
  cmake --build --preset fuzz -j "$jobs"
  ctest --preset fuzz-smoke -j "$jobs"
fi
