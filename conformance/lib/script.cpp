// The scripted DM server of the client vectors: template expansion, the checks every device
// message must pass, and the judging of a message against a step's expectations. No I/O.
#include "m2mdm/conformance/script.hpp"

#include "m2mdm/client/session.hpp"
#include "m2mdm/conformance/placeholders.hpp"
#include "m2mdm/mo/m2msim_object.hpp"
#include "m2mdm/syncml/auth.hpp"
#include "m2mdm/syncml/codec.hpp"

#include <algorithm>
#include <charconv>
#include <sstream>

namespace m2mdm::conformance {
namespace {

using nlohmann::json;

int alias(const SessionCtx& ctx, int code) {
  const auto it = ctx.alert_alias.find(code);
  return it == ctx.alert_alias.end() ? code : it->second;
}

std::optional<std::uint64_t> to_number(std::string_view text) {
  std::uint64_t v = 0;
  const auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc{} || p != text.data() + text.size()) return std::nullopt;
  return v;
}

// {{ServerCred}} / {{ServerCred:secret=..,nonce_b64=..,type=..}}: a whole <Cred> of the server.
std::string server_cred(const Wire& wire, const Account& account, const std::string& args, Findings& f) {
  std::map<std::string, std::string> opt;
  std::stringstream ss(args);
  std::string kv;
  while (std::getline(ss, kv, ',')) {
    const auto eq = kv.find('=');
    if (eq != std::string::npos) opt[kv.substr(0, eq)] = kv.substr(eq + 1);
  }
  const std::string type_name = opt.contains("type") ? opt["type"] : account.server_auth;
  const std::string secret = opt.contains("secret") ? opt["secret"] : account.server_secret;
  Bytes nonce = wire.server_nonce;
  if (opt.contains("nonce_b64")) nonce = base64_decode(opt["nonce_b64"]).value_or(Bytes{});
  const auto type = client::auth_type_from_aauth(type_name);
  if (!type || *type == syncml::AuthType::hmac) {
    f.fail("{{ServerCred}} needs a BASIC or DIGEST server credential, the account has " + type_name);
    return {};
  }
  auto data = syncml::make_credential(*type, account.server_id, secret, nonce);
  if (!data) {
    f.fail("cannot compute the server credential: " + data.error().message());
    return {};
  }
  return "<Cred><Meta><Format xmlns=\"syncml:metinf\">b64</Format><Type xmlns=\"syncml:metinf\">" +
         std::string(syncml::auth_type_string(*type)) + "</Type></Meta><Data>" + *data + "</Data></Cred>";
}

// "<Kind>", "<Kind> <alert code>" (e.g. "Alert 1226") or "<Kind>#<n>" (n-th, 1-based): the CmdID
// of that command in the device's last message.
std::optional<std::uint32_t> client_cmd_ref(const SessionCtx& ctx, const std::string& what) {
  std::string kind = what;
  std::optional<int> code;
  std::size_t nth = 1;
  if (const auto hash = kind.find('#'); hash != std::string::npos) {
    nth = to_number(kind.substr(hash + 1)).value_or(1);
    kind = kind.substr(0, hash);
  }
  if (const auto sp = kind.find(' '); sp != std::string::npos) {
    code = alias(ctx, static_cast<int>(to_number(kind.substr(sp + 1)).value_or(0)));
    kind = kind.substr(0, sp);
  }
  for (const auto& c : ctx.last.body) {
    if (syncml::command_name(c.kind()) != kind) continue;
    if (code) {
      const auto* a = std::get_if<syncml::Alert>(&c.value);
      if (!a || a->data != *code) continue;
    }
    if (--nth == 0) return c.cmd_id();
  }
  return std::nullopt;
}

// The device's credential in its last message: "none", "basic", "md5" or "hmac", verified with
// the device's secret and the nonce the server last gave it.
void check_cred(const SessionCtx& ctx, const Wire& wire, const Account& account, const std::string& want,
                Findings& f) {
  const auto& hdr = ctx.last.hdr;
  if (want == "none") {
    if (hdr.cred) f.fail("the device sent a Cred (none expected)");
    if (ctx.last_hmac) f.fail("the device sent x-syncml-hmac (none expected)");
    return;
  }
  if (want == "hmac") {
    if (hdr.cred) f.fail("HMAC must not travel in Cred (DM_Security 1.2 §5.1.4.1)");
    if (!ctx.last_hmac) return f.fail("no x-syncml-hmac from the device");
    auto parsed = syncml::parse_hmac_header(*ctx.last_hmac);
    if (!parsed) return f.fail("the device's x-syncml-hmac does not parse: " + *ctx.last_hmac);
    if (parsed->username != account.dev_id) f.fail("x-syncml-hmac username " + parsed->username + ", not the DevId");
    if (!syncml::verify_hmac(*parsed, account.client_secret, wire.client_nonce, ctx.last_body))
      f.fail("the device's HMAC does not verify with the nonce the server gave it (DM_Security 1.2 §5.1.4)");
    return;
  }
  if (!hdr.cred) return f.fail("no Cred in the device's SyncHdr (" + want + " expected)");
  const auto type = syncml::parse_auth_type(hdr.cred->meta.type.value_or(""));
  if (!type) return f.fail("the device's Cred has an unknown type " + hdr.cred->meta.type.value_or(""));
  const std::string expected(want == "basic" ? syncml::kAuthTypeBasic : syncml::kAuthTypeMd5);
  if (std::string(syncml::auth_type_string(*type)) != expected)
    f.fail("the device's Cred is " + std::string(syncml::auth_type_string(*type)) + ", expected " + expected);
  if (!syncml::verify_credential(*type, hdr.cred->data, account.dev_id, account.client_secret, wire.client_nonce))
    f.fail("the device's credential does not verify with the nonce the server gave it (DM_Security 1.2 §5.3)");
}

std::string dump(const json& j) { return j.dump(); }

}  // namespace

