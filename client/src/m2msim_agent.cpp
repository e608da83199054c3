#include "m2mdm/client/m2msim_agent.hpp"

#include "m2mdm/client/error.hpp"
#include "m2mdm/mo/change_token.hpp"
#include "m2mdm/mo/error.hpp"
#include "m2mdm/mo/m2msim_object.hpp"

#include "m2mdm/syncml/encoding.hpp"
#include "m2mdm/syncml/unix_clock.hpp"

#include <algorithm>
#include <chrono>

namespace m2mdm::client {

using syncml::StatusCode;

namespace {

/// How long a device reset by operator change B accepts the re-bootstrap that follows.
constexpr std::int64_t kPristineRebootstrapSeconds = 3600;

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
    // Every refusal of an operator-change token (mo::errc::token_*, 640..649).
    if (ec.value() >= static_cast<int>(mo::errc::token_malformed) && ec.value() <= static_cast<int>(mo::errc::token_wrong_authoriser))
      return M2msimResult::AuthorizationFailed;
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
  return unix_now(options_.clock);
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

  // A re-delivery of a package this slot already installed: report success again. An entry
  // still Installed while the agent activates what it installs was stored by an attempt that
  // stopped before its activation (a power loss): that attempt is finished below.
  auto existing = registry_.find(slot);
  const bool stored = existing && existing->state == McimState::installed && options_.activate_after_install;
  if (existing && !stored &&
      (existing->state == McimState::installed || existing->state == McimState::active ||
       existing->state == McimState::inactive)) {
    report(request.server_id, mo::kAlertInstall, source, request.correlator, mo::M2msimResult::Success,
           "already installed");
    return {StatusCode::AcceptedForProcessing};
  }
  mo::set_download_state(tree_, slot, mo::DownloadState::Installing);
  auto failed = [&](mo::M2msimResult result, std::string_view message) {
    mo::set_download_state(tree_, slot, mo::DownloadState::Failed);
    sync_tree();
    report(request.server_id, mo::kAlertInstall, source, request.correlator, result, message);
    return mo::ExecOutcome{StatusCode::AcceptedForProcessing};
  };

