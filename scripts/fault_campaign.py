#!/usr/bin/env python3
"""The bad-input part of the standing fault campaign (docs/reliability.md, issue 14).

Run by scripts/fault-campaign.sh against a real `m2mdm server` (HTTPS, SQLite) and a real,
bootstrapped and registered `m2mdm-device` listening for WAP push. Every case is one bad input
with the answer it must get:

- /dm: the HTTP status (and for SyncML answers the SyncHdr Status code), never a 5xx, and
  nothing written to the store for the device before it authenticates (its `updated` and state
  are compared after the whole section);
- the REST API: the HTTP status, including framing attacks on the HTTP layer itself (trailers,
  chunk extensions, smuggling);
- the device's push listener: nothing (UDP), no DM session started at the server, the device's
  tree and outbox unchanged, the device still alive.

After every case the server must still answer /healthz. At the end the device must still run a
whole DM session. Prints one line per failed case and a table; exits 1 on any unexpected answer.
"""

import base64
import hashlib
import json
import os
import random
import socket
import ssl
import subprocess
import sys
import time
import urllib.parse

ENV = os.environ
HOST = "127.0.0.1"
URL = ENV["FC_URL"]
PORT = urllib.parse.urlparse(URL).port
CA = ENV["FC_CA"]
ADMIN = ENV["FC_ADMIN"]
SHO = ENV["FC_SHO"]
DEV = ENV["FC_DEV"]
UDP_PORT = int(ENV["FC_UDP_PORT"])
DEVICE_PID = int(ENV["FC_DEVICE_PID"])
SERVER_PID = int(ENV["FC_SERVER_PID"])
DEVICE_STATE = ENV["FC_DEVICE_STATE"]
M2MDM = ENV["FC_M2MDM"]
WORK = ENV["FC_WORK"]
SRC = ENV["FC_SRC"]

CTX = ssl.create_default_context(cafile=CA)

results = []  # (section, name, ok, detail)


def record(section, name, ok, detail=""):
    results.append((section, name, ok, detail))
    if not ok:
        print(f"UNEXPECTED  {section}: {name}: {detail}", flush=True)


# ---- raw HTTP(S) --------------------------------------------------------------------------------

def raw_http(data, timeout=10.0, tls=True):
    """Sends raw request bytes on a new connection; returns (status or None, headers, body)."""
    sock = socket.create_connection((HOST, PORT), timeout=timeout)
    try:
        if tls:
            sock = CTX.wrap_socket(sock, server_hostname="127.0.0.1")
        sock.sendall(data)
        buf = b""
        while True:
            try:
                chunk = sock.recv(65536)
            except (socket.timeout, ConnectionResetError, ssl.SSLError):
                break
            if not chunk:
                break
            buf += chunk
            head, sep, rest = buf.partition(b"\r\n\r\n")
            if sep:
                length = None
                for line in head.split(b"\r\n")[1:]:
                    k, _, v = line.partition(b":")
                    if k.strip().lower() == b"content-length":
                        length = int(v.strip())
                if length is not None and len(rest) >= length:
                    break
    finally:
        sock.close()
    if not buf.startswith(b"HTTP/1."):
        return None, {}, buf
    head, _, body = buf.partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    status = int(lines[0].split()[1])
    headers = {}
    for line in lines[1:]:
        k, _, v = line.partition(b":")
        headers[k.strip().lower().decode()] = v.strip().decode(errors="replace")
    return status, headers, body


def request(method, path, body=b"", headers=None, token=None):
    h = {"Host": f"127.0.0.1:{PORT}", "Connection": "close"}
    if token:
        h["Authorization"] = "Bearer " + token
    if body or method in ("POST", "PUT", "PATCH"):
        h["Content-Length"] = str(len(body))
    h.update(headers or {})
    head = f"{method} {path} HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in h.items()) + "\r\n"
    return raw_http(head.encode("latin-1") + body)


def alive():
    try:
        status, _, _ = request("GET", "/healthz")
        return status == 200
    except OSError:
        return False


def metric(name):
    _, _, body = request("GET", "/metrics")
    for line in body.decode().splitlines():
        if line.startswith(name + " ") or line.startswith(name + "{"):
            return float(line.split()[-1])
    return 0.0


def device_row():
    status, _, body = request("GET", "/api/v1/devices/" + urllib.parse.quote(DEV, safe=""), token=SHO)
    if status != 200:
        return {"status": status}
    d = json.loads(body)
    return {k: d.get(k) for k in ("state", "updated", "lastSeen", "sqn")}


