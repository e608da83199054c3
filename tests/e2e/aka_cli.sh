#!/usr/bin/env bash
# e2e: `m2mdm aka milenage|vector|auts` on TS 35.208 test set 1 (§4.3.1) and on bad input.
# $1 = path of the m2mdm binary.
set -u
M2MDM=${1:?usage: aka_cli.sh path/to/m2mdm [build-dir]}
failures=0
check() {  # check NAME EXPECTED ACTUAL
  if [[ "$2" != "$3" ]]; then
    echo "FAIL: $1"; echo "  expected: $2"; echo "  actual:   $3"; failures=$((failures + 1))
  else
    echo "ok: $1"
  fi
}

K=465b5ce8b199b49faa5f0a2ee238a6bc
OP=cdc202d5123e20f62b6d676ac72cb318
OPC=cd63cb71954a9f4e48a5994e37a02baf
RAND=23553cbe9637a89d218ae64dae47bf35
SQN=ff9bb4d0b607
AMF=b9b9

# TS 35.208 §4.3.1: f1 = MAC-A, f1* = MAC-S, f2 = RES, f3 = CK, f4 = IK, f5 = AK, f5* = AK*.
expected_opc="OPc: $OPC
MAC-A: 4a9ffac354dfafb3
MAC-S: 01cfaf9ec4e871e9
RES: a54211d5e3ba50bf
CK: b40ba9a3c58b2a05bbf0d987b21bf8cb
IK: f769bcd751044604127672711c6d3441
AK: aa689c648370
AK*: 451e8beca43b"

out=$("$M2MDM" aka milenage --k $K --op $OP --rand $RAND --sqn $SQN --amf $AMF); rc=$?
check "milenage with --op: exit 0" 0 "$rc"
check "milenage with --op: output" "$expected_opc" "$out"

out=$("$M2MDM" aka milenage --k $K --opc $OPC --rand $RAND --sqn $SQN --amf $AMF); rc=$?
check "milenage with --opc: exit 0" 0 "$rc"
check "milenage with --opc: output (no OPc line)" "$(tail -n +2 <<<"$expected_opc")" "$out"

# Upper-case input is accepted, output stays lower-case.
out=$("$M2MDM" aka milenage --k ${K^^} --opc ${OPC^^} --rand ${RAND^^} --sqn ${SQN^^} --amf ${AMF^^}); rc=$?
check "milenage upper-case input" "$(tail -n +2 <<<"$expected_opc")" "$out"

# Bad input: non-zero exit, nothing on stdout, one line on stderr.
bad() {  # bad NAME ARGS...
  local name=$1; shift
  local so se rc
  so=$("$M2MDM" aka milenage "$@" 2>/tmp/aka_cli_err.$$); rc=$?
  se=$(cat /tmp/aka_cli_err.$$); rm -f /tmp/aka_cli_err.$$
  if [[ $rc -eq 0 || -n "$so" || -z "$se" || $(wc -l <<<"$se") -ne 1 ]]; then
    echo "FAIL: $name (rc=$rc stdout='$so' stderr='$se')"; failures=$((failures + 1))
  else
    echo "ok: $name -> rc=$rc: $se"
  fi
}
bad "both --op and --opc" --k $K --op $OP --opc $OPC --rand $RAND --sqn $SQN --amf $AMF
bad "neither --op nor --opc" --k $K --rand $RAND --sqn $SQN --amf $AMF
bad "K not hex" --k ${K:0:31}z --opc $OPC --rand $RAND --sqn $SQN --amf $AMF
bad "K too short" --k ${K:0:30} --opc $OPC --rand $RAND --sqn $SQN --amf $AMF
bad "OPc too long" --k $K --opc ${OPC}00 --rand $RAND --sqn $SQN --amf $AMF
bad "RAND odd length" --k $K --opc $OPC --rand ${RAND:0:31} --sqn $SQN --amf $AMF
bad "SQN too long" --k $K --opc $OPC --rand $RAND --sqn ${SQN}00 --amf $AMF
bad "AMF too short" --k $K --opc $OPC --rand $RAND --sqn $SQN --amf b9
bad "OP not hex" --k $K --op xx$OP --rand $RAND --sqn $SQN --amf $AMF
"$M2MDM" aka milenage --k $K --opc $OPC --sqn $SQN --amf $AMF >/dev/null 2>&1; rc=$?
[[ $rc -ne 0 ]] && echo "ok: missing --rand -> rc=$rc" || { echo "FAIL: missing --rand accepted"; failures=$((failures + 1)); }

# aka vector: AUTN = SQN^AK || AMF || MAC-A = (ff9bb4d0b607 ^ aa689c648370) || b9b9 || 4a9ffac354dfafb3.
out=$("$M2MDM" aka vector --k $K --opc $OPC --rand $RAND --sqn $SQN --amf $AMF); rc=$?
check "vector: exit 0" 0 "$rc"
check "vector: output" "RAND: $RAND
XRES: a54211d5e3ba50bf
CK: b40ba9a3c58b2a05bbf0d987b21bf8cb
IK: f769bcd751044604127672711c6d3441
AUTN: 55f328b43577b9b94a9ffac354dfafb3" "$out"
r1=$("$M2MDM" aka vector --k $K --op $OP --sqn 000000000021 --amf 8000 | sed -n 's/^RAND: //p')
r2=$("$M2MDM" aka vector --k $K --op $OP --sqn 000000000021 --amf 8000 | sed -n 's/^RAND: //p')
[[ ${#r1} -eq 32 && "$r1" != "$r2" ]] && echo "ok: vector draws a fresh RAND" || { echo "FAIL: random RAND ($r1 / $r2)"; failures=$((failures + 1)); }

# aka auts: the AUTS for test set 20 with SQN_MS = 1 (TS 35.208 §4.3.20 keys).
out=$("$M2MDM" aka auts --k 90dca4eda45b53cf0f12d7c9c3bc6a89 --opc cb9cccc4b9258e6dca4760379fb82581 \
      --rand 9fddc72092c6ad036b6e464789315b78 --auts 4f2039392ddd4bb4316ed4a14688); rc=$?
check "auts: exit 0" 0 "$rc"
check "auts: SQN-MS" "SQN-MS: 000000000001" "$out"
"$M2MDM" aka auts --k 90dca4eda45b53cf0f12d7c9c3bc6a89 --opc cb9cccc4b9258e6dca4760379fb82581 \
      --rand 9fddc72092c6ad036b6e464789315b78 --auts 4f2039392ddd4bb4316ed4a14689 >/dev/null 2>&1; rc=$?
check "auts: bad MAC-S exits 1" 1 "$rc"

if [[ $failures -ne 0 ]]; then echo "$failures failure(s)"; exit 1; fi
echo "all aka CLI checks passed"
