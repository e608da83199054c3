#!/usr/bin/env bash
# Builds the libFuzzer targets (clang 19, ASan+UBSan) and runs each for a short smoke
# (M2MDM_FUZZ_SMOKE_SECONDS, default 20). Longer runs: ctest --test-dir build/fuzz -L fuzz-long.
set -euo pipefail
cd "$(dirname "$0")/.."
export CCACHE_BASEDIR="$PWD" CCACHE_NOHASHDIR=1
[ "$(id -u)" = 0 ] && [ "${M2MDM_DEPS_INSTALLED:-0}" != 1 ] && ./scripts/install-deps.sh
cmake --preset fuzz -DM2MDM_FUZZ_SMOKE_SECONDS="${M2MDM_FUZZ_SMOKE_SECONDS:-20}" >/dev/null
cmake --build --preset fuzz -j "$(nproc)"
ctest --preset fuzz-smoke -j "$(nproc)"
