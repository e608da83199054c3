// The embeddable M2ME (see m2mdm/client/device.hpp): state directory, bootstrap, package 0,
// DM sessions through a Transport, the M2MSIMMobj agent, atomic persistence.
#include "m2mdm/client/device.hpp"

#include "m2mdm/bootstrap/dm_profile.hpp"
#include "m2mdm/bootstrap/wsp.hpp"
#include "m2mdm/client/error.hpp"
#include "m2mdm/client/http_transport.hpp"
#include "m2mdm/client/log.hpp"
#include "m2mdm/client/state_key.hpp"
#include "m2mdm/mo/error.hpp"
#include "m2mdm/mo/m2msim_object.hpp"
#include "m2mdm/mo/tree_store.hpp"
#include "m2mdm/syncml/notification.hpp"
#include "m2mdm/syncml/unix_clock.hpp"
#include "text_format.hpp"


#include <algorithm>
#include <charconv>

namespace m2mdm::client {

namespace fs = std::filesystem;
namespace bs = m2mdm::bootstrap;
using syncml::StatusCode;

namespace {

// The device-private bootstrap record (not a standardized MO; see device.hpp).
constexpr std::string_view kVendorRoot = "./Vendor/m2mdm";
constexpr std::string_view kBootRoot = "./Vendor/m2mdm/Bootstrap";

std::string join(const std::vector<std::string>& v, std::string_view sep = ",") {
  std::string out;
  for (const auto& s : v) {
    if (!out.empty()) out += sep;
    out += s;
  }
  return out;
}

// A node name for @p name: characters outside [A-Za-z0-9._-] become '_'.
std::string segment_for(std::string_view name) {
  std::string s(name);
  for (auto& c : s) {
    const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' ||
                    c == '_' || c == '-';
    if (!ok) c = '_';
  }
  if (s.empty() || s == "." || s == "..") s = "_" + s;
  return s;
}

std::string context_uri(std::string_view context) { return std::string(kBootRoot) + "/" + segment_for(context); }

bool all_ok(std::initializer_list<StatusCode> codes) {
  return std::all_of(codes.begin(), codes.end(), [](StatusCode s) { return syncml::is_success(s); });
}

std::string describe_error(const std::error_code& ec) { return ec.category().name() + std::string(":") + ec.message(); }

// AccountStore over the DM tree: staged = the live tree, rollback = restore the snapshot taken
// by begin(). The Device persists the tree after a successful commit.
class TreeAccountStore final : public bs::AccountStore {
 public:
  explicit TreeAccountStore(mo::Tree& tree) : tree_(tree) {}

