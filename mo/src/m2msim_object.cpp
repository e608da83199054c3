#include "m2mdm/mo/m2msim_object.hpp"

#include "m2mdm/mo/error.hpp"
#include "m2mdm/syncml/unix_clock.hpp"

#include <array>
#include <charconv>
#include <chrono>

namespace m2mdm::mo {
namespace {

constexpr std::array<std::string_view, 6> kMcimStates{"Downloaded", "Installed", "Active",
                                                       "Inactive", "Blocked", "Deleted"};
constexpr std::array<std::string_view, 4> kDownloadStates{"Idle", "Installing", "Installed", "Failed"};

struct ResultName {
  M2msimResult code;
  std::string_view name;
};
constexpr std::array<ResultName, 17> kResults{{
    {M2msimResult::Success, "Success"},
    {M2msimResult::ClientError, "ClientError"},
    {M2msimResult::BadSignature, "BadSignature"},
    {M2msimResult::WrongDevice, "WrongDevice"},
    {M2msimResult::Expired, "Expired"},
    {M2msimResult::Replayed, "Replayed"},
    {M2msimResult::RolledBack, "RolledBack"},
    {M2msimResult::UntrustedSigner, "UntrustedSigner"},
    {M2msimResult::DecryptionFailed, "DecryptionFailed"},
    {M2msimResult::StorageFailure, "StorageFailure"},
    {M2msimResult::MalformedPackage, "MalformedPackage"},
    {M2msimResult::InvalidState, "InvalidState"},
    {M2msimResult::NotFound, "NotFound"},
    {M2msimResult::AuthorizationFailed, "AuthorizationFailed"},
    {M2msimResult::UsimFailure, "UsimFailure"},
    {M2msimResult::IntegrityFailure, "IntegrityFailure"},
    {M2msimResult::InternalError, "InternalError"},
}};

constexpr std::uint16_t bit(Format f) { return static_cast<std::uint16_t>(1u << static_cast<unsigned>(f)); }

NodeRule rule(std::string rel, AccessTypes access, Scope scope, Format format, std::string type = {},
              std::uint16_t also = 0) {
  NodeRule r;
  r.pattern = rel.empty() ? std::string(kM2msimRoot) : std::string(kM2msimRoot) + "/" + rel;
  r.access = access;
  r.scope = scope;
  r.format = format;
  r.type = std::move(type);
  r.also_formats = also;
  return r;
}

// The rules of the Operations interior node under @p parent ("" for the object's own) and of
// its leaves @p ops: the node Get-able, each leaf Exec-able with no value (format null), all in
// @p scope; @p also is access both have besides (Download/*/Operations is Added with its slot).
std::vector<NodeRule> operations(std::string_view parent, Scope scope, std::initializer_list<std::string_view> ops,
                                 AccessTypes also = 0) {
  const std::string node = parent.empty() ? "Operations" : std::string(parent) + "/Operations";
  std::vector<NodeRule> r{rule(node, static_cast<AccessTypes>(kAccessGet | also), scope, Format::Node)};
  for (std::string_view op : ops) {
    r.push_back(rule(node + "/" + std::string(op), static_cast<AccessTypes>(kAccessExec | also), scope, Format::Null));
  }
  return r;
}

std::vector<NodeRule> joined(std::initializer_list<std::vector<NodeRule>> groups) {
  std::vector<NodeRule> all;
  for (const auto& g : groups) all.insert(all.end(), g.begin(), g.end());
  return all;
}

StatusCode first_error(std::initializer_list<StatusCode> codes) {
  for (StatusCode s : codes) {
    if (s != StatusCode::Ok) return s;
  }
  return StatusCode::Ok;
}

template <class T>
bool parse_uint(std::string_view s, T& out) {
  if (s.empty()) return false;
  const auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc{} && p == s.data() + s.size();
}

Acl acl_for(const std::vector<std::string>& servers, std::initializer_list<AclOp> ops) {
  Acl acl;
  for (const auto& s : servers) {
    for (AclOp op : ops) acl.grant(op, s);
  }
  return acl;
}

StatusCode set_null(Tree& tree, const std::string& uri) { return tree.set(uri, NodeValue{Format::Null, {}, {}}); }

/// An interior node of the object whose leaves a view reads (./M2MSIMMobj/MCIM/<x>,
/// ./M2MSIMMobj/Download/<x>). A leaf that is missing reads as empty.
struct EntryLeaves {
  const Tree& tree;
  const Node& node;
  std::string base;  ///< the entry's URI

