#!/usr/bin/env python3
"""The soak part of the standing fault campaign (docs/reliability.md, issue 14): `m2mdm load`
against one `m2mdm server` for a long time (FC_SOAK_SECONDS, default 1800) with the server's
resident memory sampled every 5 s. The server must stay up, the load must see no errors, and its
RSS must stay flat once warm.

Run by scripts/fault-campaign.sh (section `soak`); measure it on a release build
(`scripts/fault-campaign.sh build/release soak`): ASan's quarantine makes a sanitizer build's RSS
grow by design.

Flat means: the median RSS of the last tenth of the run exceeds the median of the second tenth
(after a tenth of warm-up) by at most 5 % or 4 MiB, whichever is larger. Also reported: that
growth per completed session (finding 6 of issue 14 was ~0.8 KB per small request), the RSS
curve once a minute with the sessions/s of that minute, and the server's CPU seconds.

Environment: FC_M2MDM, FC_WORK, FC_CA, FC_TLS_CERT, FC_TLS_KEY, FC_MANUFACTURER_CA; optional
FC_SOAK_SECONDS (1800), FC_SOAK_DEVICES (1000), FC_SOAK_CONCURRENCY (4), FC_SOAK_MODE (session).
"""

import json
import os
import signal
import ssl
import statistics
import subprocess
import sys
import threading
import time
import urllib.request

from fault_server import free_port, healthy, write_server_toml

ENV = os.environ
M2MDM = ENV["FC_M2MDM"]
WORK = os.path.join(ENV["FC_WORK"], "soak")
CA = ENV["FC_CA"]
SECONDS = int(ENV.get("FC_SOAK_SECONDS", "1800"))
DEVICES = int(ENV.get("FC_SOAK_DEVICES", "1000"))
CONCURRENCY = int(ENV.get("FC_SOAK_CONCURRENCY", "4"))
MODE = ENV.get("FC_SOAK_MODE", "session")
STATE = os.path.join(WORK, "state")
CTX = ssl.create_default_context(cafile=CA)


def log(msg):
    print(f"[{time.strftime('%H:%M:%S')}] soak: {msg}", flush=True)


def proc_status(pid, key):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    return 0


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main():
    os.makedirs(WORK, exist_ok=True)
    port = free_port()
    url = f"https://127.0.0.1:{port}"
    config = os.path.join(WORK, "server.toml")
    write_server_toml(config, STATE)
    with open(os.path.join(WORK, "server.err"), "wb") as err:
        server = subprocess.Popen([M2MDM, "server", "--config", config, "--listen", f"127.0.0.1:{port}",
                                   "--threads", "2"], stdout=subprocess.DEVNULL, stderr=err)
    deadline = time.time() + 60
    while not healthy(url, CTX):
        if server.poll() is not None or time.time() > deadline:
            print("the server did not start", file=sys.stderr)
            return 1
        time.sleep(0.1)
    with open(os.path.join(STATE, "admin.token")) as f:
        admin = f.read().strip()
    req = urllib.request.Request(url + "/api/v1/shos", data=b'{"name":"sho-soak"}', method="POST",
                                 headers={"Authorization": "Bearer " + admin, "Content-Type": "application/json"})
    with urllib.request.urlopen(req, context=CTX, timeout=10) as r:
        sho = json.loads(r.read())["token"]
    token_file = os.path.join(WORK, "sho.token")
    with open(token_file, "w") as f:
        f.write(sho + "\n")

    log(f"{SECONDS} s of `m2mdm load --mode {MODE}`, {DEVICES} devices, concurrency {CONCURRENCY}, server pid {server.pid}")
    cpu0 = cpu_seconds(server.pid)
    load = subprocess.Popen([M2MDM, "load", "--url", url, "--ca-file", CA, "--token-file", token_file,
                             "--devices", str(DEVICES), "--concurrency", str(CONCURRENCY), "--duration", str(SECONDS),
                             "--mode", MODE, "--install-size", "4096", "--json"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    samples = []  # (t, rss_kb, sessions so far)
    sessions_now = [0]

    def read_progress():
        for line in load.stderr:
            # "t=12s sessions=345 messages=... errors=..."
            for part in line.split():
                if part.startswith("sessions="):
                    sessions_now[0] = int(part.split("=")[1])

    threading.Thread(target=read_progress, daemon=True).start()
    t0 = time.time()
    server_died = False
    while load.poll() is None:
        if server.poll() is not None:
            server_died = True
            break
        samples.append((time.time() - t0, proc_status(server.pid, "VmRSS"), sessions_now[0]))
        time.sleep(5)
    out, _ = load.communicate()
    cpu = cpu_seconds(server.pid) - cpu0 if not server_died else 0
    hwm = proc_status(server.pid, "VmHWM") if not server_died else 0
    if not server_died:
        server.send_signal(signal.SIGTERM)
        rc = server.wait(timeout=60)
    else:
        rc = server.returncode
    try:
        summary = json.loads(out.strip().splitlines()[-1])
    except (ValueError, IndexError):
        summary = {}

    n = len(samples)
    tenth = max(1, n // 10)
    warm = statistics.median(r for _, r, _ in samples[tenth:2 * tenth]) if n >= 10 else 0
    end = statistics.median(r for _, r, _ in samples[-tenth:]) if n >= 10 else 0
    growth = end - warm
    allowed = max(0.05 * warm, 4096)
    sessions_span = (samples[-1][2] - samples[tenth][2]) if n >= 10 else 0
    print()
    print(f"soak: {SECONDS} s, `m2mdm load --mode {MODE}`, {DEVICES} devices, concurrency {CONCURRENCY}")
    print(f"{'minute':>6} {'RSS MiB':>8} {'sessions/s':>11}")
    last_t, last_s = 0.0, 0
    for t, rss, sess in samples:
        if t - last_t >= 60 or (t, rss, sess) == samples[-1]:
            rate = (sess - last_s) / (t - last_t) if t > last_t else 0
            print(f"{t / 60:>6.1f} {rss / 1024:>8.1f} {rate:>11.1f}")
            last_t, last_s = t, sess
    print(f"server: VmHWM {hwm / 1024:.1f} MiB, {cpu:.0f} CPU s; load: {summary.get('sessions', 0)} sessions, "
          f"{summary.get('messages', 0)} messages, {summary.get('errors', '?')} errors, "
          f"{summary.get('sessions_per_s', 0):.1f} sessions/s")
    per_session = growth * 1024 / sessions_span if sessions_span > 0 else 0
    print(f"RSS: {warm / 1024:.1f} MiB warm (second tenth) -> {end / 1024:.1f} MiB (last tenth): "
          f"{growth / 1024:+.1f} MiB ({per_session:+.0f} bytes per session over {sessions_span} sessions); "
          f"allowed +{allowed / 1024:.1f} MiB")
    checks = [("the server stayed up and stopped cleanly (exit 0)", not server_died and rc == 0),
              ("the load completed sessions", summary.get("sessions", 0) > 0),
              ("no load errors", summary.get("errors", 1) == 0),
              ("enough samples for a curve (>= 10)", n >= 10),
              ("RSS flat once warm", n >= 10 and growth <= allowed)]
    print(f"{'check':<52} {'result':>6}")
    for name, ok in checks:
        print(f"{name:<52} {'ok' if ok else 'LOSS':>6}")
    return 0 if all(ok for _, ok in checks) else 1


if __name__ == "__main__":
    sys.exit(main())
