#!/usr/bin/env python3
# Writes conformance/vectors/client/<case>/{case.json,*.xml} (format: README.md next to this file).
# The vectors are the committed files; this script is how they were written, kept so that a case can
# be regenerated consistently. Usage: python3 generate.py conformance/vectors/client
# N_MAXMSG / N_OUTLO: number of "next message" rounds of the two size-dependent scripts.
import json, os, sys, base64

ROOT = sys.argv[1]
MD5 = "syncml:auth-md5"
MAC = "syncml:auth-MAC"
BASIC = "syncml:auth-basic"
INSTALL = "urn:oma:at:m2mdm-m2msim:install:1.0"
RESET = "urn:oma:at:m2mdm-m2msim:reset:1.0"
NONCE_C = "AAECAwQFBgcICQoLDA0ODw=="
NONCE_S = "EBESExQVFhcYGRobHB0eHw=="
STALE = "c3RhbGUtbm9uY2UtMTIzNA=="
RESET_SRC = "./M2MSIMMobj/Operations/ResetToPristine"

def meta(**kw):
    names = {"format": "Format", "type": "Type", "size": "Size", "max_msg": "MaxMsgSize",
             "max_obj": "MaxObjSize", "next_nonce": "NextNonce", "mark": "Mark"}
    inner = "".join(f'<{names[k]} xmlns="syncml:metinf">{v}</{names[k]}>' for k, v in kw.items() if v is not None)
    return f"<Meta>{inner}</Meta>" if inner else ""

def hdr(msg_id, cred="{{ServerCred}}", hmeta="", verdtd="1.2", session="{{SessionID}}"):
    return f"""  <SyncHdr>
    <VerDTD>{verdtd}</VerDTD>
    <VerProto>DM/1.2</VerProto>
    <SessionID>{session}</SessionID>
    <MsgID>{msg_id}</MsgID>
    <Target><LocURI>{{{{DevId}}}}</LocURI></Target>
    <Source><LocURI>{{{{ServerURI}}}}</LocURI></Source>
    {cred}
    {hmeta}
  </SyncHdr>
"""

def status(cmd_id, cmd_ref, cmd, code, chal=None):
    c = f"<Chal>{chal}</Chal>" if chal else ""
    return f"""    <Status><CmdID>{cmd_id}</CmdID><MsgRef>{{{{MsgRef}}}}</MsgRef><CmdRef>{cmd_ref}</CmdRef><Cmd>{cmd}</Cmd>{c}<Data>{code}</Data></Status>
"""

def hdr_status(cmd_id, code, nonce=None, typ=MD5):
    chal = meta(type=typ, format="b64", next_nonce="{{Nonce:%s}}" % nonce) if nonce else None
    return f"""    <Status><CmdID>{cmd_id}</CmdID><MsgRef>{{{{MsgRef}}}}</MsgRef><CmdRef>0</CmdRef><Cmd>SyncHdr</Cmd><TargetRef>{{{{ServerURI}}}}</TargetRef><SourceRef>{{{{DevId}}}}</SourceRef>{"<Chal>" + chal + "</Chal>" if chal else ""}<Data>{code}</Data></Status>
"""

def ack_pkg1(first_id, alert=1201):
    return (status(first_id, "{{CmdRef:Alert %d}}" % alert, "Alert", 200) +
            status(first_id + 1, "{{CmdRef:Replace}}", "Replace", 200))

def item(target=None, data=None, m="", more=False, source=None):
    t = f"<Target><LocURI>{target}</LocURI></Target>" if target else ""
    s = f"<Source><LocURI>{source}</LocURI></Source>" if source else ""
    d = f"<Data>{data}</Data>" if data is not None else ""
    return f"<Item>{t}{s}{m}{d}{'<MoreData/>' if more else ''}</Item>"

def cmd(kind, cmd_id, *items, cmeta="", corr=None):
    c = f"<Correlator>{corr}</Correlator>" if corr else ""
    return f"    <{kind}><CmdID>{cmd_id}</CmdID>{c}{cmeta}{''.join(items)}</{kind}>\n"

def container(kind, cmd_id, *inner):
    return f"    <{kind}><CmdID>{cmd_id}</CmdID>\n{''.join(inner)}    </{kind}>\n"

def alert(cmd_id, code):
    return f"    <Alert><CmdID>{cmd_id}</CmdID><Data>{code}</Data></Alert>\n"

def msg(h, body, final=True):
    return f"""<SyncML xmlns="SYNCML:SYNCML1.2">
{h}  <SyncBody>
{body}{'    <Final/>' + chr(10) if final else ''}  </SyncBody>
</SyncML>
"""

def add(cmd_id, uri, data, fmt="chr", size=None, more=False, typ=None):
    return cmd("Add", cmd_id, item(uri, data, meta(format=fmt, type=typ, size=size), more))

def get(cmd_id, uri):
    return cmd("Get", cmd_id, item(uri))

def end_msg(msg_id, code=200):
    # The server's last message: its status for the device's SyncHdr, Final, nothing to do.
    return msg(hdr(msg_id, cred=""), hdr_status(1, code))

cases = {}

