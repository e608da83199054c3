#!/usr/bin/env bash
# End-to-end: pki init, pki device, sho seal with the docs example profile, tre open; and the
# refusals (wrong device, tampered package, wrong anchors, replay) with a one-line reason.
# $1 = m2mdm binary, $2 = build dir.
set -euo pipefail
M2MDM=${1:?m2mdm binary}
SRC="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/m2mdm-e2e-mcim-XXXXXX")
trap 'rm -rf "$WORK"' EXIT

fail() { echo "FAIL: $*" >&2; exit 1; }
# expect_refusal DESCRIPTION PATTERN cmd...: the command must fail with one stderr line matching PATTERN.
expect_refusal() {
  local what=$1 pattern=$2; shift 2
  if "$@" >"$WORK/out" 2>"$WORK/err"; then fail "$what: accepted"; fi
  [ "$(wc -l <"$WORK/err")" -eq 1 ] || fail "$what: expected one line on stderr, got: $(cat "$WORK/err")"
  grep -q -- "$pattern" "$WORK/err" || fail "$what: reason '$(cat "$WORK/err")' lacks '$pattern'"
  if grep -qi -e 465b5ce8 -e cd63cb71 "$WORK/out" "$WORK/err"; then fail "$what: secret printed"; fi
  echo "ok: $what -> $(cat "$WORK/err")"
}

"$M2MDM" pki init --dir "$WORK/pki" >"$WORK/init.txt"
for name in manufacturer-ca sho-ca sho-cert sho-key tls-cert tls-key manufacturer-crl; do
  path=$(sed -n "s/^$name: //p" "$WORK/init.txt")
  [ -n "$path" ] && [ -s "$path" ] || fail "pki init did not report $name"
done
[ "$(stat -c %a "$(sed -n 's/^sho-key: //p' "$WORK/init.txt")")" = 600 ] || fail "sho-key not 0600"
# The directory may also be the one positional argument (docs/server.md: `m2mdm pki init DIR`).
"$M2MDM" pki init "$WORK/pki-positional" >"$WORK/init2.txt"
[ "$(sed -n 's/^tls-cert: //p' "$WORK/init2.txt")" = "$WORK/pki-positional/tls-cert.pem" ] || fail "pki init DIR: $(cat "$WORK/init2.txt")"
if "$M2MDM" pki init >/dev/null 2>"$WORK/err"; then fail "pki init without a directory: accepted"; fi
grep -q -- "--dir is required" "$WORK/err" || fail "pki init without a directory: $(cat "$WORK/err")"

"$M2MDM" pki device --dir "$WORK/pki" --id M2ME-0001 >"$WORK/dev1.txt"
"$M2MDM" pki device --dir "$WORK/pki" --id M2ME-0002 --rsa >"$WORK/dev2.txt"
PFC1=$(sed -n 's/^pfc: //p' "$WORK/dev1.txt"); TRE1=$(sed -n 's/^tre-dir: //p' "$WORK/dev1.txt")
PFC2=$(sed -n 's/^pfc: //p' "$WORK/dev2.txt"); TRE2=$(sed -n 's/^tre-dir: //p' "$WORK/dev2.txt")
[ -s "$(sed -n 's/^platform-key: //p' "$WORK/dev1.txt")" ] || fail "pki device did not report platform-key"
SIGN=(--signer-cert "$WORK/pki/sho-cert.pem" --signer-key "$WORK/pki/sho-key.pem")
PROFILE="$SRC/docs/examples/mcim-profile.json"

# Good path, EC and RSA devices.
"$M2MDM" sho seal --pfc "$PFC1" "${SIGN[@]}" --device M2ME-0001 --counter 7 --in "$PROFILE" --out "$WORK/p1.der" >/dev/null
"$M2MDM" tre open --tre-dir "$TRE1" --trust-anchors "$WORK/pki/sho-ca.pem" "$WORK/p1.der" >"$WORK/open.txt"
grep -qx "imsi: 001010000000001" "$WORK/open.txt" || fail "tre open: no imsi line"
grep -qx "device: M2ME-0001" "$WORK/open.txt" || fail "tre open: no device line"
grep -qx "counter: 7" "$WORK/open.txt" || fail "tre open: no counter line"
grep -q "^expires: " "$WORK/open.txt" || fail "tre open: no expires line"
if grep -qi -e 465b5ce8 -e cd63cb71 -e 00010203 "$WORK/open.txt"; then fail "tre open printed a secret"; fi
echo "ok: EC device opens"
"$M2MDM" sho seal --pfc "$PFC2" "${SIGN[@]}" --device M2ME-0002 --counter 1 --in "$PROFILE" --out "$WORK/p2.der" >/dev/null
"$M2MDM" tre open --tre-dir "$TRE2" --trust-anchors "$WORK/pki/sho-ca.pem" "$WORK/p2.der" | grep -qx "device: M2ME-0002" \
  || fail "RSA device does not open"