def expect_http(section, name, want, method, path, body=b"", headers=None, token=None, check=None):
    try:
        status, hdrs, rbody = request(method, path, body, headers, token)
    except OSError as e:
        status, hdrs, rbody = None, {}, str(e).encode()
    ok = status in want
    detail = f"HTTP {status}, expected {sorted(want)}: {rbody[:160]!r}"
    if ok and check:
        why = check(status, hdrs, rbody)
        if why:
            ok, detail = False, why
    if not alive():
        ok, detail = False, "the server stopped answering /healthz after this input"
    record(section, name, ok, detail)


def expect_raw(section, name, want, data):
    try:
        status, _, rbody = raw_http(data)
    except OSError as e:
        status, rbody = None, str(e).encode()
    ok = status in want
    detail = f"HTTP {status}, expected {sorted(x for x in want if x is not None)}{' or a closed connection' if None in want else ''}: {rbody[:160]!r}"
    if not alive():
        ok, detail = False, "the server stopped answering /healthz after this input"
    record(section, name, ok, detail)


# ---- /dm ----------------------------------------------------------------------------------------

XML = "application/vnd.syncml.dm+xml"
WBXML = "application/vnd.syncml.dm+wbxml"


def dm_message(cred="", body=None, verdtd="1.2", verproto="DM/1.2", session="1", msg="1", source=None,
               extra_hdr="", prolog=""):
    source = DEV if source is None else source
    body = body if body is not None else (
        "<Alert><CmdID>1</CmdID><Data>1201</Data></Alert>"
        "<Replace><CmdID>2</CmdID><Item><Source><LocURI>./DevInfo/DevId</LocURI></Source>"
        f"<Data>{source}</Data></Item></Replace>")
    return (f'{prolog}<SyncML xmlns="SYNCML:SYNCML1.2"><SyncHdr><VerDTD>{verdtd}</VerDTD>'
            f"<VerProto>{verproto}</VerProto><SessionID>{session}</SessionID><MsgID>{msg}</MsgID>"
            f"<Target><LocURI>{URL}/dm</LocURI></Target><Source><LocURI>{source}</LocURI></Source>"
            f"{cred}{extra_hdr}</SyncHdr><SyncBody>{body}<Final/></SyncBody></SyncML>").encode()


def md5_cred(data):
    return ('<Cred><Meta><Format xmlns="syncml:metinf">b64</Format><Type xmlns="syncml:metinf">'
            f"syncml:auth-md5</Type></Meta><Data>{data}</Data></Cred>")


def synchdr_status(body):
    """The SyncHdr Status code of a SyncML XML answer, or None."""
    text = body.decode(errors="replace")
    at = text.find("<Cmd>SyncHdr</Cmd>")
    if at < 0:
        return None
    d = text.find("<Data>", at)
    return int(text[d + 6:text.find("</Data>", d)]) if d >= 0 else None


def refused_auth(status, hdrs, body):
    code = synchdr_status(body)
    if code not in (401, 407):
        return f"SyncHdr Status {code}, expected 401 or 407 (DM_Security 1.2 §5.3)"
    if "<Chal>" not in body.decode(errors="replace"):
        return "no Chal with the refusal"
    return None