  bool is_bootstrapped(std::string_view context) const override {
    return tree_.get_text(context_uri(context) + "/Bootstrapped") == "true";
  }
  Result<void> begin() override {
    if (snapshot_) return fail(bs::errc::store_failed);
    snapshot_ = tree_.snapshot();
    return {};
  }
  Result<void> put_account(std::string_view context, const bs::DmAccount& account) override {
    if (!snapshot_) return fail(bs::errc::store_failed);
    const std::string base = context_uri(context);
    // The same DMAcc node as before for this context, or the one that already serves this
    // ServerID, else a new one named after the ServerID.
    std::string node = tree_.get_text(base + "/Account").value_or("");
    if (node.empty()) {
      if (auto existing = mo::find_dm_account(tree_, account.server_id)) node = existing->node_name;
    }
    if (node.empty()) node = segment_for(account.server_id);
    mo::DmAccountView view;
    view.node_name = node;
    view.app_id = account.app_id;
    view.server_id = account.server_id;
    view.name = account.name;
    view.pref_con_ref = account.pref_conref;
    mo::DmAppAddr addr;
    addr.name = "1";
    addr.addr = account.addr;
    addr.addr_type = account.addr_type.empty() ? "URI" : account.addr_type;
    if (account.port) addr.ports.push_back(std::to_string(*account.port));
    view.app_addr.push_back(std::move(addr));
    for (const auto& c : account.app_auth) {
      mo::DmAppAuth a;
      a.name = c.level;
      a.level = c.level;
      a.type = c.type;
      a.auth_name = c.name;
      a.secret = c.secret;
      a.data = c.data;
      if (c.level == "CLCRED") view.aauth_pref = c.type;
      view.app_auth.push_back(std::move(a));
    }
    if (!syncml::is_success(mo::write_dm_account(tree_, view))) return fail(bs::errc::store_failed);
    if (!all_ok({tree_.set_text(base + "/Context", context), tree_.set_text(base + "/ServerID", account.server_id),
                 tree_.set_text(base + "/Account", node)}))
      return fail(bs::errc::store_failed);
    return {};
  }
  Result<void> put_connectivity(std::string_view context, const bs::ConnectivityProfile& p) override {
    if (!snapshot_) return fail(bs::errc::store_failed);
    const std::string n = context_uri(context) + "/NAP";
    if (!all_ok({tree_.set_text(n + "/NAPID", p.napid), tree_.set_text(n + "/Name", p.name),
                 tree_.set_text(n + "/Bearer", p.bearer), tree_.set_text(n + "/APN", p.apn),
                 tree_.set_text(n + "/AddrType", p.addr_type), tree_.set_text(n + "/AuthType", p.auth_type),
                 tree_.set_text(n + "/AuthName", p.auth_name), tree_.set_text(n + "/AuthSecret", p.auth_secret)}))
      return fail(bs::errc::store_failed);
    return {};
  }
  Result<void> put_server_pin(std::string_view context, const Bytes& pin) override {
    if (!snapshot_) return fail(bs::errc::store_failed);
    if (!syncml::is_success(tree_.set(context_uri(context) + "/SPKI-SHA256",
                                      mo::NodeValue{mo::Format::Bin, "application/octet-stream", pin})))
      return fail(bs::errc::store_failed);
    return {};
  }
  Result<void> mark_bootstrapped(std::string_view context) override {
    if (!snapshot_) return fail(bs::errc::store_failed);
    if (!syncml::is_success(tree_.set_text(context_uri(context) + "/Bootstrapped", "true", mo::Format::Bool)))
      return fail(bs::errc::store_failed);
    return {};
  }
  Result<void> commit() override {
    if (!snapshot_) return fail(bs::errc::store_failed);
    snapshot_.reset();
    return {};
  }
  void rollback() noexcept override {
    if (snapshot_) tree_.restore(std::move(*snapshot_));
    snapshot_.reset();
  }

 private:
  mo::Tree& tree_;
  std::optional<mo::TreeSnapshot> snapshot_;
};

std::vector<ContextRecord> read_contexts(const mo::Tree& tree) {
  std::vector<ContextRecord> out;
  for (const auto& name : tree.children(kBootRoot)) {
    const std::string base = std::string(kBootRoot) + "/" + name;
    if (tree.get_text(base + "/Bootstrapped") != "true") continue;
    ContextRecord r;
    r.context = tree.get_text(base + "/Context").value_or(name);
    r.server_id = tree.get_text(base + "/ServerID").value_or("");
    r.account_node = tree.get_text(base + "/Account").value_or("");
    r.spki_sha256 = tree.get_bytes(base + "/SPKI-SHA256");
    r.role = bs::parse_context_role(r.context);
    out.push_back(std::move(r));
  }
  return out;
}

bool same_entries(const std::vector<mo::McimEntryView>& a, const std::vector<mo::McimEntryView>& b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (a[i].node_name != b[i].node_name || a[i].id != b[i].id || a[i].sho != b[i].sho ||
        a[i].state != b[i].state || a[i].counter != b[i].counter || a[i].last_result != b[i].last_result)
      return false;
  }
  return true;
}

// Logs @p e's human line through the client's log sink (a Device without DeviceOptions::on_event).
void log_event(const DeviceEvent& e) { log(e.severity, e.message); }

DeviceEvent make_event(DeviceEventKind kind, EventSeverity severity, std::string message) {
  DeviceEvent e;
  e.kind = kind;
  e.severity = severity;
  e.message = std::move(message);
  return e;
}

// A refusal or failure: @p detail is the reason in words, @p message the whole human line.
DeviceEvent failure_event(DeviceEventKind kind, std::error_code ec, std::string detail, std::string message) {
  DeviceEvent e = make_event(kind, EventSeverity::warning, std::move(message));
  e.error = ec;
  e.detail = std::move(detail);
  return e;
}

// The M2MSIMMobj operation an alert type stands for ("Activate" for kAlertActivate, ...).
std::string operation_of(std::string_view type) {
  if (type == mo::kAlertInstall) return "Install";
  if (type == mo::kAlertActivate) return "Activate";
  if (type == mo::kAlertDeactivate) return "Deactivate";
  if (type == mo::kAlertDelete) return "Delete";
  if (type == mo::kAlertReset) return "ResetToPristine";
  return std::string(type);
}

// The event for one outcome the M2MSIMMobj agent queued as a Generic Alert.
DeviceEvent mcim_event(const M2msimReport& r) {
  const bool ok = r.result == mo::M2msimResult::Success;
  const auto code = static_cast<std::uint16_t>(r.result);
  DeviceEvent e;
  if (r.type == mo::kAlertBlocked) {
    e = make_event(DeviceEventKind::mcim_blocked, EventSeverity::warning,
                   detail::text_format("MCIM {} blocked: {} (reported to {})", r.source, r.message, r.server_id));
  } else if (r.type == mo::kAlertInstall) {
    e = ok ? make_event(DeviceEventKind::mcim_installed, EventSeverity::info,
                        detail::text_format("MCIM install {} for {} ({}): {}", r.source, r.server_id, r.correlator, r.message))
           : make_event(DeviceEventKind::mcim_install_failed, EventSeverity::warning,
                        detail::text_format("MCIM install {} for {} ({}) failed: {} {}", r.source, r.server_id, r.correlator,
                                    code, r.message));
  } else {
    e = make_event(DeviceEventKind::mcim_operation, ok ? EventSeverity::info : EventSeverity::warning,
                   detail::text_format("MCIM {} {} for {} ({}): {} {}", operation_of(r.type), r.source, r.server_id,
                               r.correlator, code, r.message));
    e.operation = operation_of(r.type);
  }
  e.server_id = r.server_id;
  e.correlator = r.correlator;
  e.mcim = r.source;
  e.result = code;
  e.detail = r.message;
  return e;
}

}  // namespace