def case(name, rule, sessions, device=None, config=None, files=None, extra=None):
    # extra: further top-level keys of case.json (client_initiated_only, remote).
    cases[name] = dict(rule=rule, sessions=sessions, device=device, config=config, files=files or {},
                       extra=extra or {})

# ---- session start and package 1 ---------------------------------------------------------------
case("client_initiated_1201_package1_devinfo",
     "DM_Protocol 1.2 §8.3: a client-initiated session opens with Alert 1201 and ./DevInfo in package 1; "
     "the session ends when the server's Final message holds nothing to answer",
     [dict(package1=dict(alerts=[1201], no_alerts=[1200], devinfo=True, cred="md5", final=True),
           steps=[dict(send="s1.xml", reply=dict(statuses=[dict(cmd="SyncHdr", code=212, chal=True),
                                                          dict(cmd="Get", cmd_ref=4, code=200)],
                                                results=[dict(source="./DevInfo/Mod", data="{{Mod}}")],
                                                cred="none", final=True)),
                  dict(send="s2.xml", reply=dict(none=True))],
           expect=dict(state="Completed", report=dict(server_authenticated=True, client_authenticated=True)))],
     device=dict(client_nonce_b64=NONCE_C, server_nonce_b64=NONCE_S),
     extra=dict(client_initiated_only=True),
     files={"s1.xml": msg(hdr(1), hdr_status(1, 212, "next") + ack_pkg1(2) + get(4, "./DevInfo/Mod")),
            "s2.xml": end_msg(2)})

case("server_initiated_1200_with_notification_session_id",
     "DM_Notification 1.2 §6 / DM_Protocol 1.2 §8.3: a session the server asked for with package 0 opens with "
     "Alert 1200 and the notification's SessionID (hex)",
     [dict(start=dict(server_initiated=4660), session_id="1234",
           package1=dict(alerts=[1200], no_alerts=[1201], devinfo=True, cred="md5"),
           steps=[dict(send="s1.xml", reply=dict(none=True))],
           expect=dict(state="Completed", tree_unchanged=True))],
     files={"s1.xml": msg(hdr(1), hdr_status(1, 212, "next") + ack_pkg1(2, 1200))})

# ---- authentication ----------------------------------------------------------------------------
case("auth_basic_both_directions",
     "DM_Security 1.2 §5.1.1: syncml:auth-basic from the device in package 1 and from the server in its "
     "SyncHdr; no nonces",
     [dict(package1=dict(cred="basic", alerts=[1201]),
           steps=[dict(send="s1.xml", reply=dict(statuses=[dict(cmd="SyncHdr", code=212, chal=False),
                                                          dict(cmd="Get", cmd_ref=4, code=200)],
                                                results=[dict(source="./DevInfo/Man", data="{{Man}}")], cred="none")),
                  dict(send="s2.xml", reply=dict(none=True))],
           expect=dict(state="Completed", report=dict(server_authenticated=True, client_authenticated=True)))],
     device=dict(client_auth="BASIC", server_auth="BASIC"),
     files={"s1.xml": msg(hdr(1), hdr_status(1, 212) + ack_pkg1(2) + get(4, "./DevInfo/Man")),
            "s2.xml": end_msg(2)})

case("auth_md5_both_directions_nonces_persisted",
     "DM_Security 1.2 §5.1.2/§5.3: MD5 digests both ways over the peer's last NextNonce; the nonces the "
     "device received and sent are persisted in the DMAcc and authenticate the next session",
     [dict(package1=dict(cred="md5"),
           steps=[dict(send="s1.xml", reply=dict(statuses=[dict(cmd="SyncHdr", code=212, chal=True)], cred="none")),
                  dict(send="s2.xml", reply=dict(none=True))],
           expect=dict(state="Completed", client_nonce="next", server_nonce_persisted=True)),
      dict(package1=dict(cred="md5"),
           steps=[dict(send="s3.xml", reply=dict(none=True))],
           expect=dict(state="Completed", client_nonce="again", server_nonce_persisted=True,
                       report=dict(server_authenticated=True, client_authenticated=True)))],
     device=dict(client_nonce_b64=NONCE_C, server_nonce_b64=NONCE_S),
     files={"s1.xml": msg(hdr(1), hdr_status(1, 212, "next") + ack_pkg1(2) + get(4, "./DevInfo/DmV")),
            "s2.xml": end_msg(2),
            "s3.xml": msg(hdr(1), hdr_status(1, 212, "again") + ack_pkg1(2))})

