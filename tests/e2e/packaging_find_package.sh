#!/usr/bin/env bash
# End-to-end (label packaging; docs/packaging.md): a device maker builds against the *installed*
# m2mdm. `cmake --install` of this build's dev component into a scratch prefix (the libm2mdm-dev
# contents: static libraries, public headers only, CMake package, m2mdm-client.pc); then
# docs/examples/embed_client.cpp built as a separate CMake project (docs/examples/CMakeLists.txt:
# find_package(m2mdm), m2mdm::client) and once more with pkg-config alone. Each binary then runs
# as a device: usage without arguments (exit 1), a bootstrap MAC'd with another PIN refused (exit
# 2; a second refusal changes no stored byte), the right one applied (sealed tree written), and
# its DM session tried through the example's own transport (exit 3: the example bootstrap's DPF
# name does not resolve here).
# $1 = m2mdm binary, $2 = build dir.
set -euo pipefail
M2MDM=${1:?m2mdm binary}
BUILD=${2:?build dir}
E2E_NAME=find-package
# shellcheck source=lib/server.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/server.sh"
SRC="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
need cmake ninja pkg-config c++
PREFIX="$WORK/prefix"
# A digest of every file below a directory (names and bytes).
state_hash() { (cd "$1" && find . -type f -print0 | sort -z | xargs -0 -r sha256sum) | sha256sum; }

# 1. The installed tree.
cmake --install "$BUILD" --prefix "$PREFIX" --component dev >"$WORK/install.log" 2>&1 ||
  fail "cmake --install: $(tail -5 "$WORK/install.log")"
for f in lib/cmake/m2mdm/m2mdmConfig.cmake lib/cmake/m2mdm/m2mdmConfigVersion.cmake \
         lib/cmake/m2mdm/m2mdmTargets.cmake lib/pkgconfig/m2mdm-client.pc \
         lib/libm2mdm_client.a lib/libm2mdm_bootstrap.a lib/libm2mdm_mo.a lib/libm2mdm_syncml.a \
         include/m2mdm/client/device.hpp include/m2mdm/syncml/result.hpp; do
  [ -f "$PREFIX/$f" ] || fail "cmake --install put no $f into the prefix"