// ---------------------------------------------------------------------------------------------

struct Device::Impl {
  DeviceOptions options;
  fs::path tree_file;
  std::shared_ptr<Tre> tre;
  SoftwareTre* software_tre = nullptr;  // the TRE opened on tre_dir (none when options.tre was given)
  std::optional<McimRegistry> registry;
  std::shared_ptr<AlertOutbox> outbox;
  mo::Tree tree;
  std::optional<M2msimAgent> agent;
  std::vector<std::string> m2msim_servers;  // as installed in ./M2MSIMMobj

  // Hands @p e to the sink (or the log); nothing the sink throws reaches the caller.
  void emit(const DeviceEvent& e) const {
    if (!options.on_event) return log_event(e);
    try {
      options.on_event(e);
    } catch (...) {
    }
  }

  std::int64_t now() const {
    return unix_now(options.clock);
  }

  // The tree's store: images sealed under the TRE's state key (client/state_key.hpp).
  mo::TreeStore tree_store() const { return mo::TreeStore(tree_file, tre_tree_sealer(*tre)); }

  Result<void> persist() {
    mo::TreeStore store = tree_store();
    if (auto r = store.save(tree); !r) {
      log(EventSeverity::error, "state: saving " + tree_file.string() + " failed: " + describe_error(r.error()));
      return r;
    }
    return {};
  }

  // The ServerIDs that may use the M2MSIMMobj: the MCIM provisioning context's, else all.
  std::vector<std::string> wanted_m2msim_servers() const {
    std::vector<std::string> out;
    const auto records = read_contexts(tree);
    for (const auto& r : records)
      if (r.role == bs::ContextRole::mcim_provisioning && !r.server_id.empty()) out.push_back(r.server_id);
    if (out.empty())
      for (const auto& r : records)
        if (!r.server_id.empty()) out.push_back(r.server_id);
    return out;
  }

  // Installs (or updates the ACLs of) the M2MSIMMobj and attaches the MCIM agent once.
  Result<void> setup_m2msim() {
    auto servers = wanted_m2msim_servers();
    if (servers.empty()) return {};
    mo::M2msimConfig cfg;
    cfg.pfc_der = tre->platform_certificate();
    cfg.dev_id = tre->device_id();
    cfg.servers = servers;
    if (const auto s = mo::install_m2msim_object(tree, cfg); !syncml::is_success(s)) return fail(errc::invalid_argument);
    m2msim_servers = std::move(servers);
    if (!agent) {
      M2msimAgentOptions ao;
      ao.clock = options.clock;
      ao.on_report = [this](const M2msimReport& r) { emit(mcim_event(r)); };
      ao.owner_anchors = options.owner_anchors;
      ao.owner_name = options.owner_name;
      agent.emplace(tree, *tre, *registry, *outbox, options.anchors, std::move(ao));
      agent->attach();
    }
    return {};
  }