case("auth_hmac_both_directions",
     "DM_Security 1.2 §5.1.4: syncml:auth-MAC in the x-syncml-hmac header of every message both ways, "
     "never in Cred; each side's MAC uses the nonce the other side gave last",
     [dict(package1=dict(cred="hmac"),
           steps=[dict(send="s1.xml", hmac="valid",
                       reply=dict(statuses=[dict(cmd="SyncHdr", code=212, chal=True),
                                            dict(cmd="Get", cmd_ref=4, code=200)], cred="hmac")),
                  dict(send="s2.xml", hmac="valid", reply=dict(statuses=[dict(cmd="SyncHdr", code=200),
                                                                        dict(cmd="Get", cmd_ref=2, code=200)],
                                                              cred="hmac")),
                  dict(send="s3.xml", hmac="valid", reply=dict(none=True))],
           expect=dict(state="Completed", client_nonce="next", server_nonce_persisted=True,
                       report=dict(server_authenticated=True, client_authenticated=True)))],
     device=dict(client_auth="HMAC", server_auth="HMAC", client_nonce_b64=NONCE_C, server_nonce_b64=NONCE_S),
     files={"s1.xml": msg(hdr(1, cred=""), hdr_status(1, 212, "next", MAC) + ack_pkg1(2) + get(4, "./DevInfo/Man")),
            "s2.xml": msg(hdr(2, cred=""), hdr_status(1, 200) + get(2, "./DevInfo/Lang")),
            "s3.xml": end_msg(3)})

case("server_challenge_401_device_resends_with_new_nonce",
     "DM_Security 1.2 §5.3: a 401 with Chal on the device's SyncHdr makes it send package 1 again with a "
     "digest over the NextNonce of that Chal",
     [dict(package1=dict(cred="md5"),
           steps=[dict(send="s1.xml", reply=dict(alerts=[1201], devinfo=True, cred="md5",
                                                statuses=[dict(cmd="SyncHdr", code=212)])),
                  dict(send="s2.xml", reply=dict(none=True))],
           expect=dict(state="Completed", client_nonce="next", tree_unchanged=True,
                       report=dict(client_authenticated=True)))],
     device=dict(client_nonce_b64=STALE),
     files={"s1.xml": msg(hdr(1), hdr_status(1, 401, "retry")),
            "s2.xml": msg(hdr(2, cred=""), hdr_status(1, 212, "next") + ack_pkg1(2))})

def chal_resend_case(name, rule, code, typ=MD5):
    """DM_Security 1.2 §5.3: the server's Chal (status code, auth type typ) on the device's SyncHdr makes an
    MD5 account send package 1 again with a digest over the Chal's NextNonce."""
    case(name, rule,
         [dict(package1=dict(cred="md5"),
               steps=[dict(send="s1.xml", reply=dict(alerts=[1201], cred="md5")),
                      dict(send="s2.xml", reply=dict(none=True))],
               expect=dict(state="Completed", client_nonce="next"))],
         files={"s1.xml": msg(hdr(1), hdr_status(1, code, "retry", typ)),
                "s2.xml": msg(hdr(2, cred=""), hdr_status(1, 212, "next") + ack_pkg1(2))})

chal_resend_case("server_challenge_407_missing_credentials_device_resends",
                 "DM_Security 1.2 §5.3: 407 with Chal is answered like 401: package 1 again with a credential over the "
                 "new nonce", 407)

chal_resend_case("server_chal_cannot_downgrade_md5_to_basic",
                 "DM_Security 1.2 §5.3: a Chal asking for syncml:auth-basic does not make a DIGEST account send its "
                 "password in basic form; the device answers with MD5 over the new nonce", 401, BASIC)

case("server_challenging_forever_session_aborted",
     "DM_Security 1.2 §5.3: a device stops after its attempt limit (2) when the server keeps refusing its "
     "credentials; nothing the server sent runs",
     [dict(package1=dict(cred="md5"),
           steps=[dict(send="s1.xml", reply=dict(cred="md5", alerts=[1201])),
                  dict(send="s2.xml", reply=dict(none=True))],
           expect=dict(state="Aborted", abort_reason_contains="refused our credentials", tree_unchanged=True))],
     files={"s1.xml": msg(hdr(1), hdr_status(1, 401, "r1") + add(2, "./Test/X", "evil")),
            "s2.xml": msg(hdr(2), hdr_status(1, 401, "r2") + add(2, "./Test/X", "evil"))})

case("server_wrong_nonce_refused_tree_unchanged",
     "DM_Security 1.2 §5.3: a server digest over a stale nonce gets 401 + Chal, its commands are not run; "
     "the second failure ends the session",
     [dict(steps=[dict(send="s1.xml", reply=dict(statuses=[dict(cmd="SyncHdr", code=401, chal=True)],
                                                no_statuses=[dict(cmd="Add")])),
                  dict(send="s2.xml", reply=dict(none=True))],
           expect=dict(state="Aborted", abort_reason_contains="server failed to authenticate", tree_unchanged=True,
                       tree={"./Test/X": None}, report=dict(server_authenticated=False)))],
     device=dict(server_nonce_b64=NONCE_S),
     files={"s1.xml": msg(hdr(1, cred="{{ServerCred:nonce_b64=%s}}" % STALE), hdr_status(1, 212, "n1") + ack_pkg1(2) + add(4, "./Test/X", "evil")),
            "s2.xml": msg(hdr(2, cred="{{ServerCred:nonce_b64=%s}}" % STALE), hdr_status(1, 200) + add(2, "./Test/X", "evil"))})

