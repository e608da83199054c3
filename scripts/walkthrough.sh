#!/usr/bin/env bash
# A provisioning walkthrough with the `m2mdm` command alone (TR 33.812 steps 1-19, offline):
# the test PKI, a device's TRE, AKA on the PCID, the RO's bootstrap (built, MAC'd with the
# device PIN, verified), a DM message in XML and WBXML, package 0, the SHO sealing the MCIM
# to the device's PfC and the device's TRE opening it. Exits non-zero at the first failure.
# Usage: walkthrough.sh PATH/TO/m2mdm
set -euo pipefail
m2mdm=${1:?usage: walkthrough.sh PATH/TO/m2mdm}
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
step() { printf '\n== %s\n' "$*"; }

step "1. Test PKI (manufacturer CA, SHO CA + signer, TLS)"
"$m2mdm" pki init --dir "$work/pki" | tee "$work/pki.txt"
pki() { sed -n "s/^$1: //p" "$work/pki.txt"; }
step "2. The M2ME: platform key and PfC in a software TRE"
"$m2mdm" pki device --dir "$work/pki" --id IMEI:490154203237518 | tee "$work/device.txt"
tre=$(sed -n 's/^tre-dir: //p' "$work/device.txt")
pfc=$(sed -n 's/^pfc: //p' "$work/device.txt")
step "3. Attach with the PCID: Milenage AKA (TS 35.208 test set 1)"
"$m2mdm" aka milenage --k 465b5ce8b199b49faa5f0a2ee238a6bc --opc cd63cb71954a9f4e48a5994e37a02baf \
  --rand 23553cbe9637a89d218ae64dae47bf35 --sqn ff9bb4d0b607 --amf b9b9
step "4. DRF: the bootstrap (BOOTSTRAP, NAPDEF, w7 DM account), MAC'd with the device PIN, as a WAP push"
"$m2mdm" bootstrap build --config "$root/docs/examples/bootstrap.toml" --sec USERPIN --pin 1234 \
  --format push --out "$work/bootstrap.push"
step "5. The M2ME verifies the push before applying it"
"$m2mdm" bootstrap verify --sec USERPIN --pin 1234 "$work/bootstrap.push" | head -20
if "$m2mdm" bootstrap verify --sec USERPIN --pin 9999 "$work/bootstrap.push" >/dev/null 2>"$work/err"; then
  echo "a wrong PIN was accepted" >&2; exit 1
fi
echo "wrong PIN refused: $(cat "$work/err")"
step "6. Package 0 from the DPF, checked with the server credentials"
"$m2mdm" syncml pkg0 encode --server-id ro-dpf --password s3cret --session-id 1A2B --out "$work/pkg0.bin"
"$m2mdm" syncml pkg0 decode "$work/pkg0.bin" --server-id ro-dpf --password s3cret
step "7. A DM message in XML and WBXML (canonical round trip)"
msg=$(ls "$root"/conformance/vectors/dm_protocol/*.xml | head -1)
"$m2mdm" syncml encode --to wbxml "$msg" > "$work/msg.wbxml"
"$m2mdm" syncml decode "$work/msg.wbxml" | head -15
step "8. SHO: seal the MCIM (sign, then encrypt to the PfC)"
"$m2mdm" sho seal --pfc "$pfc" --signer-cert "$(pki sho-cert)" --signer-key "$(pki sho-key)" \
  --device IMEI:490154203237518 --counter 1 --in "$root/docs/examples/mcim-profile.json" --out "$work/mcim.sealed"
step "9. The M2ME's TRE opens it (never printing K, OPc or OTA keys)"
"$m2mdm" tre open --tre-dir "$tre" --trust-anchors "$(pki sho-ca)" "$work/mcim.sealed"
step "done: every step above succeeded"