  std::optional<ContextRecord> record_for_server(std::string_view server_id) const {
    for (auto& r : read_contexts(tree))
      if (r.server_id == server_id) return r;
    return std::nullopt;
  }

  // ---- bootstrap ----------------------------------------------------------------------------

  Result<BootstrapOutcome> apply_verified(const bs::VerifiedBootstrap& verified) {
    const auto& contexts = verified.result().contexts;
    const mo::TreeSnapshot before = tree.snapshot();
    TreeAccountStore store(tree);
    bs::RebootstrapGuard guard;
    const auto tp = bs::RebootstrapGuard::Clock::from_time_t(static_cast<std::time_t>(now()));
    // A context bootstrapped before takes a new bootstrap only while its own DM server has
    // armed ./M2MSIMMobj/ReBootstrap and the bootstrap carries a REBOOTSTRAP-TOKEN.
    bool rebootstrap = false;
    if (mo::rebootstrap_armed(tree, now())) {
      const auto armed_by = tree.get_text(mo::m2msim_uri("ReBootstrap/ArmedBy")).value_or("");
      std::int64_t expiry = 0;
      const auto exp_text = tree.get_text(mo::m2msim_uri("ReBootstrap/Expiry")).value_or("0");
      std::from_chars(exp_text.data(), exp_text.data() + exp_text.size(), expiry);
      // The server of the MCIM-provisioning context is the RO's, whose DRF bootstrapped every
      // context together: its arming covers them all (a device reset to the pristine state
      // takes a whole new bootstrap). Any other server arms its own context only.
      const auto armer = record_for_server(armed_by);
      const bool ro_armed = armer && armer->role == bs::ContextRole::mcim_provisioning;
      for (const auto& c : contexts) {
        if (!store.is_bootstrapped(c.context) || c.rebootstrap_token.empty()) continue;
        const auto rec_server = tree.get_text(context_uri(c.context) + "/ServerID").value_or("");
        if (rec_server != armed_by && !ro_armed) continue;
        if (guard.arm(c.context, c.rebootstrap_token, std::chrono::seconds(expiry - now()), tp)) rebootstrap = true;
      }
    }
    if (auto r = bs::apply_bootstrap(verified, store, guard, tp); !r) return refuse_bootstrap(r.error());
    auto undo = [&](std::error_code ec) {
      tree.restore(before);
      return fail(ec);
    };
    if (rebootstrap && !syncml::is_success(mo::disarm_rebootstrap(tree))) return undo(make_error_code(errc::io_error));
    // Each context's record is readable by its own server only; nobody may add below.
    std::vector<std::string> servers;
    for (const auto& r : read_contexts(tree)) {
      servers.push_back(r.server_id);
      tree.set_acl(context_uri(r.context), mo::Acl::of("Get=" + r.server_id));
    }
    if (auto acl = mo::Acl::parse("Get=" + join(servers, "+"))) tree.set_acl(kVendorRoot, *acl);
    if (auto r = setup_m2msim(); !r) return undo(r.error());
    if (auto r = persist(); !r) return undo(r.error());

    BootstrapOutcome out;
    for (const auto& c : contexts) {
      out.contexts.push_back(c.context);
      out.server_ids.push_back(c.account.server_id);
      if (c.account.init) out.init_servers.push_back(c.account.server_id);
    }
    const auto method = bs::sec_method_name(verified.method());
    DeviceEvent e = make_event(DeviceEventKind::bootstrap_applied, EventSeverity::info,
                               detail::text_format("bootstrap applied: contexts={} servers={} method={}", join(out.contexts),
                                           join(out.server_ids), method));
    e.contexts = out.contexts;
    e.servers = out.server_ids;
    e.init_servers = out.init_servers;
    e.sec_method = std::string(method);
    emit(e);
    return out;
  }

  // Reports a refused bootstrap; @p detail defaults to the error in words.
  std::unexpected<std::error_code> refuse_bootstrap(std::error_code ec, std::string detail = {}) const {
    if (detail.empty()) detail = describe_error(ec);
    emit(failure_event(DeviceEventKind::bootstrap_refused, ec, detail, "bootstrap refused: " + detail));
    return fail(ec);
  }