case("server_wrong_digest_then_correct_after_device_challenge",
     "DM_Security 1.2 §5.3: after a 401 the device's Chal carries a new nonce; the server's next digest over "
     "it is accepted (212) and only then do its commands run",
     [dict(steps=[dict(send="s1.xml", reply=dict(statuses=[dict(cmd="SyncHdr", code=401, chal=True)],
                                                no_statuses=[dict(cmd="Add")])),
                  dict(send="s2.xml", reply=dict(statuses=[dict(cmd="SyncHdr", code=212),
                                                          dict(cmd="Add", cmd_ref=2, code=200)])),
                  dict(send="s3.xml", reply=dict(none=True))],
           expect=dict(state="Completed", tree={"./Test/X": "good"}, server_nonce_persisted=True))],
     files={"s1.xml": msg(hdr(1, cred="{{ServerCred:secret=not-the-secret}}"), hdr_status(1, 212, "n1") + ack_pkg1(2) + add(4, "./Test/X", "evil")),
            "s2.xml": msg(hdr(2), hdr_status(1, 200) + add(2, "./Test/X", "good")),
            "s3.xml": end_msg(3)})

case("server_hmac_wrong_mac_refused_tree_unchanged",
     "DM_Security 1.2 §5.1.4.3: a server message whose x-syncml-hmac does not verify is refused with 401 "
     "and its commands are not run",
     [dict(package1=dict(cred="hmac"),
           steps=[dict(send="s1.xml", hmac=dict(secret="not-the-secret"),
                       reply=dict(statuses=[dict(cmd="SyncHdr", code=401, chal=True)], no_statuses=[dict(cmd="Add")])),
                  dict(send="s2.xml", reply=dict(none=True))],
           expect=dict(state="Aborted", tree_unchanged=True, report=dict(server_authenticated=False)))],
     device=dict(client_auth="HMAC", server_auth="HMAC", client_nonce_b64=NONCE_C, server_nonce_b64=NONCE_S),
     files={"s1.xml": msg(hdr(1, cred=""), hdr_status(1, 212, "n1", MAC) + ack_pkg1(2) + add(4, "./Test/X", "evil")),
            "s2.xml": msg(hdr(2, cred=""), hdr_status(1, 200) + add(2, "./Test/X", "evil"))})

# The first session makes the device raise a Generic Alert on the wire (its reset, acknowledged
# with 500 so that it stays in the outbox); the second, from an impostor, acknowledges it with 200.
RESET_ALERT = dict(type=RESET, correlator="corr-r", code=1200)
case("unauthenticated_server_cannot_acknowledge_alerts",
     "DM_Protocol 1.2 §8.7 / DM_Security 1.2 §5: a Status 200 for a Generic Alert from a server that did "
     "not authenticate does not remove the alert from the outbox",
     [dict(steps=[dict(send="s1.xml", reply=dict(statuses=[dict(cmd="Exec", cmd_ref=4, code=202)],
                                                generic_alerts=[RESET_ALERT])),
                  dict(send="s2.xml", reply=dict(none=True))],
           expect=dict(state="Completed")),
      dict(package1=dict(generic_alerts=[RESET_ALERT]),
           steps=[dict(send="s3.xml", reply=dict(statuses=[dict(cmd="SyncHdr", code=401)])),
                  dict(send="s4.xml", reply=dict(none=True))],
           expect=dict(state="Aborted", outbox=[RESET_ALERT], report=dict(alerts_acknowledged=0)))],
     files={"s1.xml": msg(hdr(1), hdr_status(1, 212, "n1") + ack_pkg1(2) +
                          cmd("Exec", 4, item(RESET_SRC), corr="corr-r")),
            "s2.xml": msg(hdr(2, cred=""), hdr_status(1, 200) + status(2, "{{CmdRef:Alert 1226}}", "Alert", 500)),
            "s3.xml": msg(hdr(1, cred="{{ServerCred:secret=impostor}}"),
                          hdr_status(1, 212) + ack_pkg1(2) + status(4, "{{CmdRef:Alert 1226}}", "Alert", 200)),
            "s4.xml": msg(hdr(2, cred="{{ServerCred:secret=impostor}}"),
                          hdr_status(1, 212) + status(2, "3", "Alert", 200))})

# ---- garbage from the server -------------------------------------------------------------------
GARBAGE_EXPECT = dict(state="Aborted", tree_unchanged=True, tree={"./Test/X": None})
case("garbage_not_xml_aborts",
     "DM_RepPro 1.2 §5: a response that is not a SyncML message aborts the session; nothing changes",
     [dict(steps=[dict(send="s1.txt", literal=True, reply=dict(none=True))],
           expect=dict(GARBAGE_EXPECT, abort_reason_contains="malformed"))],
     files={"s1.txt": "HTTP/1.1 502 Bad Gateway\r\n\r\n<html>not SyncML & not XML</ht"})
def garbage_case(name, rule, s1):
    """One server message that is not acceptable SyncML: the session aborts before any command runs."""
    case(name, rule, [dict(steps=[dict(send="s1.xml", reply=dict(none=True))], expect=GARBAGE_EXPECT)],
         files={"s1.xml": s1})

garbage_case("garbage_wrong_verdtd_aborts",
             "DM_RepPro 1.2 §6.2: VerDTD must be 1.2; another version aborts the session before any command runs",
             msg(hdr(1, verdtd="1.1"), hdr_status(1, 212) + ack_pkg1(2) + add(4, "./Test/X", "evil")))
