#!/usr/bin/env bash
# Server memory per idle TLS connection (issue 13, docs/benchmarks.md "Idle connections"): one
# `m2mdm server` (release build, HTTPS, loopback only, --max-connections above the count) and
# scripts/idle_connections.py, which opens COUNT TLS connections (a full handshake each), sends one
# keep-alive GET /healthz on each and keeps them idle (the server's keep-alive idle timeout is 60 s).
# The server's VmRSS is read after 200 warm-up connections were opened and closed and again once
# all COUNT are open; (after - before) / COUNT is the memory per idle connection (goal <= 64 KB).
# Prints a table; exits 0 when it measured (a missed goal is a finding unless --strict).
#
# Usage: scripts/bench-connections.sh [BUILD_DIR] [--connections N] [--threads T] [--strict]
#   BUILD_DIR      default build/release (its server/m2mdm)
#   --connections  idle connections to hold (default 10000)
#   --threads      server threads (default nproc)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=lib/bench_args.sh
source "$ROOT/scripts/lib/bench_args.sh"
BUILD_DIR=$ROOT/build/release N=10000 THREADS=$(nproc) STRICT=0
while (($#)); do
  case $1 in
    --connections) N=${2:?}; shift 2 ;;
    --threads) THREADS=${2:?}; shift 2 ;;
    *) bench_common_arg bench-connections "$1"; shift ;;
  esac
done
[[ $N =~ ^[1-9][0-9]*$ && $THREADS =~ ^[1-9][0-9]*$ ]] || { echo "bench-connections: numbers > 0, please" >&2; exit 2; }
M2MDM=$BUILD_DIR/server/m2mdm
[ -x "$M2MDM" ] || { echo "bench-connections: no $M2MDM (cmake --preset release && cmake --build --preset release)" >&2; exit 2; }
# Both sides hold N sockets: raise the soft limit of open files (as root: the hard one too).
need=$((N + 1024))
if [ "$(ulimit -Hn)" != unlimited ] && (($(ulimit -Hn) < need)); then ulimit -Hn "$need" 2>/dev/null || true; fi
ulimit -Sn "$need" 2>/dev/null || { echo "bench-connections: cannot raise the open-files limit to $need (ulimit -Hn is $(ulimit -Hn))" >&2; exit 2; }

WORK=$(mktemp -d "${TMPDIR:-/tmp}/m2mdm-bench-conn-XXXXXX")
SERVER_PID= HOLDER_PID=
cleanup() {
  [ -n "$HOLDER_PID" ] && kill "$HOLDER_PID" 2>/dev/null
  [ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null
  wait 2>/dev/null
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
die() { echo "bench-connections: $*" >&2; exit 1; }
rss_kb() { awk '/^VmRSS/ { print $2 }' "/proc/$SERVER_PID/status"; }

"$M2MDM" pki init --dir "$WORK/pki" >"$WORK/pki.txt"
pki() { sed -n "s/^$1: //p" "$WORK/pki.txt"; }
# shellcheck source=lib/bench_server.sh
source "$ROOT/scripts/lib/bench_server.sh"
start_m2mdm --tls-cert "$(pki tls-cert)" --tls-key "$(pki tls-key)" --max-connections $((N + 100))
PORT=${URL##*:}
HOLD=("$ROOT/scripts/idle_connections.py" 127.0.0.1 "$PORT" "$(pki tls-ca)")

# hold COUNT: opens COUNT idle connections in the background (HOLDER_PID) and waits until all are open.
hold() {
  : >"$WORK/holder.out"
  mkfifo "$WORK/holder.in" 2>/dev/null || true
  python3 "${HOLD[@]}" "$1" <"$WORK/holder.in" >"$WORK/holder.out" 2>"$WORK/holder.err" &
  HOLDER_PID=$!
  exec 9>"$WORK/holder.in"  # the holder keeps its connections until fd 9 closes
  for _ in $(seq 1200); do
    grep -q '^open ' "$WORK/holder.out" && break
    kill -0 "$HOLDER_PID" 2>/dev/null || die "the connection holder exited: $(tail -3 "$WORK/holder.err")"
    sleep 0.1
  done
  grep -q "^open $1\$" "$WORK/holder.out" || die "only $(cat "$WORK/holder.out") of $1 connections: $(tail -3 "$WORK/holder.err")"
}
release() {
  exec 9>&-
  wait "$HOLDER_PID" 2>/dev/null || true
  HOLDER_PID=
}

START=$(date -u +%Y-%m-%dT%H:%M:%SZ) LOAD0=$(cut -d' ' -f1-3 /proc/loadavg)
hold 200
release
sleep 1
BEFORE=$(rss_kb)
t0=$(date +%s%3N)
hold "$N"
OPEN_S=$(awk -v a="$t0" -v b="$(date +%s%3N)" 'BEGIN { printf "%.1f", (b - a) / 1000 }')
AFTER=$(rss_kb)
ACTIVE=$(curl -sS --cacert "$(pki tls-ca)" "$URL/metrics" | awk '/^m2mdm_http_active_connections / { print $2 }')
release
PER=$(awk -v a="$BEFORE" -v b="$AFTER" -v n="$N" 'BEGIN { printf "%.1f", (b - a) / n }')
VERDICT=$(awk -v p="$PER" 'BEGIN { print (p <= 64 ? "PASS" : "MISS") }')
cat <<TABLE
bench-connections: $START, $(nproc) cores, load average $LOAD0 at the start
server: $M2MDM, HTTPS, --threads $THREADS, --max-connections $((N + 100))
| figure | value |
|---|---|
| idle TLS connections held (one GET /healthz each, keep-alive) | $N, opened in $OPEN_S s |
| connections the server counted as active (/metrics) | ${ACTIVE:-?} (the /metrics request included) |
| server VmRSS before (after 200 warm-up connections) | $BEFORE kB |
| server VmRSS with $N idle connections | $AFTER kB |
| memory per idle connection (goal <= 64 KB) | $PER kB $VERDICT |
TABLE
[ "$VERDICT" = PASS ] || ((STRICT == 0)) || exit 1