  // SEC of a push Content-Type -> method; refuses anything but the configured one.
  Result<void> check_sec(const bs::wsp::ContentType& ct) const {
    const auto sec = ct.sec();
    if (!sec)
      return refuse_bootstrap(make_error_code(errc::push_unverified),
                              "push carries no SEC parameter (unauthenticated)");
    std::optional<bs::SecMethod> method;
    if (sec->integer) {
      if (*sec->integer <= 3) method = static_cast<bs::SecMethod>(*sec->integer);
    } else if (auto m = bs::parse_sec_method(sec->text)) {
      method = *m;
    }
    if (!method || *method != options.sec)
      return refuse_bootstrap(make_error_code(errc::push_unverified),
                              detail::text_format("SEC {} is not the configured method {}",
                                          sec->integer ? std::to_string(*sec->integer) : sec->text,
                                          bs::sec_method_name(options.sec)));
    return {};
  }

  Result<BootstrapOutcome> apply_cp(ByteView wbxml, std::optional<std::string_view> mac) {
    auto verified = bs::verify_cp_bootstrap(wbxml, options.sec, options.sec_credentials, mac);
    if (!verified) return refuse_bootstrap(verified.error());
    return apply_verified(*verified);
  }

  Result<BootstrapOutcome> apply_push(const bs::wsp::PushPdu& pdu) {
    const auto code = pdu.content_type.code;
    const bool dm = code == bs::wsp::kCtSyncmlDmWbxml || pdu.content_type.media == "application/vnd.syncml.dm+wbxml";
    if (auto r = check_sec(pdu.content_type); !r) return fail(r.error());
    const auto mac = pdu.content_type.mac();
    std::optional<std::string_view> mac_view;
    if (mac) mac_view = *mac;
    if (!dm) return apply_cp(pdu.body, mac_view);
    auto verified = bs::verify_dm_bootstrap(pdu.body, options.sec, options.sec_credentials, mac_view);
    if (!verified) return refuse_bootstrap(verified.error());
    return apply_verified(*verified);
  }

  // ---- sessions -----------------------------------------------------------------------------

  Result<SessionReport> run(const std::string& server_id, const std::optional<syncml::Notification>& notification) {
    const std::string initiator = notification ? "server" : "client";
    // A session that did not start: @p detail is the reason (after "not started: ").
    auto not_started = [&](std::error_code ec, std::string detail, EventSeverity severity) {
      DeviceEvent e = failure_event(DeviceEventKind::session_failed, ec, detail,
                                    detail::text_format("session with {} not started: {}", server_id, detail));
      e.severity = severity;
      e.server_id = server_id;
      e.initiator = initiator;
      emit(e);
      return fail(ec);
    };
    auto creds = read_account_credentials(tree, server_id);
    if (!creds)
      return not_started(make_error_code(errc::not_bootstrapped),
                         detail::text_format("no usable DM account ({})", describe_error(creds.error())), EventSeverity::warning);
    TransportParams params;
    params.server_id = server_id;
    params.server_uri = creds->server_uri;
    if (auto rec = record_for_server(server_id)) params.spki_sha256 = rec->spki_sha256;
    params.ca_file = options.ca_file;
    Result<std::unique_ptr<Transport>> transport = options.transport
                                                       ? options.transport(params)
                                                       : [&]() -> Result<std::unique_ptr<Transport>> {
      HttpTransportOptions o;
      o.ca_file = params.ca_file;
      o.spki_sha256 = params.spki_sha256;
      auto t = HttpTransport::create(std::move(o));
      if (!t) return fail(t.error());
      return std::unique_ptr<Transport>(std::move(*t));
    }();
    if (!transport)
      return not_started(transport.error(), "transport: " + describe_error(transport.error()), EventSeverity::error);
    ClientSession session(tree, *outbox, server_id, options.session);
    auto first = notification ? session.start_server_initiated(*notification) : session.start_client_initiated();
    if (!first) return not_started(first.error(), describe_error(first.error()), EventSeverity::error);
    DeviceEvent started = make_event(DeviceEventKind::session_started, EventSeverity::debug,
                                     detail::text_format("session {} with {} ({}-initiated) started", session.session_id(),
                                                 server_id, initiator));
    started.server_id = server_id;
    started.session_id = session.session_id();
    started.initiator = initiator;
    emit(started);
    const auto changes = tree.change_count();
    auto report = run_session(session, **transport, std::move(*first));
    const auto& rep = session.report();
    if (tree.change_count() != changes) {
      if (auto p = persist(); !p && report) return fail(p.error());
    }
    const char* kind = notification ? "server-initiated" : "client-initiated";
    DeviceEvent ended;
    if (!report) {
      ended = failure_event(
          DeviceEventKind::session_failed, report.error(),
          describe_error(report.error()) + (rep.abort_reason.empty() ? "" : " reason=" + rep.abort_reason),
          detail::text_format("session {} with {} ({}) failed: {}{}{} messages={} commands={} alerts_acked={}",
                      session.session_id(), server_id, kind, describe_error(report.error()),
                      rep.abort_reason.empty() ? "" : " reason=", rep.abort_reason, rep.messages_sent,
                      rep.commands_executed, rep.alerts_acknowledged));
    } else {
      ended = make_event(DeviceEventKind::session_completed, EventSeverity::info,
                         detail::text_format("session {} with {} ({}) completed: messages={} commands={} refused={} "
                                     "alerts_acked={}",
                                     session.session_id(), server_id, kind, rep.messages_sent, rep.commands_executed,
                                     rep.commands_refused, rep.alerts_acknowledged));
    }
    ended.server_id = server_id;
    ended.session_id = session.session_id();
    ended.initiator = initiator;
    ended.report = rep;
    emit(ended);
    if (!report) return fail(report.error());
    return report;
  }