garbage_case("garbage_missing_synchdr_aborts",
             "DM_RepPro 1.2 §6.1: a SyncML message without SyncHdr aborts the session; nothing changes",
             msg("", add(4, "./Test/X", "evil")))
garbage_case("garbage_wrong_session_id_aborts",
             "DM_Protocol 1.2 §8.3: a response carrying another SessionID is not part of this session: abort",
             msg(hdr(1, session="FFFF"), hdr_status(1, 212) + ack_pkg1(2) + add(4, "./Test/X", "evil")))
case("server_alert_1223_aborts_session",
     "DM_Protocol 1.2 §8.7: Alert 1223 from the server ends the session at once; commands after it do not run",
     [dict(steps=[dict(send="s1.xml", reply=dict(none=True))],
           expect=dict(state="Aborted", abort_reason_contains="1223", tree={"./Test/X": None}))],
     files={"s1.xml": msg(hdr(1), hdr_status(1, 212) + ack_pkg1(2) + alert(4, 1223) + add(5, "./Test/X", "late"))})

# ---- MaxMsgSize / large objects ----------------------------------------------------------------
SMALL_NODES = [dict(uri=f"./Test/N{i}", value=dict(repeat=f"{i}abcdefghi", times=40), acl="Get=*") for i in range(1, 7)]
case("max_msg_size_honoured_by_device",
     "DM_RepPro 1.2 §7.1 / DM_Protocol 1.2 §8.2.1: the device never sends a message larger than the "
     "server's MaxMsgSize; what does not fit goes in the next message of its package after Alert 1222",
     [dict(steps="MAXMSG",
           expect=dict(state="Completed",
                       assembled={n["uri"]: n["value"] for n in SMALL_NODES}))],
     device=dict(nodes=SMALL_NODES), files={})

def lo_case(name, rule, chunks, size, final_code, tree_value, config=None, codes=None):
    files = {}
    steps = []
    body1 = hdr_status(1, 212) + ack_pkg1(2)
    for i, (data, more) in enumerate(chunks):
        first = i == 0
        cid = 4 if first else 2
        b = (body1 if first else hdr_status(1, 200)) + add(cid, "./Test/Big", data, size=size if first else None, more=more)
        last = i == len(chunks) - 1
        files[f"s{i+1}.xml"] = msg(hdr(i + 1, cred="{{ServerCred}}" if first else ""), b, final=last)
        code = codes[i] if codes else (213 if more else final_code)
        steps.append(dict(send=f"s{i+1}.xml", reply=dict(statuses=[dict(cmd="Add", cmd_ref=cid, code=code)],
                                                         **({"alerts": [1222]} if not last else {}))))
        if code not in (213,) and not last:
            break
    files[f"s{len(steps)+1}.xml"] = end_msg(len(steps) + 1)
    steps.append(dict(send=f"s{len(steps)+1}.xml", reply=dict(none=True)))
    case(name, rule, [dict(steps=steps, expect=dict(state="Completed", tree={"./Test/Big": tree_value}))],
         config=config, files=files)

lo_case("large_object_received_in_chunks_213",
        "DM_RepPro 1.2 §7 / DM_Protocol 1.2 §6.2: chunks with MoreData are answered 213 + Alert 1222 and the "
        "object is written once, whole, after the last chunk",
        [("0123456789", True), ("abcdefghij", True), ("KLMNOPQRST", False)], 30, 200,
        "0123456789abcdefghijKLMNOPQRST")
lo_case("large_object_size_mismatch_424",
        "DM_RepPro 1.2 §7: the assembled object must have the Size of the first chunk: 424, nothing written",
        [("0123456789", True), ("abcde", False)], 30, 424, None)
lo_case("large_object_chunks_exceed_size_424",
        "DM_RepPro 1.2 §7: chunks adding up to more than the announced Size: 424 at once, nothing written",
        [("0123456789", True), ("0123456789abcdefghijXYZ", True)], 30, 424, None, codes=[213, 424])
lo_case("large_object_without_size_411",
        "DM_RepPro 1.2 §7: the first chunk of a large object must carry Meta Size: 411",
        [("0123456789", True)], None, 411, None, codes=[411])
def over_max_obj_case(name, rule, uri, add_cmd, extra=None):
    """DM_RepPro 1.2 §7.1: the Add of uri (add_cmd, CmdID 4) is above the MaxObjSize (100) the device
    announced: 413, nothing written, the session goes on."""
    case(name, rule,
         [dict(package1=dict(), steps=[
             dict(send="s1.xml", reply=dict(statuses=[dict(cmd="Add", cmd_ref=4, code=413)])),
             dict(send="s2.xml", reply=dict(none=True))],
             expect=dict(state="Completed", tree={uri: None}))],
         config=dict(max_obj_size=100), extra=extra,
         files={"s1.xml": msg(hdr(1), hdr_status(1, 212) + ack_pkg1(2) + add_cmd), "s2.xml": end_msg(2)})

