#!/usr/bin/env bash
# End-to-end: `m2mdm syncml decode FILE` and `m2mdm syncml encode --to wbxml|xml FILE` on good and
# bad input. $1 = m2mdm binary, $2 = build directory.
set -euo pipefail
M2MDM=${1:?m2mdm binary}
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

cat >"$WORK/pkg1.xml" <<'XML'
<?xml version="1.0" encoding="UTF-8"?>
<SyncML xmlns="SYNCML:SYNCML1.2">
  <SyncHdr>
    <VerDTD>1.2</VerDTD><VerProto>DM/1.2</VerProto><SessionID>1</SessionID><MsgID>1</MsgID>
    <Target><LocURI>http://www.syncml.org/mgmt-server</LocURI></Target>
    <Source><LocURI>IMEI:493005100592800</LocURI></Source>
    <Meta><MaxMsgSize xmlns="syncml:metinf">5000</MaxMsgSize></Meta>
  </SyncHdr>
  <SyncBody>
    <Alert><CmdID>1</CmdID><Data>1201</Data></Alert>
    <Replace><CmdID>2</CmdID>
      <Item><Source><LocURI>./DevInfo/DevId</LocURI></Source><Data>IMEI:493005100592800</Data></Item>
      <Item><Source><LocURI>./DevInfo/Man</LocURI></Source><Data>Acme &amp; Co</Data></Item>
    </Replace>
    <Final/>
  </SyncBody>
</SyncML>
XML

# decode XML -> canonical pretty XML
"$M2MDM" syncml decode "$WORK/pkg1.xml" >"$WORK/dec1.xml" || fail "decode of valid XML failed"
grep -q '<SyncML xmlns="SYNCML:SYNCML1.2">' "$WORK/dec1.xml" || fail "no SyncML root in decode output"
grep -q '<MaxMsgSize xmlns="syncml:metinf">5000</MaxMsgSize>' "$WORK/dec1.xml" || fail "MetInf lost"
grep -q 'Acme &amp; Co' "$WORK/dec1.xml" || fail "escaping lost"

# encode to WBXML: binary on stdout, SyncML 1.2 header
"$M2MDM" syncml encode --to wbxml "$WORK/pkg1.xml" >"$WORK/pkg1.wbxml" || fail "encode --to wbxml failed"
[ "$(head -c 5 "$WORK/pkg1.wbxml" | od -An -tx1 | tr -d ' \n')" = "02a4016a00" ] || fail "WBXML header"

# decode WBXML gives the same canonical XML as decoding the XML
"$M2MDM" syncml decode "$WORK/pkg1.wbxml" >"$WORK/dec2.xml" || fail "decode of our WBXML failed"
cmp -s "$WORK/dec1.xml" "$WORK/dec2.xml" || fail "XML and WBXML decode differ"

# encode --to xml from either encoding gives the same bytes; --to wbxml of the WBXML is stable
"$M2MDM" syncml encode --to xml "$WORK/pkg1.xml" >"$WORK/c1.xml"
"$M2MDM" syncml encode --to xml "$WORK/pkg1.wbxml" >"$WORK/c2.xml"
cmp -s "$WORK/c1.xml" "$WORK/c2.xml" || fail "encode --to xml differs by input encoding"
"$M2MDM" syncml encode --to wbxml "$WORK/pkg1.wbxml" >"$WORK/again.wbxml"
cmp -s "$WORK/pkg1.wbxml" "$WORK/again.wbxml" || fail "WBXML -> WBXML not stable"
"$M2MDM" syncml decode - <"$WORK/pkg1.wbxml" >/dev/null || fail "stdin input"

# independent tool reads our WBXML
if command -v wbxml2xml >/dev/null 2>&1; then
  wbxml2xml -o "$WORK/theirs.xml" "$WORK/pkg1.wbxml" >/dev/null 2>&1 || fail "wbxml2xml refused our WBXML"
  grep -q 'IMEI:493005100592800' "$WORK/theirs.xml" || fail "wbxml2xml output lacks data"
fi

# bad input: non-zero exit, exactly one line on stderr
expect_fail() {  # expect_fail PATTERN ARGS...
  local pattern=$1; shift
  if "$M2MDM" "$@" >"$WORK/out" 2>"$WORK/err"; then fail "expected failure: $*"; fi
  [ "$(wc -l <"$WORK/err")" -eq 1 ] || { cat "$WORK/err" >&2; fail "stderr is not one line: $*"; }
  grep -q -- "$pattern" "$WORK/err" || { cat "$WORK/err" >&2; fail "stderr lacks '$pattern': $*"; }
}
cat >"$WORK/xxe.xml" <<'XML'
<?xml version="1.0"?>
<!DOCTYPE SyncML [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<SyncML xmlns="SYNCML:SYNCML1.2"><SyncHdr><VerDTD>&xxe;</VerDTD></SyncHdr></SyncML>
XML
expect_fail "entity" syncml decode "$WORK/xxe.xml"
sed 's|<Final/>|<Sync/><Final/>|' "$WORK/pkg1.xml" >"$WORK/unknown.xml"
expect_fail "SyncML/SyncBody/Sync" syncml decode "$WORK/unknown.xml"
sed 's|<MsgID>1</MsgID>||' "$WORK/pkg1.xml" >"$WORK/missing.xml"
expect_fail "MsgID" syncml encode --to wbxml "$WORK/missing.xml"
head -c 40 "$WORK/pkg1.wbxml" >"$WORK/trunc.wbxml"
expect_fail "truncated" syncml decode "$WORK/trunc.wbxml"
printf 'hello' >"$WORK/junk.bin"
expect_fail "neither XML nor WBXML" syncml decode "$WORK/junk.bin"
expect_fail "cannot read" syncml decode "$WORK/does-not-exist.xml"
if "$M2MDM" syncml encode --to json "$WORK/pkg1.xml" >/dev/null 2>&1; then fail "--to json accepted"; fi
echo "syncml codec CLI: OK"
