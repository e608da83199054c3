#!/usr/bin/env python3
"""The power-loss part of the standing fault campaign (docs/reliability.md, issue 14): kill -9 of
the server at random moments during a provisioning run of a fleet, then proof that nothing
acknowledged was lost or doubled.

Run by scripts/fault-campaign.sh (section `kill`). It starts its own `m2mdm server` (HTTPS, SQLite,
its own state directory, a fixed loopback port) and an HTTPS endpoint for the SHO's callbacks, then,
while a killer thread sends SIGKILL to the server K times (each after a random 0.3-3 s of
uptime) and starts it again on the same state:

1. imports N devices (the DM accounts `m2mdm load --import-out` writes) in NDJSON batches of 100,
   each batch retried until acknowledged (200);
2. submits one install job per device with its own correlator, retried until acknowledged: 202,
   or 409 "correlator already used" when an earlier try was committed but its answer was lost;
3. runs one `m2mdm load --no-import` for the whole run (the real client engine, a simulated TRE,
   the devices' state kept in that process as a device keeps it across a server's restarts): every
   device runs client-initiated sessions, receives its job (Add of the package, Exec Install),
   answers 202 and reports with a Generic Alert until the server acknowledges it.

When the kills are done the load goes on until every job has ended and every callback is
acknowledged; then the server is stopped and its SQLite file and the callback log are checked:
every acknowledged import is one device row; every acknowledged job one job row, one `job.create`
audit entry, `succeeded` with one result, one `job.result` audit entry and one callback in the
outbox; the SHO endpoint received one distinct `job.result` event per job (a callback the server
sent but could not mark delivered before it was killed is sent again with the same jobId:
at-least-once delivery, counted as a redelivery); every device ended `provisioned`; the SQLite
integrity check passes. Prints a table; exits 1 on any loss or doubling.

Environment: FC_M2MDM, FC_WORK, FC_CA, FC_TLS_CERT, FC_TLS_KEY, FC_MANUFACTURER_CA; optional
FC_KILL_DEVICES (default 1000), FC_KILLS (100), FC_SEED, FC_KILL_CONCURRENCY (4).
"""

import base64
import http.server
import json
import os
import random
import signal
import sqlite3
import ssl
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request

from fault_server import free_port, healthy, write_server_toml

ENV = os.environ
M2MDM = ENV["FC_M2MDM"]
WORK = os.path.join(ENV["FC_WORK"], "kill")
CA = ENV["FC_CA"]
TLS_CERT = ENV["FC_TLS_CERT"]
TLS_KEY = ENV["FC_TLS_KEY"]
MANUFACTURER_CA = ENV["FC_MANUFACTURER_CA"]
DEVICES = int(ENV.get("FC_KILL_DEVICES", "1000"))
KILLS = int(ENV.get("FC_KILLS", "100"))
CONCURRENCY = int(ENV.get("FC_KILL_CONCURRENCY", "4"))
SEED = int(ENV.get("FC_SEED", str(int(time.time()))))
RUN_ID = 900000 + SEED % 99999
STATE = os.path.join(WORK, "state")
DB = os.path.join(STATE, "m2mdm.sqlite")
CTX = ssl.create_default_context(cafile=CA)


def log(msg):
    print(f"[{time.strftime('%H:%M:%S')}] kill: {msg}", flush=True)


PORT = free_port()
URL = f"https://127.0.0.1:{PORT}"


# ---- the server under test -----------------------------------------------------------------------

class Server:
    """`m2mdm server` on a fixed port and state directory; killed and restarted by the killer."""

    def __init__(self):
        self.proc = None
        self.lock = threading.Lock()
        self.starts = 0
        self.start_seconds = []
        self.config = os.path.join(WORK, "server.toml")
        write_server_toml(self.config, STATE, f'[callbacks]\nca_file = ["{CA}"]\nretry_seconds = 1\n'
                                              f'max_retry_seconds = 2\ntimeout_ms = 3000\n')

    def start(self):
        with self.lock:
            t0 = time.time()
            err = open(os.path.join(WORK, "server.err"), "ab")
            self.proc = subprocess.Popen([M2MDM, "server", "--config", self.config, "--listen",
                                          f"127.0.0.1:{PORT}", "--threads", "2"],
                                         stdout=subprocess.DEVNULL, stderr=err)
            err.close()
            self.starts += 1
            deadline = time.time() + 60
            while time.time() < deadline:
                if self.proc.poll() is not None:
                    raise RuntimeError(f"the server exited with {self.proc.returncode} at start "
                                       f"{self.starts} (see {WORK}/server.err)")
                if healthy(URL, CTX):
                    self.start_seconds.append(time.time() - t0)
                    return
                time.sleep(0.05)
            raise RuntimeError("the server did not answer /healthz within 60 s")

    def kill(self):
        with self.lock:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait()

    def stop(self):
        with self.lock:
            self.proc.send_signal(signal.SIGTERM)
            return self.proc.wait(timeout=60)

    def pid(self):
        return self.proc.pid