std::string value_spec(const json& v) {
  if (v.is_string()) return v.get<std::string>();
  std::string out;
  const auto unit = v.value("repeat", std::string{});
  const auto times = v.value("times", std::size_t{0});
  for (std::size_t i = 0; i < times; ++i) out += unit;
  return out;
}

Findings accept_device_message(SessionCtx& ctx, Wire& wire, const Account& account, const DeviceMessage& out) {
  Findings f;
  auto msg = syncml::decode(out.body);
  if (!msg) {
    f.fatal_fail("the device sent a message that does not decode: " + msg.error().message());
    return f;
  }
  if (msg->hdr.ver_dtd != "1.2") f.fail("VerDTD " + msg->hdr.ver_dtd + ", not 1.2 (DM_RepPro 1.2 §6.2)");
  if (msg->hdr.ver_proto != "DM/1.2") f.fail("VerProto " + msg->hdr.ver_proto + ", not DM/1.2 (DM_RepPro 1.2 §6.2)");
  if (msg->hdr.session_id != ctx.session_id)
    f.fail("SessionID " + msg->hdr.session_id + ", expected " + ctx.session_id + " (DM_Protocol 1.2 §8.3)");
  if (msg->hdr.msg_id != ctx.expected_msg_id)
    f.fail("MsgID " + std::to_string(msg->hdr.msg_id) + ", expected " + std::to_string(ctx.expected_msg_id) +
           ": MsgIDs count 1, 2, 3... in a session (DM_RepPro 1.2 §6.2)");
  ctx.expected_msg_id = msg->hdr.msg_id + 1;
  if (msg->hdr.source.loc_uri != account.dev_id)
    f.fail("Source " + msg->hdr.source.loc_uri + ", not the DevId " + account.dev_id);
  if (ctx.server_max_msg_size && out.body.size() > ctx.server_max_msg_size)
    f.fail(std::to_string(out.body.size()) + " bytes, larger than the server's MaxMsgSize " +
           std::to_string(ctx.server_max_msg_size) + " (DM_RepPro 1.2 §7.1)");
  if (msg->hdr.meta && msg->hdr.meta->max_obj_size) ctx.device_max_obj_size = *msg->hdr.meta->max_obj_size;
  for (const auto& c : msg->body) {
    if (const auto* st = std::get_if<syncml::Status>(&c.value)) {
      if (st->cmd_id == 0) f.fail("a Status without CmdID");
      ctx.statuses_sent.emplace_back(st->msg_ref, st->cmd_ref);
      if (st->cmd != "SyncHdr") continue;
      const bool accepted = st->data == 200 || st->data == 212;
      ctx.server_authenticated = accepted;
      if (accepted && ctx.offered_client_nonce) wire.confirmed_client_nonce = *ctx.offered_client_nonce;
      if (st->chal && st->chal->meta.next_nonce) {
        auto n = base64_decode(*st->chal->meta.next_nonce);
        if (!n) {
          f.fail("the NextNonce of the device's Chal is not base64");
        } else {
          wire.server_nonce = *n;
          wire.last_chal_nonce = *n;
          if (accepted) wire.confirmed_server_nonce = *n;
        }
      }
    }
    if (const auto* res = std::get_if<syncml::Results>(&c.value)) {
      const bool after_status =
          std::find(ctx.statuses_sent.begin(), ctx.statuses_sent.end(),
                    std::make_pair(res->msg_ref.value_or(0), res->cmd_ref)) != ctx.statuses_sent.end();
      if (!after_status)
        f.fail("Results for CmdRef " + std::to_string(res->cmd_ref) + " before its Status (DM_RepPro 1.2 §6.6.12)");
      for (const auto& item : res->items)
        if (item.source && item.data) ctx.assembled[item.source->loc_uri] += *item.data;
    }
  }
  ctx.offered_client_nonce.reset();
  ctx.last = std::move(*msg);
  ctx.last_body = out.body;
  ctx.last_hmac = out.hmac;
  return f;
}

