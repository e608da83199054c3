// OperatorChangeService: the RO's side of operator change (docs/operator-change.md; seed 004
// §5.2.5.8.3.1 variant A, §5.2.5.8.3.2 variant B; seed 000 §5.2.2).
#include "m2mdm/server/operator_change_service.hpp"

#include "m2mdm/mo/change_token.hpp"
#include "m2mdm/server/error.hpp"
#include "m2mdm/syncml/encoding.hpp"
#include "m2mdm/syncml/unix_clock.hpp"

#include <spdlog/spdlog.h>

#include <chrono>

namespace m2mdm::server {
namespace {

std::unexpected<ChangeRefusal> refuse(ChangeRefusalKind kind, std::string reason) {
  return std::unexpected(ChangeRefusal{kind, std::move(reason)});
}

}  // namespace

OperatorChangeService::OperatorChangeService(Store& store, const Pva& pva, OperatorChangeOptions options)
    : store_(store), pva_(pva), options_(std::move(options)) {}

std::int64_t OperatorChangeService::now() const { return unix_now(options_.clock); }

void OperatorChangeService::set_drf(std::shared_ptr<DrfService> drf) {
  std::lock_guard lock(mutex_);
  drf_ = std::move(drf);
}

std::expected<std::pair<OperatorChange, Job>, ChangeRefusal> OperatorChangeService::request(
    const ChangeRequest& request) {
  using K = ChangeRefusalKind;
  const auto variant = mo::parse_change_variant(request.variant);
  if (!variant) return refuse(K::authorisation_failed, "unknown variant " + request.variant);
  if (!options_.sho_anchors)
    return refuse(K::not_configured, "operator change needs the SHO trust anchors ([operator_change] sho_trust_anchors)");
  if (request.mcim.empty()) return refuse(K::conflict, "the new SHO's sealed MCIM is required");
  const std::int64_t t = now();
  // An unknown DevId is refused like a bad token: without the old SHO's token for the device,
  // an SHO learns nothing about it.
  auto device = store_.get_device(request.dev_id);
  if (!device) {
    if (device.error() == make_error_code(errc::not_found))
      return refuse(K::authorisation_failed, "no valid authorisation for this device");
    return refuse(K::internal, "storage failure: " + device.error().message());
  }
  if (!device->sho_id) return refuse(K::authorisation_failed, "the device has no SHO to change from");
  if (*device->sho_id == request.new_sho) return refuse(K::conflict, "the device is already registered to this SHO");
  auto old_sho = store_.get_sho(*device->sho_id);
  auto new_sho = store_.get_sho(request.new_sho);
  if (!old_sho || !new_sho) return refuse(K::internal, "storage failure reading the SHO accounts");

  // The same check the device makes (mo::verify_change_token), against the registry's view.
  mo::ChangeTokenCheck check;
  check.device_id = request.dev_id;
  check.variant = *variant;
  check.from_sho = old_sho->signer_name();
  check.to_sho = new_sho->signer_name();
  check.now = t;
  check.nonce_used = [this](std::string_view nonce) {
    auto spent = store_.change_nonce_spent(nonce);
    return !spent || *spent;  // a store failure refuses
  };
  // Seed 004 design principles: where the device has a subscriber (its owner), only the
  // subscriber authorises a change of SHO; otherwise the old SHO does (seed 000 §5.2.2 step 1).
  const mo::TrustAnchors* anchors = &*options_.sho_anchors;
  if (device->subscriber_id) {
    if (!options_.subscriber_anchors)
      return refuse(K::not_configured,
                    "the device has a subscriber: its change needs the subscriber trust anchors "
                    "([operator_change] subscriber_trust_anchors)");
    auto owner = store_.get_subscriber(*device->subscriber_id);
    if (!owner) return refuse(K::internal, "storage failure reading the subscriber: " + owner.error().message());
    check.by = mo::ChangeAuthoriser::subscriber;
    check.subscriber = owner->name;
    anchors = &*options_.subscriber_anchors;
  }
  auto token = mo::verify_change_token(request.authorisation, *anchors, check);
  if (!token) return refuse(K::authorisation_failed, token.error().message());

  // A step 2, B steps 9-11: the PVA validates the platform credential for the new SHO (the PfC
  // the device reported; a reset to the pristine state does not change it).
  if (device->pfc_der.empty()) return refuse(K::conflict, "the device has not reported its PfC yet");
  const PvaVerdict verdict = pva_.validate(device->pfc_der, t);
  if (!verdict.valid) return refuse(K::pfc_invalid, verdict.reason);

  OperatorChange change;
  change.dev_id = request.dev_id;
  change.variant = request.variant;
  change.from_sho = old_sho->id;
  change.to_sho = new_sho->id;
  change.nonce = token->nonce;
  change.batch_id = request.batch_id;
  const bool pristine = *variant == mo::ChangeVariant::pristine;
  // A: the first job installs the MCIM (with the token, for the device's own check). B: it
  // resets the device (Exec ResetToPristine, Data = the token); the MCIM waits in the change.
  NewJob first{request.dev_id,
               new_sho->id,
               pristine ? JobKind::reset : JobKind::operator_change,
               pristine ? Bytes{} : request.mcim,
               base64_encode(request.authorisation),
               request.correlator,
               t + request.ttl_seconds};
  if (pristine) {
    change.mcim = request.mcim;
    change.install_ttl = request.ttl_seconds;
  }
  AuditEntry entry{0, t, request.actor, "operator_change.request", "",
                   "variant " + request.variant + " of " + request.dev_id + " from sho:" + std::to_string(old_sho->id)};
  auto created = store_.create_operator_change(change, first, entry, t);
  if (!created) {
    if (created.error() == make_error_code(errc::conflict))
      return refuse(K::conflict,
                    "the authorisation was already used, the correlator is taken, or the device has an operator "
                    "change in progress");
    return refuse(K::internal, "storage failure: " + created.error().message());
  }
  return std::move(*created);
}

std::expected<std::pair<ChangeBatch, std::vector<BatchItemOutcome>>, ChangeRefusal>
OperatorChangeService::request_batch(std::vector<ChangeRequest> items) {
  if (items.empty()) return refuse(ChangeRefusalKind::conflict, "no devices in the request");
  if (!options_.sho_anchors)
    return refuse(ChangeRefusalKind::not_configured,
                  "operator change needs the SHO trust anchors ([operator_change] sho_trust_anchors)");
  auto batch = store_.create_change_batch(items.front().new_sho, items.front().variant,
                                          static_cast<std::int64_t>(items.size()), now());
  if (!batch) return refuse(ChangeRefusalKind::internal, "storage failure: " + batch.error().message());
  std::vector<BatchItemOutcome> out;
  out.reserve(items.size());
  for (auto& item : items) {
    item.batch_id = batch->id;
    BatchItemOutcome o;
    o.dev_id = item.dev_id;
    auto created = request(item);
    if (created) o.created = std::move(*created);
    else o.refusal = std::move(created.error());
    out.push_back(std::move(o));
  }
  return std::pair{std::move(*batch), std::move(out)};
}

void OperatorChangeService::on_job_result(std::int64_t job_id) {
  auto change = store_.operator_change_for_job(job_id);
  if (!change || !*change) return;
  const OperatorChange& c = **change;
  if (c.variant == "B" && c.reset_job_id == job_id && c.state == ChangeState::pristine) (void)rebootstrap(c);
}

std::size_t OperatorChangeService::resume() {
  auto pristine = store_.operator_changes_in(ChangeState::pristine);
  if (!pristine) {
    spdlog::warn("operator change: cannot list pristine changes: {}", pristine.error().message());
    return 0;
  }
  std::size_t sent = 0;
  const std::int64_t t = now();
  for (const auto& c : *pristine) {
    // The window for the device to come back (its TTL from the reset): then the change fails.
    if (c.install_ttl > 0 && t >= c.updated + c.install_ttl) {
      auto expired = store_.expire_pristine_change(
          c.id, "the device did not use its re-bootstrap within " + std::to_string(c.install_ttl) + " s", t);
      if (!expired) spdlog::warn("operator change {}: cannot expire: {}", c.id, expired.error().message());
      if (expired && *expired) {
        std::lock_guard one(rebootstrap_mutex_);
        pushes_.erase(c.id);
        spdlog::warn("operator change {}: {} never used its re-bootstrap; the change failed", c.id, c.dev_id);
      }
      continue;
    }
    if (rebootstrap(c) || resend(c)) ++sent;
  }
  return sent;
}

bool OperatorChangeService::resend(const OperatorChange& change) {
  const auto drf = current_drf();
  if (!drf) return false;
  std::lock_guard one(rebootstrap_mutex_);
  auto it = pushes_.find(change.id);
  if (it == pushes_.end()) return false;
  SentPush& p = it->second;
  const std::int64_t t = now();
  if (p.sends >= options_.rebootstrap_max_sends || t < p.last_sent + options_.rebootstrap_resend_seconds) return false;
  // Only the push of the credentials still pending: never one the device was not given last.
  auto device = store_.get_device(change.dev_id);
  auto active = store_.active_bootstrap(change.dev_id);
  if (!device || !device->pending_dm || !active || !*active || (*active)->id != p.bootstrap_id) {
    pushes_.erase(it);
    return false;
  }
  p.last_sent = t;
  ++p.sends;
  const bool ok = drf->push_again(p.address, p.pdu);
  (void)store_.append_audit({0, t, "operator-change:" + std::to_string(change.id),
                             ok ? "operator_change.rebootstrap.resent" : "operator_change.rebootstrap.resend_failed",
                             change.dev_id,
                             "bootstrap " + std::to_string(p.bootstrap_id) + ", send " + std::to_string(p.sends)});
  spdlog::info("operator change {}: re-bootstrap of {} pushed again (send {} of at most {})", change.id, change.dev_id,
               p.sends, options_.rebootstrap_max_sends);
  return ok;
}

std::shared_ptr<DrfService> OperatorChangeService::current_drf() const {
  std::lock_guard lock(mutex_);
  return drf_;
}

bool OperatorChangeService::rebootstrap(const OperatorChange& change) {
  const auto drf = current_drf();
  if (!drf) return false;
  // One at a time, and never over a pending one: a re-bootstrap on its way (or applied) holds
  // the credentials the device may already use; a second one would replace them and cut the
  // device off. A failed push drops the pending set, so the next resume() sends it again.
  std::lock_guard one(rebootstrap_mutex_);
  auto device = store_.get_device(change.dev_id);
  if (!device || device->pending_dm) return false;
  // Seed 004 §5.2.5.8.3.2 steps 4-8: the pristine device is bootstrapped again, now for the
  // new SHO (the DRF registry names it since the reset). The device armed its re-bootstrap for
  // this server when it reset; the new credentials wait beside the current ones until it uses them.
  BootstrapRequest br;
  br.delivery = BootstrapDelivery::udp;
  br.rebootstrap = true;
  br.actor = "operator-change:" + std::to_string(change.id);
  br.caller_may_rebootstrap = true;
  auto out = drf->bootstrap(change.dev_id, br);
  if (!out) {
    spdlog::warn("operator change {}: re-bootstrap of {} not sent: {}", change.id, change.dev_id, out.error().reason);
    (void)store_.append_audit({0, now(), br.actor, "operator_change.rebootstrap.failed", change.dev_id, out.error().reason});
    return false;
  }
  (void)store_.append_audit({0, now(), br.actor, "operator_change.rebootstrap", change.dev_id,
                             "bootstrap " + std::to_string(out->record.id)});
  pushes_[change.id] = SentPush{out->record.id, out->push_address, out->issued.push_pdu, now(), 1};
  spdlog::info("operator change {}: {} re-bootstrapped for sho:{} (bootstrap {})", change.id, change.dev_id,
               change.to_sho, out->record.id);
  return true;
}

}  // namespace m2mdm::server
