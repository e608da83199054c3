#!/usr/bin/env bash
# End-to-end test of `m2mdm syncml digest` and `m2mdm syncml pkg0 encode|decode`.
# $1 = path of the m2mdm binary, $2 = build dir. Prints "N passed, N failed".
set -u
M2MDM=${1:?usage: syncml_auth_cli.sh M2MDM [BUILD_DIR]}
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
passed=0
failed=0

ok() { passed=$((passed + 1)); }
ko() { failed=$((failed + 1)); echo "FAIL: $*" >&2; }

# expect CODE DESCRIPTION -- command...   (stdout -> $WORK/out, stderr -> $WORK/err)
expect() {
  local want=$1 what=$2
  shift 3
  "$@" >"$WORK/out" 2>"$WORK/err"
  local got=$?
  if [ "$got" -eq "$want" ]; then ok; else ko "$what: exit $got, expected $want; stderr: $(cat "$WORK/err")"; fi
}
has() {  # has FILE TEXT DESCRIPTION
  if grep -qxF -- "$2" "$1"; then ok; else ko "$3: no line '$2' in $(basename "$1"): $(cat "$1")"; fi
}
one_line_reason() {  # stderr is exactly one line starting with "m2mdm: "
  if [ "$(wc -l <"$WORK/err")" -eq 1 ] && grep -q '^m2mdm: ' "$WORK/err"; then ok; else ko "$1: stderr not one reason line: $(cat "$WORK/err")"; fi
}

# --- digest: the spec vector (DM_Protocol 1.2 §9.4.2), raw and base64 nonce forms ---
expect 0 "digest raw nonce" -- "$M2MDM" syncml digest --user Bruce2 --password OhBehave --nonce Nonce
has "$WORK/out" "Zz6EivR3yeaaENcRN6lpAQ==" "digest raw nonce"
expect 0 "digest b64 nonce" -- "$M2MDM" syncml digest --user Bruce2 --password OhBehave --nonce-b64 Tm9uY2U=
has "$WORK/out" "Zz6EivR3yeaaENcRN6lpAQ==" "digest b64 nonce"
expect 1 "digest without nonce" -- "$M2MDM" syncml digest --user Bruce2 --password OhBehave
one_line_reason "digest without nonce"
expect 1 "digest bad b64 nonce" -- "$M2MDM" syncml digest --user u --password p --nonce-b64 '!!!'
one_line_reason "digest bad b64 nonce"
expect 108 "digest both nonces (CLI11 ExcludesError)" -- "$M2MDM" syncml digest --user u --password p --nonce a --nonce-b64 YQ==

# --- pkg0 encode -> decode round trip, default (reset) nonce ---
expect 0 "pkg0 encode" -- "$M2MDM" syncml pkg0 encode --server-id m2mdm --password secret --session-id 1234 \
  --ui-mode background --initiator server --out "$WORK/p0.bin"
# Hand-derived bytes: digest (python hashlib, reset nonce 00000000) + trigger 02 D8 00 00 00 12 34 05 "m2mdm".
if [ "$(od -An -tx1 -v "$WORK/p0.bin" | tr -d ' \n')" = "5314bb74f9650369c4d55a274cb2506702d80000001234056d326d646d" ]; then ok; else ko "pkg0 encode bytes: $(od -An -tx1 -v "$WORK/p0.bin")"; fi
expect 0 "pkg0 decode fields" -- "$M2MDM" syncml pkg0 decode "$WORK/p0.bin"
has "$WORK/out" "version: 11 (1.1)" "decode version"
has "$WORK/out" "ui-mode: background" "decode ui-mode"
has "$WORK/out" "initiator: server" "decode initiator"
has "$WORK/out" "session-id: 1234" "decode session-id"
has "$WORK/out" "server-id: m2mdm" "decode server-id"
has "$WORK/out" "vendor-data: " "decode vendor"
has "$WORK/out" "digest: 5314bb74f9650369c4d55a274cb25067" "decode digest"
expect 0 "pkg0 decode verify reset" -- "$M2MDM" syncml pkg0 decode "$WORK/p0.bin" --server-id m2mdm --password secret
has "$WORK/out" "digest: ok" "verify reset"
has "$WORK/out" "digest-nonce: reset (4 zero bytes)" "verify reset form"
expect 2 "pkg0 decode wrong password" -- "$M2MDM" syncml pkg0 decode "$WORK/p0.bin" --server-id m2mdm --password nope
one_line_reason "wrong password"

# --- explicit nonce, vendor data, leading-zero session id, stdin ---
expect 0 "pkg0 encode nonce" -- "$M2MDM" syncml pkg0 encode --server-id srv --password pw --nonce AAECAwQFBgcICQoLDA0ODw== \
  --session-id 0x00ff --ui-mode user-interaction --initiator client --vendor-hex CAFE --out "$WORK/p1.bin"
expect 0 "pkg0 decode nonce" -- "$M2MDM" syncml pkg0 decode - --password pw --nonce AAECAwQFBgcICQoLDA0ODw== <"$WORK/p1.bin"
has "$WORK/out" "session-id: FF" "session id without leading zeros"
has "$WORK/out" "ui-mode: user-interaction" "ui-mode 3"
has "$WORK/out" "initiator: client" "initiator client"
has "$WORK/out" "vendor-data: cafe" "vendor data"
has "$WORK/out" "digest-nonce: session" "session nonce used"
has "$WORK/out" "digest: ok" "verify session nonce"
expect 2 "pkg0 decode stale nonce" -- "$M2MDM" syncml pkg0 decode "$WORK/p1.bin" --password pw --nonce AAAA
one_line_reason "stale nonce"
expect 2 "pkg0 decode other server" -- "$M2MDM" syncml pkg0 decode "$WORK/p1.bin" --server-id other --password pw --nonce AAECAwQFBgcICQoLDA0ODw==

# --- bad input ---
head -c 20 "$WORK/p0.bin" >"$WORK/short.bin"
expect 1 "pkg0 decode truncated" -- "$M2MDM" syncml pkg0 decode "$WORK/short.bin"
one_line_reason "truncated"
grep -q "bytes 16-23" "$WORK/err" && ok || ko "truncated reason names the bytes: $(cat "$WORK/err")"
expect 1 "pkg0 decode missing file" -- "$M2MDM" syncml pkg0 decode "$WORK/none.bin"
one_line_reason "missing file"
expect 1 "pkg0 encode session 0" -- "$M2MDM" syncml pkg0 encode --server-id s --password p --session-id 0 --out "$WORK/x.bin"
one_line_reason "session 0"
expect 1 "pkg0 encode bad ui-mode" -- "$M2MDM" syncml pkg0 encode --server-id s --password p --session-id 1 --ui-mode loud --out "$WORK/x.bin"
expect 1 "pkg0 encode bad vendor hex" -- "$M2MDM" syncml pkg0 encode --server-id s --password p --session-id 1 --vendor-hex XYZ --out "$WORK/x.bin"

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