std::string expand(SessionCtx& ctx, Wire& wire, const Account& account, const std::string& text, Findings& f) {
  std::string unknown;
  auto out = expand_placeholders(
      text,
      [&](const std::string& name, const std::string& arg) -> std::optional<std::string> {
        if (name == "SessionID") return ctx.session_id;
        if (name == "DevId") return account.dev_id;
        if (name == "Man") return account.man;
        if (name == "Mod") return account.mod;
        if (name == "Lang") return account.lang;
        if (name == "ServerURI") return account.server_uri;
        if (name == "MsgRef") return std::to_string(ctx.last.hdr.msg_id);
        if (name == "CmdRef") {
          const auto ref = client_cmd_ref(ctx, arg);
          if (!ref) f.fail("the device's last message has no " + arg);
          return std::to_string(ref.value_or(0));
        }
        if (name == "ServerCred") return server_cred(wire, account, arg, f);
        if (name == "Nonce") {
          if (!wire.nonces.contains(arg)) {
            auto n = syncml::generate_nonce();
            if (!n) return std::nullopt;
            wire.nonces[arg] = std::move(*n);
          }
          wire.client_nonce = wire.nonces[arg];
          ctx.offered_client_nonce = wire.nonces[arg];
          return base64_encode(wire.nonces[arg]);
        }
        if (name == "StatusEach") {  // {{StatusEach:<first CmdID>:<code>:<Kind>[ <alert code>]}}
          const auto c1 = arg.find(':');
          const auto c2 = arg.find(':', c1 + 1);
          if (c1 == std::string::npos || c2 == std::string::npos) return std::nullopt;
          auto id = to_number(arg.substr(0, c1)).value_or(1);
          const std::string code = arg.substr(c1 + 1, c2 - c1 - 1);
          std::string statuses;
          for (std::size_t nth = 1;; ++nth) {
            const std::string what = arg.substr(c2 + 1);
            const auto ref = client_cmd_ref(ctx, what + "#" + std::to_string(nth));
            if (!ref) break;
            const auto kind = what.substr(0, what.find(' '));
            statuses += "    <Status><CmdID>" + std::to_string(id++) + "</CmdID><MsgRef>" +
                   std::to_string(ctx.last.hdr.msg_id) + "</MsgRef><CmdRef>" + std::to_string(*ref) + "</CmdRef><Cmd>" +
                   kind + "</Cmd><Data>" + code + "</Data></Status>\n";
          }
          return statuses;
        }
        if (name == "OverMaxObjSize") {  // one byte more than the device's MaxObjSize
          const std::uint64_t max = account.max_obj_size ? account.max_obj_size : ctx.device_max_obj_size;
          if (max == 0) {
            f.fail("the device announced no MaxObjSize (DM_RepPro 1.2 §7.1: a device that takes large objects "
                   "announces it)");
            return std::string("0");
          }
          return std::to_string(max + 1);
        }
        if (name == "Repeat") {  // {{Repeat:<n>:<text>}}
          const auto c2 = arg.find(':');
          const auto times = to_number(arg.substr(0, c2)).value_or(0);
          std::string r;
          for (std::uint64_t i = 0; i < times; ++i) r += arg.substr(c2 + 1);
          return r;
        }
        return std::nullopt;
      },
      &unknown);
  if (!unknown.empty()) f.fail("unknown placeholder {{" + unknown + "}}");
  return out;
}

