#include "m2mdm/client/m2msim_agent.hpp"

#include "m2mdm/client/error.hpp"
#include "m2mdm/mo/error.hpp"
#include "m2mdm/mo/m2msim_object.hpp"

#include <chrono>

namespace m2mdm::client {

using syncml::StatusCode;

namespace {

mo::McimState tree_state(McimState s) {
  switch (s) {
    case McimState::downloaded: return mo::McimState::Downloaded;
    case McimState::installed: return mo::McimState::Installed;
    case McimState::active: return mo::McimState::Active;
    case McimState::inactive: return mo::McimState::Inactive;
    case McimState::blocked: return mo::McimState::Blocked;
    case McimState::deleted: return mo::McimState::Deleted;
  }
  return mo::McimState::Blocked;
}

// ./M2MSIMMobj/<segment 1>/<segment 2>/...: the <x> of Download/<x> or MCIM/<x>.
std::string instance_of(const mo::Uri& uri) {
  const auto& s = uri.segments();
  return s.size() >= 3 ? s[2] : std::string{};
}

}  // namespace

mo::M2msimResult m2msim_result_for(const std::error_code& ec) noexcept {
  using mo::M2msimResult;
  if (ec.category() == mo::category()) {
    switch (static_cast<mo::errc>(ec.value())) {
      case mo::errc::seal_bad_signature: return M2msimResult::BadSignature;
      case mo::errc::seal_untrusted_signer:
      case mo::errc::seal_test_signer_in_production:
      case mo::errc::seal_signer_sho_mismatch: return M2msimResult::UntrustedSigner;
      case mo::errc::seal_wrong_device: return M2msimResult::WrongDevice;
      case mo::errc::seal_expired:
      case mo::errc::seal_not_yet_valid: return M2msimResult::Expired;
      case mo::errc::seal_replayed: return M2msimResult::Replayed;
      case mo::errc::seal_rolled_back: return M2msimResult::RolledBack;
      case mo::errc::seal_wrong_recipient:
      case mo::errc::seal_key_unwrap_failed:
      case mo::errc::seal_tag_mismatch: return M2msimResult::DecryptionFailed;
      case mo::errc::seal_malformed:
      case mo::errc::seal_unsupported_algorithm:
      case mo::errc::profile_malformed:
      case mo::errc::profile_unknown_field:
      case mo::errc::profile_missing_field:
      case mo::errc::profile_duplicate_field:
      case mo::errc::profile_bad_length:
      case mo::errc::profile_bad_digits:
      case mo::errc::profile_bad_value:
      case mo::errc::profile_unbound: return M2msimResult::MalformedPackage;
      default: return M2msimResult::InternalError;
    }
  }
  if (ec.category() == client::category()) {
    switch (static_cast<client::errc>(ec.value())) {
      case client::errc::io_error:
      case client::errc::tre_storage_corrupt: return M2msimResult::StorageFailure;
      case client::errc::tre_mid_blocked: return M2msimResult::IntegrityFailure;
      case client::errc::registry_bad_transition: return M2msimResult::InvalidState;
      case client::errc::not_found: return M2msimResult::NotFound;
      default: return M2msimResult::ClientError;
    }
  }
  return M2msimResult::InternalError;
}

M2msimAgent::M2msimAgent(mo::Tree& tree, Tre& tre, McimRegistry& registry, AlertOutbox& outbox,
                         mo::TrustAnchors anchors, M2msimAgentOptions options)
    : tree_(tree), tre_(tre), registry_(registry), outbox_(outbox), anchors_(std::move(anchors)),
      options_(std::move(options)) {}

std::int64_t M2msimAgent::now() const {
  if (options_.clock) return options_.clock();
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

void M2msimAgent::attach() {
  tree_.on_exec(mo::m2msim_uri("Download/*/Operations/Install"),
                [this](mo::ExecRequest& r) { return install(r); });
  tree_.on_exec(mo::m2msim_uri("MCIM/*/Operations/Activate"),
                [this](mo::ExecRequest& r) { return mcim_operation(r, "Activate"); });
  tree_.on_exec(mo::m2msim_uri("MCIM/*/Operations/Deactivate"),
                [this](mo::ExecRequest& r) { return mcim_operation(r, "Deactivate"); });
  tree_.on_exec(mo::m2msim_uri("MCIM/*/Operations/Delete"),
                [this](mo::ExecRequest& r) { return mcim_operation(r, "Delete"); });
  tree_.on_exec(mo::m2msim_uri("Operations/ResetToPristine"), [this](mo::ExecRequest& r) { return reset(r); });
  sync_tree();
}

void M2msimAgent::sync_tree() {
  // Entries the registry no longer has leave the tree; the others are (re)written.
  for (const auto& view : mo::list_mcim_entries(tree_)) {
    if (!registry_.find(view.node_name)) tree_.erase(mo::m2msim_uri("MCIM/" + view.node_name));
  }
  for (const auto& entry : registry_.entries()) {
    if (entry.state == McimState::deleted) {
      tree_.erase(mo::m2msim_uri("MCIM/" + entry.id));
      continue;
    }
    mo::McimEntryView view;
    view.node_name = entry.id;
    view.id = entry.iccid;
    view.sho = entry.sho_id;
    view.state = tree_state(entry.state);
    view.counter = entry.counter;
    view.last_result = entry.last_result == "ok" ? static_cast<std::uint16_t>(mo::M2msimResult::Success) : 0;
    mo::write_mcim_entry(tree_, view);
  }
}

void M2msimAgent::report(std::string_view server_id, std::string_view type, std::string_view source,
                         std::string_view correlator, mo::M2msimResult result, std::string_view message) {
  (void)outbox_.add(server_id, mo::make_m2msim_alert(type, source, correlator, result, message));
  if (options_.on_report)
    options_.on_report(M2msimReport{std::string(server_id), std::string(type), std::string(source),
                                    std::string(correlator), result, std::string(message)});
}

void M2msimAgent::report_blocked(std::string_view server_id) {
  for (const auto& entry : registry_.entries()) {
    if (entry.state != McimState::blocked) continue;
    report(server_id, mo::kAlertBlocked, mo::m2msim_uri("MCIM/" + entry.id), {}, mo::M2msimResult::IntegrityFailure,
           "stored MCIM failed its integrity check");
  }
}

mo::ExecOutcome M2msimAgent::install(mo::ExecRequest& request) {
  const std::string slot = instance_of(request.uri);
  const std::string source = request.uri.str();
  auto download = mo::read_download(tree_, slot);
  if (!download || download->package.empty()) return {StatusCode::NotFound};

  // A re-delivery of a package this slot already installed: report success again.
  if (auto existing = registry_.find(slot);
      existing && (existing->state == McimState::installed || existing->state == McimState::active ||
                   existing->state == McimState::inactive)) {
    report(request.server_id, mo::kAlertInstall, source, request.correlator, mo::M2msimResult::Success,
           "already installed");
    return {StatusCode::AcceptedForProcessing};
  }
  mo::set_download_state(tree_, slot, mo::DownloadState::Installing);

  mo::OpenPolicy policy;
  policy.device_id = tre_.device_id();
  policy.now = now();
  if (registry_.find(slot)) (void)registry_.remove(slot);  // a failed earlier attempt
  auto installed = registry_.install_sealed(slot, download->package, anchors_, policy);
  if (!installed) {
    mo::set_download_state(tree_, slot, mo::DownloadState::Failed);
    (void)registry_.remove(slot);
    sync_tree();
    report(request.server_id, mo::kAlertInstall, source, request.correlator, m2msim_result_for(installed.error()),
           installed.error().message());
    return {StatusCode::AcceptedForProcessing};
  }
  if (options_.activate_after_install) {
    if (auto activated = registry_.activate(slot); !activated) {
      mo::set_download_state(tree_, slot, mo::DownloadState::Failed);
      sync_tree();
      report(request.server_id, mo::kAlertInstall, source, request.correlator,
             m2msim_result_for(activated.error()), activated.error().message());
      return {StatusCode::AcceptedForProcessing};
    }
  }
  mo::set_download_state(tree_, slot, mo::DownloadState::Installed);
  sync_tree();
  if (options_.on_change) options_.on_change(registry_);
  report(request.server_id, mo::kAlertInstall, source, request.correlator, mo::M2msimResult::Success,
         "installed " + installed->iccid);
  return {StatusCode::AcceptedForProcessing};
}

mo::ExecOutcome M2msimAgent::mcim_operation(mo::ExecRequest& request, std::string_view op) {
  const std::string id = instance_of(request.uri);
  if (!registry_.find(id)) return {StatusCode::NotFound};
  Result<void> r;
  std::string_view type;
  if (op == "Activate") {
    r = registry_.activate(id);
    type = mo::kAlertActivate;
  } else if (op == "Deactivate") {
    r = registry_.deactivate(id);
    type = mo::kAlertDeactivate;
  } else {
    r = registry_.remove(id);
    type = mo::kAlertDelete;
  }
  sync_tree();
  if (r && options_.on_change) options_.on_change(registry_);
  report(request.server_id, type, request.uri.str(), request.correlator,
         r ? mo::M2msimResult::Success : m2msim_result_for(r.error()), r ? std::string_view("ok") : std::string_view(r.error().message()));
  return {StatusCode::AcceptedForProcessing};
}

mo::ExecOutcome M2msimAgent::reset(mo::ExecRequest& request) {
  auto r = registry_.reset_to_pristine();
  sync_tree();
  if (r) {
    // Back to the pristine state: a new bootstrap (variant B) must be accepted, so arm it.
    mo::arm_rebootstrap(tree_, request.server_id, now() + 3600);
    if (options_.on_change) options_.on_change(registry_);
  }
  report(request.server_id, mo::kAlertReset, request.uri.str(), request.correlator,
         r ? mo::M2msimResult::Success : m2msim_result_for(r.error()), r ? "pristine" : r.error().message());
  return {StatusCode::AcceptedForProcessing};
}

}  // namespace m2mdm::client