def dm_cases():
    s = "dm"
    before = device_row()
    rnd = random.Random(1412)
    ok_ct = {"Content-Type": XML}
    bad400 = {400}
    # Not a SyncML message at all.
    expect_http(s, "empty body", bad400, "POST", "/dm", b"", ok_ct)
    for i in range(12):
        n = rnd.choice([1, 7, 64, 513, 4096])
        expect_http(s, f"random bytes #{i} ({n} B)", bad400, "POST", "/dm", rnd.randbytes(n), ok_ct)
    expect_http(s, "plain text", bad400, "POST", "/dm", b"hello", ok_ct)
    expect_http(s, "JSON", bad400, "POST", "/dm", b'{"SyncML":1}', ok_ct)
    expect_http(s, "HTML", bad400, "POST", "/dm", b"<html><body>x</body></html>", ok_ct)
    good = dm_message(md5_cred("AAAAAAAAAAAAAAAAAAAAAA=="))
    for cut in (1, 10, 50, 100, 200, len(good) // 2, len(good) - 30, len(good) - 1):
        expect_http(s, f"truncated at {cut} of {len(good)}", bad400, "POST", "/dm", good[:cut], ok_ct)
    # XML attacks.
    xxe = (b'<?xml version="1.0"?><!DOCTYPE SyncML [<!ENTITY x SYSTEM "file:///etc/passwd">]>' +
           dm_message(body="<Alert><CmdID>1</CmdID><Data>&x;</Data></Alert>"))
    expect_http(s, "XXE external entity (file:///etc/passwd)", bad400, "POST", "/dm", xxe, ok_ct,
                check=lambda st, h, b: "passwd content leaked" if b"root:" in b else None)
    laughs = (b'<?xml version="1.0"?><!DOCTYPE SyncML [<!ENTITY a "aaaaaaaaaa">' +
              b"".join(f'<!ENTITY {chr(98 + i)} "{("&" + chr(97 + i) + ";") * 10}">'.encode() for i in range(9)) +
              b"]>" + dm_message(body="<Alert><CmdID>1</CmdID><Data>&j;</Data></Alert>"))
    expect_http(s, "billion laughs", bad400, "POST", "/dm", laughs, ok_ct)
    # SyncML messages may name the DTD (DM_RepPro 1.2 §5): it is never fetched, the message is
    # read as it is (here: refused for its credential).
    expect_http(s, "external DTD (not fetched)", {200}, "POST", "/dm",
                b'<!DOCTYPE SyncML SYSTEM "http://127.0.0.1:9/x.dtd">' + good, ok_ct, check=refused_auth)
    expect_http(s, "parameter entity", bad400, "POST", "/dm",
                b'<!DOCTYPE SyncML [<!ENTITY % p SYSTEM "file:///etc/hostname"> %p;]>' + good, ok_ct)
    deep = b"<a>" * 20000 + b"</a>" * 20000
    expect_http(s, "20000 nested elements", bad400, "POST", "/dm",
                dm_message(body="<Alert><CmdID>1</CmdID><Data>" + deep.decode() + "</Data></Alert>"), ok_ct)
    expect_http(s, "NUL byte inside", bad400, "POST", "/dm", good[:60] + b"\0" + good[60:], ok_ct)
    expect_http(s, "NUL and bytes after </SyncML>", bad400, "POST", "/dm", good + b"\0<SyncML/>", ok_ct)
    expect_http(s, "text after </SyncML>", bad400, "POST", "/dm", good + b"trailing", ok_ct)
    expect_http(s, "second root element", bad400, "POST", "/dm", good + good, ok_ct)
    expect_http(s, "invalid UTF-8", bad400, "POST", "/dm", good.replace(b"1201", b"\xff\xfe01"), ok_ct)
    expect_http(s, "UTF-16 declared, UTF-8 sent", bad400, "POST", "/dm",
                b'<?xml version="1.0" encoding="UTF-16"?>' + good, ok_ct)
    expect_http(s, "wrong namespace", bad400, "POST", "/dm", good.replace(b"SYNCML:SYNCML1.2", b"urn:x"), ok_ct)
    expect_http(s, "no SyncHdr", bad400, "POST", "/dm",
                b'<SyncML xmlns="SYNCML:SYNCML1.2"><SyncBody><Final/></SyncBody></SyncML>', ok_ct)
    expect_http(s, "no SyncBody", bad400, "POST", "/dm", good[:good.find(b"<SyncBody>")] + b"</SyncML>", ok_ct)
    expect_http(s, "no SessionID", bad400, "POST", "/dm", good.replace(b"<SessionID>1</SessionID>", b""), ok_ct)
    expect_http(s, "no MsgID", bad400, "POST", "/dm", good.replace(b"<MsgID>1</MsgID>", b""), ok_ct)
    expect_http(s, "MsgID not a number", bad400, "POST", "/dm", dm_message(msg="one"), ok_ct)
    expect_http(s, "MsgID negative", bad400, "POST", "/dm", dm_message(msg="-1"), ok_ct)
    expect_http(s, "MsgID 2^64", bad400, "POST", "/dm", dm_message(msg="18446744073709551616"), ok_ct)
    expect_http(s, "no Source", bad400, "POST", "/dm",
                good.replace(f"<Source><LocURI>{DEV}</LocURI></Source>".encode(), b"", 1), ok_ct)
    expect_http(s, "CmdID missing", bad400, "POST", "/dm",
                dm_message(md5_cred("AAAAAAAAAAAAAAAAAAAAAA=="), body="<Alert><Data>1201</Data></Alert>"), ok_ct)
    expect_http(s, "unknown element in SyncBody", {200, 400}, "POST", "/dm",
                dm_message(md5_cred("AAAAAAAAAAAAAAAAAAAAAA=="), body="<Frobnicate><CmdID>1</CmdID></Frobnicate>"),
                ok_ct)
    expect_http(s, "600 commands before authentication", bad400, "POST", "/dm",
                dm_message(md5_cred("AAAAAAAAAAAAAAAAAAAAAA=="),
                           body="".join(f"<Alert><CmdID>{i}</CmdID><Data>1201</Data></Alert>" for i in range(1, 601))),
                ok_ct)
    expect_http(s, "0.7 MB of empty Items before authentication", bad400 | {413}, "POST", "/dm",
                dm_message(md5_cred("AAAAAAAAAAAAAAAAAAAAAA=="),
                           body="<Replace><CmdID>2</CmdID>" + "<Item/>" * 100000 + "</Replace>"), ok_ct)
    # Refused on its Content-Length, before the body is read (sending all of it would meet a
    # closed connection: the server does not read what it refuses).
    expect_raw(s, "2 MB Content-Length (over the body limit)", {413},
               b"POST /dm HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: " + XML.encode() +
               b"\r\nContent-Length: 2097152\r\n\r\n<SyncML" + b" " * 1000)
    # Content types and methods.
    expect_http(s, "text/plain content type", {415}, "POST", "/dm", good, {"Content-Type": "text/plain"})
    expect_http(s, "no content type", {200, 415}, "POST", "/dm", good, check=None)
    expect_http(s, "WBXML content type, XML body", bad400, "POST", "/dm", good, {"Content-Type": WBXML})
    expect_http(s, "GET /dm", {405}, "GET", "/dm")
    expect_http(s, "PUT /dm", {405}, "PUT", "/dm", good, ok_ct)
    expect_http(s, "DELETE /dm", {405}, "DELETE", "/dm")
    # WBXML garbage.
    wb = [b"\x02", b"\x02\x00", b"\x02\xa4\x01\x6a\x00", b"\x02\xa4\x01\x6a\x7f" + b"\x00" * 4,
          b"\x02\x00\x00\x6a\x00\x6d\x6c\x71\x03" + b"1.2" + b"\x00\x01\x01\x01",
          b"\x03\xa4\x01\x6a\x00\x6d", b"\x02\xa4\x01\x6a\x00" + b"\x6d" * 5000,
          b"\x02\xa4\x01\x6a\x00\x6d\xc3\xff\xff\xff\xff\x0f", b"\x02\xa4\x01\x6a\x00\x00\x09\x6d\x01",
          b"\x02\xa4\x01\x6a\x00\x83\xff\xff\xff\x0f\x01"]
    for i, b in enumerate(wb):
        expect_http(s, f"WBXML garbage #{i}", bad400, "POST", "/dm", b, {"Content-Type": WBXML})
    for i in range(8):
        expect_http(s, f"WBXML random #{i}", bad400, "POST", "/dm", b"\x02\xa4\x01\x6a" + rnd.randbytes(200),
                    {"Content-Type": WBXML})
    # Authentication refused: a SyncML answer with 401/407 and a Chal, never a session.
    expect_http(s, "wrong MD5 digest", {200}, "POST", "/dm", dm_message(md5_cred("AAAAAAAAAAAAAAAAAAAAAA==")), ok_ct,
                check=refused_auth)
    expect_http(s, "no credential", {200}, "POST", "/dm", dm_message(), ok_ct, check=refused_auth)
    expect_http(s, "Basic credential for a DIGEST account", {200}, "POST", "/dm",
                dm_message('<Cred><Meta><Type xmlns="syncml:metinf">syncml:auth-basic</Type></Meta>'
                           f'<Data>{base64.b64encode((DEV + ":x").encode()).decode()}</Data></Cred>'), ok_ct,
                check=refused_auth)
    expect_http(s, "credential not base64", {200}, "POST", "/dm", dm_message(md5_cred("!!!not base64!!!")), ok_ct,
                check=refused_auth)
    expect_http(s, "credential of unknown type", {200}, "POST", "/dm",
                dm_message('<Cred><Meta><Type xmlns="syncml:metinf">syncml:auth-x</Type></Meta><Data>x</Data></Cred>'),
                ok_ct, check=refused_auth)
    expect_http(s, "HMAC header garbage", {200}, "POST", "/dm", dm_message(), {"Content-Type": XML,
                "x-syncml-hmac": "algorithm=MD5, username=\"x\", mac=!!!"}, check=refused_auth)
    # An unknown DevId has no account to challenge for: 400, no session (DevIds are not secret).
    expect_http(s, "unknown DevId", bad400, "POST", "/dm", dm_message(md5_cred("AAAAAAAAAAAAAAAAAAAAAA=="),
                source="IMEI:000000000000000"), ok_ct)
    expect_http(s, "VerDTD 1.1", {200, 400}, "POST", "/dm", dm_message(md5_cred("AAAAAAAAAAAAAAAAAAAAAA=="), verdtd="1.1"),
                ok_ct, check=lambda st, h, b: None if st == 400 or synchdr_status(b) in (400, 401, 407, 505, 1223) or b"1223" in b
                else f"SyncHdr {synchdr_status(b)} for VerDTD 1.1")
    expect_http(s, "VerProto DM/1.1", {200, 400}, "POST", "/dm",
                dm_message(md5_cred("AAAAAAAAAAAAAAAAAAAAAA=="), verproto="DM/1.1"), ok_ct)
    expect_http(s, "DevId of 5000 characters", {200, 400}, "POST", "/dm",
                dm_message(md5_cred("AAAAAAAAAAAAAAAAAAAAAA=="), source="IMEI:" + "9" * 5000), ok_ct)
    expect_http(s, "SessionID of 5000 characters", {200, 400}, "POST", "/dm",
                dm_message(md5_cred("AAAAAAAAAAAAAAAAAAAAAA=="), session="F" * 5000), ok_ct)
    for q in ("?s=unknown", "?s=" + "a" * 3000, "?s=%00", "?s=../../etc", "?s=&s=x"):
        expect_http(s, f"/dm{q[:20]} (unknown session)", {200, 400, 404}, "POST", "/dm" + q,
                    dm_message(md5_cred("AAAAAAAAAAAAAAAAAAAAAA==")), ok_ct)
    # Many unauthenticated sessions for the one DevId (finding 2): bounded, nothing stored.
    for i in range(300):
        request("POST", "/dm", dm_message(md5_cred("AAAAAAAAAAAAAAAAAAAAAA=="), session=str(i + 2)), ok_ct)
    open_now = metric("m2mdm_dm_sessions_open")
    record(s, "300 unauthenticated sessions of one DevId leave few open", open_now <= 64,
           f"{open_now} sessions open")
    after = device_row()
    record(s, "nothing stored for the device before it authenticated", before == after,
           f"before {before}, after {after}")


# ---- REST ---------------------------------------------------------------------------------------

def rest_cases():
    s = "rest"
    j = {"Content-Type": "application/json"}
    dev = "/api/v1/devices/" + urllib.parse.quote(DEV, safe="")
    expect_http(s, "no token", {401}, "GET", "/api/v1/devices")
    expect_http(s, "wrong token", {401}, "GET", "/api/v1/devices", token="x" * 43)
    expect_http(s, "empty bearer", {401}, "GET", "/api/v1/devices", headers={"Authorization": "Bearer "})
    expect_http(s, "Basic auth", {401}, "GET", "/api/v1/devices", headers={"Authorization": "Basic YTpi"})
    expect_http(s, "token with NUL", {400, 401}, "GET", "/api/v1/devices", headers={"Authorization": "Bearer a\x00b"})
    expect_http(s, "SHO token on operator endpoint", {403}, "GET", "/api/v1/shos", token=SHO)
    expect_http(s, "unknown path", {404}, "GET", "/api/v1/nothing", token=ADMIN)
    expect_http(s, "path traversal", {400, 404}, "GET", "/api/v1/devices/..%2F..%2Fshos", token=SHO)
    expect_http(s, "DevId with NUL", {400, 404}, "GET", "/api/v1/devices/IMEI%3A1%00x", token=SHO)
    expect_http(s, "DevId of 10000 characters", {400, 404, 414, 431}, "GET", "/api/v1/devices/" + "9" * 10000, token=SHO)
    expect_http(s, "method not allowed", {405}, "DELETE", "/api/v1/shos", token=ADMIN)
    expect_http(s, "unknown method", {400, 405, 501}, "BREW", "/api/v1/shos", token=ADMIN)
    bodies = [b"", b"{", b"[]", b"null", b"1", b'"x"', b'{"name":1}', b'{"name":""}', b'{"name":"' + b"x" * 5000 + b'"}',
              b'{"name":"a\\u0000b"}', b'{"name":"a","name":"b"}', b"\xff\xfe", b'{"name":"x"}' + b" trailing",
              b"{" * 10000 + b"}" * 10000]
    for i, b in enumerate(bodies):
        expect_http(s, f"create SHO, bad body #{i}", {400, 409}, "POST", "/api/v1/shos", b, j, token=ADMIN)
    imports = [b"", b"{", b'{"devId":1}', b'{"devId":"IMEI:1"}',
               b'{"devId":"","pcid":"001010123456780","devicePin":"1"}',
               b'{"devId":"IMEI:1","pcid":"001010123456780","devicePin":"1","pushAddress":"udp:[::1"}',
               b'{"devId":"IMEI:1","pcid":"x","secMethod":"NETWPIN"}',
               b'{"devId":"IMEI:1","pcid":"001010123456780","devicePin":"1","pushAddress":"tcp:1.2.3.4:1"}',
               b'{"devId":"IMEI:1\\u0000","pcid":"001010123456780","devicePin":"1"}', b"\n\n\n", b"[1,2,3]"]
    for i, b in enumerate(imports):
        expect_http(s, f"import, bad NDJSON #{i}", {400, 422}, "POST", "/api/v1/devices:import", b,
                    {"Content-Type": "application/x-ndjson"}, token=SHO)
    jobs = [b"", b"{}", b'{"kind":"install"}', b'{"kind":"install","object":"!!!"}', b'{"kind":"frobnicate","object":"AA=="}',
            b'{"kind":"activate","object":"../../DMAcc/x"}', b'{"kind":"activate","object":"m\\u0000x"}',
            b'{"kind":"delete","object":"a/b"}', b'{"kind":"deactivate","object":""}', b'{"kind":"activate","object":".."}',
            b'{"kind":"activate","object":"' + b"a" * 65 + b'"}', b'{"kind":"install","object":"AA==","ttlSeconds":-1}',
            b'{"kind":"install","object":"\\n"}', b'{"kind":"install","object":"AA==","correlator":1}']
    for i, b in enumerate(jobs):
        expect_http(s, f"job, bad body #{i}", {400, 422}, "POST", dev + "/jobs", b, j, token=SHO)
    expect_http(s, "job for an unknown device", {400, 404}, "POST", "/api/v1/devices/IMEI%3A000000000000001/jobs",
                b'{"kind":"activate","object":"m1"}', j, token=SHO)
    cmds = [b"", b"{}", b'{"commands":[]}', b'{"commands":[{"verb":"get"}]}', b'{"commands":[{"verb":"frob","target":"./A"}]}',
            b'{"commands":[{"verb":"get","target":"not a uri"}]}', b'{"commands":[{"verb":"replace","target":"./A"}]}',
            b'{"commands":[{"verb":"get","target":"./A\\u0000"}]}', b'{"commands":' + b"[" * 5000 + b"]" * 5000 + b"}"]
    for i, b in enumerate(cmds):
        expect_http(s, f"command, bad body #{i}", {400, 422}, "POST", dev + "/commands", b, j, token=SHO)
    for u in ("http://169.254.169.254/latest/meta-data", "http://[fe80::1]/x", "http://0.0.0.0/x", "ftp://x/y",
              "http://224.0.0.1/x", "not a url", "http://" + "a" * 300 + ".example/x", "https://[::]/x"):
        expect_http(s, f"callback URL {u[:40]}", {400}, "PUT", "/api/v1/callback", json.dumps({"url": u}).encode(), j,
                    token=SHO)
    expect_http(s, "cancel an unknown job", {404}, "DELETE", "/api/v1/jobs/999999999", token=SHO)
    expect_http(s, "job id not a number", {400, 404}, "GET", "/api/v1/jobs/abc", token=SHO)
    expect_http(s, "job id overflow", {400, 404}, "GET", "/api/v1/jobs/99999999999999999999999", token=SHO)
    # The PVA's answer is a verdict: an unparseable PfC is "valid": false with the reason.
    expect_http(s, "PVA, bad PfC", {200}, "POST", "/api/v1/pva/validate", b'{"devId":"' + DEV.encode() + b'","pfc":"AAAA"}',
                j, token=SHO, check=lambda st, h, b: None if json.loads(b).get("valid") is False else f"verdict {b!r}")
    expect_http(s, "ICF vectors by an SHO", {403}, "POST", "/api/v1/icf/vectors", b'{"pcid":"001010123456789"}', j, token=SHO)
    expect_http(s, "operator change without anchors or token", {400, 403, 503}, "POST", dev + "/operator-change", b"{}", j,
                token=SHO)
    expect_raw(s, "4 MB Content-Length (over the body limit)", {413},
               b"POST /api/v1/shos HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer " + ADMIN.encode() +
               b"\r\nContent-Type: application/json\r\nContent-Length: 4194304\r\n\r\n{" + b" " * 1000)
    expect_http(s, "64 KiB header", {431}, "GET", "/healthz", headers={"X-Big": "a" * 65536})
    expect_http(s, "1000 small headers (under the header byte limit)", {200, 400, 431}, "GET", "/healthz",
                headers={f"X-{i}": "a" for i in range(1000)})
    expect_http(s, "4000 headers (over the header byte limit)", {400, 431}, "GET", "/healthz",
                headers={f"X-Header-{i}": "a" * 8 for i in range(4000)})
    # HTTP framing (finding 1 and friends), raw.
    host = f"Host: 127.0.0.1:{PORT}\r\n".encode()
    expect_raw(s, "64 KiB chunked trailer (finding 1)", {400, 431, None},
               b"POST /api/v1/shos HTTP/1.1\r\n" + host + b"Transfer-Encoding: chunked\r\n\r\n1\r\na\r\n0\r\nX-T: " +
               b"a" * 70000 + b"\r\n\r\n")
    expect_raw(s, "huge chunk extension", {400, 431, None},
               b"POST /api/v1/shos HTTP/1.1\r\n" + host + b"Transfer-Encoding: chunked\r\n\r\n1;" + b"e" * 5000 +
               b"\r\na\r\n0\r\n\r\n")
    expect_raw(s, "chunk size not hex", {400, None},
               b"POST /api/v1/shos HTTP/1.1\r\n" + host + b"Transfer-Encoding: chunked\r\n\r\nzz\r\na\r\n0\r\n\r\n")
    expect_raw(s, "chunk size overflow", {400, 413, None},
               b"POST /api/v1/shos HTTP/1.1\r\n" + host + b"Transfer-Encoding: chunked\r\n\r\nffffffffffffffffff\r\na\r\n")
    expect_raw(s, "Content-Length and Transfer-Encoding (smuggling)", {400, None},
               b"POST /api/v1/shos HTTP/1.1\r\n" + host + b"Content-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"
               b"GET /api/v1/shos HTTP/1.1\r\n" + host + b"\r\n")
    expect_raw(s, "two different Content-Lengths", {400, None},
               b"POST /api/v1/shos HTTP/1.1\r\n" + host + b"Content-Length: 1\r\nContent-Length: 2\r\n\r\nab")
    expect_raw(s, "negative Content-Length", {400, None},
               b"POST /api/v1/shos HTTP/1.1\r\n" + host + b"Content-Length: -1\r\n\r\n")
    expect_raw(s, "Content-Length 2^64", {400, 413, None},
               b"POST /api/v1/shos HTTP/1.1\r\n" + host + b"Content-Length: 18446744073709551616\r\n\r\n")
    expect_raw(s, "bare LF line endings", {200, 400, None}, b"GET /healthz HTTP/1.1\n" + host.replace(b"\r", b"") + b"\n")
    expect_raw(s, "HTTP/2 preface over HTTP/1.1", {400, 505, None}, b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n")
    expect_raw(s, "HTTP/9.9", {400, 505, None}, b"GET /healthz HTTP/9.9\r\n" + host + b"\r\n")
    expect_raw(s, "request line of 100 KiB", {400, 414, 431, None}, b"GET /" + b"a" * 100000 + b" HTTP/1.1\r\n" + host + b"\r\n")
    expect_raw(s, "NUL in request line", {400, None}, b"GET /hea\0lthz HTTP/1.1\r\n" + host + b"\r\n")
    expect_raw(s, "header without colon", {400, None}, b"GET /healthz HTTP/1.1\r\n" + host + b"NoColonHere\r\n\r\n")
    expect_raw(s, "obsolete line folding", {400, 200, None}, b"GET /healthz HTTP/1.1\r\n" + host + b"X-A: a\r\n b\r\n\r\n")
    expect_raw(s, "binary garbage", {400, None}, bytes(random.Random(7).randbytes(2000)))
    # Slowloris: a header that never ends is cut by the header timeout (the server's default is 10 s).
    t0 = time.time()
    try:
        sock = CTX.wrap_socket(socket.create_connection((HOST, PORT), timeout=30), server_hostname="127.0.0.1")
        sock.sendall(b"GET /healthz HTTP/1.1\r\n" + host)
        closed = False
        while time.time() - t0 < 25:
            sock.sendall(b"X-Slow: a\r\n")
            time.sleep(1)
    except OSError:
        closed = True
    record(s, "slowloris is cut by the header timeout", closed and alive(), f"open for {time.time() - t0:.0f} s")


# ---- push listener ------------------------------------------------------------------------------

def wsp_push(body, content_type=0xC4, app_id=b"\xaf\x87", tid=1, pdu=0x06, headers_len=None):
    headers = bytes([content_type]) + app_id
    n = len(headers) if headers_len is None else headers_len
    return bytes([tid, pdu, n]) + headers + body


def file_hashes():
    out = {}
    for name in sorted(os.listdir(DEVICE_STATE)):
        p = os.path.join(DEVICE_STATE, name)
        if os.path.isfile(p):
            with open(p, "rb") as f:
                out[name] = hashlib.sha256(f.read()).hexdigest()
    return out


def push_cases():
    s = "push"
    before = file_hashes()
    started = metric("m2mdm_dm_sessions_started_total")
    rnd = random.Random(2948)
    pkg0 = os.path.join(WORK, "fc-pkg0.bin")
    subprocess.run([M2MDM, "syncml", "pkg0", "encode", "--server-id", "ro-dpf", "--password", "wrong",
                    "--session-id", "1A2B", "--out", pkg0], check=True, capture_output=True)
    with open(pkg0, "rb") as f:
        p0 = f.read()
    boot = os.path.join(WORK, "fc-boot.push")
    subprocess.run([M2MDM, "bootstrap", "build", "--config", os.path.join(SRC, "docs/examples/bootstrap.toml"),
                    "--sec", "USERPIN", "--pin", "0000", "--format", "push", "--out", boot],
                   check=True, capture_output=True)
    with open(boot, "rb") as f:
        bootstrap = f.read()
    cases = [("empty datagram", b""), ("one byte", b"\x01"), ("PDU type not Push", wsp_push(p0, pdu=0x07)),
             ("headers longer than the datagram", wsp_push(p0, headers_len=200)),
             ("unknown content type", wsp_push(p0, content_type=0xFF)),
             ("text content type", wsp_push(p0, content_type=0x83)),
             ("package 0 with a wrong digest", wsp_push(p0)),
             ("package 0 truncated to 20 bytes", wsp_push(p0[:20])),
             ("package 0 truncated to 24 bytes", wsp_push(p0[:24])),
             ("package 0 with version 0", wsp_push(p0[:16] + b"\x00\x00" + p0[18:])),
             ("package 0 with a server id length beyond the data", wsp_push(p0[:23] + b"\xff" + p0[24:])),
             ("package 0 with 4000 vendor bytes", wsp_push(p0 + b"v" * 4000)),
             ("package 0 without app id", wsp_push(p0, app_id=b"")),
             ("package 0 for another app id", wsp_push(p0, app_id=b"\xaf\x82")),
             ("bootstrap with a wrong PIN (MAC mismatch)", bootstrap),
             ("bootstrap truncated", bootstrap[: len(bootstrap) // 2]),
             ("bootstrap, body bytes flipped", bootstrap[:-10] + bytes(b ^ 0x55 for b in bootstrap[-10:])),
             ("9000-byte datagram (over --max-datagram)", b"\x01\x06" + b"x" * 8998),
             ("60000-byte datagram", b"\x01\x06" + b"y" * 59998)]
    for i in range(21):
        cases.append((f"random datagram #{i}", rnd.randbytes(rnd.choice([2, 16, 200, 1400]))))
    for i in range(6):
        cases.append((f"random after a push header #{i}", wsp_push(rnd.randbytes(300))))
    for name, data in cases:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as u:
            u.sendto(data, (HOST, UDP_PORT))
        time.sleep(0.05)
        try:
            os.kill(DEVICE_PID, 0)
            dev_alive = True
        except OSError:
            dev_alive = False
        record(s, name, dev_alive, "the device process exited")
    time.sleep(1.0)
    after = file_hashes()
    record(s, "the device's tree and outbox unchanged", before == after,
           f"changed: {[k for k in after if before.get(k) != after[k]]}")
    record(s, "no DM session started by a bad push", metric("m2mdm_dm_sessions_started_total") == started,
           f"{metric('m2mdm_dm_sessions_started_total') - started} session(s)")


def main():
    only = sys.argv[1:] or ["dm", "rest", "push"]
    if not alive():
        print("the server does not answer /healthz", file=sys.stderr)
        return 2
    t0 = time.time()
    if "push" in only:
        push_cases()
    if "dm" in only:
        dm_cases()
    if "rest" in only:
        rest_cases()
    # Still whole: the device runs a session with the server after all of it.
    completed = metric("m2mdm_dm_sessions_completed_total")
    os.kill(DEVICE_PID, 10)  # SIGUSR1: one client-initiated session
    deadline = time.time() + 30
    while time.time() < deadline and metric("m2mdm_dm_sessions_completed_total") <= completed:
        time.sleep(0.2)
    record("after", "the device still completes a DM session", metric("m2mdm_dm_sessions_completed_total") > completed, "")
    try:
        os.kill(SERVER_PID, 0)
        server_alive = True
    except OSError:
        server_alive = False
    record("after", "the server process is alive", server_alive, "")
    sections = {}
    for section, _, ok, _ in results:
        sections.setdefault(section, [0, 0])
        sections[section][0 if ok else 1] += 1
    print()
    print(f"{'section':<10} {'cases':>6} {'as expected':>12} {'unexpected':>11}")
    for section, (good, bad) in sections.items():
        print(f"{section:<10} {good + bad:>6} {good:>12} {bad:>11}")
    total_bad = sum(b for _, b in sections.values())
    print(f"{'total':<10} {len(results):>6} {len(results) - total_bad:>12} {total_bad:>11}   ({time.time() - t0:.0f} s)")
    return 1 if total_bad else 0


if __name__ == "__main__":
    sys.exit(main())