over_max_obj_case("large_object_over_max_obj_size_413",
                  "DM_RepPro 1.2 §7.1: a large object whose Meta Size is above the MaxObjSize the device announced "
                  "is refused with 413 at its first chunk; nothing is written",
                  "./Test/Big", add(4, "./Test/Big", "0123456789", size="{{OverMaxObjSize}}", more=True))
over_max_obj_case("large_object_whole_over_max_obj_size_413",
                  "DM_RepPro 1.2 §7.1: an object above the device's MaxObjSize sent whole (not chunked) is refused "
                  "with 413",
                  "./Test/Whole", add(4, "./Test/Whole", "{{Repeat:20:0123456789}}"),
                  # Over the wire: only against a device whose MaxObjSize is below 200 (the 200-byte
                  # object must fit in one of its messages to be refused whole).
                  extra=dict(remote=dict(device_max_obj_size_below=200)))
case("large_object_server_stops_midway_nothing_applied",
     "DM_RepPro 1.2 §7: a server that ends its package before the last chunk leaves nothing applied; the "
     "session is aborted",
     [dict(steps=[dict(send="s1.xml", reply=dict(statuses=[dict(cmd="Add", cmd_ref=4, code=213)], alerts=[1222])),
                  dict(send="s2.xml", reply=dict(none=True))],
           expect=dict(state="Aborted", abort_reason_contains="large object", tree={"./Test/Big": None}))],
     files={"s1.xml": msg(hdr(1), hdr_status(1, 212) + ack_pkg1(2) + add(4, "./Test/Big", "0123456789", size=30, more=True), final=False),
            "s2.xml": end_msg(2)})
case("large_object_interrupted_by_other_command_discarded",
     "DM_RepPro 1.2 §7: another command before the last chunk ends the large object: it is discarded "
     "(Alert 1225 reports it) and the new command runs",
     [dict(steps=[dict(send="s1.xml", reply=dict(statuses=[dict(cmd="Add", cmd_ref=4, code=213)])),
                  dict(send="s2.xml", reply=dict(statuses=[dict(cmd="Add", cmd_ref=2, code=200)], alerts=[1225])),
                  dict(send="s3.xml", reply=dict(none=True))],
           expect=dict(state="Completed", tree={"./Test/Big": None, "./Test/Other": "x"}))],
     files={"s1.xml": msg(hdr(1), hdr_status(1, 212) + ack_pkg1(2) + add(4, "./Test/Big", "0123456789", size=30, more=True), final=False),
            "s2.xml": msg(hdr(2, cred=""), hdr_status(1, 200) + add(2, "./Test/Other", "x")),
            "s3.xml": end_msg(3)})

BIG = dict(repeat="0123456789", times=300)
case("outgoing_large_object_results_chunked",
     "DM_RepPro 1.2 §7 / DM_Protocol 1.2 §6.2: a Results item larger than the server's MaxMsgSize is sent in "
     "chunks: Meta Size on the first, MoreData on all but the last, each after the server's 213 + Alert 1222",
     [dict(steps="OUTLO", expect=dict(state="Completed", assembled={"./Test/Big": BIG}))],
     device=dict(nodes=[dict(uri="./Test/Big", value=BIG, acl="Get=*")]), files={})

# ---- Atomic, Sequence, ordering ----------------------------------------------------------------
case("atomic_rollback_216_507",
     "DM_RepPro 1.2 §6.6.4: one failing command in Atomic rolls all back: Atomic 507, the others 216, the "
     "failing one its own code; commands outside the Atomic stay",
     [dict(steps=[dict(send="s1.xml", reply=dict(statuses=[dict(cmd="Add", cmd_ref=4, code=200),
                                                          dict(cmd="Atomic", cmd_ref=5, code=507),
                                                          dict(cmd="Add", cmd_ref=6, code=216),
                                                          dict(cmd="Add", cmd_ref=7, code=216),
                                                          dict(cmd="Replace", cmd_ref=8, code=404)])),
                  dict(send="s2.xml", reply=dict(none=True))],
           expect=dict(state="Completed", tree={"./Test/Keep": "k", "./Test/A": None, "./Test/B": None}))],
     files={"s1.xml": msg(hdr(1), hdr_status(1, 212) + ack_pkg1(2) + add(4, "./Test/Keep", "k") +
                          container("Atomic", 5, add(6, "./Test/A", "1"), add(7, "./Test/B", "2"),
                                    cmd("Replace", 8, item("./Test/Missing/X", "3")))),
            "s2.xml": end_msg(2)})
case("atomic_all_succeed_applied",
     "DM_RepPro 1.2 §6.6.4: an Atomic whose commands all succeed is applied whole: 200 for each",
     [dict(steps=[dict(send="s1.xml", reply=dict(statuses=[dict(cmd="Atomic", cmd_ref=4, code=200),
                                                          dict(cmd="Add", cmd_ref=5, code=200),
                                                          dict(cmd="Replace", cmd_ref=6, code=200)])),
                  dict(send="s2.xml", reply=dict(none=True))],
           expect=dict(state="Completed", tree={"./Test/A": "2"}))],
     files={"s1.xml": msg(hdr(1), hdr_status(1, 212) + ack_pkg1(2) +
                          container("Atomic", 4, add(5, "./Test/A", "1"), cmd("Replace", 6, item("./Test/A", "2")))),
            "s2.xml": end_msg(2)})
