#!/usr/bin/env bash
# The server benchmark of issue 13 (docs/benchmarks.md "Server against nginx"): on one machine, in
# one run, the anchor and m2mdm side by side, each pair back to back so that both see the same load:
#   1. nginx (Debian nginx-light, a generated config in a temp dir, loopback only) serving a 2 KB
#      file, driven by wrk at concurrency C for D seconds over HTTP keep-alive;
#   2. `m2mdm server` (plain HTTP, SQLite) driven by `m2mdm load --mode message` at the same
#      concurrency: DM messages over kept connections;
#   3. nginx over HTTPS with a new TLS connection per request (wrk -H 'Connection: close'), twice:
#      as wrk does it against nginx's defaults (wrk resumes the TLS session: an abbreviated
#      handshake per request; this is the issue's anchor), and with session tickets and the session
#      cache off (a full handshake per request, as `m2mdm load` does today; for comparison only);
#   4. `m2mdm server` (HTTPS, the same SQLite store) driven by `m2mdm load --mode session`: one TLS
#      handshake per DM session, each device with an install job of --install-size bytes queued.
# Both servers get the same certificate and key (`m2mdm pki init`) and the same number of threads
# (nginx worker_processes = m2mdm server --threads). Prints a table (machine, load average, each
# figure, the two ratios against the issue's goals: PASS or MISS) and exits 0 when it measured;
# a MISS is a finding, not a failure, unless --strict. Every process it starts is stopped at exit,
# Ctrl-C included. Needs: nginx, wrk, jq, curl, python3, openssl (scripts/install-deps.sh).
#
# Usage: scripts/bench-server.sh [BUILD_DIR] [--concurrency C] [--duration S] [--devices N]
#          [--install-size B] [--threads T] [--quick] [--strict] [--json FILE]
#   BUILD_DIR     default build/release (cmake --preset release && cmake --build --preset release)
#   --concurrency connections (wrk -c) and sessions in flight (m2mdm load) (default 16)
#   --duration    seconds per measurement (default 20; --quick: 2)
#   --devices     virtual devices of the message run (default 1000; --quick: 100)
#   --session-devices  virtual devices of the session run, each with one install job (default
#                 the larger of --devices and 800 per second of --duration, so that every session
#                 of the run delivers an install)
#   --install-size  bytes of the install package in the session run (default 2048, a sealed MCIM's
#                 size; 0: no jobs)
#   --threads     nginx workers and m2mdm server threads (default nproc)
#   --strict      exit 1 when a ratio misses its goal
#   --json FILE   also write every figure as one JSON object to FILE
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# --strict, --help, unknown options, BUILD_DIR: scripts/lib/bench_args.sh.
# shellcheck source=lib/bench_args.sh
source "$ROOT/scripts/lib/bench_args.sh"

BUILD_DIR=$ROOT/build/release
CONC=16 DURATION='' DEVICES='' SESSION_DEVICES='' INSTALL_SIZE=2048 THREADS=$(nproc) QUICK=0 STRICT=0 JSON_OUT=''
while (($#)); do
  case $1 in
    --concurrency) CONC=${2:?}; shift 2 ;;
    --duration) DURATION=${2:?}; shift 2 ;;
    --devices) DEVICES=${2:?}; shift 2 ;;
    --session-devices) SESSION_DEVICES=${2:?}; shift 2 ;;
    --install-size) INSTALL_SIZE=${2:?}; shift 2 ;;
    --threads) THREADS=${2:?}; shift 2 ;;
    --quick) QUICK=1; shift ;;
    --json) JSON_OUT=${2:?}; shift 2 ;;
    *) bench_common_arg bench-server "$1"; shift ;;
  esac
done
if ((QUICK)); then DURATION=${DURATION:-2} DEVICES=${DEVICES:-100}; fi
DURATION=${DURATION:-20} DEVICES=${DEVICES:-1000}
if [ -z "$SESSION_DEVICES" ] && [[ $DURATION =~ ^[0-9]+$ && $DEVICES =~ ^[0-9]+$ ]]; then
  SESSION_DEVICES=$((800 * DURATION > DEVICES ? 800 * DURATION : DEVICES))
