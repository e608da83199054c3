#!/usr/bin/env bash
# End-to-end over loopback with the real `m2mdm server` (HTTPS, test PKI): the DRF bootstrap
# pushed over UDP to a socket this script opens (verified with the device PIN by `m2mdm bootstrap
# verify`, refused with a wrong one), 409 on a second bootstrap, re-bootstrap returned as SMS
# segments; a job submitted -> package 0 pushed over UDP (digest checked with the server
# credentials from the bootstrap); a scripted device (python3) opens a DM session with the
# bootstrapped credentials; the server is restarted mid-session (the session's RespURI is gone,
# the device's state and job are kept, a new session authenticates with the nonce the server
# handed out); the device reports the result with a Generic Alert; the SHO callback endpoint is
# down first (retries with back-off), then up (HTTPS, delivered once).
# $1 = m2mdm binary, $2 = build dir.
set -euo pipefail
M2MDM=${1:?m2mdm binary}
E2E_NAME=drf
UDP_PID= CB_PID=
E2E_BG="PID UDP_PID CB_PID"
# shellcheck source=lib/server.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/server.sh"
need python3

make_pki
CA=$(pki tls-ca)

# --- a UDP socket for the pushes (the device's push listener): one file per datagram.
mkdir -p "$WORK/udp"
cat >"$WORK/udp.py" <<'PY'
import socket, sys, os
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", 0))
open(sys.argv[1] + ".tmp", "w").write(str(s.getsockname()[1]))
os.rename(sys.argv[1] + ".tmp", sys.argv[1])
n = 0
while True:
    data = s.recv(65536)
    n += 1
    open(os.path.join(sys.argv[2], "%03d.bin.tmp" % n), "wb").write(data)
    os.rename(os.path.join(sys.argv[2], "%03d.bin.tmp" % n), os.path.join(sys.argv[2], "%03d.bin" % n))