def call(method, path, body=None, token=None, content_type="application/json", timeout=10):
    """One REST call; (status, parsed JSON or None), or (None, error text) when no answer came."""
    req = urllib.request.Request(URL + path, data=body, method=method)
    if token:
        req.add_header("Authorization", "Bearer " + token)
    if body is not None:
        req.add_header("Content-Type", content_type)
    try:
        with urllib.request.urlopen(req, context=CTX, timeout=timeout) as r:
            data = r.read()
            return r.status, (json.loads(data) if data else None)
    except urllib.error.HTTPError as e:
        data = e.read()
        try:
            return e.code, json.loads(data) if data else None
        except ValueError:
            return e.code, None
    except (OSError, urllib.error.URLError, ValueError) as e:
        return None, str(e)


def until_answered(method, path, body, token, content_type="application/json", accept=(200,)):
    """Retries until the server answers one of @p accept (it may be dead or restarting meanwhile);
    returns (status, body, tries). Any other answer is a finding and raises."""
    tries = 0
    while True:
        tries += 1
        status, data = call(method, path, body, token, content_type)
        if status in accept:
            return status, data, tries
        if status is not None and status not in (502, 503):
            raise RuntimeError(f"{method} {path}: unexpected {status}: {data}")
        time.sleep(0.2)


# ---- the SHO's callback endpoint ----------------------------------------------------------------

class Callbacks:
    def __init__(self):
        self.events = []
        self.lock = threading.Lock()
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                with outer.lock:
                    outer.events.append(json.loads(body))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *a):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(TLS_CERT, TLS_KEY)
        self.httpd.socket = ctx.wrap_socket(self.httpd.socket, server_side=True)
        self.url = f"https://127.0.0.1:{self.httpd.server_address[1]}/sho/callback"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()


# ---- the run ------------------------------------------------------------------------------------

