# Sourced by the benchmark scripts (scripts/bench-*.sh): one `m2mdm server` of their own.
# Expects: M2MDM (the binary), WORK (a temp dir), THREADS, die MESSAGE (prints and exits 1).
# Leaves: SERVER_PID and URL (http(s)://127.0.0.1:<port>) after start_m2mdm.

# start_m2mdm [SERVER-ARGS...]: `m2mdm server` on a loopback port with the state in WORK/state.
start_m2mdm() {
  : >"$WORK/server.out"
  "$M2MDM" server --listen 127.0.0.1:0 --state-dir "$WORK/state" --threads "$THREADS" --log-level warn "$@" \
    >"$WORK/server.out" 2>>"$WORK/server.err" &
  SERVER_PID=$!
  URL=
  for _ in $(seq 100); do
    URL=$(sed -n 's/^listening: //p' "$WORK/server.out")
    [ -n "$URL" ] && break
    kill -0 "$SERVER_PID" 2>/dev/null || die "m2mdm server exited: $(tail -5 "$WORK/server.err")"
    sleep 0.1
  done
  [ -n "$URL" ] || die "m2mdm server: no listening line"
}
stop_m2mdm() {
  kill -TERM "$SERVER_PID"
  local rc=0
  wait "$SERVER_PID" || rc=$?
  SERVER_PID=
  [ "$rc" -eq 0 ] || die "m2mdm server exited with $rc after SIGTERM: $(tail -5 "$WORK/server.err")"
}