ServerMessage build_server_message(SessionCtx& ctx, Wire& wire, const Account& account, const json& step,
                                   const std::string& raw, Findings& f) {
  ServerMessage m;
  const bool literal = step.value("literal", false);
  ctx.last_server_cred_valid.reset();
  if (!literal && raw.find("{{ServerCred}}") != std::string::npos) ctx.last_server_cred_valid = true;
  if (!literal && raw.find("{{ServerCred:") != std::string::npos) ctx.last_server_cred_valid = false;
  if (step.contains("hmac")) ctx.last_server_cred_valid = !step.at("hmac").is_object();
  m.text = literal ? raw : expand(ctx, wire, account, raw, f);
  m.body.assign(m.text.begin(), m.text.end());
  m.content_type = step.value("content_type", std::string(syncml::kContentTypeXml));
  if (auto parsed = syncml::decode(m.body)) {
    if (parsed->hdr.meta && parsed->hdr.meta->max_msg_size) ctx.server_max_msg_size = *parsed->hdr.meta->max_msg_size;
    if (step.value("encode", "xml") == "wbxml") {
      auto w = syncml::encode_wbxml(*parsed);
      if (!w) {
        f.fatal_fail("cannot encode the step as WBXML: " + w.error().message());
      } else {
        m.body = std::move(*w);
        m.content_type = syncml::kContentTypeWbxml;
      }
    }
  }
  if (step.contains("hmac")) {
    const auto& h = step.at("hmac");
    Bytes nonce = wire.server_nonce;
    std::string secret = account.server_secret;
    if (h.is_object()) {
      if (h.contains("nonce_b64")) nonce = base64_decode(h.at("nonce_b64").get<std::string>()).value_or(Bytes{});
      if (h.contains("secret")) secret = h.at("secret").get<std::string>();
    }
    auto header = syncml::hmac_header_value(account.server_id, secret, nonce, m.body);
    if (!header) {
      f.fatal_fail("cannot compute the server's x-syncml-hmac: " + header.error().message());
    } else {
      m.hmac = *header;
    }
  }
  return m;
}

