#!/usr/bin/env bash
# End-to-end (label packaging; docs/packaging.md): the three .debs of this build tree (cpack), what
# `dpkg -c` lists in each (binaries, systemd units, config, man pages for every subcommand, bash
# completion, headers, CMake and pkg-config files; no internal header), their control data
# (conffiles, Depends), then all three unpacked into a scratch root (`dpkg -x`): the packaged
# `m2mdm server` started from there with the packaged /etc/m2mdm/server.toml (state dir and port
# given as flags) answers /healthz and stops cleanly; the bash completion completes from the
# packaged binary; `systemd-analyze verify` checks both units (skipped, with the reason, without
# systemd-analyze).
# $1 = m2mdm binary, $2 = build dir.
set -euo pipefail
M2MDM=${1:?m2mdm binary}
BUILD=${2:?build dir}
E2E_NAME=debs
# shellcheck source=lib/server.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/server.sh"
SRC="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
need cpack dpkg-deb curl gzip

# 1. The packages, written outside the build tree.
start=$(date +%s)
# zstd instead of the packages' default gzip: the same contents, but this tree's ASan binaries and
# libraries are several times the size of a release build's (dpkg-shlibdeps takes most of the rest).
cpack --config "$BUILD/CPackConfig.cmake" -B "$WORK/debs" -D CPACK_DEBIAN_COMPRESSION_TYPE=zstd >"$WORK/cpack.log" 2>&1 ||
  fail "cpack: $(tail -30 "$WORK/cpack.log")"
deb() {
  local f
  f=$(find "$WORK/debs" -maxdepth 1 -name "$1_*.deb")
  [ -n "$f" ] && [ "$(wc -l <<<"$f")" = 1 ] || fail "cpack wrote no single $1_*.deb: $(ls "$WORK/debs")"
  echo "$f"
}
SERVER_DEB=$(deb m2mdm-server) DEVICE_DEB=$(deb m2mdm-device) DEV_DEB=$(deb libm2mdm-dev)
echo "ok: cpack wrote $(find "$WORK/debs" -maxdepth 1 -name '*.deb' -printf '%f ' | sort)in $(($(date +%s) - start)) s"

# 2. dpkg -c: each package lists what it must.
listing() { dpkg -c "$1" | awk '{print $NF}' | sed 's|^\./|/|'; }
has() {  # has LISTING-FILE PATH...
  local list=$1 p
  shift
  for p in "$@"; do grep -qx -- "$p" "$list" || fail "$(basename "$list" .txt) does not contain $p"; done
}
listing "$SERVER_DEB" >"$WORK/m2mdm-server.txt"
listing "$DEVICE_DEB" >"$WORK/m2mdm-device.txt"
listing "$DEV_DEB" >"$WORK/libm2mdm-dev.txt"
has "$WORK/m2mdm-server.txt" /usr/bin/m2mdm /usr/lib/systemd/system/m2mdm.service /etc/m2mdm/server.toml \
  /usr/lib/sysusers.d/m2mdm-server.conf /usr/share/bash-completion/completions/m2mdm \
  /usr/share/man/man1/m2mdm.1.gz /usr/share/man/man1/m2mdm-server.1.gz
# A man page for every subcommand `m2mdm --help` lists.
subs=$("$M2MDM" --help | awk '/^[A-Za-z][A-Za-z ]*:$/ { s = tolower($0); next } s == "subcommands:" && /^  [a-z0-9]/ { print $1 }')
[ "$(wc -w <<<"$subs")" -ge 5 ] || fail "m2mdm --help lists only: $subs"
for s in $subs; do has "$WORK/m2mdm-server.txt" "/usr/share/man/man1/m2mdm-$s.1.gz"; done
has "$WORK/m2mdm-device.txt" /usr/bin/m2mdm-device /usr/lib/systemd/system/m2mdm-device.service \
  /usr/lib/sysusers.d/m2mdm-device.conf /usr/share/man/man1/m2mdm-device.1.gz \
  /usr/share/doc/m2mdm-device/examples/device.env /usr/share/bash-completion/completions/m2mdm-device