done
# Only public headers: nothing from a component's internal/ folder, and every m2mdm header an
# installed header includes is installed too.
internal=$(cd "$SRC" && find ./*/internal -name '*.hpp' | sed 's|^\./[^/]*/internal/||')
[ -n "$internal" ] || fail "no internal headers found in the source tree (layout changed?)"
for h in $internal; do
  [ ! -e "$PREFIX/include/$h" ] || fail "internal header $h installed"
done
missing=$(cd "$PREFIX/include" && grep -rhoE '#include "m2mdm/[^"]+"' . | sed 's/#include "//; s/"$//' | sort -u |
          while read -r h; do [ -f "$h" ] || echo "$h"; done)
[ -z "$missing" ] || fail "installed headers include headers that are not installed: $missing"
[ -z "$(find "$PREFIX" -path '*/bin/*' -o -name '*.service' | head -1)" ] || fail "the dev component installs binaries or units"
grep -qx "prefix=$PREFIX" "$PREFIX/lib/pkgconfig/m2mdm-client.pc" || fail "m2mdm-client.pc: prefix is not $PREFIX"
echo "ok: cmake --install --component dev: $(find "$PREFIX" -type f | wc -l) files, public headers only"

# 2. A separate CMake project with find_package(m2mdm) against the prefix.
cmake -S "$SRC/docs/examples" -B "$WORK/cmake-build" -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_PREFIX_PATH="$PREFIX" >"$WORK/configure.log" 2>&1 || fail "configure: $(tail -20 "$WORK/configure.log")"
grep -q "$PREFIX/lib/cmake/m2mdm" "$WORK/cmake-build/CMakeCache.txt" || fail "m2mdm_DIR is not the installed package"
cmake --build "$WORK/cmake-build" -j 1 >"$WORK/build.log" 2>&1 || fail "build: $(tail -30 "$WORK/build.log")"
echo "ok: find_package(m2mdm) + m2mdm::client built embed_client ($(sed -n 's/^m2mdm_DIR:PATH=//p' "$WORK/cmake-build/CMakeCache.txt"))"

# 3. The same source with pkg-config only (static libraries: --static adds their private needs).
export PKG_CONFIG_PATH="$PREFIX/lib/pkgconfig"
pkg-config --exists --print-errors m2mdm-client || fail "pkg-config does not find m2mdm-client"
[ "$(pkg-config --modversion m2mdm-client)" = "$("$M2MDM" --version | awk '{print $NF}')" ] ||
  fail "m2mdm-client.pc version $(pkg-config --modversion m2mdm-client) is not the m2mdm version"
mkdir -p "$WORK/pc-build"
# shellcheck disable=SC2046 # pkg-config prints several words on purpose
c++ -std=c++23 $(pkg-config --cflags m2mdm-client) "$SRC/docs/examples/embed_client.cpp" \
  -o "$WORK/pc-build/embed_client" $(pkg-config --static --libs m2mdm-client) >"$WORK/pc.log" 2>&1 ||
  fail "pkg-config build: $(tail -30 "$WORK/pc.log")"
echo "ok: pkg-config --static --libs m2mdm-client built embed_client: $(pkg-config --static --libs m2mdm-client)"

# 4. Both binaries work as a device (test PKI, one TRE each, the example bootstrap MAC'd with 8372).
make_pki
"$M2MDM" bootstrap build --config "$SRC/docs/examples/bootstrap.toml" --sec USERPIN --pin 8372 \
  --format push --out "$WORK/bootstrap.push" >/dev/null
n=0
for bin in "$WORK/cmake-build/embed_client" "$WORK/pc-build/embed_client"; do
  n=$((n + 1))
  "$M2MDM" pki device --dir "$WORK/pki" --id "IMEI:49015420323751$n" >"$WORK/device$n.txt"
  tre=$(sed -n 's/^tre-dir: //p' "$WORK/device$n.txt")
  state="$WORK/state$n"
  rc=0; "$bin" >/dev/null 2>"$WORK/err" || rc=$?
  [ "$rc" = 1 ] && grep -q "usage:" "$WORK/err" || fail "$bin without arguments: exit $rc, $(cat "$WORK/err")"
  rc=0; "$bin" "$state" "$tre" "$(pki sho-ca)" 9999 "$WORK/bootstrap.push" >/dev/null 2>"$WORK/err" || rc=$?
  [ "$rc" = 2 ] && grep -q "push refused" "$WORK/err" || fail "$bin, wrong PIN: exit $rc (expected 2), $(cat "$WORK/err")"
  refused=$(state_hash "$state")
  rc=0; "$bin" "$state" "$tre" "$(pki sho-ca)" 9999 "$WORK/bootstrap.push" >/dev/null 2>"$WORK/err" || rc=$?
  [ "$rc" = 2 ] && [ "$(state_hash "$state")" = "$refused" ] || fail "$bin, wrong PIN again: exit $rc or the state changed"
  rc=0; timeout 120 "$bin" "$state" "$tre" "$(pki sho-ca)" 8372 "$WORK/bootstrap.push" >"$WORK/out" 2>"$WORK/err" || rc=$?
  [ "$rc" = 3 ] || fail "$bin, right PIN: exit $rc (expected 3: session to an unreachable DPF), $(cat "$WORK/err")"
  grep -q "^POST https://dpf.ro.example:8443/dm " "$WORK/err" || fail "$bin: the example's transport sent nothing: $(cat "$WORK/err")"
  grep -q "^session: " "$WORK/err" || fail "$bin: no session failure reason: $(cat "$WORK/err")"
  [ "$(state_hash "$state")" != "$refused" ] || fail "$bin: the applied bootstrap stored nothing"
  [ "$(head -c 4 "$state/tree.m2mt")" = M2MS ] || fail "$bin: no sealed tree after the bootstrap"
  echo "ok: $(basename "$(dirname "$bin")")/embed_client: wrong PIN refused, bootstrap applied, $(grep -m1 '^POST' "$WORK/err"), $(grep -m1 '^session: ' "$WORK/err")"
done
echo "PASS packaging_find_package"
