#!/usr/bin/env bash
# Builds m2mdm with warnings as errors and ASan+UBSan, runs every unit, conformance and
# end-to-end test and then the libFuzzer smoke of scripts/fuzz-smoke.sh.
# Idempotent; run as root on Debian 12 (installs its own dependencies).
set -euo pipefail
cd "$(dirname "$0")/.."
# ccache keys on relative paths below the checkout, so clones in other folders share hits.
export CCACHE_BASEDIR="$PWD" CCACHE_NOHASHDIR=1
[ "$(id -u)" = 0 ] && ./scripts/install-deps.sh
export M2MDM_DEPS_INSTALLED=1
jobs=$(nproc)
# The scripts outside ctest (scripts/bench-server.sh, the demo, ...) at least parse.
for script in scripts/*.sh; do bash -n "$script"; done
cmake --preset ci >/dev/null
cmake --build --preset ci -j "$jobs"
ctest --preset ci -j "$jobs"
# Every libFuzzer target runs a short smoke (scripts/fuzz-smoke.sh; clang build of the targets
# only). M2MDM_FUZZ_SMOKE=0 skips it; M2MDM_FUZZ_SMOKE_SECONDS sets the time per target.
if [ "${M2MDM_FUZZ_SMOKE:-1}" = 1 ]; then
  M2MDM_FUZZ_SMOKE_SECONDS="${M2MDM_FUZZ_SMOKE_SECONDS:-10}" ./scripts/fuzz-smoke.sh
fi