PY
python3 "$WORK/udp.py" "$WORK/udp.port" "$WORK/udp" &
UDP_PID=$!
for _ in $(seq 50); do [ -f "$WORK/udp.port" ] && break; sleep 0.1; done
UDP_PORT=$(cat "$WORK/udp.port")
datagrams() { ls "$WORK/udp"/*.bin 2>/dev/null | wc -l; }
wait_datagrams() {  # wait until there are $1 datagrams
  for _ in $(seq 100); do [ "$(datagrams)" -ge "$1" ] && return 0; sleep 0.1; done
  fail "expected $1 datagram(s), got $(datagrams)"
}

# --- a free port for the SHO's callback endpoint (down for now).
CB_PORT=$(free_port SOCK_STREAM)

write_server_toml
cat >>"$WORK/server.toml" <<TOML
[notify]
max_attempts = 3
retry_seconds = 60
[callbacks]
ca_file = ["$CA"]
retry_seconds = 1
max_retry_seconds = 2
timeout_ms = 2000
TOML

start() { start_server --config "$WORK/server.toml" --listen "127.0.0.1:${PORT:-0}" --threads 2; }
CURL=(curl -sS --cacert "$CA" --max-time 10)

start
ADMIN=$(cat "$WORK/state/admin.token")
[ "$(status -H "Authorization: Bearer $ADMIN" -d '{"name":"sho-a"}' "$URL/api/v1/shos")" = 201 ] || fail "create sho"
SHO=$(jq -r .token "$WORK/body")
AUTH=(-H "Authorization: Bearer $SHO")
DEV=IMEI:490154203237518
printf '{"devId":"%s","pcid":"001010123456789","devicePin":"8372","pushAddress":"udp:127.0.0.1:%s"}\n' \
  "$DEV" "$UDP_PORT" >"$WORK/dev.ndjson"
[ "$(status "${AUTH[@]}" -H 'Content-Type: application/x-ndjson' --data-binary @"$WORK/dev.ndjson" \
      "$URL/api/v1/devices:import")" = 200 ] || fail "import: $(cat "$WORK/body")"

# --- 1. DRF: bootstrap pushed over UDP, verified with the device PIN.
[ "$(status -X POST "${AUTH[@]}" "$URL/api/v1/devices/$DEV/bootstrap")" = 202 ] || fail "bootstrap: $(cat "$WORK/body")"
wait_datagrams 1
BOOT="$WORK/udp/001.bin"
[ "$(jq -r .pushBytes "$WORK/body")" = "$(stat -c %s "$BOOT")" ] || fail "pushed size differs"
"$M2MDM" bootstrap verify --sec USERPIN --pin 8372 "$BOOT" >"$WORK/verify.out" || fail "bootstrap does not verify"
if "$M2MDM" bootstrap verify --sec USERPIN --pin 0000 "$BOOT" >/dev/null 2>&1; then fail "wrong PIN accepted"; fi
"$M2MDM" bootstrap decode "$BOOT" >"$WORK/boot.xml"
grep -q 'value="mcim-provisioning"' "$WORK/boot.xml" && grep -q 'value="m2m-application"' "$WORK/boot.xml" \
  || fail "two contexts expected"
PIN_B64=$(openssl x509 -in "$(pki tls-cert)" -pubkey -noout | openssl pkey -pubin -outform DER | openssl dgst -sha256 -binary | base64)
grep -q "name=\"SPKI-SHA256\" value=\"$PIN_B64\"" "$WORK/boot.xml" || fail "the TLS key pin is not the server's"
# the device's credentials and nonces, as the device would apply them
python3 - "$WORK/boot.xml" >"$WORK/creds.env" <<'PY'
import sys, xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
app = next(c for c in root.findall("characteristic") if c.get("type") == "APPLICATION")
p = lambda e: {x.get("name"): x.get("value") for x in e.findall("parm")}
print("SERVER_ID=%s" % p(app)["PROVIDER-ID"])
print("DM_URL=%s" % p(app.find("characteristic[@type='APPADDR']"))["ADDR"])
for a in app.findall("characteristic[@type='APPAUTH']"):
    v = p(a)
    pre = "CL" if v["AAUTHLEVEL"] == "APPSRV" else "SV"
    print("%s_NAME=%s\n%s_SECRET=%s\n%s_NONCE=%s" % (pre, v["AAUTHNAME"], pre, v["AAUTHSECRET"], pre, v["AAUTHDATA"]))
PY
. "$WORK/creds.env"
[ "$DM_URL" = "$URL/dm" ] || fail "DM address $DM_URL"
[ "$CL_NAME" = "$DEV" ] || fail "client name $CL_NAME"

# a second bootstrap is refused; a re-bootstrap by the owning SHO comes back as SMS segments
[ "$(status -X POST "${AUTH[@]}" "$URL/api/v1/devices/$DEV/bootstrap")" = 409 ] || fail "second bootstrap not 409"
[ "$(status "${AUTH[@]}" -H 'Content-Type: application/json' -d '{"delivery":"sms","rebootstrap":true}' \
      "$URL/api/v1/devices/$DEV/bootstrap")" = 200 ] || fail "re-bootstrap: $(cat "$WORK/body")"
jq -r '.smsSegments[]' "$WORK/body" >"$WORK/sms.hex"
[ "$(wc -l <"$WORK/sms.hex")" -ge 2 ] || fail "expected several SMS segments"
"$M2MDM" bootstrap verify --sec USERPIN --pin 8372 "$WORK/sms.hex" >/dev/null || fail "SMS bootstrap does not verify"
[ "$(datagrams)" = 1 ] || fail "an SMS bootstrap must not be pushed"
# the device applies the newest bootstrap (the SMS one): its credentials replace the first
"$M2MDM" bootstrap decode "$WORK/sms.hex" >"$WORK/boot.xml"
python3 - "$WORK/boot.xml" >"$WORK/creds.env" <<'PY'
import sys, xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
app = next(c for c in root.findall("characteristic") if c.get("type") == "APPLICATION")
p = lambda e: {x.get("name"): x.get("value") for x in e.findall("parm")}
print("SERVER_ID=%s" % p(app)["PROVIDER-ID"])
for a in app.findall("characteristic[@type='APPAUTH']"):
    v = p(a)
    pre = "CL" if v["AAUTHLEVEL"] == "APPSRV" else "SV"
    print("%s_NAME=%s\n%s_SECRET=%s\n%s_NONCE=%s" % (pre, v["AAUTHNAME"], pre, v["AAUTHSECRET"], pre, v["AAUTHDATA"]))
PY
. "$WORK/creds.env"
[ "$(status "${AUTH[@]}" "$URL/api/v1/drf/registry/001010123456789")" = 200 ] || fail "registry"
[ "$(jq -r .activeBootstrap.delivery "$WORK/body")" = sms ] || fail "active bootstrap: $(cat "$WORK/body")"

# --- 2. The SHO registers its callback (endpoint down) and submits a job: package 0 over UDP.
[ "$(status -X PUT "${AUTH[@]}" -d "{\"url\":\"https://127.0.0.1:$CB_PORT/sho/cb\"}" "$URL/api/v1/callback")" = 200 ] \
  || fail "callback registration: $(cat "$WORK/body")"
OBJ=$(head -c 600 /dev/urandom | base64 -w0)
[ "$(status "${AUTH[@]}" -H 'Content-Type: application/json' \
      -d "{\"kind\":\"install\",\"object\":\"$OBJ\",\"authorisation\":\"sho-auth\",\"correlator\":\"corr-e2e-1\"}" \
      "$URL/api/v1/devices/$DEV/jobs")" = 202 ] || fail "job: $(cat "$WORK/body")"
JOB=$(jq -r .id "$WORK/body")
wait_datagrams 2
python3 - "$WORK/udp/002.bin" "$WORK/pkg0.bin" <<'PY'
import sys
d = open(sys.argv[1], "rb").read()
# connectionless WSP push: TID, 0x06, uintvar header length, content type 0xC4, app id AF 87
assert d[1] == 0x06, "not a push PDU"
i, hl = 2, 0
while True:
    b = d[i]; i += 1; hl = (hl << 7) | (b & 0x7F)
    if not b & 0x80: break
hdr = d[i:i + hl]
assert hdr[0] == 0xC4, "content type is not application/vnd.syncml.notification"
assert b"\xaf\x87" in hdr, "no X-Wap-Application-Id syncml.dm"
open(sys.argv[2], "wb").write(d[i + hl:])
PY
"$M2MDM" syncml pkg0 decode "$WORK/pkg0.bin" --password "$SV_SECRET" --nonce "$SV_NONCE" >"$WORK/pkg0.txt" \
  || fail "package 0 digest: $(cat "$WORK/pkg0.txt")"
grep -q '^ui-mode: background$' "$WORK/pkg0.txt" && grep -q '^initiator: server$' "$WORK/pkg0.txt" \
  && grep -qx "server-id: $SERVER_ID" "$WORK/pkg0.txt" || fail "package 0 fields: $(cat "$WORK/pkg0.txt")"
[ "$(status "${AUTH[@]}" "$URL/api/v1/jobs/$JOB")" = 200 ] && [ "$(jq -r .state "$WORK/body")" = notified ] \
  || fail "job not notified: $(cat "$WORK/body")"

# --- 3. The device opens a DM session (scripted; MD5 digest with the bootstrapped credentials).
cat >"$WORK/device.py" <<'PY'
# usage: device.py URL NONCE_B64 MSGID [ALERT_CORRELATOR] -> prints "status=<hdr status> next_nonce=<b64> resp=<RespURI>"
import base64, hashlib, os, re, ssl, sys, urllib.request
url, nonce_b64, msgid = sys.argv[1], sys.argv[2], sys.argv[3]
corr = sys.argv[4] if len(sys.argv) > 4 else ""
dev, secret = os.environ["CL_NAME"], os.environ["CL_SECRET"]
b64md5 = lambda b: base64.b64encode(hashlib.md5(b).digest())
cred = b64md5(b64md5(("%s:%s" % (dev, secret)).encode()) + b":" + base64.b64decode(nonce_b64)).decode()
body = ("<SyncML xmlns='SYNCML:SYNCML1.2'><SyncHdr><VerDTD>1.2</VerDTD><VerProto>DM/1.2</VerProto>"
        "<SessionID>%s</SessionID><MsgID>1</MsgID><Target><LocURI>%s</LocURI></Target><Source><LocURI>%s</LocURI></Source>"
        "<Cred><Meta><Format xmlns='syncml:metinf'>b64</Format><Type xmlns='syncml:metinf'>syncml:auth-md5</Type></Meta>"
        "<Data>%s</Data></Cred><Meta><MaxMsgSize xmlns='syncml:metinf'>10000</MaxMsgSize></Meta></SyncHdr><SyncBody>"
        "<Alert><CmdID>1</CmdID><Data>1201</Data></Alert>"
        "<Replace><CmdID>2</CmdID><Item><Source><LocURI>./DevInfo/DevId</LocURI></Source><Data>%s</Data></Item>"
        "<Item><Source><LocURI>./DevInfo/Man</LocURI></Source><Data>m2mdm</Data></Item>"
        "<Item><Source><LocURI>./DevInfo/Mod</LocURI></Source><Data>e2e</Data></Item>"
        "<Item><Source><LocURI>./DevInfo/DmV</LocURI></Source><Data>1.2</Data></Item>"
        "<Item><Source><LocURI>./DevInfo/Lang</LocURI></Source><Data>en</Data></Item></Replace>") % (
        msgid, url.split("?")[0], dev, cred, dev)
body += "<Final/></SyncBody></SyncML>"
ctx = ssl.create_default_context(cafile=os.environ["CA"])
def post(target, text):
    req = urllib.request.Request(target, data=text.encode(), headers={"Content-Type": "application/vnd.syncml.dm+xml"})
    return urllib.request.urlopen(req, context=ctx, timeout=10).read().decode()
out = post(url, body)
open(os.environ["REPLY"], "w").write(out)
first = out
if corr:
    # Follow the session: answer every command (Get 404: no PfC here; Exec 202: accepted), and
    # report the result once the server has sent its Exec with the Correlator (DM_Protocol 1.2
    # section 8.7: a result answers an Exec this server sent).
    server_uri, sent_alert = url.split("?")[0], False
    for msgno in range(2, 10):
        resp = re.search(r"<RespURI>([^<]+)</RespURI>", out)
        target = resp.group(1).replace("&amp;", "&") if resp else url
        msgref = re.search(r"<MsgID>(\d+)</MsgID>", out).group(1)
        cmds = re.findall(r"<(Get|Add|Replace|Exec|Delete|Copy|Atomic|Sequence)>\s*<CmdID>(\d+)</CmdID>", out)
        if not cmds and sent_alert:
            break
        text = ("<SyncML xmlns='SYNCML:SYNCML1.2'><SyncHdr><VerDTD>1.2</VerDTD><VerProto>DM/1.2</VerProto>"
                "<SessionID>%s</SessionID><MsgID>%d</MsgID><Target><LocURI>%s</LocURI></Target><Source><LocURI>%s"
                "</LocURI></Source></SyncHdr><SyncBody><Status><CmdID>1</CmdID><MsgRef>%s</MsgRef><CmdRef>0</CmdRef>"
                "<Cmd>SyncHdr</Cmd><TargetRef>%s</TargetRef><SourceRef>%s</SourceRef><Data>200</Data></Status>") % (
                msgid, msgno, server_uri, dev, msgref, server_uri, dev)
        n, exec_seen = 2, False
        for name, cid in cmds:
            exec_seen = exec_seen or name == "Exec"
            text += ("<Status><CmdID>%d</CmdID><MsgRef>%s</MsgRef><CmdRef>%s</CmdRef><Cmd>%s</Cmd><Data>%d</Data>"
                     "</Status>") % (n, msgref, cid, name, {"Exec": 202, "Get": 404}.get(name, 200))
            n += 1
        if exec_seen and not sent_alert:
            text += ("<Alert><CmdID>%d</CmdID><Data>1226</Data><Correlator>%s</Correlator><Item><Source><LocURI>"
                     "./M2MSIMMobj/Operations/Install</LocURI></Source><Meta><Type xmlns='syncml:metinf'>"
                     "urn:oma:at:m2mdm-m2msim:install:1.0</Type><Format xmlns='syncml:metinf'>chr</Format>"
                     "<Mark xmlns='syncml:metinf'>critical</Mark></Meta><Data>1200 installed</Data></Item></Alert>") % (n, corr)
            sent_alert = True
        out = post(target, text + "<Final/></SyncBody></SyncML>")
    if not sent_alert:
        sys.exit("the server never sent its Exec")
out = first
hdr = re.search(r"<Status>.*?<Cmd>SyncHdr</Cmd>.*?<Data>(\d+)</Data>", out, re.S)
nn = re.search(r"<NextNonce[^>]*>([^<]+)</NextNonce>", out)
resp = re.search(r"<RespURI>([^<]+)</RespURI>", out)
print("status=%s next_nonce=%s resp=%s" % (hdr.group(1) if hdr else "-", nn.group(1) if nn else "-",
                                          resp.group(1).replace("&amp;", "&") if resp else "-"))
PY
export CL_NAME CL_SECRET CA REPLY="$WORK/reply1.xml"
OUT=$(python3 "$WORK/device.py" "$URL/dm" "$CL_NONCE" 1A01) || fail "DM session: $OUT"
case "$OUT" in status=212*) ;; *) fail "device not authenticated: $OUT $(head -c 2000 "$WORK/reply1.xml")" ;; esac
NEXT=$(sed 's/.*next_nonce=\([^ ]*\).*/\1/' <<<"$OUT")
RESP=$(sed 's/.*resp=\([^ ]*\).*/\1/' <<<"$OUT")
[ "$RESP" != - ] || fail "no RespURI: $OUT"
[ "$(status "${AUTH[@]}" "$URL/api/v1/devices/$DEV")" = 200 ] && [ "$(jq -r .state "$WORK/body")" = registered ] \
  || fail "device state after the session: $(cat "$WORK/body")"
grep -q "M2MSIMMobj/PfC" "$WORK/reply1.xml" || fail "the DPF did not ask for the PfC"

# --- 4. Restart the server mid-session: the RespURI is gone, the store kept everything.
stop_server
start
[ "$(status -H 'Content-Type: application/vnd.syncml.dm+xml' --data-binary @"$WORK/reply1.xml" "$RESP")" = 404 ] \
  || fail "the pinned session survived a restart?"
[ "$(status "${AUTH[@]}" "$URL/api/v1/jobs/$JOB")" = 200 ] && [ "$(jq -r .state "$WORK/body")" = notified ] \
  || fail "job state lost over the restart: $(cat "$WORK/body")"
[ "$(status "${AUTH[@]}" "$URL/api/v1/devices/$DEV")" = 200 ] && [ "$(jq -r .state "$WORK/body")" = registered ] \
  && [ "$(jq -r .lastSeen "$WORK/body")" != 0 ] || fail "device state lost over the restart: $(cat "$WORK/body")"
[ "$NEXT" != - ] || NEXT=$CL_NONCE
REPLY="$WORK/reply2.xml" OUT=$(python3 "$WORK/device.py" "$URL/dm" "$NEXT" 1A02 corr-e2e-1) || fail "second session: $OUT"
case "$OUT" in status=212*) ;; *) fail "device not authenticated after the restart: $OUT" ;; esac
[ "$(status "${AUTH[@]}" "$URL/api/v1/jobs/$JOB")" = 200 ] && [ "$(jq -r .state "$WORK/body")" = succeeded ] \
  && [ "$(jq -r .result.code "$WORK/body")" = 1200 ] || fail "job result: $(cat "$WORK/body")"

