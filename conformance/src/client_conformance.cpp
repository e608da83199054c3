// Conformance runner over conformance/vectors/client/: scripted DM servers replayed against the
// client session engine (m2mdm::client::ClientSession) on a real device tree, a real software
// TRE and a file outbox. One directory per case, named after the rule it tests; the format
// (case.json + server message templates) is described in conformance/vectors/client/README.md.
//
// Besides each case's own expectations, every message the device sends is checked for the
// rules that hold always: it decodes, VerDTD 1.2 / VerProto DM/1.2, the session's SessionID,
// MsgIDs 1, 2, 3..., Source = DevId, every Status has a CmdID, every Results follows the Status
// of the same command (DM_RepPro 1.2 §6.6.12), and it is no larger than the MaxMsgSize the
// server announced (DM_RepPro 1.2 §7.1).
#include "m2mdm/client/alert_outbox.hpp"
#include "m2mdm/client/m2msim_agent.hpp"
#include "m2mdm/client/mcim_registry.hpp"
#include "m2mdm/client/session.hpp"
#include "m2mdm/client/software_tre.hpp"
#include "m2mdm/mo/m2msim_object.hpp"
#include "m2mdm/mo/pki.hpp"
#include "m2mdm/mo/standard_objects.hpp"
#include "m2mdm/mo/trust.hpp"
#include "m2mdm/syncml/auth.hpp"
#include "m2mdm/syncml/codec.hpp"
#include "m2mdm/syncml/status.hpp"
#include "m2mdm/test/device_fixture.hpp"
#include "m2mdm/test/files.hpp"
#include "m2mdm/test/placeholders.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

