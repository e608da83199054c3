#!/usr/bin/env bash
# End-to-end: `m2mdm demo` follows the agents' typed events, never the human text of their log
# messages. The demo runs with --device-bin set to a wrapper that execs the real m2mdm-device
# with its output piped through a filter rewriting every human message ("msg" and "detail" of
# each JSON line; any other line entirely) to "reworded". The demo must still provision both
# devices and exit 0, and the agents' logs must really hold none of the original messages.
# $1 = m2mdm binary, $2 = build dir (m2mdm-device is $2/client/m2mdm-device).
set -euo pipefail
E2E_NAME=reworded
# shellcheck source=lib/demo.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/demo.sh"
command -v python3 >/dev/null || fail "python3 is required"

# The filter: one line in, one line out, flushed at once (the demo reads the log as it grows).
cat >"$WORK/reword.py" <<'PY'
import json, sys
while True:
    line = sys.stdin.readline()
    if not line:
        break
    try:
        obj = json.loads(line)
    except ValueError:
        obj = None
    if isinstance(obj, dict):
        for key in ("msg", "detail"):
            if key in obj:
                obj[key] = "reworded"
        out = json.dumps(obj, separators=(",", ":"))
    else:
        out = "reworded"
    sys.stdout.write(out + "\n")
    sys.stdout.flush()
PY
# The wrapper becomes the agent (exec: same pid, so the demo's SIGTERM reaches it); the agent's
# stdout and stderr go through the filter into what the demo gave as stdout/stderr (its log).
cat >"$WORK/m2mdm-device" <<SH
#!/usr/bin/env bash
exec 2> >(exec python3 -u "$WORK/reword.py") 1>&2
exec "$DEVBIN" "\$@"
SH
chmod +x "$WORK/m2mdm-device"

provisioning_demo "$WORK/m2mdm-device" "m2mdm demo with reworded agent logs"
steps_reported "agent listening" "bootstrap applied" "registered" "package 0 verified" "MCIM installed" \
  "agent stopped" "attached with MCIM"
# The agents' logs went through the filter: events with their typed fields, no original text.
for d in 1 2; do
  LOG="$WORK/demo/device-$d.log"
  for ev in listening bootstrap_applied session_completed package0_verified mcim_installed stopping; do
    grep -q "\"event\":\"$ev\"" "$LOG" || fail "device $d log has no '$ev' event: $(tail -5 "$LOG")"
  done
  for text in "listening for WAP push" "bootstrap applied" "completed: messages=" "package 0 from" "shutting down"; do
    if grep -q "$text" "$LOG"; then fail "device $d log still holds the human text '$text'"; fi
  done
  grep -q '"msg":"reworded"' "$LOG" || fail "device $d log was not reworded"
done
cat "$WORK/out"
echo "PASS demo_reworded_logs"