case("sequence_runs_in_order",
     "DM_RepPro 1.2 §6.6.13: Sequence runs its commands in order (Add, Replace, Get see each other's effect)",
     [dict(steps=[dict(send="s1.xml", reply=dict(statuses=[dict(cmd="Sequence", cmd_ref=4, code=200),
                                                          dict(cmd="Add", cmd_ref=5, code=200),
                                                          dict(cmd="Replace", cmd_ref=6, code=200),
                                                          dict(cmd="Get", cmd_ref=7, code=200)],
                                                results=[dict(source="./Test/S", data="two")])),
                  dict(send="s2.xml", reply=dict(none=True))],
           expect=dict(state="Completed", tree={"./Test/S": "two"}))],
     files={"s1.xml": msg(hdr(1), hdr_status(1, 212) + ack_pkg1(2) +
                          container("Sequence", 4, add(5, "./Test/S", "one"), cmd("Replace", 6, item("./Test/S", "two")),
                                    get(7, "./Test/S"))),
            "s2.xml": end_msg(2)})
case("results_follow_their_status",
     "DM_RepPro 1.2 §6.6.12: each Results comes after the Status of its Get; a refused Get has no Results",
     [dict(steps=[dict(send="s1.xml", reply=dict(statuses=[dict(cmd="Get", cmd_ref=4, code=200),
                                                          dict(cmd="Get", cmd_ref=5, code=404),
                                                          dict(cmd="Get", cmd_ref=6, code=200)],
                                                results=[dict(source="./DevInfo/DevId", data="{{DevId}}"),
                                                         dict(source="./DevInfo/Lang", data="en-US")])),
                  dict(send="s2.xml", reply=dict(none=True))],
           expect=dict(state="Completed"))],
     files={"s1.xml": msg(hdr(1), hdr_status(1, 212) + ack_pkg1(2) + get(4, "./DevInfo/DevId") +
                          get(5, "./DevInfo/Nope") + get(6, "./DevInfo/Lang")),
            "s2.xml": end_msg(2)})

# ---- Exec + Generic Alert ----------------------------------------------------------------------
SLOT = "./M2MSIMMobj/Download/tx1"
case("exec_correlator_202_then_generic_alert_1226",
     "DM_Protocol 1.2 §8.7 / docs/m2msimmobj.md: Exec of Install with a Correlator is answered 202; the "
     "outcome follows as Generic Alert 1226 (install URN, result code, Mark critical on failure, the Exec's "
     "Correlator) and leaves the outbox when the server answers it 200",
     [dict(steps=[dict(send="s1.xml", reply=dict(statuses=[dict(cmd="Atomic", cmd_ref=4, code=200),
                                                          dict(cmd="Exec", cmd_ref=8, code=202)],
                                                generic_alerts=[dict(type=INSTALL, correlator="corr-7", code=1409,
                                                                     mark="critical",
                                                                     source=SLOT + "/Operations/Install")])),
                  dict(send="s2.xml", reply=dict(none=True))],
           expect=dict(state="Completed", outbox=[], tree={SLOT + "/State": "Failed"},
                       report=dict(alerts_acknowledged=1)))],
     extra=dict(remote=dict(reset=["./M2MSIMMobj/Download/tx1"])),
     files={"s1.xml": msg(hdr(1), hdr_status(1, 212) + ack_pkg1(2) +
                          container("Atomic", 4, add(5, SLOT, None, fmt="node"),
                                    add(6, SLOT + "/Package", base64.b64encode(b"not a sealed package").decode(),
                                        fmt="b64", typ="application/vnd.m2mdm.mcim-sealed"),
                                    add(7, SLOT + "/Operations/Install", None, fmt="null")) +
                          cmd("Exec", 8, item(SLOT + "/Operations/Install"), corr="corr-7")),
            "s2.xml": msg(hdr(2, cred=""), hdr_status(1, 200) + status(2, "{{CmdRef:Alert 1226}}", "Alert", 200))})