fi
for n in "$CONC" "$DEVICES" "$SESSION_DEVICES" "$INSTALL_SIZE" "$THREADS"; do
  [[ $n =~ ^[0-9]+$ ]] || { echo "bench-server: not a number: $n" >&2; exit 2; }
done
if ! [[ $DURATION =~ ^[0-9]+$ ]] || ((DURATION == 0)); then
  echo "bench-server: --duration takes whole seconds > 0" >&2
  exit 2
fi
((CONC > 0 && THREADS > 0 && DEVICES >= CONC && SESSION_DEVICES >= CONC)) || { echo "bench-server: need concurrency, threads > 0 and devices >= concurrency" >&2; exit 2; }

die() { echo "bench-server: $*" >&2; exit 1; }
M2MDM=$BUILD_DIR/server/m2mdm
[ -x "$M2MDM" ] || die "no $M2MDM: build it first (cmake --preset release && cmake --build --preset release)"
for tool in nginx wrk jq curl python3; do
  command -v "$tool" >/dev/null || die "$tool is required (scripts/install-deps.sh installs it)"
done

# --- everything this script starts, stopped at exit (Ctrl-C and SIGTERM included). Its files
# (keys, tokens) are private; only nginx's document root is opened up below.
umask 077
WORK=$(mktemp -d "${TMPDIR:-/tmp}/m2mdm-bench-XXXXXX")
NGINX_PID='' SERVER_PID='' CHILD_PID=''
# shellcheck disable=SC2317  # (called by the trap)
cleanup() {
  local p
  trap - EXIT INT TERM
  # The tool under /usr/bin/time first: killing time alone would leave it running.
  if [ -n "$CHILD_PID" ]; then pkill -TERM -P "$CHILD_PID" 2>/dev/null || true; fi
  for p in "$CHILD_PID" "$SERVER_PID" "$NGINX_PID"; do
    if [ -n "$p" ]; then kill -TERM "$p" 2>/dev/null || true; fi
  done
  for p in "$CHILD_PID" "$SERVER_PID" "$NGINX_PID"; do
    if [ -n "$p" ]; then wait "$p" 2>/dev/null || true; fi
  done
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'echo "bench-server: interrupted" >&2; exit 130' INT TERM

# run_child OUT ERR CMD...: CMD in the background (so that a signal interrupts the wait at once),
# stdout to OUT, stderr to ERR; returns its exit status.
run_child() {
  local out=$1 err=$2 rc=0
  shift 2
  "$@" >"$out" 2>"$err" &
  CHILD_PID=$!
  wait "$CHILD_PID" || rc=$?
  CHILD_PID=
  return "$rc"
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
loadavg() { cut -d' ' -f1 /proc/loadavg; }
# cpu_s PID...: utime + stime of the processes, in seconds (0 for a process that is gone).
cpu_s() {
  local p ticks=0 t
  for p in "$@"; do
    t=$(sed 's/.*) //' "/proc/$p/stat" 2>/dev/null | awk '{print $12 + $13}') || t=0
    ticks=$((ticks + ${t:-0}))
  done
  awk -v t="$ticks" -v hz="$(getconf CLK_TCK)" 'BEGIN { printf "%.2f", t / hz }'
}
# hwm_kb PID...: the sum of the processes' VmHWM.
hwm_kb() {
  local p kb=0 v
  for p in "$@"; do
    v=$(awk '/^VmHWM:/ {print $2}' "/proc/$p/status" 2>/dev/null) || v=0
    kb=$((kb + ${v:-0}))
  done
  echo "$kb"
}

# --- the PKI both servers use: one TLS certificate and key.
"$M2MDM" pki init --dir "$WORK/pki" >"$WORK/pki.txt" || die "m2mdm pki init failed"
pki() { sed -n "s/^$1: //p" "$WORK/pki.txt"; }
TLS_CA=$(pki tls-ca) TLS_CERT=$(pki tls-cert) TLS_KEY=$(pki tls-key)
[ -f "$TLS_CERT" ] || die "m2mdm pki init: no TLS certificate"
[ -f "$TLS_KEY" ] || die "m2mdm pki init: no TLS key"
[ -f "$TLS_CA" ] || die "m2mdm pki init: no TLS files in $WORK/pki.txt"

# --- nginx: its own prefix, config, pid and logs under WORK; loopback ports only.
NGX=$WORK/nginx
mkdir -p "$NGX/html" "$NGX/tmp"
head -c 2048 /dev/urandom | base64 -w 76 | head -c 2048 >"$NGX/html/f2k"
NGX_HTTP=$(free_port) NGX_HTTPS=$(free_port) NGX_HTTPS_FULL=$(free_port)
# Run as root, nginx's workers run as nobody: they must reach the file (WORK: traverse only).
chmod 711 "$WORK"
chmod 755 "$NGX" "$NGX/html" "$NGX/tmp"
chmod 644 "$NGX/html/f2k"
cat >"$NGX/nginx.conf" <<CONF
worker_processes $THREADS;
pid $NGX/nginx.pid;
error_log $NGX/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  sendfile on;
  keepalive_requests 100000000;
  client_body_temp_path $NGX/tmp/body;
  proxy_temp_path $NGX/tmp/proxy;
  fastcgi_temp_path $NGX/tmp/fastcgi;
  uwsgi_temp_path $NGX/tmp/uwsgi;
  scgi_temp_path $NGX/tmp/scgi;
  default_type application/octet-stream;
  server {
    listen 127.0.0.1:$NGX_HTTP;
    root $NGX/html;
  }
  # What each TLS request negotiated: resumed (r) or not (.), protocol, cipher (buffered).
  log_format tls '\$ssl_session_reused \$ssl_protocol \$ssl_cipher';
  server {
    listen 127.0.0.1:$NGX_HTTPS ssl;
    ssl_certificate $TLS_CERT;
    ssl_certificate_key $TLS_KEY;
    access_log $NGX/https.log tls buffer=256k flush=1s;
    root $NGX/html;
  }
  server {
    listen 127.0.0.1:$NGX_HTTPS_FULL ssl;
    ssl_certificate $TLS_CERT;
    ssl_certificate_key $TLS_KEY;
    ssl_session_tickets off;
    ssl_session_cache off;
    access_log $NGX/https_full.log tls buffer=256k flush=1s;
    root $NGX/html;
  }
}
CONF
nginx -p "$NGX" -c "$NGX/nginx.conf" -e "$NGX/error.log" -g 'daemon off;' 2>>"$NGX/stderr.log" &
NGINX_PID=$!
for _ in $(seq 100); do
  curl -sf -o /dev/null "http://127.0.0.1:$NGX_HTTP/f2k" \
    && curl -sf -o /dev/null --cacert "$TLS_CA" "https://127.0.0.1:$NGX_HTTPS/f2k" && break
  kill -0 "$NGINX_PID" 2>/dev/null || die "nginx exited: $(tail -5 "$NGX/error.log")"
  sleep 0.1
done
[ "$(curl -sf --cacert "$TLS_CA" "https://127.0.0.1:$NGX_HTTPS/f2k" | wc -c)" = 2048 ] \
  || die "nginx does not serve the 2 KB file: $(tail -5 "$NGX/error.log")"
mapfile -t NGX_WORKERS < <(pgrep -P "$NGINX_PID")
((${#NGX_WORKERS[@]})) || die "no nginx workers"

# wrk reports through this script: requests, errors and exact percentiles (µs).
cat >"$WORK/report.lua" <<'LUA'
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("WRK requests=%d duration_us=%d errors=%d status_errors=%d p50_us=%d p95_us=%d p99_us=%d\n",
    summary.requests, summary.duration, e.connect + e.read + e.write + e.timeout, e.status,
    latency:percentile(50), latency:percentile(95), latency:percentile(99)))
end
LUA
WRK_THREADS=$((CONC < THREADS ? CONC : THREADS))

declare -A R  # every figure, by name
# time_of FILE: "user+sys" CPU seconds of a command run under /usr/bin/time -f '%U %S'.
time_of() { awk 'END { printf "%.2f", $1 + $2 }' "$1"; }
TIME=()
[ -x /usr/bin/time ] && TIME=(/usr/bin/time -f '%U %S' -o "$WORK/client.time")

# bench_nginx NAME URL [WRK-ARGS...]
bench_nginx() {
  local name=$1 url=$2 line c0 c1 requests duration_us errors status_errors p50_us p95_us p99_us
  shift 2
  echo "bench-server: $name: wrk -t $WRK_THREADS -c $CONC -d ${DURATION}s $* $url" >&2
  R[${name}_load]=$(loadavg)
  rm -f "$WORK/client.time"
  c0=$(cpu_s "${NGX_WORKERS[@]}")
  run_child "$WORK/$name.out" "$WORK/$name.err" ${TIME[@]+"${TIME[@]}"} \
    wrk -t "$WRK_THREADS" -c "$CONC" -d "${DURATION}s" -s "$WORK/report.lua" "$@" "$url" \
    || die "$name: wrk failed: $(cat "$WORK/$name.err")"
  c1=$(cpu_s "${NGX_WORKERS[@]}")
  line=$(grep '^WRK ' "$WORK/$name.out") || die "$name: no figures from wrk: $(cat "$WORK/$name.out")"
  wrkf() { sed -n "s/.* $1=\\([0-9]*\\).*/\\1/p" <<<"$line"; }
  requests=$(wrkf requests) duration_us=$(wrkf duration_us) errors=$(wrkf errors) status_errors=$(wrkf status_errors)
  p50_us=$(wrkf p50_us) p95_us=$(wrkf p95_us) p99_us=$(wrkf p99_us)
  R[${name}_rate]=$(awk -v n="$requests" -v us="$duration_us" 'BEGIN { printf "%.1f", n / (us / 1e6) }')
  R[${name}_requests]=$requests
  R[${name}_errors]=$((errors + status_errors))
  R[${name}_lat]=$(awk -v a="$p50_us" -v b="$p95_us" -v c="$p99_us" 'BEGIN { printf "%.2f / %.2f / %.2f", a/1e3, b/1e3, c/1e3 }')
  R[${name}_server_cpu]=$(awk -v a="$c0" -v b="$c1" 'BEGIN { printf "%.2f", b - a }')
  R[${name}_server_rss]=$(hwm_kb "${NGX_WORKERS[@]}")
  R[${name}_client_cpu]=$([ -f "$WORK/client.time" ] && time_of "$WORK/client.time" || echo "-")
  R[${name}_end_load]=$(loadavg)
}

# start_m2mdm, stop_m2mdm: scripts/lib/bench_server.sh.
# shellcheck source=lib/bench_server.sh
source "$ROOT/scripts/lib/bench_server.sh"

# bench_m2mdm NAME MODE RUN-ID DEVICES [LOAD-ARGS...]: one `m2mdm load` run against the server at URL.
bench_m2mdm() {
  local name=$1 mode=$2 run_id=$3 devices=$4 j
  shift 4
  echo "bench-server: $name: m2mdm load --mode $mode --devices $devices --concurrency $CONC --duration $DURATION $* ($URL)" >&2
  R[${name}_load]=$(loadavg)
  rm -f "$WORK/client.time"
  run_child "$WORK/$name.json" "$WORK/$name.err" ${TIME[@]+"${TIME[@]}"} \
    "$M2MDM" load --url "$URL" --token-file "$WORK/sho.token" --devices "$devices" --concurrency "$CONC" \
    --duration "$DURATION" --mode "$mode" --run-id "$run_id" --server-pid "$SERVER_PID" --json "$@" \
    || die "$name: m2mdm load failed: $(tail -5 "$WORK/$name.err")"
  j=$WORK/$name.json
  jq -e .sessions_per_s "$j" >/dev/null || die "$name: no figures from m2mdm load: $(cat "$j")"
  R[${name}_sessions_per_s]=$(jq -r '.sessions_per_s * 10 | round / 10' "$j")
  R[${name}_messages_per_s]=$(jq -r '.messages_per_s * 10 | round / 10' "$j")
  R[${name}_sessions]=$(jq -r .sessions "$j")
  R[${name}_messages]=$(jq -r .messages "$j")
  R[${name}_connections]=$(jq -r .connections "$j")
  R[${name}_resumed]=$(jq -r '.tls_resumed // 0' "$j")
  R[${name}_alerts]=$(jq -r .alerts_acknowledged "$j")
  R[${name}_errors]=$(jq -r .errors "$j")
  R[${name}_errors_by_kind]=$(jq -c .errors_by_kind "$j")
  R[${name}_lat]=$(jq -r '.message_latency_ms | "\(.p50*100|round/100) / \(.p95*100|round/100) / \(.p99*100|round/100)"' "$j")
  R[${name}_session_lat]=$(jq -r '.session_latency_ms | "\(.p50*100|round/100) / \(.p95*100|round/100) / \(.p99*100|round/100)"' "$j")
  R[${name}_server_cpu]=$(jq -r '.server_cpu_s * 100 | round / 100' "$j")
  R[${name}_server_rss]=$(jq -r .server_peak_rss_kb "$j")
  R[${name}_client_cpu]=$([ -f "$WORK/client.time" ] && time_of "$WORK/client.time" || echo "-")
  R[${name}_end_load]=$(loadavg)
}

# make_sho: an SHO on the running server (its token in WORK/sho.token: install jobs need one).
make_sho() {
  local admin curl=(curl -sS --max-time 10 -o "$WORK/body" -w '%{http_code}')
  [[ $URL == https:* ]] && curl+=(--cacert "$TLS_CA")
  admin=$(cat "$WORK/state/admin.token")
  [ "$("${curl[@]}" -H "Authorization: Bearer $admin" -d '{"name":"sho-bench"}' "$URL/api/v1/shos")" = 201 ] \
    || die "create SHO: $(cat "$WORK/body")"
  jq -r .token "$WORK/body" >"$WORK/sho.token"
}

START=$(date -u +%Y-%m-%dT%H:%M:%SZ)
START_LOAD=$(cut -d' ' -f1-3 /proc/loadavg)
echo "bench-server: $(nproc) cores, concurrency $CONC, ${DURATION} s per measurement, $THREADS server threads, $DEVICES devices" >&2

# Pair 1: keep-alive. nginx, then m2mdm over plain HTTP (its own server process).
bench_nginx nginx_http "http://127.0.0.1:$NGX_HTTP/f2k"
start_m2mdm
make_sho
bench_m2mdm m2mdm_message message 1 "$DEVICES"
stop_m2mdm

# Pair 2: a TLS handshake per request / per session. nginx, then m2mdm over HTTPS (same store).
bench_nginx nginx_https "https://127.0.0.1:$NGX_HTTPS/f2k" -H 'Connection: close'
bench_nginx nginx_https_full "https://127.0.0.1:$NGX_HTTPS_FULL/f2k" -H 'Connection: close'
start_m2mdm --tls-cert "$TLS_CERT" --tls-key "$TLS_KEY"
JOBS=()
((INSTALL_SIZE > 0)) && JOBS=(--install-size "$INSTALL_SIZE")
bench_m2mdm m2mdm_session session 2 "$SESSION_DEVICES" --ca-file "$TLS_CA" ${JOBS[@]+"${JOBS[@]}"}
TLS_INFO=$(openssl s_client -connect "${URL#https://}" -CAfile "$TLS_CA" -brief </dev/null 2>&1 \
  | sed -n 's/^Protocol version: //p; s/^Ciphersuite: //p; s/^Peer signature type: //p' | paste -sd' ' || true)
stop_m2mdm
END_LOAD=$(cut -d' ' -f1-3 /proc/loadavg)
# nginx stops gracefully (QUIT) so that its workers write their buffered TLS logs.
kill -QUIT "$NGINX_PID"
wait "$NGINX_PID" || true
NGINX_PID=''
# tls_of LOG: "R of N resumed; PROTOCOL CIPHER" over the requests nginx logged.
tls_of() {
  awk '{ n++; if ($1 == "r") r++; k[$2 " " $3]++ } END { printf "%d of %d resumed;", r, n; for (x in k) printf " %s (%d)", x, k[x] }' "$1" 2>/dev/null
}

# --- the table.
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.3f", a / b; else print "n/a" }'; }
verdict() { awk -v r="$1" -v g="$2" 'BEGIN { print (r != "n/a" && r + 0 >= g) ? "PASS" : "MISS" }'; }
RATIO_SESSION=$(ratio "${R[m2mdm_session_sessions_per_s]}" "${R[nginx_https_rate]}")
RATIO_FULL=$(ratio "${R[m2mdm_session_sessions_per_s]}" "${R[nginx_https_full_rate]}")
RATIO_MESSAGE=$(ratio "${R[m2mdm_message_messages_per_s]}" "${R[nginx_http_rate]}")
V_SESSION=$(verdict "$RATIO_SESSION" 0.5)
V_MESSAGE=$(verdict "$RATIO_MESSAGE" 0.25)
CPU_MODEL=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)
per_req() { awk -v c="$1" -v n="$2" 'BEGIN { if (n > 0) printf "%.0f", c * 1e6 / n; else print "-" }'; }

cat <<EOF

## bench-server: $START
machine: $(nproc) cores ($CPU_MODEL), $(awk '/MemTotal/ {printf "%.1f GB", $2/1048576}' /proc/meminfo), $(uname -sr)
load average (1/5/15 min): $START_LOAD at the start, $END_LOAD at the end
nginx $(nginx -v 2>&1 | sed 's/.*nginx\///'), $(wrk -v 2>&1 | head -1 | awk '{print $1, $2}'), m2mdm $BUILD_DIR
concurrency $CONC, $DURATION s per measurement, $THREADS nginx workers / m2mdm server threads, $DEVICES virtual devices in the message run, $SESSION_DEVICES (one install job each) in the session run
TLS: one certificate and key for both (\`m2mdm pki init\`); m2mdm server to openssl s_client: ${TLS_INFO:-?}
nginx HTTPS as wrk drives it: $(tls_of "$NGX/https.log"); with tickets and cache off: $(tls_of "$NGX/https_full.log")

| measurement | rate | latency p50 / p95 / p99 (ms) | errors | server CPU s (µs per request) | client CPU s | server peak RSS | load avg at start |
|---|---:|---|---:|---:|---:|---:|---:|
| nginx, HTTP keep-alive, 2 KB file (wrk) | ${R[nginx_http_rate]} req/s | ${R[nginx_http_lat]} | ${R[nginx_http_errors]} | ${R[nginx_http_server_cpu]} ($(per_req "${R[nginx_http_server_cpu]}" "${R[nginx_http_requests]}")) | ${R[nginx_http_client_cpu]} | ${R[nginx_http_server_rss]} kB | ${R[nginx_http_load]} |
| m2mdm \`--mode message\`, HTTP keep-alive | **${R[m2mdm_message_messages_per_s]} messages/s** (${R[m2mdm_message_sessions_per_s]} sessions/s) | ${R[m2mdm_message_lat]} per message | ${R[m2mdm_message_errors]} | ${R[m2mdm_message_server_cpu]} ($(per_req "${R[m2mdm_message_server_cpu]}" "${R[m2mdm_message_messages]}")) | ${R[m2mdm_message_client_cpu]} | ${R[m2mdm_message_server_rss]} kB | ${R[m2mdm_message_load]} |
| nginx, HTTPS, new TLS connection per request (wrk) | ${R[nginx_https_rate]} req/s | ${R[nginx_https_lat]} | ${R[nginx_https_errors]} | ${R[nginx_https_server_cpu]} ($(per_req "${R[nginx_https_server_cpu]}" "${R[nginx_https_requests]}")) | ${R[nginx_https_client_cpu]} | ${R[nginx_https_server_rss]} kB | ${R[nginx_https_load]} |
| nginx, HTTPS, new TLS connection per request, session resumption off (wrk) | ${R[nginx_https_full_rate]} req/s | ${R[nginx_https_full_lat]} | ${R[nginx_https_full_errors]} | ${R[nginx_https_full_server_cpu]} ($(per_req "${R[nginx_https_full_server_cpu]}" "${R[nginx_https_full_requests]}")) | ${R[nginx_https_full_client_cpu]} | ${R[nginx_https_full_server_rss]} kB | ${R[nginx_https_full_load]} |
| m2mdm \`--mode session\`, HTTPS, TLS handshake per session (each device resumes its last) | **${R[m2mdm_session_sessions_per_s]} sessions/s** (${R[m2mdm_session_messages_per_s]} messages/s) | ${R[m2mdm_session_lat]} per message; ${R[m2mdm_session_session_lat]} per session | ${R[m2mdm_session_errors]} | ${R[m2mdm_session_server_cpu]} ($(per_req "${R[m2mdm_session_server_cpu]}" "${R[m2mdm_session_sessions]}") per session) | ${R[m2mdm_session_client_cpu]} | ${R[m2mdm_session_server_rss]} kB | ${R[m2mdm_session_load]} |

m2mdm message run: ${R[m2mdm_message_sessions]} sessions, ${R[m2mdm_message_messages]} messages, ${R[m2mdm_message_connections]} connections, errors ${R[m2mdm_message_errors_by_kind]}
m2mdm session run: ${R[m2mdm_session_sessions]} sessions, ${R[m2mdm_session_messages]} messages, ${R[m2mdm_session_connections]} connections (${R[m2mdm_session_resumed]} with a resumed TLS session), ${R[m2mdm_session_alerts]} installs of $INSTALL_SIZE bytes acknowledged, errors ${R[m2mdm_session_errors_by_kind]}

| ratio (same run, same cores) | measured | goal | |
|---|---:|---:|---|
| m2mdm sessions/s over HTTPS / nginx HTTPS new-connection req/s | $RATIO_SESSION | ≥ 0.5 | $V_SESSION |
| m2mdm messages/s over keep-alive HTTP / nginx keep-alive req/s | $RATIO_MESSAGE | ≥ 0.25 | $V_MESSAGE |
| (for comparison) m2mdm sessions/s over HTTPS / nginx HTTPS req/s with full handshakes | $RATIO_FULL | — | |
EOF

if [ -n "$JSON_OUT" ]; then
  for k in "${!R[@]}"; do printf '%s\t%s\n' "$k" "${R[$k]}"; done \
    | jq -R 'split("\t") | {(.[0]): (.[1] | (tonumber? // .))}' | jq -S -s "add + {
        start: \"$START\", nproc: $(nproc), cpu_model: \"$CPU_MODEL\", concurrency: $CONC, duration_s: $DURATION,
        threads: $THREADS, devices: $DEVICES, session_devices: $SESSION_DEVICES, install_size: $INSTALL_SIZE,
        ratio_session: (\"$RATIO_SESSION\" | tonumber? // null), ratio_session_full_handshake: (\"$RATIO_FULL\" | tonumber? // null), ratio_message: (\"$RATIO_MESSAGE\" | tonumber? // null),
        session_goal: \"$V_SESSION\", message_goal: \"$V_MESSAGE\"}" >"$JSON_OUT"
fi
if ((STRICT)) && { [ "$V_SESSION" = MISS ] || [ "$V_MESSAGE" = MISS ]; }; then
  echo "bench-server: --strict: a ratio missed its goal" >&2
  exit 1
fi
exit 0