echo "ok: RSA device opens"

# Refusals.
expect_refusal "wrong recipient" "not addressed to this platform key" \
  "$M2MDM" tre open --tre-dir "$TRE2" --trust-anchors "$WORK/pki/sho-ca.pem" "$WORK/p1.der"
"$M2MDM" sho seal --pfc "$PFC1" "${SIGN[@]}" --device M2ME-0002 --counter 8 --in "$PROFILE" --out "$WORK/other.der" >/dev/null
expect_refusal "wrong device" "bound to another device" \
  "$M2MDM" tre open --tre-dir "$TRE1" --trust-anchors "$WORK/pki/sho-ca.pem" "$WORK/other.der"
cp "$WORK/p1.der" "$WORK/tampered.der"
size=$(stat -c %s "$WORK/tampered.der")
printf '\x55' | dd of="$WORK/tampered.der" bs=1 seek=$((size - 40)) conv=notrunc status=none
expect_refusal "tampered package" "tag mismatch" \
  "$M2MDM" tre open --tre-dir "$TRE1" --trust-anchors "$WORK/pki/sho-ca.pem" "$WORK/tampered.der"
expect_refusal "wrong anchors" "does not chain to the trust anchors" \
  "$M2MDM" tre open --tre-dir "$TRE1" --trust-anchors "$WORK/pki/manufacturer-ca.pem" "$WORK/p1.der"
expect_refusal "test anchors as production" "never mixed" \
  "$M2MDM" tre open --tre-dir "$TRE1" --trust-anchors "$WORK/pki/sho-ca.pem" --production "$WORK/p1.der"
expect_refusal "replay" "replay" \
  "$M2MDM" tre open --tre-dir "$TRE1" --trust-anchors "$WORK/pki/sho-ca.pem" --counter-floor 7 "$WORK/p1.der"
expect_refusal "rollback" "rollback" \
  "$M2MDM" tre open --tre-dir "$TRE1" --trust-anchors "$WORK/pki/sho-ca.pem" --counter-floor 9 "$WORK/p1.der"
"$M2MDM" sho seal --pfc "$PFC1" "${SIGN[@]}" --device M2ME-0001 --counter 9 --in "$PROFILE" --out "$WORK/old.der" \
  --issued $(( $(date +%s) - 3600 )) --valid-for 60 >/dev/null
expect_refusal "expired" "expired" \
  "$M2MDM" tre open --tre-dir "$TRE1" --trust-anchors "$WORK/pki/sho-ca.pem" "$WORK/old.der"
echo '{"version":1}' >"$WORK/bad.json"
expect_refusal "bad profile" "lacks a required field" \
  "$M2MDM" sho seal --pfc "$PFC1" "${SIGN[@]}" --device M2ME-0001 --counter 1 --in "$WORK/bad.json" --out "$WORK/x.der"

# Install into the registry; the same package again is a replay.
"$M2MDM" tre open --tre-dir "$TRE1" --trust-anchors "$WORK/pki/sho-ca.pem" --install mcim1 "$WORK/p1.der" \
  | grep -qx "state: Installed" || fail "install"
expect_refusal "replay after install" "replay" \
  "$M2MDM" tre open --tre-dir "$TRE1" --trust-anchors "$WORK/pki/sho-ca.pem" --install mcim2 "$WORK/p1.der"

# Revocation updates the CRL.
"$M2MDM" pki revoke --dir "$WORK/pki" --id M2ME-0002 | grep -q "^manufacturer-crl: " || fail "pki revoke"
echo "mcim_cli: all ok"