case("generic_alert_resent_until_acknowledged",
     "DM_Protocol 1.2 §8.7: a Generic Alert the server did not acknowledge with 2xx stays in the persisted "
     "outbox and is sent again in the next sessions until it is",
     [dict(steps=[dict(send="s1.xml", reply=dict(statuses=[dict(cmd="Exec", cmd_ref=4, code=202)],
                                                generic_alerts=[dict(type=RESET, correlator="corr-r", code=1200)])),
                  dict(send="s2.xml", reply=dict(none=True))],
           expect=dict(state="Completed", outbox=[dict(type=RESET, correlator="corr-r", code=1200, min_attempts=1)])),
      dict(package1=dict(generic_alerts=[dict(type=RESET, correlator="corr-r", code=1200, source=RESET_SRC)]),
           steps=[dict(send="s3.xml", reply=dict(none=True))],
           expect=dict(state="Completed", outbox=[dict(type=RESET, correlator="corr-r", code=1200, min_attempts=2)],
                       report=dict(alerts_acknowledged=0))),
      dict(package1=dict(generic_alerts=[dict(type=RESET, correlator="corr-r", code=1200)]),
           steps=[dict(send="s4.xml", reply=dict(none=True))],
           expect=dict(state="Completed", outbox=[], report=dict(alerts_acknowledged=1)))],
     files={"s1.xml": msg(hdr(1), hdr_status(1, 212, "n1") + ack_pkg1(2) +
                          cmd("Exec", 4, item(RESET_SRC), corr="corr-r")),
            "s2.xml": msg(hdr(2, cred=""), hdr_status(1, 200) + status(2, "{{CmdRef:Alert 1226}}", "Alert", 500)),
            "s3.xml": msg(hdr(1), hdr_status(1, 212, "n2") + ack_pkg1(2) + status(4, "{{CmdRef:Alert 1226}}", "Alert", 503)),
            "s4.xml": msg(hdr(1), hdr_status(1, 212, "n3") + ack_pkg1(2) + status(4, "{{CmdRef:Alert 1226}}", "Alert", 200))})

case("wbxml_server_messages_answered",
     "DM_RepPro 1.2 §5.4: a device configured for WBXML takes WBXML server messages and answers in WBXML",
     [dict(steps=[dict(send="s1.xml", encode="wbxml",
                       reply=dict(statuses=[dict(cmd="Get", cmd_ref=4, code=200)],
                                  results=[dict(source="./DevInfo/Man", data="{{Man}}")])),
                  dict(send="s2.xml", encode="wbxml", reply=dict(none=True))],
           expect=dict(state="Completed"))],
     config=dict(encoding="wbxml"),
     files={"s1.xml": msg(hdr(1), hdr_status(1, 212, "n1") + ack_pkg1(2) + get(4, "./DevInfo/Man")),
            "s2.xml": end_msg(2)})

# ---- multi-message scripts whose length depends on sizes ---------------------------------------
def maxmsg_steps(c, n_next):
    files = c["files"]
    files["s1.xml"] = msg(hdr(1, hmeta=meta(max_msg=2000)),
                          hdr_status(1, 212) + ack_pkg1(2) + "".join(get(4 + i, f"./Test/N{i+1}") for i in range(6)))
    steps = [dict(send="s1.xml", reply=dict(max_bytes=2000, final=False))]
    for k in range(n_next):
        name = f"s{k+2}.xml"
        files[name] = msg(hdr(k + 2, cred="", hmeta=meta(max_msg=2000)), hdr_status(1, 200) + alert(2, 1222), final=False)
        steps.append(dict(send=name, reply=dict(max_bytes=2000, final=k == n_next - 1)))
    name = f"s{n_next+2}.xml"
    files[name] = end_msg(n_next + 2)
    steps.append(dict(send=name, reply=dict(none=True)))
    return steps

def outlo_steps(c, n_next):
    files = c["files"]
    files["s1.xml"] = msg(hdr(1, hmeta=meta(max_msg=1500)), hdr_status(1, 212) + ack_pkg1(2) + get(4, "./Test/Big"))
    steps = [dict(send="s1.xml", reply=dict(statuses=[dict(cmd="Get", cmd_ref=4, code=200)],
                                            results=[dict(source="./Test/Big", more_data=True, size=3000)],
                                            final=False, max_bytes=1500))]
    for k in range(n_next):
        name = f"s{k+2}.xml"
        files[name] = msg(hdr(k + 2, cred="", hmeta=meta(max_msg=1500)),
                          hdr_status(1, 200) + status(2, "{{CmdRef:Results}}", "Results", 213) + alert(3, 1222), final=False)
        last = k == n_next - 1
        steps.append(dict(send=name, reply=dict(results=[dict(source="./Test/Big", more_data=not last, size=None)],
                                                final=last, max_bytes=1500)))
    name = f"s{n_next+2}.xml"
    files[name] = end_msg(n_next + 2)
    steps.append(dict(send=name, reply=dict(none=True)))
    return steps

N_MAXMSG = int(os.environ.get("N_MAXMSG", "4"))
N_OUTLO = int(os.environ.get("N_OUTLO", "7"))
for name, c in cases.items():
    for s in c["sessions"]:
        if s.get("steps") == "MAXMSG": s["steps"] = maxmsg_steps(c, N_MAXMSG)
        if s.get("steps") == "OUTLO": s["steps"] = outlo_steps(c, N_OUTLO)

for name, c in cases.items():
    d = os.path.join(ROOT, name)
    os.makedirs(d, exist_ok=True)
    for f in os.listdir(d): os.remove(os.path.join(d, f))
    doc = {"rule": c["rule"]}
    if c["device"]: doc["device"] = c["device"]
    if c["config"]: doc["config"] = c["config"]
    doc.update(c["extra"])
    doc["sessions"] = c["sessions"]
    with open(os.path.join(d, "case.json"), "w") as fh:
        json.dump(doc, fh, indent=1)
        fh.write("\n")
    for fname, text in c["files"].items():
        with open(os.path.join(d, fname), "w") as fh:
            fh.write(text)
print(len(cases), "cases")