def main():
    os.makedirs(WORK, exist_ok=True)
    rnd = random.Random(SEED)
    log(f"seed {SEED}: {DEVICES} devices, {KILLS} kills, concurrency {CONCURRENCY}, {URL}")
    server = Server()
    server.start()
    with open(os.path.join(STATE, "admin.token")) as f:
        admin = f.read().strip()
    status, data = call("POST", "/api/v1/shos", json.dumps({"name": "sho-kill"}).encode(), admin)
    if status != 201:
        raise RuntimeError(f"create SHO: {status} {data}")
    sho = data["token"]
    token_file = os.path.join(WORK, "sho.token")
    with open(token_file, "w") as f:
        f.write(sho + "\n")
    callbacks = Callbacks()
    status, data = call("PUT", "/api/v1/callback", json.dumps({"url": callbacks.url}).encode(), sho)
    if status != 200:
        raise RuntimeError(f"callback registration: {status} {data}")
    accounts = os.path.join(WORK, "accounts.ndjson")
    load_base = [M2MDM, "load", "--url", URL, "--ca-file", CA, "--token-file", token_file,
                 "--devices", str(DEVICES), "--run-id", str(RUN_ID)]
    subprocess.run(load_base + ["--import-out", accounts], check=True, stderr=subprocess.DEVNULL)
    with open(accounts) as f:
        lines = [line for line in f.read().splitlines() if line]
    dev_ids = [json.loads(line)["devId"] for line in lines]

    # The killer: K times, a random 0.3-3 s after the server answered, SIGKILL and start again.
    kills_done = threading.Event()
    kill_times = []
    killer_error = []

    def killer():
        try:
            for _ in range(KILLS):
                time.sleep(rnd.uniform(0.3, 3.0))
                server.kill()
                kill_times.append(time.time())
                server.start()
        except Exception as e:  # noqa: BLE001 - reported in the table
            killer_error.append(str(e))
        finally:
            kills_done.set()

    t0 = time.time()
    threading.Thread(target=killer, daemon=True).start()

    # 1. Imports, acknowledged batch by batch.
    import_tries = 0
    acked_devices = []
    for i in range(0, len(lines), 100):
        batch = lines[i:i + 100]
        _, counts, tries = until_answered("POST", "/api/v1/devices:import", ("\n".join(batch) + "\n").encode(),
                                          sho, "application/x-ndjson")
        import_tries += tries
        if counts.get("total") != len(batch):
            raise RuntimeError(f"import batch {i}: counts {counts}")
        acked_devices += dev_ids[i:i + 100]
    log(f"imports acknowledged: {len(acked_devices)} devices in {import_tries} requests "
        f"({len(kill_times)} kills so far)")

    # 2. One install job per device, its correlator the idempotency key.
    package = base64.b64encode(rnd.randbytes(4096)).decode()
    acked_jobs = {}  # correlator -> (devId, job id or None when known by 409 only)
    job_tries = 0
    for i, dev in enumerate(dev_ids):
        correlator = f"kill-{SEED}-{i}"
        body = json.dumps({"kind": "install", "object": package, "authorisation": "fault-campaign",
                           "correlator": correlator}).encode()
        status, data, tries = until_answered("POST", f"/api/v1/devices/{dev}/jobs", body, sho, accept=(202, 409))
        job_tries += tries
        acked_jobs[correlator] = (dev, data["id"] if status == 202 else None)
    log(f"jobs acknowledged: {len(acked_jobs)} in {job_tries} requests ({len(kill_times)} kills so far)")

    # 3. The fleet runs sessions while the kills go on, then until every job ended (SIGINT ends it).
    load_err = open(os.path.join(WORK, "load.err"), "w")
    load = subprocess.Popen(load_base + ["--no-import", "--concurrency", str(CONCURRENCY), "--duration", "7200",
                                         "--mode", "session", "--timeout-ms", "5000", "--json"],
                            stdout=subprocess.PIPE, stderr=load_err, text=True)

    def db_counts():
        con = sqlite3.connect(f"file:{DB}?mode=ro", uri=True, timeout=10)
        try:
            jobs = dict(con.execute("SELECT state, count(*) FROM jobs GROUP BY state").fetchall())
            pending = con.execute("SELECT count(*) FROM outbox WHERE acknowledged = 0").fetchone()[0]
            return jobs, pending
        finally:
            con.close()

    kills_done.wait()
    log(f"kills done: {len(kill_times)} in {time.time() - t0:.0f} s; the fleet goes on until every job ended")
    deadline = time.time() + 900
    while time.time() < deadline:
        jobs, pending = db_counts()
        open_jobs = sum(n for s, n in jobs.items() if s not in ("succeeded", "failed", "expired", "cancelled"))
        if open_jobs == 0 and pending == 0 or load.poll() is not None:
            break
        time.sleep(1)
    load.send_signal(signal.SIGINT)
    out, _ = load.communicate(timeout=120)
    load_err.close()
    try:
        load_summary = json.loads(out.strip().splitlines()[-1])
    except (ValueError, IndexError):
        load_summary = {"sessions": 0, "errors": -1}
    time.sleep(1)
    rc = server.stop()
    callbacks.httpd.shutdown()

    # ---- the proof ----
    checks = []

    def check(name, ok, detail=""):
        checks.append((name, ok, detail))
        if not ok:
            print(f"LOSS  {name}: {detail}", flush=True)

    check("the fleet ran to the end (m2mdm load, SIGINT after the last job)", load.returncode == 0,
          f"exit {load.returncode}, see {WORK}/load.err")
    check("the killer ran every kill", len(kill_times) == KILLS and not killer_error,
          f"{len(kill_times)} kills; {killer_error}")
    check("the server stopped cleanly after the run (SIGTERM, exit 0)", rc == 0, f"exit {rc}")
    con = sqlite3.connect(f"file:{DB}?mode=ro", uri=True)
    check("SQLite integrity_check", con.execute("PRAGMA integrity_check").fetchone()[0] == "ok")
    rows = dict(con.execute("SELECT dev_id, count(*) FROM devices WHERE dev_id LIKE 'IMEI:35%' GROUP BY dev_id"))
    missing = [d for d in acked_devices if rows.get(d, 0) != 1]
    check("every acknowledged import is one device row", not missing and len(rows) == len(acked_devices),
          f"{len(missing)} missing or doubled, {len(rows)} rows for {len(acked_devices)}")
    inserted = 0
    for (detail,) in con.execute("SELECT detail FROM audit WHERE action = 'device.import'"):
        inserted += int(detail.split(",")[0].split()[-1])
    check("the import audit (same transaction) counts every device inserted once", inserted == len(acked_devices),
          f"{inserted} inserted in the audit for {len(acked_devices)} devices")
    states = dict(con.execute("SELECT state, count(*) FROM devices WHERE dev_id LIKE 'IMEI:35%' GROUP BY state"))
    check("every device ended provisioned", states.get("provisioned", 0) == len(acked_devices), f"{states}")
    job_rows = {c: (i, d, s) for i, d, c, s in con.execute("SELECT id, dev_id, correlator, state FROM jobs")}
    bad_jobs = [c for c, (dev, jid) in acked_jobs.items()
                if c not in job_rows or job_rows[c][1] != dev or (jid is not None and job_rows[c][0] != jid)]
    check("every acknowledged job is one job row (correlator, device, id)", not bad_jobs and len(job_rows) == len(acked_jobs),
          f"{len(bad_jobs)} bad, {len(job_rows)} rows for {len(acked_jobs)} acknowledged")
    job_ids = {i for i, _, _ in job_rows.values()}
    not_ok = [c for c, (_, _, s) in job_rows.items() if s != "succeeded"]
    check("every job succeeded", not not_ok, f"{len(not_ok)} not succeeded: {not_ok[:5]}")
    results = dict(con.execute("SELECT job_id, code FROM results"))
    check("every job has its one result (1200)", all(results.get(i) == 1200 for i in job_ids) and len(results) == len(job_ids),
          f"{len(results)} results for {len(job_ids)} jobs")

    def audit_once(action):
        n = dict(con.execute("SELECT subject, count(*) FROM audit WHERE action = ? GROUP BY subject", (action,)))
        wrong = [i for i in job_ids if n.get(str(i), 0) != 1]
        check(f"one '{action}' audit entry per job", not wrong and len(n) == len(job_ids),
              f"{len(wrong)} jobs without exactly one; {len(n)} subjects")

    audit_once("job.create")
    audit_once("job.result")
    outbox = [json.loads(b) for (b,) in con.execute("SELECT body FROM outbox")]
    per_job = {}
    for e in outbox:
        if e.get("event") == "job.result":
            per_job[e["jobId"]] = per_job.get(e["jobId"], 0) + 1
    check("one job.result callback in the outbox per job", all(per_job.get(i) == 1 for i in job_ids) and len(per_job) == len(job_ids),
          f"{len(per_job)} jobs with callbacks, doubled: {[i for i, n in per_job.items() if n != 1][:5]}")
    pending = con.execute("SELECT count(*) FROM outbox WHERE acknowledged = 0").fetchone()[0]
    check("every callback acknowledged by the SHO", pending == 0, f"{pending} pending")
    received = {}
    for e in callbacks.events:
        if e.get("event") == "job.result":
            received[e["jobId"]] = received.get(e["jobId"], 0) + 1
    check("the SHO received every job.result event", set(received) == job_ids,
          f"{len(job_ids - set(received))} never received, {len(set(received) - job_ids)} unknown")
    wrong_body = [e for e in callbacks.events if e.get("event") == "job.result" and
                  (e.get("state") != "succeeded" or e.get("code") != 1200)]
    check("every callback says succeeded 1200", not wrong_body, f"{wrong_body[:2]}")
    con.close()

    redelivered = sum(n - 1 for n in received.values())
    sessions = load_summary.get("sessions", 0)
    errors = load_summary.get("errors", 0)
    alerts = load_summary.get("alerts_acknowledged", 0)
    starts = server.start_seconds
    print()
    print(f"kill campaign: seed {SEED}, {DEVICES} devices, {len(kill_times)} kills in {time.time() - t0:.0f} s")
    print(f"  server starts {server.starts} (start to /healthz: median {sorted(starts)[len(starts) // 2]:.2f} s, "
          f"max {max(starts):.2f} s)")
    print(f"  imports: {len(acked_devices)} devices acknowledged in {import_tries} requests")
    print(f"  jobs: {len(acked_jobs)} acknowledged in {job_tries} requests "
          f"({sum(1 for _, j in acked_jobs.values() if j is None)} known by 409 after a lost answer)")
    print(f"  fleet: {sessions} sessions completed, {errors} failed (killed server: "
          f"{load_summary.get('errors_by_kind', {})}), {alerts} Generic Alerts acknowledged")
    print(f"  callbacks: {len(received)} distinct job.result events, {redelivered} redelivered after a kill")
    print()
    print(f"{'check':<70} {'result':>6}")
    for name, ok, detail in checks:
        print(f"{name:<70} {'ok' if ok else 'LOSS':>6}")
    losses = sum(1 for _, ok, _ in checks if not ok)
    print(f"{'total':<70} {len(checks) - losses}/{len(checks)}")
    return 1 if losses else 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except RuntimeError as e:
        print(f"LOSS  kill campaign stopped: {e}", file=sys.stderr)
        sys.exit(1)
