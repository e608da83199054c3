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
