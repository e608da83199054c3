#!/usr/bin/env bash
# Installs everything m2mdm builds, tests and runs with on Debian 12 (run as root; idempotent).
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
pkgs=(
  build-essential cmake ninja-build pkg-config ccache git
  libxml2-dev libwbxml2-dev libwbxml2-utils libssl-dev openssl libsqlite3-dev sqlite3
  libicu-dev liblzma-dev zlib1g-dev  # the static archives the release m2mdm-device links (M2MDM_AGENT_STATIC)
  libboost-dev libcli11-dev nlohmann-json3-dev libspdlog-dev libfmt-dev libtomlplusplus-dev
  libgtest-dev libgmock-dev googletest libbenchmark-dev
  clang-19 libclang-rt-19-dev
  tshark python3 curl jq procps iproute2
  help2man file systemd  # the .debs (docs/packaging.md): man pages, dpkg-shlibdeps, systemd-analyze verify
  nginx-light wrk  # scripts/bench-server.sh (the anchor; it runs its own nginx on loopback, not the package's service)
  chromium chromium-driver python3-selenium  # tests/e2e/console_browser.sh: the web console in headless Chromium
)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "install-deps: installing ${missing[*]}"
  # tshark asks whether non-root users may capture; answer no, non-interactively.
  echo "wireshark-common wireshark-common/install-setuid boolean false" | debconf-set-selections
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