  std::string text(std::string_view leaf) const { return tree.get_text(uri(leaf)).value_or(""); }
  Bytes bytes(std::string_view leaf) const { return tree.get_bytes(uri(leaf)).value_or(Bytes{}); }
  std::string uri(std::string_view leaf) const { return base + "/" + std::string(leaf); }
};

/// The entry @p node_name of the object's list @p list ("MCIM", "Download"); not_found unless it
/// exists as an interior node.
Result<EntryLeaves> entry_at(const Tree& tree, std::string_view list, std::string_view node_name) {
  std::string base = m2msim_uri(std::string(list) + "/" + std::string(node_name));
  const Node* n = tree.find(base);
  if (n == nullptr || !n->interior()) return fail(make_error_code(errc::not_found));
  return EntryLeaves{tree, *n, std::move(base)};
}

ExecOutcome arm_handler(ExecRequest& req) {
  // Data: optional validity in seconds, 1..86400 (default 600).
  std::int64_t seconds = 600;
  const std::string_view d = as_chars(req.data);
  if (!d.empty() && (!parse_uint(d, seconds) || seconds < 1 || seconds > 86400)) {
    return ExecOutcome{StatusCode::BadRequest};
  }
  if (req.server_id.empty()) return ExecOutcome{StatusCode::PermissionDenied};
  const StatusCode s = arm_rebootstrap(req.tree, req.server_id, unix_now(req.tree.options().clock) + seconds);
  return ExecOutcome{s};
}

ExecOutcome disarm_handler(ExecRequest& req) { return ExecOutcome{disarm_rebootstrap(req.tree)}; }

}  // namespace

std::string_view mcim_state_name(McimState s) noexcept { return kMcimStates[static_cast<std::size_t>(s)]; }

std::optional<McimState> parse_mcim_state(std::string_view name) noexcept {
  for (std::size_t i = 0; i < kMcimStates.size(); ++i) {
    if (kMcimStates[i] == name) return static_cast<McimState>(i);
  }
  return std::nullopt;
}

std::string_view download_state_name(DownloadState s) noexcept {
  return kDownloadStates[static_cast<std::size_t>(s)];
}

std::optional<DownloadState> parse_download_state(std::string_view name) noexcept {
  for (std::size_t i = 0; i < kDownloadStates.size(); ++i) {
    if (kDownloadStates[i] == name) return static_cast<DownloadState>(i);
  }
  return std::nullopt;
}

std::string_view m2msim_result_name(M2msimResult r) noexcept {
  for (const auto& e : kResults) {
    if (e.code == r) return e.name;
  }
  return "Unknown";
}

const std::vector<M2msimResult>& all_m2msim_results() {
  static const std::vector<M2msimResult> all = [] {
    std::vector<M2msimResult> v;
    for (const auto& e : kResults) v.push_back(e.code);
    return v;
  }();
  return all;
}

GenericAlertPayload make_m2msim_alert(std::string_view type, std::string_view source_uri,
                                      std::string_view correlator, M2msimResult result,
                                      std::string_view message) {
  GenericAlertPayload a;
  a.correlator = std::string(correlator);
  a.source_uri = std::string(source_uri);
  a.type = std::string(type);
  a.format = "chr";
  a.mark = result == M2msimResult::Success ? "" : "critical";
  a.data = std::to_string(static_cast<std::uint16_t>(result));
  if (!message.empty()) {
    a.data += ' ';
    for (char c : message) a.data += (c == '\n' || c == '\r') ? ' ' : c;
  }
  return a;
}

Result<std::pair<std::uint16_t, std::string>> parse_m2msim_alert_data(std::string_view data) {
  if (data.size() < 4) return fail(make_error_code(errc::malformed));
  std::uint16_t code = 0;
  if (!parse_uint(data.substr(0, 4), code) || code < 1000) return fail(make_error_code(errc::malformed));
  if (data.size() == 4) return std::pair{code, std::string{}};
  if (data[4] != ' ') return fail(make_error_code(errc::malformed));
  return std::pair{code, std::string(data.substr(5))};
}

bool is_valid_m2msim_node_name(std::string_view name) noexcept {
  if (name.empty() || name.size() > kMaxM2msimNodeName || name == "." || name == "..") return false;
  for (const char ch : name) {
    const auto c = static_cast<unsigned char>(ch);
    const bool unreserved = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
                            c == '.' || c == '_' || c == '~';
    if (!unreserved) return false;
  }
  return true;
}

std::string m2msim_uri(std::string_view relative) {
  std::string u(kM2msimRoot);
  if (!relative.empty()) {
    u += '/';
    u += relative;
  }
  return u;
}

std::vector<NodeRule> m2msim_rules() {
  constexpr Scope P = Scope::Permanent;
  constexpr Scope D = Scope::Dynamic;
  const std::string t = "text/plain";
  return joined({
      {
          rule("", kAccessGet, P, Format::Node, std::string(kM2msimUrn)),
          rule("PfC", kAccessGet, P, Format::Bin, "application/pkix-cert", bit(Format::B64)),
          rule("DevId", kAccessGet, P, Format::Chr, t),
          rule("MCIM", kAccessGet, P, Format::Node),
          rule("MCIM/*", kAccessGet, D, Format::Node),
          rule("MCIM/*/Id", kAccessGet, D, Format::Chr, t),
          rule("MCIM/*/SHO", kAccessGet, D, Format::Chr, t),
          rule("MCIM/*/State", kAccessGet, D, Format::Chr, t),
          rule("MCIM/*/Counter", kAccessGet, D, Format::Chr, t),
          rule("MCIM/*/LastResult", kAccessGet, D, Format::Int, t),
      },
      operations("MCIM/*", D, {"Activate", "Deactivate", "Delete"}),
      {
          rule("Download", kAccessGet, P, Format::Node),
          rule("Download/*", kAccessAdd | kAccessDelete | kAccessGet, D, Format::Node),
          rule("Download/*/Package", kAccessAdd | kAccessReplace, D, Format::Bin, std::string(kSealedPackageType),
               bit(Format::B64)),
          rule("Download/*/TransactionId", kAccessAdd | kAccessGet | kAccessReplace, D, Format::Chr, t),
          rule("Download/*/AuthToken", kAccessAdd | kAccessReplace, D, Format::Bin, "application/octet-stream",
               bit(Format::B64)),
          rule("Download/*/State", kAccessGet, D, Format::Chr, t),
      },
      operations("Download/*", D, {"Install"}, kAccessAdd),
      operations("", P, {"ResetToPristine"}),
      {
          rule("ReBootstrap", kAccessGet, P, Format::Node),
          rule("ReBootstrap/Armed", kAccessGet, P, Format::Bool, t),
          rule("ReBootstrap/ArmedBy", kAccessGet, P, Format::Chr, t),
          rule("ReBootstrap/Expiry", kAccessGet, P, Format::Chr, t),
      },
      operations("ReBootstrap", P, {"Arm", "Disarm"}),
      {rule("Ext", kAccessGet, P, Format::Node)},
  });
}

StatusCode install_m2msim_object(Tree& tree, const M2msimConfig& config) {
  if (config.servers.empty()) return StatusCode::BadRequest;
  for (const auto& s : config.servers) {
    if (!Acl::parse("Get=" + s)) return StatusCode::BadRequest;
  }
  if (tree.rule_for(*Uri::parse(kM2msimRoot)) == nullptr) tree.describe(std::string(kM2msimRoot), m2msim_rules());
  const auto& srv = config.servers;
  StatusCode s = first_error({
      tree.ensure_interior(kM2msimRoot, kM2msimUrn),
      tree.set(m2msim_uri("PfC"), NodeValue{Format::Bin, "application/pkix-cert", config.pfc_der}),
      tree.set_text(m2msim_uri("DevId"), config.dev_id),
      tree.ensure_interior(m2msim_uri("MCIM")),
      tree.ensure_interior(m2msim_uri("Download")),
      tree.ensure_interior(m2msim_uri("Operations")),
      set_null(tree, m2msim_uri("Operations/ResetToPristine")),
      tree.ensure_interior(m2msim_uri("ReBootstrap/Operations")),
      set_null(tree, m2msim_uri("ReBootstrap/Operations/Arm")),
      set_null(tree, m2msim_uri("ReBootstrap/Operations/Disarm")),
      tree.ensure_interior(m2msim_uri("Ext")),
  });
  if (s != StatusCode::Ok) return s;
  if (!tree.exists(m2msim_uri("ReBootstrap/Armed"))) {
    if (s = disarm_rebootstrap(tree); s != StatusCode::Ok) return s;
  }
  // Only the configured servers see or touch anything (seed 002 §5.1.1.1.3: "authorised
  // stakeholders"); the root's ACL would otherwise let every server Get.
  s = first_error({
      tree.set_acl(kM2msimRoot, acl_for(srv, {AclOp::Get})),
      tree.set_acl(m2msim_uri("MCIM"), acl_for(srv, {AclOp::Get, AclOp::Exec})),
      tree.set_acl(m2msim_uri("Download"),
                   acl_for(srv, {AclOp::Add, AclOp::Delete, AclOp::Exec, AclOp::Get, AclOp::Replace})),
      tree.set_acl(m2msim_uri("Operations"), acl_for(srv, {AclOp::Get, AclOp::Exec})),
      tree.set_acl(m2msim_uri("ReBootstrap"), acl_for(srv, {AclOp::Get, AclOp::Exec})),
  });
  if (s != StatusCode::Ok) return s;
  tree.on_exec(m2msim_uri("ReBootstrap/Operations/Arm"), arm_handler);
  tree.on_exec(m2msim_uri("ReBootstrap/Operations/Disarm"), disarm_handler);
  return StatusCode::Ok;
}

StatusCode write_mcim_entry(Tree& tree, const McimEntryView& e) {
  if (!is_valid_segment(e.node_name)) return StatusCode::BadRequest;
  const std::string base = m2msim_uri("MCIM/" + e.node_name);
  StatusCode s = first_error({
      tree.ensure_interior(base),
      tree.set_text(base + "/Id", e.id),
      tree.set_text(base + "/SHO", e.sho),
      tree.set_text(base + "/State", mcim_state_name(e.state)),
      tree.set_text(base + "/Counter", std::to_string(e.counter)),
      tree.set_text(base + "/LastResult", std::to_string(e.last_result), Format::Int),
      tree.ensure_interior(base + "/Operations"),
      set_null(tree, base + "/Operations/Activate"),
      set_null(tree, base + "/Operations/Deactivate"),
      set_null(tree, base + "/Operations/Delete"),
  });
  if (s != StatusCode::Ok) return s;
  return tree.set_acl(base, acl_for(e.visible_to, {AclOp::Get, AclOp::Exec}));
}

Result<McimEntryView> read_mcim_entry(const Tree& tree, std::string_view node_name) {
  const auto entry = entry_at(tree, "MCIM", node_name);
  if (!entry) return fail(entry.error());
  const auto state = parse_mcim_state(entry->text("State"));
  if (!state) return fail(make_error_code(errc::malformed));
  McimEntryView e{.node_name = std::string(node_name), .id = entry->text("Id"), .sho = entry->text("SHO"),
                  .state = *state, .visible_to = entry->node.acl.servers(AclOp::Get)};
  if (!parse_uint(entry->text("Counter"), e.counter) || !parse_uint(entry->text("LastResult"), e.last_result))
    return fail(make_error_code(errc::malformed));
  return e;
}

std::vector<McimEntryView> list_mcim_entries(const Tree& tree) {
  std::vector<McimEntryView> out;
  for (const auto& x : tree.children(m2msim_uri("MCIM"))) {
    if (auto e = read_mcim_entry(tree, x)) out.push_back(std::move(*e));
  }
  return out;
}

Result<DownloadView> read_download(const Tree& tree, std::string_view node_name) {
  const auto entry = entry_at(tree, "Download", node_name);
  if (!entry) return fail(entry.error());
  DownloadView d{.node_name = std::string(node_name), .package = entry->bytes("Package"),
                 .transaction_id = entry->text("TransactionId"), .auth_token = entry->bytes("AuthToken")};
  // A slot that never had a State leaf is Idle; one whose State is not a state name is malformed.
  if (const auto st = tree.get_text(entry->uri("State"))) {
    const auto parsed = parse_download_state(*st);
    if (!parsed) return fail(make_error_code(errc::malformed));
    d.state = *parsed;
  }
  return d;
}

StatusCode set_download_state(Tree& tree, std::string_view node_name, DownloadState state) {
  const std::string base = m2msim_uri("Download/" + std::string(node_name));
  if (!tree.exists(base)) return StatusCode::NotFound;
  return tree.set_text(base + "/State", download_state_name(state));
}

bool rebootstrap_armed(const Tree& tree, std::int64_t now_epoch_seconds) {
  if (tree.get_text(m2msim_uri("ReBootstrap/Armed")) != "true") return false;
  std::int64_t expiry = 0;
  const auto text = tree.get_text(m2msim_uri("ReBootstrap/Expiry")).value_or("");
  return parse_uint(text, expiry) && now_epoch_seconds < expiry;
}

StatusCode arm_rebootstrap(Tree& tree, std::string_view server_id, std::int64_t expiry_epoch_seconds) {
  if (server_id.empty() || expiry_epoch_seconds <= 0) return StatusCode::BadRequest;
  return first_error({
      tree.set_text(m2msim_uri("ReBootstrap/ArmedBy"), server_id),
      tree.set_text(m2msim_uri("ReBootstrap/Expiry"), std::to_string(expiry_epoch_seconds)),
      tree.set_text(m2msim_uri("ReBootstrap/Armed"), "true", Format::Bool),
  });
}

StatusCode disarm_rebootstrap(Tree& tree) {
  return first_error({
      tree.set_text(m2msim_uri("ReBootstrap/Armed"), "false", Format::Bool),
      tree.set_text(m2msim_uri("ReBootstrap/ArmedBy"), ""),
      tree.set_text(m2msim_uri("ReBootstrap/Expiry"), "0"),
  });
}

}  // namespace m2mdm::mo