  Result<SessionReport> notification(ByteView bytes) {
    std::string detail;
    auto decoded = syncml::decode_notification(bytes, &detail);
    if (!decoded)
      return refuse_package0({}, make_error_code(errc::malformed),
                             detail::text_format("{} ({})", describe_error(decoded.error()), detail));
    const std::string server_id = decoded->fields.server_id;
    auto creds = read_account_credentials(tree, server_id);
    if (!creds)
      return refuse_package0(server_id, make_error_code(errc::not_bootstrapped),
                             "no DM account for server " + server_id);
    // DM_Notification 1.2 §6.2.2.2 digest with the server's credentials and our stored server
    // nonce; on failure once more with the reset nonce (§6.1 nonce resynchronisation).
    std::optional<ByteView> nonce;
    if (!creds->server_nonce.empty()) nonce = ByteView(creds->server_nonce);
    const auto form = syncml::verify_notification_with_reset(*decoded, server_id, creds->server_secret, nonce);
    if (!form)
      return refuse_package0(server_id, make_error_code(errc::push_unverified),
                             "digest from " + server_id + " does not verify (stored or reset nonce)");
    DeviceEvent e = make_event(
        DeviceEventKind::package0_verified, EventSeverity::info,
        detail::text_format("package 0 from {} verified ({}), session id {}, ui mode {}", server_id,
                    syncml::notification_nonce_name(*form), syncml::session_id_hex(decoded->fields.session_id),
                    syncml::ui_mode_name(decoded->fields.ui_mode)));
    e.server_id = server_id;
    e.session_id = syncml::session_id_hex(decoded->fields.session_id);
    e.ui_mode = std::string(syncml::ui_mode_name(decoded->fields.ui_mode));
    e.nonce = std::string(syncml::notification_nonce_name(*form));
    emit(e);
    return run(server_id, decoded->fields);
  }

  std::unexpected<std::error_code> refuse_package0(const std::string& server_id, std::error_code ec,
                                                   std::string detail) const {
    DeviceEvent e = failure_event(DeviceEventKind::package0_refused, ec, detail, "package 0 refused: " + detail);
    e.server_id = server_id;
    emit(e);
    return fail(ec);
  }

  // A push that is neither a bootstrap nor a package 0; @p message is the whole human line.
  std::unexpected<std::error_code> refuse_push(std::error_code ec, std::string detail, std::string message) const {
    emit(failure_event(DeviceEventKind::push_refused, ec, std::move(detail), std::move(message)));
    return fail(ec);
  }

  Result<std::string> default_server() const {
    const auto records = read_contexts(tree);
    for (const auto& r : records)
      if (r.role == bs::ContextRole::mcim_provisioning) return r.server_id;
    if (records.size() == 1) return records.front().server_id;
    const auto accounts = mo::list_dm_accounts(tree);
    if (accounts.size() == 1) return accounts.front().server_id;
    return fail(errc::not_bootstrapped);
  }
};

// ---------------------------------------------------------------------------------------------

