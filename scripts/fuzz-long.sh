#!/usr/bin/env bash
# Long fuzzing: runs every libFuzzer target (or the ones named) until it has executed RUNS inputs
# (default 10,000,000) or SECONDS of wall time have passed (default 1800), JOBS targets at a time,
# then merges what each run found into the corpus kept in the tree (tests/fuzz/corpus/<name>,
# only inputs that add coverage) and prints one line per target. Exits 1 if any target crashed,
# leaked, timed out or ran out of memory; the input that did it is kept in the run folder. A
# timeout (one input over TIMEOUT s, default 60) is run again alone: one that then ends within the
# timeout was the machine starving the fuzzer (a long run at low priority beside builds), and is
# reported as such, not as a failure.
#
#   scripts/fuzz-long.sh                       # all targets, 10M runs or 30 min each, 1 at a time
#   scripts/fuzz-long.sh -j 2 -t 900 http_request xml_decode
#
# Uses the fuzz preset (clang 19, ASan + UBSan); builds it unless --no-build.
set -euo pipefail
cd "$(dirname "$0")/.."
runs=10000000 seconds=1800 jobs=1 build=1 out="" timeout=60
usage() { sed -n 2,11p "$0" | sed 's/^# \{0,1\}//'; echo "options: -r RUNS -t SECONDS -j JOBS -o OUTDIR -T TIMEOUT --no-build"; }
targets=()
while [ $# -gt 0 ]; do
  case "$1" in
    -r) runs="$2"; shift 2 ;;
    -t) seconds="$2"; shift 2 ;;
    -j) jobs="$2"; shift 2 ;;
    -o) out="$2"; shift 2 ;;
    -T) timeout="$2"; shift 2 ;;
    --no-build) build=0; shift ;;
    -h|--help) usage; exit 0 ;;
    -*) echo "fuzz-long: unknown option $1" >&2; usage >&2; exit 2 ;;
    *) targets+=("$1"); shift ;;
  esac
done
bin=build/fuzz/tests/fuzz
if [ "$build" = 1 ]; then
  export CCACHE_BASEDIR="$PWD" CCACHE_NOHASHDIR=1
  cmake --preset fuzz >/dev/null
  cmake --build --preset fuzz -j "$(nproc)"
fi
if [ ${#targets[@]} -eq 0 ]; then
  for f in tests/fuzz/fuzz_*.cpp; do n=$(basename "$f" .cpp); targets+=("${n#fuzz_}"); done
fi
out=${out:-$(mktemp -d /tmp/m2mdm-fuzz-long.XXXXXX)}
mkdir -p "$out"
echo "fuzz-long: ${#targets[@]} targets, ${runs} runs or ${seconds} s each, ${jobs} at a time; logs in $out"

run_one() {
  local name="$1" exe="$bin/fuzz_$1" dir="$out/$1"
  mkdir -p "$dir/new" "$dir/artifacts"
  local start end rc=0
  start=$(date +%s)
  ASAN_OPTIONS=detect_leaks=1 "$exe" -runs="$runs" -max_total_time="$seconds" -timeout="$timeout" \
    -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$dir/artifacts/" \
    "$dir/new" "tests/fuzz/corpus/$name" >"$dir/log" 2>&1 || rc=$?
  end=$(date +%s)
  local execs rate
  execs=$(awk '/stat::number_of_executed_units/ {print $2}' "$dir/log" | tail -1)
  rate=$(awk '/stat::average_exec_per_sec/ {print $2}' "$dir/log" | tail -1)
  # Keep what added coverage: merge the run's new inputs into the corpus in the tree.
  local before after
  before=$(find "tests/fuzz/corpus/$name" -type f | wc -l)
  "$exe" -merge=1 "tests/fuzz/corpus/$name" "$dir/new" >"$dir/merge.log" 2>&1 || true
  after=$(find "tests/fuzz/corpus/$name" -type f | wc -l)
  local verdict=ok
  [ "$rc" = 0 ] || verdict="FAILED(rc=$rc)"
  local slow
  slow=$(ls "$dir/artifacts/"timeout-* 2>/dev/null | head -1)
  if [ -n "$slow" ] && [ "$(ls "$dir/artifacts/" | wc -l)" = 1 ]; then
    local t0 t1
    t0=$(date +%s%N)
    if timeout "$timeout" "$exe" "$slow" >"$dir/recheck.log" 2>&1; then
      t1=$(date +%s%N)
      verdict="ok (timeout not reproduced: the input alone took $(( (t1 - t0) / 1000000 )) ms; starved)"
    fi
  fi
  printf '%-16s %12s %9s %6s %6s %s\n' "$name" "${execs:-?}" "${rate:-?}" "$((end - start))" \
    "+$((after - before))" "$verdict" >"$dir/result"
}
export -f run_one
export bin out runs seconds timeout

printf '%s\n' "${targets[@]}" | xargs -P "$jobs" -I{} bash -c 'run_one {}'

printf '%-16s %12s %9s %6s %6s %s\n' target executions "execs/s" "s" corpus verdict
failed=0
for t in "${targets[@]}"; do
  if [ -f "$out/$t/result" ]; then cat "$out/$t/result"; else echo "$t: no result"; failed=1; fi
  grep -q FAILED "$out/$t/result" 2>/dev/null && failed=1
done
if [ "$failed" = 1 ]; then echo "FAIL fuzz-long: see $out/<target>/log and artifacts/"; exit 1; fi
echo "PASS fuzz-long"
