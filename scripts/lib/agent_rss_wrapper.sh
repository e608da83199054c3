#!/usr/bin/env bash
# The `--device-bin` of scripts/bench-agent-rss.sh: starts the real m2mdm-device ($M2MDM_AGENT_BIN)
# with the demo's arguments, forwards SIGTERM/SIGINT to it and samples /proc/<pid>/status every
# 50 ms until it exits. Writes one line to $M2MDM_RSS_OUT/agent-<pid>.rss:
#   idle_hwm idle_file idle_anon peak_hwm peak_file peak_anon samples
# idle_*: VmHWM, RssFile, RssAnon at the first sample after the agent logged its "listening" event
# (no session yet); peak_hwm: VmHWM at the last sample (the agent's high-water mark over its whole
# life); peak_file/peak_anon: RssFile/RssAnon at the sample with the highest VmRSS. With
# M2MDM_RSS_SMAPS=1, /proc/<pid>/smaps at that sample is kept as agent-<pid>.smaps.
set -u
: "${M2MDM_AGENT_BIN:?}" "${M2MDM_RSS_OUT:?}"
"$M2MDM_AGENT_BIN" "$@" &
pid=$!
trap 'kill -TERM "$pid" 2>/dev/null' TERM
trap 'kill -INT "$pid" 2>/dev/null' INT
log=$(readlink "/proc/$$/fd/2" 2>/dev/null || true)  # the demo's per-device log (stderr)
idle_hwm='' idle_file='' idle_anon='' hwm=0 max_rss=0 peak_file=0 peak_anon=0 samples=0
listening=0
while kill -0 "$pid" 2>/dev/null; do
  # The log first, then the status: a sample read before the line was seen may still be the
  # forked shell that is about to exec the agent.
  if ((!listening)) && [ -f "$log" ] && grep -q '"event":"listening"' "$log" 2>/dev/null; then listening=1; fi
  rss=0 file=0 anon=0 cur_hwm=
  while read -r key value _; do
    case $key in
      VmHWM:) cur_hwm=$value ;;
      VmRSS:) rss=$value ;;
      RssAnon:) anon=$value ;;
      RssFile:) file=$value ;;
    esac
  done <"/proc/$pid/status" 2>/dev/null
  if [ -n "$cur_hwm" ]; then
    samples=$((samples + 1)) hwm=$cur_hwm
    if [ -z "$idle_hwm" ] && ((listening)); then idle_hwm=$cur_hwm idle_file=$file idle_anon=$anon; fi
    if ((rss > max_rss)); then
      max_rss=$rss peak_file=$file peak_anon=$anon
      [ "${M2MDM_RSS_SMAPS:-0}" = 1 ] && cp "/proc/$pid/smaps" "$M2MDM_RSS_OUT/agent-$pid.smaps.tmp" 2>/dev/null &&
        mv "$M2MDM_RSS_OUT/agent-$pid.smaps.tmp" "$M2MDM_RSS_OUT/agent-$pid.smaps"
    fi
  fi
  sleep 0.05
done
wait "$pid"
rc=$?
echo "${idle_hwm:-0} ${idle_file:-0} ${idle_anon:-0} $hwm $peak_file $peak_anon $samples" >"$M2MDM_RSS_OUT/agent-$pid.rss"
exit "$rc"