  // 1. The whole package is opened and verified, and stored in the TRE, before anything else
  //    changes (seed 004 §5.2.5.8.3.1 step 7). When another SHO's MCIM is active this is an
  //    operator change — A (a new MCIM replaces the old SHO's) or C (seed 001 §5.4.4: new IMSI,
  //    K and OTA keys for the same USIM application, same ICCID) — which only that old SHO's
  //    authorisation allows: checked before the package is stored, so a refusal leaves no trace
  //    but the refused entry.
  const auto active = registry_.active();
  std::optional<mo::ChangeToken> change;
  auto authorise = [&](std::string_view new_sho, std::string_view iccid) -> Result<void> {
    if (!options_.activate_after_install || !active || active->sho_id == new_sho) return {};
    auto token = check_change_token(download->auth_token, std::nullopt, active->sho_id, new_sho);
    if (!token) return fail(token.error());
    if (token->variant == mo::ChangeVariant::pristine) return fail(mo::errc::token_wrong_variant);
    // C changes the subscription of the active USIM application, not the application.
    if (token->variant == mo::ChangeVariant::usim_update && iccid != active->iccid)
      return fail(mo::errc::token_wrong_variant);
    change = std::move(*token);
    return {};
  };
  auto authorised = [&](const mo::OpenedMcim& opened) {
    return authorise(opened.profile.sho_id, opened.profile.iccid);
  };
  McimEntry installed;
  if (stored) {
    installed = *existing;
    if (auto ok = authorise(installed.sho_id, installed.iccid); !ok) {
      (void)registry_.remove(slot);
      return failed(m2msim_result_for(ok.error()), ok.error().message());
    }
  } else {
    mo::OpenPolicy policy;
    policy.device_id = tre_.device_id();
    policy.now = now();
    if (existing) (void)registry_.remove(slot);  // a failed earlier attempt
    auto opened = registry_.install_sealed(slot, download->package, anchors_, policy, authorised);
    if (!opened) {
      (void)registry_.remove(slot);
      return failed(m2msim_result_for(opened.error()), opened.error().message());
    }
    installed = *opened;
  }
  if (options_.activate_after_install) {
    // 2. The old SHO's credentials discarded and the new ones activated in one TRE write (step 8).
    if (change) {
      auto discarded = registry_.switch_operator(slot, active->sho_id, SpentNonce{change->nonce, change->not_after, now()});
      if (!discarded) return failed(m2msim_result_for(discarded.error()), discarded.error().message());
      mo::set_download_state(tree_, slot, mo::DownloadState::Installed);
      sync_tree();
      if (options_.on_change) options_.on_change(registry_);
      // Step 9: the discard confirmation for the old SHO (through the RO), before the result.
      // C: the old IMSI, K and OTA keys of the USIM application are gone, the USIM is reset
      // (seed 001 §5.4.4 step 11): its next attach presents the new IMSI.
      const bool in_place = change->variant == mo::ChangeVariant::usim_update;
      for (const auto& old : *discarded)
        report(request.server_id, mo::kAlertDiscarded, mo::m2msim_uri("MCIM/" + old.id), request.correlator,
               mo::M2msimResult::Success,
               (in_place ? "replaced the IMSI, K and OTA keys of " : "discarded ") + old.iccid + " of " + old.sho_id);
      report(request.server_id, mo::kAlertInstall, source, request.correlator, mo::M2msimResult::Success,
             in_place ? "updated " + installed.iccid + " in place; USIM reset" : "installed " + installed.iccid);
      return {StatusCode::AcceptedForProcessing};
    }
    if (auto activated = registry_.activate(slot); !activated)
      return failed(m2msim_result_for(activated.error()), activated.error().message());
  }
  mo::set_download_state(tree_, slot, mo::DownloadState::Installed);
  sync_tree();
  if (options_.on_change) options_.on_change(registry_);
  report(request.server_id, mo::kAlertInstall, source, request.correlator, mo::M2msimResult::Success,
         "installed " + installed.iccid);
  return {StatusCode::AcceptedForProcessing};
}

Result<mo::ChangeToken> M2msimAgent::check_change_token(ByteView token, std::optional<mo::ChangeVariant> variant,
                                                        std::string_view from_sho, std::string_view to_sho) const {
  if (token.empty()) return fail(mo::errc::token_missing);
  mo::ChangeTokenCheck check;
  check.device_id = tre_.device_id();
  check.variant = variant;
  check.from_sho = std::string(from_sho);
  check.to_sho = std::string(to_sho);
  check.now = now();
  check.nonce_used = [this](std::string_view nonce) { return registry_.change_nonce_used(nonce); };
  // Seed 004 design principles: a device with an owner moves only on its owner's word.
  if (options_.owner_anchors) {
    check.by = mo::ChangeAuthoriser::subscriber;
    check.subscriber = options_.owner_name;
    return mo::verify_change_token(token, *options_.owner_anchors, check);
  }
  return mo::verify_change_token(token, anchors_, check);
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
  const std::string source = request.uri.str();
  auto refused = [&](const std::error_code& ec) {
    report(request.server_id, mo::kAlertReset, source, request.correlator, m2msim_result_for(ec), ec.message());
    return mo::ExecOutcome{StatusCode::AcceptedForProcessing};
  };
  // Operator change variant B (seed 004 §5.2.5.8.3.2 steps 2-3): removing a stored MCIM needs
  // the authorisation of an SHO whose MCIM is stored here — the Exec's Data, the base64 of the
  // token. A device with no MCIM is pristine already: nothing to authorise, nothing to lose.
  std::vector<std::string> stored_shos;
  for (const auto& e : registry_.entries()) {
    if (e.state == McimState::deleted || e.sho_id.empty()) continue;
    if (std::find(stored_shos.begin(), stored_shos.end(), e.sho_id) == stored_shos.end()) stored_shos.push_back(e.sho_id);
  }
  std::optional<SpentNonce> spent;
  if (!stored_shos.empty()) {
    const std::string_view text(reinterpret_cast<const char*>(request.data.data()), request.data.size());
    auto der = text.empty() ? Result<Bytes>(Bytes{}) : base64_decode(text);
    if (!der) return refused(make_error_code(mo::errc::token_malformed));
    auto token = check_change_token(*der, mo::ChangeVariant::pristine, {}, {});
    if (!token) return refused(token.error());
    if (std::find(stored_shos.begin(), stored_shos.end(), token->from_sho) == stored_shos.end())
      return refused(make_error_code(mo::errc::token_wrong_sho));
    spent = SpentNonce{token->nonce, token->not_after, now()};
  }
  auto r = registry_.reset_to_pristine(spent);
  if (!r) return refused(r.error());
  sync_tree();
  // Back to the pristine state: the re-bootstrap that names the new SHO (step 8) must be
  // accepted, so the server that reset the device arms it (docs/bootstrap.md "Re-bootstrap").
  mo::arm_rebootstrap(tree_, request.server_id, now() + kPristineRebootstrapSeconds);
  if (options_.on_change) options_.on_change(registry_);
  for (const auto& old : *r)
    report(request.server_id, mo::kAlertDiscarded, mo::m2msim_uri("MCIM/" + old.id), request.correlator,
           mo::M2msimResult::Success, "discarded " + old.iccid + " of " + old.sho_id);
  report(request.server_id, mo::kAlertReset, source, request.correlator, mo::M2msimResult::Success, "pristine");
  return {StatusCode::AcceptedForProcessing};
}

}  // namespace m2mdm::client
