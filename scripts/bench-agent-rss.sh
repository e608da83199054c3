#!/usr/bin/env bash
# Peak RSS of the m2mdm-device agent over a full provisioning (issue 13, docs/benchmarks.md
# "The m2mdm-device process itself"): `m2mdm demo --devices N --device-bin WRAPPER`, where WRAPPER
# (scripts/lib/agent_rss_wrapper.sh) runs the real agent with the demo's arguments and samples
# VmHWM from /proc/<pid>/status every 50 ms until it exits. Prints per agent the idle and peak VmHWM
# with RssFile/RssAnon, then the binary's size, stripped size and shared objects; with --smaps also
# the resident kB per mapped file at the highest sampled RSS of the first agent (where it goes).
# Exits 0 when the demo provisioned every device (a missed goal is a finding unless --strict).
#
# Usage: scripts/bench-agent-rss.sh [BUILD_DIR] [--agent BIN] [--devices N] [--smaps] [--in-place]
#                                   [--strict] [--goal KB]
#   BUILD_DIR  default build/release (its server/m2mdm and client/m2mdm-device)
#   --agent    measure this m2mdm-device instead of BUILD_DIR's
#   --devices  agents to provision (default 3)
#   --smaps    also print the resident kB per mapping at the peak
#   --in-place run the agent file itself, not a fresh cp copy of it (why: the comment above RUN=)
#   --goal     peak VmHWM goal in kB (default 8192: 8 MB); --strict: exit 1 when an agent is above
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# --strict, --help, unknown options, BUILD_DIR: scripts/lib/bench_args.sh.
# shellcheck source=lib/bench_args.sh
source "$ROOT/scripts/lib/bench_args.sh"
BUILD_DIR=$ROOT/build/release AGENT='' DEVICES=3 SMAPS=0 IN_PLACE=0 STRICT=0 GOAL=8192
while (($#)); do
  case $1 in
    --agent) AGENT=${2:?}; shift 2 ;;
    --devices) DEVICES=${2:?}; shift 2 ;;
    --smaps) SMAPS=1; shift ;;
    --in-place) IN_PLACE=1; shift ;;
    --goal) GOAL=${2:?}; shift 2 ;;
    *) bench_common_arg bench-agent-rss "$1"; shift ;;
  esac
done
[[ $DEVICES =~ ^[1-9][0-9]*$ && $GOAL =~ ^[1-9][0-9]*$ ]] || { echo "bench-agent-rss: numbers > 0, please" >&2; exit 2; }
M2MDM=$BUILD_DIR/server/m2mdm AGENT=${AGENT:-$BUILD_DIR/client/m2mdm-device}
for b in "$M2MDM" "$AGENT"; do
  [ -x "$b" ] || { echo "bench-agent-rss: no $b (cmake --preset release && cmake --build --preset release)" >&2; exit 2; }
done
WORK=$(mktemp -d "${TMPDIR:-/tmp}/m2mdm-bench-agent-XXXXXX")
trap 'rm -rf "$WORK"' EXIT
mkdir "$WORK/rss"

# The agent runs from a copy written with cp, as a package install writes it: how many pages one
# fault maps depends on the folios the file has in the page cache, and a file just written by the
# linker (or read back by readahead) sits in large folios, so that one touched byte can map
# hundreds of kB (docs/benchmarks.md). --in-place runs BUILD_DIR's file as it is.
RUN=$AGENT
if ((!IN_PLACE)); then RUN=$WORK/m2mdm-device; cp "$AGENT" "$RUN"; fi
load=$(cut -d' ' -f1-3 /proc/loadavg)
rc=0
M2MDM_AGENT_BIN=$RUN M2MDM_RSS_OUT=$WORK/rss M2MDM_RSS_SMAPS=$SMAPS \
  "$M2MDM" demo --devices "$DEVICES" --device-bin "$ROOT/scripts/lib/agent_rss_wrapper.sh" >"$WORK/demo.out" 2>&1 || rc=$?
summary=$(grep -E 'provisioned' "$WORK/demo.out" | tail -1 || true)
if [ "$rc" -ne 0 ]; then
  tail -20 "$WORK/demo.out" >&2
  echo "bench-agent-rss: m2mdm demo exited with $rc" >&2
  exit 1
fi

echo "m2mdm-device peak RSS over a full provisioning ($(date -u +'%Y-%m-%d %H:%M UTC'), load average $load)"
echo "agent: $AGENT$( ((IN_PLACE)) && echo ' (run in place)' || echo ' (run from a cp copy)')"
echo "demo: ${summary:-exit 0}"
printf '%-8s %10s %10s %10s %10s %10s %10s %8s\n' agent idle_HWM idle_file idle_anon peak_HWM peak_file peak_anon samples
over=0 n=0 max=0
for f in "$WORK"/rss/agent-*.rss; do
  [ -e "$f" ] || continue
  read -r ih if ia ph pf pa s <"$f"
  n=$((n + 1))
  ((ph > max)) && max=$ph
  ((ph > GOAL)) && over=$((over + 1))
  printf '%-8s %7s kB %7s kB %7s kB %7s kB %7s kB %7s kB %8s\n' "$(basename "$f" .rss | sed 's/agent-//')" \
    "$ih" "$if" "$ia" "$ph" "$pf" "$pa" "$s"
done
((n > 0)) || { echo "bench-agent-rss: the wrapper wrote no figures" >&2; exit 1; }
size=$(stat -c %s "$AGENT")
strip -o "$WORK/stripped" "$AGENT"
echo "binary: $size bytes, stripped $(stat -c %s "$WORK/stripped") bytes, $(ldd "$AGENT" | grep -c '=>' || true) shared objects (ldd)"
if ((over == 0)); then verdict=PASS; else verdict=MISS; fi
echo "goal: peak VmHWM <= $GOAL kB: $verdict (highest $max kB, $over of $n agents above)"

if ((SMAPS)); then
  first=$(find "$WORK/rss" -name "agent-*.smaps" | sort | head -1)
  if [ -n "$first" ]; then
    echo "resident kB per mapping at the highest sampled RSS of $(basename "$first" .smaps):"
    awk '/^[0-9a-f]+-[0-9a-f]+ / { name = (NF >= 6 ? $6 : "[anon]") }
         /^Rss:/ { rss[name] += $2; total += $2 }
         END { for (n in rss) if (rss[n] > 0) printf "%8d kB  %s\n", rss[n], n; printf "%8d kB  total\n", total }' "$first" |
      sort -rn
  fi
fi
if ((STRICT && over > 0)); then exit 1; fi
exit 0
