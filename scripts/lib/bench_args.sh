# Sourced by the benchmark scripts (scripts/bench-*.sh): the arguments they all take alike.
# Expects: STRICT and BUILD_DIR (set to their defaults by the script).

# bench_common_arg NAME ARG: one argument that is not the script's own option: --strict
# (STRICT=1), -h/--help (the script's header comment, then exit 0), an unknown option (a line
# naming NAME on stderr, exit 2), else the BUILD_DIR operand. It takes ARG alone (shift 1).
bench_common_arg() {
  case $2 in
    --strict) STRICT=1 ;;
    -h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    -*) echo "$1: unknown option $2 (--help)" >&2; exit 2 ;;
    *) BUILD_DIR=$2 ;;
  esac
}