# --- 5. The callback endpoint is down: retried with back-off; then up (HTTPS): delivered once.
sleep 3
grep -q "callbacks: .* failed" "$WORK/server.err" || fail "no failed callback attempt logged"
cat >"$WORK/cb.py" <<'PY'
import http.server, ssl, sys
class H(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        with open(sys.argv[4], "ab") as f: f.write(body + b"\n")
        self.send_response(200); self.send_header("Content-Length", "0"); self.end_headers()
    def log_message(self, *a): pass
srv = http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), H)
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER); ctx.load_cert_chain(sys.argv[2], sys.argv[3])
srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
srv.serve_forever()
PY
python3 "$WORK/cb.py" "$CB_PORT" "$(pki tls-cert)" "$(pki tls-key)" "$WORK/callbacks.ndjson" &
CB_PID=$!
for _ in $(seq 100); do [ -s "$WORK/callbacks.ndjson" ] && break; sleep 0.1; done
[ -s "$WORK/callbacks.ndjson" ] || fail "callback never delivered"
sleep 2
[ "$(wc -l <"$WORK/callbacks.ndjson")" = 1 ] || fail "callback delivered more than once"
jq -e --arg j "$JOB" '.event == "job.result" and (.jobId|tostring) == $j and .state == "succeeded" and .code == 1200' \
  "$WORK/callbacks.ndjson" >/dev/null || fail "callback body: $(cat "$WORK/callbacks.ndjson")"
"${CURL[@]}" "$URL/metrics" | grep -q '^m2mdm_outbox_pending 0$' || fail "outbox not drained"
stop_server
echo "ok: server DRF / package 0 / restart / callback e2e"
