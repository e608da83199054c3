# Sourced by the e2e scripts that run `m2mdm demo` (not a test itself: tests/CMakeLists.txt
# registers only tests/e2e/*.sh). Takes the script's arguments ($1 = the m2mdm binary, $2 = the
# build dir); leaves M2MDM, BUILD, DEVBIN (the build tree's m2mdm-device, checked), WORK (a temp
# directory removed at exit, tagged with E2E_NAME) and fail() (prints WORK/out, if any, and exits 1).
M2MDM=${1:?m2mdm binary}
BUILD=${2:?build dir}
DEVBIN="$BUILD/client/m2mdm-device"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/m2mdm-e2e-${E2E_NAME:-demo}-XXXXXX")
trap 'rm -rf "$WORK"' EXIT
fail() { echo "FAIL: $*" >&2; [ -f "$WORK/out" ] && cat "$WORK/out" >&2; exit 1; }
[ -x "$DEVBIN" ] || fail "no m2mdm-device at $DEVBIN"

# provisioning_demo DEVICE_BIN WHAT: `m2mdm demo --devices 2` with DEVICE_BIN as the agent into
# WORK/out (work dir WORK/demo, kept); fails (naming WHAT) unless it exits 0, the summary line says
# both devices were provisioned and the summary table lists both as provisioned.
provisioning_demo() {
  local bin=$1 what=$2 rc=0
  timeout 300 "$M2MDM" demo --devices 2 --device-bin "$bin" --timeout 240 --work-dir "$WORK/demo" \
    >"$WORK/out" 2>&1 || rc=$?
  [ "$rc" -eq 0 ] || fail "$what: exit status $rc"
  grep -q '^2/2 devices provisioned in ' "$WORK/out" || fail "no '2/2 devices provisioned' summary line"
  [ "$(grep -cE '^[12] +IMEI:[0-9]+ +00101[0-9]{10} +00101[0-9]{10} +1[0-9] +[0-9.]+ +provisioned$' "$WORK/out")" -eq 2 ] \
    || fail "the summary table does not list both devices as provisioned"
}

# steps_reported STEP...: both devices reported each "[dev D] STEP" line (at a line start) in WORK/out.
steps_reported() {
  local d step
  for d in 1 2; do
    for step in "$@"; do
      grep -q "^\[dev $d\] $step" "$WORK/out" || fail "device $d never reported '$step'"
    done
  done
}

# operator_change_demo VARIANT CALLBACKS REQUEST STEP...: `m2mdm demo --devices 2 --operator-change
# VARIANT` into WORK/out (work dir WORK/demo, kept); fails unless it exits 0, both devices are listed
# as moved, the summary line says so and CALLBACKS SHO callbacks were received; then, for each
# device, change_steps_in_order VARIANT REQUEST STEP... and new_imsi_attached.
operator_change_demo() {
  local variant=$1 callbacks=$2 request=$3 rc=0 d
  shift 3
  timeout 300 "$M2MDM" demo --devices 2 --operator-change "$variant" --device-bin "$DEVBIN" --timeout 240 \
    --work-dir "$WORK/demo" >"$WORK/out" 2>&1 || rc=$?
  [ "$rc" -eq 0 ] || fail "m2mdm demo --operator-change $variant exit status $rc"
  grep -q "^2/2 devices provisioned and moved to sho-b.example (operator change $variant) in " "$WORK/out" \
    || fail "no '2/2 devices provisioned and moved' summary line"
  [ "$(grep -cE '^[12] +IMEI:[0-9]+ +00101[0-9]{10} +00101[0-9]{10} +[0-9]+ +[0-9.]+ +moved to sho-b.example$' "$WORK/out")" -eq 2 ] \
    || fail "the summary table does not list both devices as moved"
  grep -q "$callbacks SHO callback(s) received" "$WORK/out" || fail "callback count (expected $callbacks)"
  for d in 1 2; do
    change_steps_in_order "$d" "$variant" "$request" "$@"
    new_imsi_attached "$d" >/dev/null
  done
}

# steps_in_order DEVICE STEP...: each "[dev DEVICE] STEP" line is in WORK/out, after the one before.
steps_in_order() {
  local d=$1 prev=0 line step
  shift
  for step in "$@"; do
    line=$(grep -nF "[dev $d] $step" "$WORK/out" | tail -1 | cut -d: -f1 || true)  # (pipefail: no match is not an exit)
    [ -n "$line" ] || fail "device $d never reported '$step'"
    [ "$line" -gt "$prev" ] || fail "device $d reported '$step' out of order"
    prev=$line
  done
}

# change_steps_in_order DEVICE VARIANT REQUEST STEP...: the steps every operator change variant
# shows, in order: the first MCIM installed, the old SHO's authorisation of VARIANT, the PVA's
# verdict, the REQUEST line, the replayed token refused, the old SHO told of the discard; then the
# variant's own STEPs; then the registry naming the new SHO, the old SHO's data hidden and the
# agent stopped.
change_steps_in_order() {
  local d=$1 variant=$2 request=$3
  shift 3
  steps_in_order "$d" "MCIM installed" "change authorised by the old SHO (variant $variant" \
    "PVA: PfC valid for the new SHO" "$request" "replayed token refused (403, resultCode 1412" \
    "old SHO told: old MCIM discarded" "$@" \
    "registry names the new SHO (old SHO refused (404))" "old SHO's data hidden from the new SHO" "agent stopped"
}

# new_imsi_attached DEVICE: the device sealed two MCIMs with distinct IMSIs (the first SHO's, then
# the second's) and attached at the end with the second; prints that IMSI.
new_imsi_attached() {
  local d=$1 first second
  first=$(grep -E "^\[dev $d\] MCIM sealed \(IMSI [0-9]+, [0-9]+ bytes\)$" "$WORK/out" | sed -E 's/.*IMSI ([0-9]+).*/\1/')
  second=$(grep -E "^\[dev $d\] MCIM sealed \(IMSI [0-9]+, [0-9]+ bytes, by sho-b.example\)$" "$WORK/out" | sed -E 's/.*IMSI ([0-9]+).*/\1/')
  [ -n "$first" ] && [ -n "$second" ] && [ "$first" != "$second" ] || fail "device $d: no distinct first/second IMSI"
  grep -qF "[dev $d] attached with MCIM (IMSI $second, AKA RES == XRES)" "$WORK/out" \
    || fail "device $d did not attach with the new SHO's IMSI $second"
  echo "$second"
}