namespace m2mdm::client {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

constexpr std::string_view kDevId = "IMEI:490154203237518";
constexpr std::string_view kServerId = "ro-dpf";
constexpr std::string_view kServerUri = "http://127.0.0.1/dm";

const fs::path kDir = fs::path(M2MDM_VECTORS_DIR) / "client";

std::vector<std::string> case_names() {
  std::vector<std::string> names;
  if (fs::is_directory(kDir)) {
    for (const auto& e : fs::directory_iterator(kDir))
      if (e.is_directory() && fs::exists(e.path() / "case.json")) names.push_back(e.path().filename().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

using m2mdm::test::slurp;

// A value given as text or as {"repeat": "<text>", "times": n}.
std::string value_spec(const json& v) {
  if (v.is_string()) return v.get<std::string>();
  std::string out;
  const auto unit = v.at("repeat").get<std::string>();
  const auto times = v.at("times").get<std::size_t>();
  for (std::size_t i = 0; i < times; ++i) out += unit;
  return out;
}

Bytes b64_field(const json& j, const char* name) {
  if (!j.contains(name)) return {};
  auto d = base64_decode(j.at(name).get<std::string>());
  EXPECT_TRUE(d) << name << " is not base64";
  return d ? *d : Bytes{};
}

// The test PKI and a TRE directory made once per process; each case copies the TRE directory.
struct SharedPki {
  fs::path root;
  fs::path tre_dir;
  std::string sho_ca_pem;
};

const SharedPki& shared_pki() {
  static const SharedPki pki = [] {
    SharedPki p;
    p.root = fs::temp_directory_path() / ("m2mdm-client-conf-" + std::to_string(::getpid()));
    fs::remove_all(p.root);
    fs::create_directories(p.root);
    auto files = m2mdm::test::make_test_pki(p.root / "pki", kDevId);
    EXPECT_TRUE(files) << files.error().message();
    if (files) {
      p.sho_ca_pem = slurp(files->at("sho-ca"));
      p.tre_dir = files->at("tre-dir");
    }
    return p;
  }();
  return pki;
}

class PkiCleanup : public ::testing::Environment {
 public:
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(fs::temp_directory_path() / ("m2mdm-client-conf-" + std::to_string(::getpid())), ec);
  }
};
[[maybe_unused]] const auto* const kCleanup = ::testing::AddGlobalTestEnvironment(new PkiCleanup);

// Node contents that matter for "the tree did not change" (nonces excluded: a device that
// refuses a server still issues it a fresh challenge, DM_Security 1.2 §5.3).
std::map<std::string, std::string> tree_image(const mo::Tree& tree) {
  std::map<std::string, std::string> out;
  for (const auto& [uri, node] : tree.nodes()) {
    if (uri.ends_with("/AAuthData")) continue;
    std::string v = std::string(mo::format_name(node.format)) + "|" + node.type + "|" + node.acl.format() + "|";
    if (node.value) v += std::string(as_chars(*node.value));
    out[uri] = std::move(v);
  }
  return out;
}

std::optional<Bytes> account_nonce(const mo::Tree& tree, std::string_view level) {
  auto account = mo::find_dm_account(tree, kServerId);
  if (!account) return std::nullopt;
  for (const auto& a : account->app_auth)
    if (a.level == level) return a.data;
  return std::nullopt;
}

// The outbox the agent and the sessions share: the file, reopened at the start of every session
// (so a session sees only what was persisted), behind one stable reference.
class ReopenedOutbox final : public AlertOutbox {
 public:
  explicit ReopenedOutbox(fs::path path) : path_(std::move(path)) {}
  Result<void> reopen() {
    auto box = FileAlertOutbox::open(path_);
    if (!box) return fail(box.error());
    box_.emplace(std::move(*box));
    return {};
  }
  Result<std::uint64_t> add(std::string_view server_id, const mo::GenericAlertPayload& payload) override {
    return box_->add(server_id, payload);
  }
  std::vector<PendingAlert> pending(std::string_view server_id) const override { return box_->pending(server_id); }
  Result<void> mark_sent(std::uint64_t id) override { return box_->mark_sent(id); }
  Result<void> acknowledge(std::uint64_t id) override { return box_->acknowledge(id); }

 private:
  fs::path path_;
  std::optional<FileAlertOutbox> box_;
};

// ---------------------------------------------------------------------------------------------

class ClientConformance : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    case_dir_ = kDir / GetParam();
    spec_ = json::parse(slurp(case_dir_ / "case.json"));
    work_ = fs::temp_directory_path() /
            ("m2mdm-client-case-" + std::to_string(::getpid()) + "-" + GetParam());
    fs::remove_all(work_);
    fs::create_directories(work_);
    const auto& pki = shared_pki();
    ASSERT_FALSE(pki.tre_dir.empty());
    fs::copy(pki.tre_dir, work_ / "tre", fs::copy_options::recursive);
    auto tre = SoftwareTre::open(work_ / "tre");
    ASSERT_TRUE(tre) << tre.error().message();
    tre_ = std::move(*tre);
    auto registry = McimRegistry::open(*tre_);
    ASSERT_TRUE(registry) << registry.error().message();
    registry_.emplace(std::move(*registry));

    const json device = spec_.value("device", json::object());
    m2mdm::test::DeviceTreeSpec tree;
    tree.dev_id = std::string(kDevId);
    tree.model = "conformance-1";
    tree.server_id = std::string(kServerId);
    tree.server_name = "Registration Operator";
    tree.server_uri = std::string(kServerUri);
    tree.client_auth = device.value("client_auth", "DIGEST");
    tree.client_secret = device.value("client_secret", "client-secret");
    tree.client_nonce = b64_field(device, "client_nonce_b64");
    tree.server_auth = device.value("server_auth", "DIGEST");
    tree.server_secret = device.value("server_secret", "server-secret");
    tree.server_nonce = b64_field(device, "server_nonce_b64");
    tree.pfc_der = tre_->platform_certificate();
    ASSERT_EQ(m2mdm::test::install_device_tree(tree_, tree), "");
    for (const auto& n : device.value("nodes", json::array())) {
      const auto uri = n.at("uri").get<std::string>();
      const auto parent = uri.substr(0, uri.rfind('/'));
      ASSERT_TRUE(syncml::is_success(tree_.ensure_interior(parent))) << parent;
      ASSERT_TRUE(syncml::is_success(tree_.set_text(uri, value_spec(n.at("value"))))) << uri;
      if (n.contains("acl")) {
        auto acl = mo::Acl::parse(n.at("acl").get<std::string>());
        ASSERT_TRUE(acl);
        ASSERT_TRUE(syncml::is_success(tree_.set_acl(uri, *acl)));
        ASSERT_TRUE(syncml::is_success(tree_.set_acl(parent, *acl)));
      }
    }

    auto anchors = mo::TrustAnchors::from_pem(pki.sho_ca_pem, mo::AnchorKind::test);
    ASSERT_TRUE(anchors) << anchors.error().message();
    outbox_path_ = work_ / "outbox.json";
    // The agent writes outcomes into this outbox; sessions reopen the file, so what they see
    // is what was persisted.
    outbox_.emplace(outbox_path_);
    ASSERT_TRUE(outbox_->reopen());
    for (const auto& a : device.value("outbox", json::array())) {
      auto payload = mo::make_m2msim_alert(a.at("type").get<std::string>(), a.value("source", ""),
                                           a.value("correlator", ""),
                                           static_cast<mo::M2msimResult>(a.at("code").get<int>()),
                                           a.value("message", ""));
      ASSERT_TRUE(outbox_->add(kServerId, payload));
    }
    agent_.emplace(tree_, *tre_, *registry_, *outbox_, std::move(*anchors));
    agent_->attach();
    wire_.server_nonce = b64_field(device, "server_nonce_b64");
    wire_.client_nonce = b64_field(device, "client_nonce_b64");
  }

  void TearDown() override {
    agent_.reset();
    registry_.reset();
    tre_.reset();
    std::error_code ec;
    fs::remove_all(work_, ec);
  }

  // ---- per-session context --------------------------------------------------------------

  // What the scripted server knows from the wire, kept across the sessions of a case: the
  // nonces travel only in messages, so a device that rotates a nonce without telling the
  // server fails the next session.
  struct Wire {
    Bytes server_nonce;            // what the server must use for its next credential
    Bytes client_nonce;            // what the device must use for its next credential
    std::optional<Bytes> last_chal_nonce;  // the last NextNonce the device sent the server
    std::map<std::string, Bytes> nonces;   // {{Nonce:<name>}}
  };
  Wire wire_;

  struct Ctx {
    std::string session_id;
    std::uint32_t expected_msg_id = 1;
    syncml::Message last;          // the device's last message
    Bytes last_body;
    std::optional<std::string> last_hmac;
    std::vector<std::pair<std::uint32_t, std::uint32_t>> statuses_sent;  // (MsgRef, CmdRef)
    std::uint64_t server_max_msg_size = 0;
    std::map<std::string, std::string> assembled;  // Results data per source, concatenated
    std::vector<syncml::Message> all;
  };

  // Reads and checks one message of the device, and updates the context.
  void accept_device_message(Ctx& ctx, const Outgoing& out, const std::string& where) {
    SCOPED_TRACE(where);
    if (std::getenv("M2MDM_TRACE")) std::fprintf(stderr, "device> %s\n", std::string(as_chars(out.body)).c_str());
    auto msg = syncml::decode(out.body);
    ASSERT_TRUE(msg) << "the device sent a message that does not decode";
    EXPECT_EQ(msg->hdr.ver_dtd, "1.2");
    EXPECT_EQ(msg->hdr.ver_proto, "DM/1.2");
    EXPECT_EQ(msg->hdr.session_id, ctx.session_id);
    EXPECT_EQ(msg->hdr.msg_id, ctx.expected_msg_id) << "MsgIDs must count 1, 2, 3... in a session";
    ctx.expected_msg_id = msg->hdr.msg_id + 1;
    EXPECT_EQ(msg->hdr.source.loc_uri, kDevId);
    if (ctx.server_max_msg_size) {
      EXPECT_LE(out.body.size(), ctx.server_max_msg_size) << "larger than the server's MaxMsgSize";
    }
    for (const auto& c : msg->body) {
      if (const auto* st = std::get_if<syncml::Status>(&c.value)) {
        EXPECT_NE(st->cmd_id, 0u) << "Status without CmdID";
        ctx.statuses_sent.emplace_back(st->msg_ref, st->cmd_ref);
        if (st->cmd == "SyncHdr" && st->chal && st->chal->meta.next_nonce) {
          auto n = base64_decode(*st->chal->meta.next_nonce);
          EXPECT_TRUE(n) << "NextNonce is not base64";
          if (n) {
            wire_.server_nonce = *n;
            wire_.last_chal_nonce = *n;
          }
        }
      }
      if (const auto* res = std::get_if<syncml::Results>(&c.value)) {
        const bool after_status =
            std::find(ctx.statuses_sent.begin(), ctx.statuses_sent.end(),
                      std::make_pair(res->msg_ref.value_or(0), res->cmd_ref)) != ctx.statuses_sent.end();
        EXPECT_TRUE(after_status) << "Results for CmdRef " << res->cmd_ref << " before its Status";
        for (const auto& item : res->items)
          if (item.source && item.data) ctx.assembled[item.source->loc_uri] += *item.data;
      }
    }
    ctx.last = *msg;
    ctx.last_body = out.body;
    ctx.last_hmac = out.hmac_header;
    ctx.all.push_back(*msg);
  }

  // ---- building the server's messages from templates -------------------------------------

  std::string server_cred(const std::string& args) {
    std::map<std::string, std::string> opt;
    std::stringstream ss(args);
    std::string kv;
    while (std::getline(ss, kv, ',')) {
      const auto eq = kv.find('=');
      if (eq != std::string::npos) opt[kv.substr(0, eq)] = kv.substr(eq + 1);
    }
    auto account = mo::find_dm_account(tree_, kServerId);
    std::string type_name = "DIGEST";
    std::string secret = "server-secret";
    for (const auto& a : account->app_auth)
      if (a.level == "SRVCRED") {
        type_name = a.type;
        secret = a.secret;
      }
    if (opt.contains("type")) type_name = opt["type"];
    if (opt.contains("secret")) secret = opt["secret"];
    Bytes nonce = wire_.server_nonce;
    if (opt.contains("nonce_b64")) nonce = base64_decode(opt["nonce_b64"]).value_or(Bytes{});
    const auto type = auth_type_from_aauth(type_name);
    EXPECT_TRUE(type && *type != syncml::AuthType::hmac) << "{{ServerCred}} needs BASIC or DIGEST";
    if (!type || *type == syncml::AuthType::hmac) return {};
    auto data = syncml::make_credential(*type, kServerId, secret, nonce);
    EXPECT_TRUE(data);
    return "<Cred><Meta><Format xmlns=\"syncml:metinf\">b64</Format><Type xmlns=\"syncml:metinf\">" +
           std::string(syncml::auth_type_string(*type)) + "</Type></Meta><Data>" + data.value_or("") +
           "</Data></Cred>";
  }

  std::uint32_t client_cmd_ref(const Ctx& ctx, const std::string& what) {
    // "<Kind>" or "<Kind> <alert code>" (e.g. "Alert 1226"); "<Kind>#<n>" for the n-th (1-based).
    std::string kind = what;
    std::optional<std::uint16_t> code;
    std::size_t nth = 1;
    if (const auto hash = kind.find('#'); hash != std::string::npos) {
      nth = std::stoul(kind.substr(hash + 1));
      kind = kind.substr(0, hash);
    }
    if (const auto sp = kind.find(' '); sp != std::string::npos) {
      code = static_cast<std::uint16_t>(std::stoul(kind.substr(sp + 1)));
      kind = kind.substr(0, sp);
    }
    for (const auto& c : ctx.last.body) {
      if (syncml::command_name(c.kind()) != kind) continue;
      if (code) {
        const auto* a = std::get_if<syncml::Alert>(&c.value);
        if (!a || a->data != code) continue;
      }
      if (--nth == 0) return c.cmd_id();
    }
    ADD_FAILURE() << "the device's last message has no " << what;
    return 0;
  }

  std::string expand(Ctx& ctx, const std::string& text) {
    std::string unknown;
    auto out = m2mdm::test::expand_placeholders(
        text,
        [&](const std::string& name, const std::string& arg) -> std::optional<std::string> {
          if (name == "SessionID") return ctx.session_id;
          if (name == "DevId") return std::string(kDevId);
          if (name == "ServerURI") return std::string(kServerUri);
          if (name == "MsgRef") return std::to_string(ctx.last.hdr.msg_id);
          if (name == "CmdRef") return std::to_string(client_cmd_ref(ctx, arg));
          if (name == "ServerCred") return server_cred(arg);
          if (name == "Nonce") {
            if (!wire_.nonces.contains(arg)) wire_.nonces[arg] = syncml::generate_nonce().value();
            wire_.client_nonce = wire_.nonces[arg];
            return base64_encode(wire_.nonces[arg]);
          }
          if (name == "Repeat") {  // {{Repeat:<n>:<text>}}
            const auto c2 = arg.find(':');
            const auto times = std::stoul(arg.substr(0, c2));
            std::string r;
            for (std::size_t i = 0; i < times; ++i) r += arg.substr(c2 + 1);
            return r;
          }
          return std::nullopt;
        },
        &unknown);
    if (!unknown.empty()) ADD_FAILURE() << "unknown placeholder {{" << unknown << "}}";
    return out;
  }

  // ---- expectations on one device message ------------------------------------------------

  void check_reply(Ctx& ctx, const json& want, const std::string& where) {
    SCOPED_TRACE(where);
    const auto& m = ctx.last;
    if (want.contains("final")) {
      EXPECT_EQ(m.final, want.at("final").get<bool>());
    }
    if (want.contains("max_bytes")) {
      EXPECT_LE(ctx.last_body.size(), want.at("max_bytes").get<std::size_t>());
    }
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
      ASSERT_NE(st, nullptr) << "no Status for " << s.dump();
      EXPECT_EQ(st->data, s.at("code").get<int>()) << "Status for " << s.dump();
      if (s.contains("chal")) {
        EXPECT_EQ(st->chal.has_value(), s.at("chal").get<bool>()) << s.dump();
      }
    }
    for (const auto& s : want.value("no_statuses", json::array())) EXPECT_EQ(find_status(s), nullptr) << s.dump();
    auto count_alerts = [&](int code) {
      return std::count_if(m.body.begin(), m.body.end(), [&](const syncml::Command& c) {
        const auto* a = std::get_if<syncml::Alert>(&c.value);
        return a && a->data == code;
      });
    };
    for (const auto& a : want.value("alerts", json::array()))
      EXPECT_GE(count_alerts(a.get<int>()), 1) << "no Alert " << a.get<int>();
    for (const auto& a : want.value("no_alerts", json::array()))
      EXPECT_EQ(count_alerts(a.get<int>()), 0) << "unexpected Alert " << a.get<int>();
    if (want.value("devinfo", false)) {
      std::map<std::string, std::string> got;
      for (const auto& c : m.body)
        if (const auto* r = std::get_if<syncml::ItemCommand>(&c.value); r && r->kind == syncml::CommandKind::Replace)
          for (const auto& item : r->items)
            if (item.source) got[item.source->loc_uri] = item.data.value_or("");
      EXPECT_EQ(got["./DevInfo/DevId"], kDevId);
      EXPECT_EQ(got["./DevInfo/Man"], "m2mdm");
      EXPECT_EQ(got["./DevInfo/Mod"], "conformance-1");
      EXPECT_EQ(got["./DevInfo/DmV"], "1.2");
      EXPECT_EQ(got["./DevInfo/Lang"], "en-US");
    }
    if (want.contains("cred")) check_cred(ctx, want.at("cred").get<std::string>());
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
      ASSERT_NE(found, nullptr) << "no Results item for " << r.dump();
      if (r.contains("data")) {
        EXPECT_EQ(found->data.value_or(""), value_spec(r.at("data")));
      }
      if (r.contains("more_data")) {
        EXPECT_EQ(found->more_data, r.at("more_data").get<bool>()) << r.dump();
      }
      if (r.contains("size")) {
        std::optional<std::uint64_t> size;
        if (found->meta && found->meta->size) size = found->meta->size;
        if (!size && in->meta && in->meta->size) size = in->meta->size;
        if (r.at("size").is_null()) {
          EXPECT_FALSE(size) << r.dump();
        } else {
          EXPECT_EQ(size.value_or(0), r.at("size").get<std::uint64_t>()) << r.dump();
        }
      }
    }
    if (want.contains("no_results")) {
      EXPECT_TRUE(std::none_of(m.body.begin(), m.body.end(),
                               [](const syncml::Command& c) { return c.kind() == syncml::CommandKind::Results; }));
    }
    if (want.contains("generic_alerts")) {
      std::vector<const syncml::Alert*> got;
      for (const auto& c : m.body)
        if (const auto* a = std::get_if<syncml::Alert>(&c.value); a && a->data == 1226) got.push_back(a);
      const auto& list = want.at("generic_alerts");
      ASSERT_EQ(got.size(), list.size()) << "Generic Alerts in the message";
      for (std::size_t i = 0; i < got.size(); ++i) {
        const auto& w = list[i];
        const auto* a = got[i];
        ASSERT_EQ(a->items.size(), 1u);
        const auto& item = a->items[0];
        EXPECT_EQ(a->correlator.value_or(""), w.value("correlator", ""));
        ASSERT_TRUE(item.meta);
        EXPECT_EQ(item.meta->type.value_or(""), w.at("type").get<std::string>());
        EXPECT_EQ(item.meta->format.value_or(""), "chr");
        EXPECT_EQ(item.meta->mark.value_or(""), w.value("mark", ""));
        if (w.contains("source")) {
          EXPECT_EQ(item.source ? item.source->loc_uri : "", w.at("source").get<std::string>());
        }
        auto parsed = mo::parse_m2msim_alert_data(item.data.value_or(""));
        ASSERT_TRUE(parsed) << item.data.value_or("");
        EXPECT_EQ(parsed->first, w.at("code").get<int>()) << item.data.value_or("");
      }
    }
  }

  // The device's credential in its last message: "none", "basic", "md5" or "hmac", verified
  // with the device's secret and the nonce the server last gave it.
  void check_cred(const Ctx& ctx, const std::string& want) {
    const auto& hdr = ctx.last.hdr;
    const std::string secret = spec_.value("device", json::object()).value("client_secret", "client-secret");
    if (want == "none") {
      EXPECT_FALSE(hdr.cred) << "the device sent a Cred";
      EXPECT_FALSE(ctx.last_hmac) << "the device sent x-syncml-hmac";
      return;
    }
    if (want == "hmac") {
      EXPECT_FALSE(hdr.cred) << "HMAC must not travel in Cred (DM_Security 1.2 §5.1.4.1)";
      ASSERT_TRUE(ctx.last_hmac) << "no x-syncml-hmac";
      auto parsed = syncml::parse_hmac_header(*ctx.last_hmac);
      ASSERT_TRUE(parsed);
      EXPECT_EQ(parsed->username, kDevId);
      EXPECT_TRUE(syncml::verify_hmac(*parsed, secret, wire_.client_nonce, ctx.last_body))
          << "the device's HMAC does not verify with the nonce the server gave it";
      return;
    }
    ASSERT_TRUE(hdr.cred) << "no Cred in the device's SyncHdr";
    const auto type = syncml::parse_auth_type(hdr.cred->meta.type.value_or(""));
    ASSERT_TRUE(type);
    EXPECT_EQ(std::string(syncml::auth_type_string(*type)),
              want == "basic" ? syncml::kAuthTypeBasic : syncml::kAuthTypeMd5);
    EXPECT_TRUE(syncml::verify_credential(*type, hdr.cred->data, kDevId, secret, wire_.client_nonce))
        << "the device's credential does not verify with the nonce the server gave it";
  }

  void check_session_end(const Ctx& ctx, ClientSession& session, const json& want,
                         const std::map<std::string, std::string>& before) {
    if (want.contains("state")) {
      const std::string s = want.at("state").get<std::string>();
      const auto expected = s == "Completed" ? SessionState::Completed
                            : s == "Aborted" ? SessionState::Aborted
                                             : SessionState::AwaitingResponse;
      EXPECT_EQ(session.state(), expected) << "abort reason: " << session.report().abort_reason;
    }
    if (want.contains("abort_reason_contains")) {
      EXPECT_NE(session.report().abort_reason.find(want.at("abort_reason_contains").get<std::string>()),
                std::string::npos)
          << session.report().abort_reason;
    }
    if (want.value("tree_unchanged", false)) {
      EXPECT_EQ(tree_image(tree_), before) << "the tree changed";
    }
    const json tree_want = want.value("tree", json::object());
    for (const auto& [uri, v] : tree_want.items()) {
      if (v.is_null()) {
        EXPECT_FALSE(tree_.exists(uri)) << uri << " exists";
      } else {
        EXPECT_EQ(tree_.get_text(uri).value_or("<absent>"), value_spec(v)) << uri;
      }
    }
    const json assembled_want = want.value("assembled", json::object());
    for (const auto& [uri, v] : assembled_want.items()) {
      const auto it = ctx.assembled.find(uri);
      ASSERT_NE(it, ctx.assembled.end()) << "no Results for " << uri;
      EXPECT_EQ(it->second, value_spec(v)) << uri;
    }
    if (want.contains("report")) {
      const auto& r = want.at("report");
      const auto& got = session.report();
      if (r.contains("server_authenticated")) {
        EXPECT_EQ(got.server_authenticated, r.at("server_authenticated").get<bool>());
      }
      if (r.contains("client_authenticated")) {
        EXPECT_EQ(got.client_authenticated, r.at("client_authenticated").get<bool>());
      }
      if (r.contains("alerts_acknowledged")) {
        EXPECT_EQ(got.alerts_acknowledged, r.at("alerts_acknowledged").get<unsigned>());
      }
    }
    if (want.contains("client_nonce")) {
      // The nonce the server gave for the device's next credential is the one persisted.
      const auto& name = want.at("client_nonce").get<std::string>();
      ASSERT_TRUE(wire_.nonces.contains(name));
      EXPECT_EQ(account_nonce(tree_, "CLCRED").value_or(Bytes{}), wire_.nonces.at(name))
          << "CLCRED AAuthData does not hold the server's NextNonce";
    }
    if (want.value("server_nonce_persisted", false)) {
      ASSERT_TRUE(wire_.last_chal_nonce) << "the device never challenged the server";
      EXPECT_EQ(account_nonce(tree_, "SRVCRED").value_or(Bytes{}), *wire_.last_chal_nonce)
          << "SRVCRED AAuthData does not hold the last NextNonce the device sent";
    }
    if (want.contains("outbox")) {
      auto box = FileAlertOutbox::open(outbox_path_);
      ASSERT_TRUE(box);
      const auto pending = box->pending(kServerId);
      const auto& list = want.at("outbox");
      ASSERT_EQ(pending.size(), list.size()) << "alerts pending in the persisted outbox";
      for (std::size_t i = 0; i < pending.size(); ++i) {
        EXPECT_EQ(pending[i].payload.type, list[i].at("type").get<std::string>());
        EXPECT_EQ(pending[i].payload.correlator, list[i].value("correlator", ""));
        auto parsed = mo::parse_m2msim_alert_data(pending[i].payload.data);
        ASSERT_TRUE(parsed);
        EXPECT_EQ(parsed->first, list[i].at("code").get<int>());
        if (list[i].contains("min_attempts")) {
          EXPECT_GE(pending[i].attempts, list[i].at("min_attempts").get<std::uint32_t>());
        }
      }
    }
  }

  // ---- one session --------------------------------------------------------------------------

  void run_session(const json& s, std::size_t index) {
    const std::string label = "session " + std::to_string(index + 1);
    SCOPED_TRACE(label);
    const json cfg_j = s.value("config", spec_.value("config", json::object()));
    SessionConfig cfg;
    if (cfg_j.contains("max_msg_size")) cfg.max_msg_size = cfg_j.at("max_msg_size").get<std::uint64_t>();
    if (cfg_j.contains("max_obj_size")) cfg.max_obj_size = cfg_j.at("max_obj_size").get<std::uint64_t>();
    if (cfg_j.contains("max_auth_attempts")) cfg.max_auth_attempts = cfg_j.at("max_auth_attempts").get<unsigned>();
    if (cfg_j.value("encoding", "xml") == "wbxml") cfg.encoding = syncml::Encoding::Wbxml;

    ASSERT_TRUE(outbox_->reopen()) << "the outbox file does not reopen";
    ClientSession session(tree_, *outbox_, std::string(kServerId), cfg);
    const auto before = tree_image(tree_);

    Ctx ctx;
    Result<Outgoing> first = [&]() -> Result<Outgoing> {
      const json start = s.value("start", json("client"));
      if (start.is_object() && start.contains("server_initiated")) {
        syncml::Notification n;
        n.server_id = std::string(kServerId);
        n.session_id = start.at("server_initiated").get<std::uint16_t>();
        return session.start_server_initiated(n);
      }
      return session.start_client_initiated();
    }();
    ASSERT_TRUE(first) << first.error().message();
    ctx.session_id = session.session_id();
    if (s.contains("session_id")) {
      EXPECT_EQ(ctx.session_id, s.at("session_id").get<std::string>());
    }
    accept_device_message(ctx, *first, "package 1");
    if (HasFatalFailure()) return;
    check_reply(ctx, s.value("package1", json::object()), "package 1");
    std::optional<Outgoing> pending = std::move(*first);

    std::size_t step_no = 0;
    for (const auto& step : s.at("steps")) {
      ++step_no;
      const std::string where = "step " + std::to_string(step_no) + " (" + step.at("send").get<std::string>() + ")";
      SCOPED_TRACE(where);
      ASSERT_TRUE(pending) << "the session ended before this step";
      const std::string raw = slurp(case_dir_ / step.at("send").get<std::string>());
      const bool literal = step.value("literal", false);
      const std::string text = literal ? raw : expand(ctx, raw);
      Bytes body(text.begin(), text.end());
      std::string content_type = step.value("content_type", std::string(syncml::kContentTypeXml));
      if (auto parsed = syncml::decode(body)) {
        if (parsed->hdr.meta && parsed->hdr.meta->max_msg_size)
          ctx.server_max_msg_size = *parsed->hdr.meta->max_msg_size;
        if (step.value("encode", "xml") == "wbxml") {
          auto w = syncml::encode_wbxml(*parsed);
          ASSERT_TRUE(w);
          body = std::move(*w);
          content_type = syncml::kContentTypeWbxml;
        }
      }
      std::optional<std::string> hmac;
      if (step.contains("hmac")) {
        const auto& h = step.at("hmac");
        Bytes nonce = wire_.server_nonce;
        std::string secret = spec_.value("device", json::object()).value("server_secret", "server-secret");
        if (h.is_object()) {
          if (h.contains("nonce_b64")) nonce = base64_decode(h.at("nonce_b64").get<std::string>()).value_or(Bytes{});
          if (h.contains("secret")) secret = h.at("secret").get<std::string>();
        }
        auto header = syncml::hmac_header_value(kServerId, secret, nonce, body);
        ASSERT_TRUE(header);
        hmac = *header;
      }
      if (std::getenv("M2MDM_TRACE")) std::fprintf(stderr, "server> %s\n", text.c_str());
      auto reply = session.on_response(body, content_type, hmac);
      const json want = step.value("reply", json::object());
      if (!reply || !*reply) {
        pending.reset();
        EXPECT_TRUE(want.value("none", false))
            << "the device sent nothing: " << (reply ? "session over" : reply.error().message()) << " / "
            << session.report().abort_reason;
        continue;
      }
      EXPECT_FALSE(want.value("none", false)) << "the device answered a message it should not have";
      pending = std::move(**reply);
      accept_device_message(ctx, *pending, where);
      if (HasFatalFailure()) return;
      check_reply(ctx, want, where);
      if (HasFatalFailure()) return;
    }
    if (s.value("ends_after_steps", true)) {
      EXPECT_NE(session.state(), SessionState::AwaitingResponse)
          << "the script ended but the device still waits for an answer";
    }
    check_session_end(ctx, session, s.value("expect", json::object()), before);
  }

  fs::path case_dir_;
  json spec_;
  fs::path work_;
  std::unique_ptr<SoftwareTre> tre_;
  std::optional<McimRegistry> registry_;
  mo::Tree tree_;
  fs::path outbox_path_;
  std::optional<ReopenedOutbox> outbox_;
  std::optional<M2msimAgent> agent_;
};

TEST_P(ClientConformance, ScriptedServer) {
  SCOPED_TRACE(spec_.value("rule", std::string{}));
  const auto& sessions = spec_.at("sessions");
  for (std::size_t i = 0; i < sessions.size(); ++i) {
    run_session(sessions[i], i);
    if (HasFatalFailure()) return;
  }
}

INSTANTIATE_TEST_SUITE_P(Vectors, ClientConformance, ::testing::ValuesIn(case_names()),
                         [](const ::testing::TestParamInfo<std::string>& p) { return p.param; });

}  // namespace
}  // namespace m2mdm::client