Device::Device(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Device::~Device() = default;

Result<std::unique_ptr<Device>> Device::open(DeviceOptions options) {
  if (options.state_dir.empty()) return fail(errc::invalid_argument);
  std::error_code ec;
  fs::create_directories(options.state_dir, ec);
  if (ec) {
    log(EventSeverity::error, "state: cannot create " + options.state_dir.string() + ": " + ec.message());
    return fail(errc::io_error);
  }
  fs::permissions(options.state_dir, fs::perms::owner_all, fs::perm_options::replace, ec);
  if (options.tre_dir.empty()) options.tre_dir = options.state_dir / "tre";

  auto impl = std::make_unique<Impl>();
  impl->tree_file = options.state_dir / "tree.m2mt";
  if (options.tre) {
    impl->tre = std::move(options.tre);
  } else {
    auto tre = SoftwareTre::open(options.tre_dir);
    if (!tre) {
      log(EventSeverity::error, "TRE " + options.tre_dir.string() + ": " + describe_error(tre.error()));
      return fail(tre.error());
    }
    impl->software_tre = tre->get();
    impl->tre = std::shared_ptr<SoftwareTre>(std::move(*tre));
  }
  auto registry = McimRegistry::open(*impl->tre);
  if (!registry) {
    log(EventSeverity::error, "MCIM registry: " + describe_error(registry.error()));
    return fail(registry.error());
  }
  impl->registry.emplace(std::move(*registry));
  if (options.outbox) {
    impl->outbox = std::move(options.outbox);
  } else {
    auto outbox = FileAlertOutbox::open(options.state_dir / "outbox.json");
    if (!outbox) {
      log(EventSeverity::error, "outbox: " + describe_error(outbox.error()));
      return fail(outbox.error());
    }
    impl->outbox = std::make_shared<FileAlertOutbox>(std::move(*outbox));
  }
  impl->options = std::move(options);

  mo::TreeStore store = impl->tree_store();
  auto loaded = store.load();
  const bool fresh = !loaded;
  if (loaded) {
    impl->tree = std::move(*loaded);
    if (store.last_generation() == mo::Generation::Previous)
      log(EventSeverity::warning, "state: " + impl->tree_file.string() + " did not verify, using the previous generation");
  } else if (loaded.error() == make_error_code(mo::errc::seal_tag_mismatch) ||
             loaded.error() == make_error_code(mo::errc::bad_key)) {
    // Never replaced by an empty tree: the device stops until its state or its TRE is restored.
    log(EventSeverity::error, "state: " + impl->tree_file.string() +
                                  " does not open with the TRE's state key (another key, no key, or altered): " +
                                  describe_error(loaded.error()));
    return fail(loaded.error());
  } else if (loaded.error() != make_error_code(mo::errc::store_missing)) {
    log(EventSeverity::error, "state: " + impl->tree_file.string() + ": " + describe_error(loaded.error()));
    return fail(loaded.error());
  }
  // A tree of an earlier release lies in clear: sealed now, both generations (two saves).
  const bool migrate = loaded && store.holds_clear_image();

  Impl& d = *impl;
  // Descriptions and handlers are not stored: register them again. On a loaded tree the node
  // values written by the installers are put back, so that an unchanged device does not
  // rewrite its state at every start.
  const mo::TreeSnapshot as_loaded = d.tree.snapshot();
  mo::DevInfo info;
  info.dev_id = d.tre->device_id();
  info.man = d.options.manufacturer;
  info.mod = d.options.model;
  if (!all_ok({mo::install_devinfo(d.tree, info), mo::install_dmacc(d.tree)})) return fail(errc::invalid_argument);
  if (!fresh) d.tree.restore(as_loaded);
  const auto entries_before = mo::list_mcim_entries(d.tree);
  const bool had_m2msim = d.tree.exists(mo::kM2msimRoot);
  const mo::TreeSnapshot before_agent = d.tree.snapshot();
  if (auto r = d.setup_m2msim(); !r) return fail(r.error());
  bool changed = fresh;
  if (!fresh) {
    // The agent rewrote MCIM/<x> from the registry: keep the loaded nodes when nothing differs.
    if (had_m2msim == d.tree.exists(mo::kM2msimRoot) && same_entries(entries_before, mo::list_mcim_entries(d.tree)))
      d.tree.restore(before_agent);
    else
      changed = true;
  }
  if (const auto blocked = d.tre->blocked_at_start(); !blocked.empty() && d.agent && !d.m2msim_servers.empty()) {
    d.agent->report_blocked(d.m2msim_servers.front());
    log(EventSeverity::warning, "TRE: " + std::to_string(blocked.size()) +
                                    " stored item(s) failed their integrity check at start; reported as Blocked");
  }
  if (changed || migrate) {
    if (auto r = d.persist(); !r) return fail(r.error());
  }
  if (migrate) {
    if (auto r = d.persist(); !r) return fail(r.error());
    log(EventSeverity::info,
        "state: " + d.tree_file.string() + " (and .prev) sealed with the TRE's state key; the clear images are gone");
  }
  DeviceEvent ready = make_event(DeviceEventKind::device_ready, EventSeverity::info, {});
  for (const auto& r : read_contexts(d.tree)) ready.contexts.push_back(r.context);
  ready.device_id = info.dev_id;
  ready.mcim_count = d.registry->entries().size();
  ready.message = detail::text_format("device {} ready: state {}, {} context(s), {} MCIM(s)", info.dev_id,
                              d.options.state_dir.string(), ready.contexts.size(), ready.mcim_count);
  d.emit(ready);
  return std::unique_ptr<Device>(new Device(std::move(impl)));
}

Result<void> Device::handle_push(ByteView push_pdu) {
  bs::DecodeDetail detail;
  auto pdu = bs::wsp::decode_push(push_pdu, &detail);
  if (!pdu) {
    auto why = detail::text_format("not a WSP push: {} ({})", describe_error(pdu.error()), bs::to_string(detail));
    return impl_->refuse_push(pdu.error(), why, "push refused: " + why);
  }
  const auto& ct = pdu->content_type;
  auto is = [&](std::uint32_t code) {
    return ct.code == code || ct.media == bs::wsp::content_type_name(code);
  };
  if (is(bs::wsp::kCtConnectivityWbxml) || is(bs::wsp::kCtSyncmlDmWbxml)) {
    auto r = impl_->apply_push(*pdu);
    if (!r) return fail(r.error());
    if (impl_->options.session_on_init)
      for (const auto& sid : r->init_servers) (void)impl_->run(sid, std::nullopt);  // INIT: session right away
    return {};
  }
  if (is(bs::wsp::kCtSyncmlNotification)) {
    auto r = impl_->notification(pdu->body);
    if (!r) return fail(r.error());
    return {};
  }
  auto why = detail::text_format("content type {} is neither a bootstrap nor a package 0",
                         ct.media.empty() && ct.code ? std::to_string(*ct.code) : ct.media);
  return impl_->refuse_push(make_error_code(errc::invalid_argument), why, "push ignored: " + why);
}

Result<BootstrapOutcome> Device::apply_bootstrap_push(ByteView push_pdu) {
  bs::DecodeDetail detail;
  auto pdu = bs::wsp::decode_push(push_pdu, &detail);
  if (!pdu)
    return impl_->refuse_bootstrap(pdu.error(), detail::text_format("not a WSP push: {} ({})", describe_error(pdu.error()),
                                                            bs::to_string(detail)));
  return impl_->apply_push(*pdu);
}

Result<BootstrapOutcome> Device::apply_bootstrap_wbxml(ByteView wbxml, std::optional<std::string_view> mac) {
  return impl_->apply_cp(wbxml, mac);
}

Result<SessionReport> Device::handle_notification(ByteView package0) { return impl_->notification(package0); }

Result<SessionReport> Device::run_client_session(std::optional<std::string> server_id) {
  std::string sid;
  if (server_id) {
    sid = *server_id;
  } else {
    auto d = impl_->default_server();
    if (!d) {
      impl_->emit(failure_event(DeviceEventKind::session_failed, d.error(), "the device is not bootstrapped (no DM account)",
                                "no session: the device is not bootstrapped (no DM account)"));
      return fail(d.error());
    }
    sid = *d;
  }
  return impl_->run(sid, std::nullopt);
}

std::vector<ContextRecord> Device::contexts() const { return read_contexts(impl_->tree); }
const mo::Tree& Device::tree() const noexcept { return impl_->tree; }
const McimRegistry& Device::registry() const noexcept { return *impl_->registry; }
Tre& Device::tre() noexcept { return *impl_->tre; }
SoftwareTre* Device::software_tre() noexcept { return impl_->software_tre; }
const fs::path& Device::tree_file() const noexcept { return impl_->tree_file; }
std::vector<PendingAlert> Device::pending_alerts(std::string_view server_id) const {
  return impl_->outbox->pending(server_id);
}

}  // namespace m2mdm::client