Findings check_reply(SessionCtx& ctx, Wire& wire, const Account& account, const json& want) {
  Findings f;
  const auto& m = ctx.last;
  auto text = [&](const json& v) {
    Findings ignored;
    return expand(ctx, wire, account, value_spec(v), ignored);
  };
  if (want.contains("final") && m.final != want.at("final").get<bool>())
    f.fail(std::string(m.final ? "a" : "no") + " <Final/> in the device's message (" +
           (want.at("final").get<bool>() ? "Final" : "no Final") + " expected)");
  if (want.contains("max_bytes") && ctx.last_body.size() > want.at("max_bytes").get<std::size_t>())
    f.fail("the device's message has " + std::to_string(ctx.last_body.size()) + " bytes, more than " +
           std::to_string(want.at("max_bytes").get<std::size_t>()));
  auto find_status = [&](const json& s) -> const syncml::Status* {
    for (const auto& c : m.body) {
      const auto* st = std::get_if<syncml::Status>(&c.value);
      if (!st || st->cmd != s.at("cmd").get<std::string>()) continue;
      if (s.contains("cmd_ref") && st->cmd_ref != s.at("cmd_ref").get<std::uint32_t>()) continue;
      if (s.contains("target") &&
          std::find(st->target_refs.begin(), st->target_refs.end(), s.at("target").get<std::string>()) ==
              st->target_refs.end())
        continue;
      return st;
    }
    return nullptr;
  };
  for (const auto& s : want.value("statuses", json::array())) {
    const auto* st = find_status(s);
    if (!st) {
      f.fail("no Status for " + dump(s));
      continue;
    }
    if (s.contains("code") && s.at("code").is_array()) {  // any of these codes
      bool any = false;
      for (const auto& c : s.at("code")) any = any || st->data == c.get<int>();
      if (!any) f.fail("Status " + std::to_string(st->data) + " for " + dump(s));
    } else if (st->data != s.at("code").get<int>()) {
      f.fail("Status " + std::to_string(st->data) + " for " + dump(s));
    }
    if (s.contains("chal") && st->chal.has_value() != s.at("chal").get<bool>())
      f.fail(std::string(st->chal ? "a" : "no") + " Chal in the Status for " + dump(s));
  }
  for (const auto& s : want.value("no_statuses", json::array()))
    if (find_status(s)) f.fail("a Status for " + dump(s) + " (the command must not have run)");
  auto count_alerts = [&](int code) {
    return std::count_if(m.body.begin(), m.body.end(), [&](const syncml::Command& c) {
      const auto* a = std::get_if<syncml::Alert>(&c.value);
      return a && a->data == code;
    });
  };
  for (const auto& a : want.value("alerts", json::array()))
    if (const int code = alias(ctx, a.get<int>()); count_alerts(code) < 1) f.fail("no Alert " + std::to_string(code));
  for (const auto& a : want.value("no_alerts", json::array()))
    if (const int code = alias(ctx, a.get<int>()); count_alerts(code) != 0)
      f.fail("an unexpected Alert " + std::to_string(code));
  if (want.value("devinfo", false)) {  // DM_Protocol 1.2 §8.3: ./DevInfo in package 1
    std::map<std::string, std::string> got;
    for (const auto& c : m.body)
      if (const auto* r = std::get_if<syncml::ItemCommand>(&c.value); r && r->kind == syncml::CommandKind::Replace)
        for (const auto& item : r->items)
          if (item.source) got[item.source->loc_uri] = item.data.value_or("");
    const std::pair<const char*, std::string> wanted[] = {{"./DevInfo/DevId", account.dev_id},
                                                          {"./DevInfo/Man", account.man},
                                                          {"./DevInfo/Mod", account.mod},
                                                          {"./DevInfo/DmV", "1.2"},
                                                          {"./DevInfo/Lang", account.lang}};
    for (const auto& [uri, value] : wanted) {
      if (!got.contains(uri)) {
        f.fail(std::string("package 1 has no Replace item for ") + uri);
      } else if (got[uri] != value) {
        f.fail(std::string(uri) + " = \"" + got[uri] + "\", expected \"" + value + "\"");
      }
    }
  }
  if (want.contains("cred")) check_cred(ctx, wire, account, want.at("cred").get<std::string>(), f);
  for (const auto& r : want.value("results", json::array())) {
    const syncml::Item* found = nullptr;
    const syncml::Results* in = nullptr;
    for (const auto& c : m.body)
      if (const auto* res = std::get_if<syncml::Results>(&c.value))
        for (const auto& item : res->items)
          if (item.source && item.source->loc_uri == r.at("source").get<std::string>()) {
            found = &item;
            in = res;
          }
    if (!found) {
      f.fail("no Results item for " + dump(r));
      continue;
    }
    if (r.contains("data") && found->data.value_or("") != text(r.at("data")))
      f.fail("Results data for " + r.at("source").get<std::string>() + " is \"" + found->data.value_or("") +
             "\", expected \"" + text(r.at("data")) + "\"");
    if (r.contains("more_data") && found->more_data != r.at("more_data").get<bool>())
      f.fail(std::string(found->more_data ? "a" : "no") + " MoreData in " + dump(r));
    if (r.contains("size")) {
      std::optional<std::uint64_t> size;
      if (found->meta && found->meta->size) size = found->meta->size;
      if (!size && in->meta && in->meta->size) size = in->meta->size;
      if (r.at("size").is_null()) {
        if (size) f.fail("a Meta Size on " + dump(r) + " (only the first chunk has one)");
      } else if (size.value_or(0) != r.at("size").get<std::uint64_t>()) {
        f.fail("Meta Size " + std::to_string(size.value_or(0)) + " for " + dump(r));
      }
    }
  }
  if (want.contains("no_results") &&
      std::any_of(m.body.begin(), m.body.end(),
                  [](const syncml::Command& c) { return c.kind() == syncml::CommandKind::Results; }))
    f.fail("a Results in the device's message (none expected)");
  if (want.contains("generic_alerts")) {  // DM_Protocol 1.2 §8.7
    std::vector<const syncml::Alert*> got;
    for (const auto& c : m.body)
      if (const auto* a = std::get_if<syncml::Alert>(&c.value); a && a->data == 1226) got.push_back(a);
    const auto& list = want.at("generic_alerts");
    if (got.size() != list.size()) {
      f.fail(std::to_string(got.size()) + " Generic Alert(s) in the message, expected " + std::to_string(list.size()));
    } else {
      for (std::size_t i = 0; i < got.size(); ++i) {
        const auto& w = list[i];
        const auto* a = got[i];
        const std::string which = "Generic Alert " + std::to_string(i + 1) + ": ";
        if (a->items.size() != 1) {
          f.fail(which + std::to_string(a->items.size()) + " items, expected 1");
          continue;
        }
        const auto& item = a->items[0];
        if (a->correlator.value_or("") != w.value("correlator", ""))
          f.fail(which + "Correlator \"" + a->correlator.value_or("") + "\", expected \"" + w.value("correlator", "") +
                 "\"");
        if (!item.meta) {
          f.fail(which + "no Meta");
          continue;
        }
        if (item.meta->type.value_or("") != w.at("type").get<std::string>())
          f.fail(which + "Type " + item.meta->type.value_or("") + ", expected " + w.at("type").get<std::string>());
        if (item.meta->format.value_or("") != "chr") f.fail(which + "Format " + item.meta->format.value_or("") + ", not chr");
        if (item.meta->mark.value_or("") != w.value("mark", ""))
          f.fail(which + "Mark \"" + item.meta->mark.value_or("") + "\", expected \"" + w.value("mark", "") + "\"");
        if (w.contains("source") && (item.source ? item.source->loc_uri : "") != w.at("source").get<std::string>())
          f.fail(which + "Source " + (item.source ? item.source->loc_uri : "(none)") + ", expected " +
                 w.at("source").get<std::string>());
        auto parsed = mo::parse_m2msim_alert_data(item.data.value_or(""));
        if (!parsed) {
          f.fail(which + "Data \"" + item.data.value_or("") + "\" is not \"<code> <message>\"");
        } else if (parsed->first != w.at("code").get<int>()) {
          f.fail(which + "result code " + std::to_string(parsed->first) + ", expected " +
                 std::to_string(w.at("code").get<int>()));
        }
      }
    }
  }
  return f;
}

Findings check_assembled(const SessionCtx& ctx, const json& expect) {
  Findings f;
  const json assembled = expect.value("assembled", json::object());
  for (const auto& [uri, v] : assembled.items()) {
    const auto it = ctx.assembled.find(uri);
    if (it == ctx.assembled.end()) {
      f.fail("no Results for " + uri);
    } else if (it->second != value_spec(v)) {
      f.fail("the Results for " + uri + " assemble to " + std::to_string(it->second.size()) +
             " bytes that differ from the expected " + std::to_string(value_spec(v).size()));
    }
  }
  return f;
}

void end_session(const SessionCtx& ctx, Wire& wire) {
  if (ctx.offered_client_nonce &&
      (ctx.last_server_cred_valid.value_or(false) || (!ctx.last_server_cred_valid && ctx.server_authenticated)))
    wire.confirmed_client_nonce = *ctx.offered_client_nonce;
  wire.server_nonce = wire.confirmed_server_nonce;
  wire.client_nonce = wire.confirmed_client_nonce;
}

}  // namespace m2mdm::conformance
