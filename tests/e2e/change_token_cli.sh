#!/usr/bin/env bash
# End-to-end: the operator-change token from the command line (docs/operator-change.md).
# `m2mdm pki sho` issues a second SHO signer; `m2mdm sho authorise-change` makes a token as the old
# SHO; `m2mdm sho show-change-token` and the standard tool (`openssl cms -verify`) both verify it;
# a token the new SHO signs for itself, a tampered token and an invalid request are refused.
# $1 = m2mdm binary, $2 = build dir (unused).
set -euo pipefail
M2MDM=${1:?m2mdm binary}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/m2mdm-e2e-token-XXXXXX")
trap 'rm -rf "$WORK"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
cd "$WORK"
"$M2MDM" pki init --dir pki >/dev/null || fail "pki init"
"$M2MDM" pki sho --dir pki --id sho-b.example >out || fail "pki sho"
grep -qx "sho-cert: pki/shos/sho-b.example/sho-cert.pem" out || fail "pki sho output: $(cat out)"
"$M2MDM" pki sho --dir pki --id 'bad/id' >/dev/null 2>&1 && fail "an SHO id with / was accepted"

"$M2MDM" sho authorise-change --signer-cert pki/sho-cert.pem --signer-key pki/sho-key.pem \
  --device IMEI:358782868384239 --to-sho sho-b.example --valid-for 600 --out token.der >out || fail "authorise-change"
grep -qx "from: sho.example" out && grep -qx "to: sho-b.example" out && grep -qx "variant: A" out \
  || fail "authorise-change output: $(cat out)"
grep -qE '^nonce: [0-9a-f]{32}$' out || fail "no nonce line"
"$M2MDM" sho show-change-token --in token.der --ca pki/sho-ca.pem >shown || fail "show-change-token"
grep -qx "signer: sho.example (verified)" shown || fail "show output: $(cat shown)"
openssl cms -verify -binary -inform DER -in token.der -CAfile pki/sho-ca.pem -purpose any -out content.json 2>/dev/null \
  || fail "openssl cms -verify refused the token"
grep -q '"type":"m2mdm-operator-change"' content.json || fail "content: $(cat content.json)"

# The new SHO cannot authorise its own takeover (its CN is not "from" of a change to itself).
"$M2MDM" sho authorise-change --signer-cert pki/shos/sho-b.example/sho-cert.pem \
  --signer-key pki/shos/sho-b.example/sho-key.pem --device IMEI:358782868384239 --to-sho sho-b.example \
  --out self.der >/dev/null 2>&1 && fail "a token from an SHO to itself was made"
# One flipped byte in the middle: refused.
python3 - token.der tampered.der <<'PY'
import sys
d = bytearray(open(sys.argv[1], "rb").read()); d[len(d) // 2] ^= 1; open(sys.argv[2], "wb").write(d)
PY
"$M2MDM" sho show-change-token --in tampered.der --ca pki/sho-ca.pem >/dev/null 2>&1 && fail "a tampered token verified"
# Under another CA: refused.
"$M2MDM" sho show-change-token --in token.der --ca pki/tls-ca.pem >/dev/null 2>&1 && fail "verified under the TLS CA"
echo "PASS change_token_cli"