has "$WORK/libm2mdm-dev.txt" /usr/lib/libm2mdm_client.a /usr/lib/libm2mdm_bootstrap.a /usr/lib/libm2mdm_mo.a \
  /usr/lib/libm2mdm_syncml.a /usr/lib/libm2mdm_server.a /usr/include/m2mdm/client/device.hpp \
  /usr/include/m2mdm/client/http_transport.hpp /usr/include/m2mdm/mo/tree.hpp \
  /usr/lib/cmake/m2mdm/m2mdmConfig.cmake /usr/lib/cmake/m2mdm/m2mdmConfigVersion.cmake \
  /usr/lib/cmake/m2mdm/m2mdmTargets.cmake /usr/lib/pkgconfig/m2mdm-client.pc
for h in $(cd "$SRC" && find ./*/internal -name '*.hpp' | sed 's|^\./[^/]*/internal/||'); do
  if grep -qx "/usr/include/$h" "$WORK/libm2mdm-dev.txt"; then fail "libm2mdm-dev contains the internal header $h"; fi
done
! grep -q '^/usr/bin/.' "$WORK/libm2mdm-dev.txt" || fail "libm2mdm-dev contains binaries"
[ "$(grep '^/usr/bin/.' "$WORK/m2mdm-device.txt")" = /usr/bin/m2mdm-device ] || fail "m2mdm-device: binaries other than m2mdm-device"
echo "ok: dpkg -c: m2mdm-server $(wc -l <"$WORK/m2mdm-server.txt") entries (man pages for: $(tr '\n' ' ' <<<"$subs")), m2mdm-device $(wc -l <"$WORK/m2mdm-device.txt"), libm2mdm-dev $(wc -l <"$WORK/libm2mdm-dev.txt")"

# 3. Control data: the config is a conffile, maintainer scripts exist, Depends name the runtime libraries.
dpkg-deb -I "$SERVER_DEB" conffiles | grep -qx /etc/m2mdm/server.toml || fail "server.toml is not a conffile"
for s in postinst prerm postrm; do
  dpkg-deb -I "$SERVER_DEB" "$s" >/dev/null || fail "m2mdm-server has no $s"
done
depends=$(dpkg-deb -f "$SERVER_DEB" Depends)
for lib in libssl3 libsqlite3-0 libxml2 libwbxml2 libstdc++6; do
  grep -q "$lib" <<<"$depends" || fail "m2mdm-server Depends lacks $lib: $depends"
done
device_depends=$(dpkg-deb -f "$DEVICE_DEB" Depends)
if grep -q '^M2MDM_AGENT_STATIC:BOOL=ON' "$BUILD/CMakeCache.txt"; then
  # The release agent links OpenSSL, libxml2 and libstdc++ static (M2MDM_AGENT_STATIC): only what
  # stays shared (libc, libwbxml2) is named.
  grep -q libwbxml2 <<<"$device_depends" || fail "m2mdm-device Depends lacks libwbxml2: $device_depends"
  ! grep -q 'libssl3\|libxml2\|libstdc++' <<<"$device_depends" || fail "static m2mdm-device Depends names a static library: $device_depends"
else
  grep -q libssl3 <<<"$device_depends" || fail "m2mdm-device Depends lacks libssl3"
fi
grep -q libwbxml2-dev <<<"$(dpkg-deb -f "$DEV_DEB" Depends)" || fail "libm2mdm-dev Depends lacks libwbxml2-dev"
echo "ok: conffiles, maintainer scripts; m2mdm-server Depends: $depends"

# 4. The scratch root.
ROOT="$WORK/root"
for d in "$SERVER_DEB" "$DEVICE_DEB" "$DEV_DEB"; do dpkg -x "$d" "$ROOT"; done
M2MDM="$ROOT/usr/bin/m2mdm"
"$M2MDM" --version | grep -q '^m2mdm ' || fail "the packaged m2mdm does not run"
"$ROOT/usr/bin/m2mdm-device" --help | grep -q -- --state-dir || fail "the packaged m2mdm-device does not run"
grep -qx "prefix=/usr" "$ROOT/usr/lib/pkgconfig/m2mdm-client.pc" || fail "m2mdm-client.pc: prefix is not /usr"
gzip -dc "$ROOT/usr/share/man/man1/m2mdm-server.1.gz" | grep -qF '\-\-config' || fail "m2mdm-server(1) lacks --config"
gzip -dc "$ROOT/usr/share/man/man1/m2mdm-devices.1.gz" | grep -q 'm2mdm devices import' ||
  fail "m2mdm-devices(1) lacks the nested command 'm2mdm devices import'"
grep -q '^state_dir = "/var/lib/m2mdm"' "$ROOT/etc/m2mdm/server.toml" || fail "server.toml: state_dir is not /var/lib/m2mdm"
grep -q '^StateDirectory=m2mdm$' "$ROOT/usr/lib/systemd/system/m2mdm.service" || fail "m2mdm.service: no StateDirectory=m2mdm"
grep -q '^ExecStart=/usr/bin/m2mdm server --config /etc/m2mdm/server.toml$' "$ROOT/usr/lib/systemd/system/m2mdm.service" ||
  fail "m2mdm.service: unexpected ExecStart"
grep -q '^ExecStart=/usr/bin/m2mdm-device ' "$ROOT/usr/lib/systemd/system/m2mdm-device.service" ||
  fail "m2mdm-device.service does not run /usr/bin/m2mdm-device"

# The packaged server with the packaged config (unchanged; state dir and port as flags).
start_server --config "$ROOT/etc/m2mdm/server.toml" --listen 127.0.0.1:0 --state-dir "$WORK/state" --threads 2
case "$URL" in http://127.0.0.1:[0-9]*) ;; *) fail "unexpected URL $URL" ;; esac
CURL=(curl -sS --max-time 10)
[ "$(status "$URL/healthz")" = 200 ] && grep -qx ok "$WORK/body" || fail "/healthz of the packaged server: $(cat "$WORK/body")"
[ "$(stat -c %a "$WORK/state/admin.token")" = 600 ] || fail "admin.token missing or not 0600"
stop_server
echo "ok: $ROOT/usr/bin/m2mdm server --config $ROOT/etc/m2mdm/server.toml: $URL/healthz 200, exit 0 on SIGTERM"

# The bash completion, with the packaged binary first on PATH.
complete_words() {  # complete_words WORD...: what the completion offers for the last word
  PATH="$ROOT/usr/bin:$PATH" bash -c '
    source "$0"; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _m2mdm_complete; printf "%s\n" "${COMPREPLY[@]}"' \
    "$ROOT/usr/share/bash-completion/completions/m2mdm" "$@" 2>/dev/null
}
complete_words m2mdm ser | grep -qx server || fail "completion of 'm2mdm ser': $(complete_words m2mdm ser)"
complete_words m2mdm server --con | grep -qx -- --config || fail "completion of 'm2mdm server --con'"
complete_words m2mdm devices imp | grep -qx import || fail "completion of 'm2mdm devices imp'"
complete_words m2mdm-device --state | grep -qx -- --state-dir || fail "completion of 'm2mdm-device --state'"
echo "ok: bash completion: m2mdm ser -> server, m2mdm server --con -> --config, m2mdm devices imp -> import"

# 5. systemd-analyze verify of both units: every key known and well-formed (it prints a line for
#    anything it ignores, so any output fails), the dependencies resolvable, the binary executable
#    (copies of the units with ExecStart= pointing into the scratch root), and the man pages of
#    Documentation= found (MANPATH: the scratch root's).
if ! command -v systemd-analyze >/dev/null; then
  echo "skip: systemd-analyze verify (systemd-analyze is not installed: apt-get install systemd)"
else
  mkdir -p "$WORK/units"
  for unit in m2mdm.service m2mdm-device.service; do
    sed "s|/usr/bin/m2mdm|$ROOT/usr/bin/m2mdm|" "$ROOT/usr/lib/systemd/system/$unit" >"$WORK/units/$unit"
    rc=0
    MANPATH="$ROOT/usr/share/man" systemd-analyze verify "$WORK/units/$unit" >"$WORK/verify.log" 2>&1 || rc=$?
    [ "$rc" = 0 ] && ! grep -q . "$WORK/verify.log" || fail "systemd-analyze verify $unit (exit $rc): $(cat "$WORK/verify.log")"
  done
  echo "ok: systemd-analyze verify: m2mdm.service, m2mdm-device.service (no warning)"
fi
echo "PASS packaging_debs"
