// DrfService (bootstrap issue + record + delivery) and JobNotifier (package 0 trigger).
#include "m2mdm/server/drf_service.hpp"

#include "m2mdm/server/error.hpp"
#include "m2mdm/syncml/encoding.hpp"
#include "m2mdm/syncml/notification.hpp"
#include "m2mdm/syncml/unix_clock.hpp"

#include <openssl/rand.h>
#include <spdlog/spdlog.h>

#include <algorithm>

namespace m2mdm::server {
namespace {

std::uint8_t random_byte() {
  std::uint8_t b = 0;
  if (RAND_bytes(&b, 1) != 1) b = 0x5A;
  return b;
}

std::string random_token() {
  unsigned char raw[16];
  if (RAND_bytes(raw, sizeof raw) != 1) return {};
  return hex_encode(ByteView(raw, sizeof raw));
}

// A package 0 for @p dm with a fresh SessionID; fails (nothing is sent) when the CSPRNG does.
Result<Bytes> package0(const DmCredentials& dm, bool reset_nonce) {
  const auto sid = syncml::random_session_id();
  if (!sid) return fail(sid.error());
  return make_package0_push(dm, *sid, random_byte(), reset_nonce);
}

}  // namespace

// ---------------------------------------------------------------- DRF

DrfService::DrfService(Store& store, PushSender& sender, DrfSettings settings, Clock clock)
    : store_(store), sender_(sender), settings_(std::move(settings)), clock_(std::move(clock)) {}

std::int64_t DrfService::now() const { return unix_now(clock_); }

std::expected<BootstrapOutcome, DrfRefusal> DrfService::bootstrap(std::string_view dev_id,
                                                                  const BootstrapRequest& request) {
  using R = std::unexpected<DrfRefusal>;
  using K = DrfRefusalKind;
  if (!configured()) return R(DrfRefusal{K::not_configured, "the DRF has no DPF key pin (configure TLS or drf.spki_pem)"});
  std::lock_guard lock(mutex_);
  auto device = store_.get_device(dev_id);
  if (!device) {
    if (device.error() == make_error_code(errc::not_found)) return R(DrfRefusal{K::unknown_device, "no such device"});
    return R(DrfRefusal{K::internal, "storage failure"});
  }
  auto active = store_.active_bootstrap(dev_id);
  if (!active) return R(DrfRefusal{K::internal, "storage failure"});
  if (*active) {
    if (!request.rebootstrap)
      return R(DrfRefusal{K::already_bootstrapped, "the device already has an active bootstrap (issued " +
                                   std::to_string((*active)->issued) + "); ask for a re-bootstrap"});
    if (!request.caller_may_rebootstrap) return R(DrfRefusal{K::not_authorised, "not authorised to re-bootstrap this device"});
  }
  std::optional<PushAddress> to;
  if (request.delivery == BootstrapDelivery::udp) {
    if (device->push_address.empty())
      return R(DrfRefusal{K::undeliverable, "the device has no push address; set pushAddress or ask for delivery \"sms\""});
    auto a = parse_push_address(device->push_address);
    if (!a) return R(DrfRefusal{K::undeliverable, "the device's push address is not usable: " + device->push_address});
    to = std::move(*a);
  }
  auto sec = parse_drf_sec_method(device->sec_method.empty() ? "USERPIN" : device->sec_method);
  if (!sec) return R(DrfRefusal{K::undeliverable, "unsupported SEC method " + device->sec_method});
  // A re-bootstrap carries a REBOOTSTRAP-TOKEN, without which the device refuses it
  // (docs/bootstrap.md "Re-bootstrap"): a fresh one unless the caller chose it.
  std::string token = request.rebootstrap_token;
  if (active->has_value() && token.empty()) token = random_token();
  if (active->has_value() && token.empty()) return R(DrfRefusal{K::internal, "no randomness for the re-bootstrap token"});
  auto issued = issue_bootstrap(*device, settings_, *sec, random_byte(), random_byte(), token);
  if (!issued) {
    if (issued.error() == make_error_code(errc::invalid_argument))
      return R(DrfRefusal{K::undeliverable, "cannot build the bootstrap: the device lacks a device PIN / usable PCID for " +
                                   std::string(bootstrap::sec_method_name(*sec))});
    spdlog::error("drf: cannot build the bootstrap of {}: {}", dev_id, issued.error().message());
    return R(DrfRefusal{K::internal, "cannot build the bootstrap"});
  }
  BootstrapRecord rec;
  rec.dev_id = std::string(dev_id);
  rec.actor = request.actor;
  rec.sec_method = std::string(bootstrap::sec_method_name(*sec));
  rec.delivery = request.delivery == BootstrapDelivery::udp ? "udp" : "sms";
  rec.rebootstrap = active->has_value();
  const std::int64_t t = now();
  // The credentials are stored before the push leaves: the device may connect at once.
  auto stored = store_.record_bootstrap(rec, issued->dm, issued->app, t);
  if (!stored) {
    spdlog::error("drf: cannot record the bootstrap of {}: {}", dev_id, stored.error().message());
    return R(DrfRefusal{K::internal, "storage failure"});
  }
  BootstrapOutcome out{*stored, std::move(*issued), device->push_address};
  if (to) {
    if (auto sent = sender_.send(*to, out.issued.push_pdu); !sent) {
      (void)store_.deactivate_bootstrap(stored->id);
      (void)store_.append_audit({0, t, request.actor, "drf.push.failed", std::string(dev_id), device->push_address});
      return R(DrfRefusal{K::push_failed, "the push to " + device->push_address + " failed"});
    }
    spdlog::info("drf: bootstrap {} for {} pushed to {} ({} bytes, {})", stored->id, dev_id, device->push_address,
                 out.issued.push_pdu.size(), rec.sec_method);
  }
  return out;
}

// ---------------------------------------------------------------- package 0 trigger

bool DrfService::push_again(std::string_view push_address, ByteView pdu) {
  auto to = parse_push_address(push_address);
  return to && static_cast<bool>(sender_.send(*to, pdu));
}

JobNotifier::JobNotifier(Store& store, PushSender& sender, NotifierOptions options)
    : PollingWorker(options.poll), store_(store), sender_(sender), options_(std::move(options)) {}

JobNotifier::~JobNotifier() { stop(); }

std::int64_t JobNotifier::now() const { return unix_now(options_.clock); }

void JobNotifier::push_device(std::string dev_id) {
  {
    std::lock_guard lock(requested_mutex_);
    if (std::find(requested_.begin(), requested_.end(), dev_id) == requested_.end()) requested_.push_back(std::move(dev_id));
  }
  poke();
}

std::size_t JobNotifier::push_requested() {
  std::vector<std::string> devs;
  {
    std::lock_guard lock(requested_mutex_);
    devs.swap(requested_);
  }
  std::size_t sent = 0;
  const std::int64_t t = now();
  for (const auto& dev_id : devs) {
    auto device = store_.get_device(dev_id);
    if (!device || device->push_address.empty()) continue;
    auto to = parse_push_address(device->push_address);
    auto pdu = package0(device->dm, /*reset_nonce=*/false);
    const bool ok = to && pdu && static_cast<bool>(sender_.send(*to, *pdu));
    (void)store_.append_audit({0, t, "system", ok ? "dpf.notify" : "dpf.notify.failed", dev_id,
                               "management command, to " + device->push_address});
    if (ok) ++sent;
  }
  return sent;
}

std::size_t JobNotifier::run_once() {
  const std::int64_t t = now();
  const std::size_t pushed = push_requested();
  auto jobs = store_.jobs_to_notify(t, options_.max_attempts, 64, t - options_.stall_seconds);
  if (!jobs) {
    spdlog::warn("notifier: cannot list jobs: {}", jobs.error().message());
    return 0;
  }
  std::size_t sent = 0;
  for (const Job& job : *jobs) {
    // Retries back off: retry_seconds * 2^attempts, capped.
    const int shift = std::min(job.notify_attempts, 20);
    const std::int64_t delay = std::min(options_.max_retry_seconds, options_.retry_seconds << shift);
    auto device = store_.get_device(job.dev_id);
    if (!device) continue;
    auto to = parse_push_address(device->push_address);
    // A device that did not come after a push may hold another server nonce than ours (a power
    // loss inside a server-initiated session leaves the two out of step): every other retry is
    // keyed with the reset nonce, which the device accepts as a fallback (DM_Notification 1.2
    // §6.2.2.2); its session then agrees fresh nonces again.
    const bool reset_nonce = job.notify_attempts % 2 == 1;
    auto pdu = package0(device->dm, reset_nonce);
    bool ok = false;
    // A re-bootstrap the device has not used yet: it may hold either set of credentials, and
    // verifies a package 0 only with the server credentials it holds. The re-bootstrap's first
    // (the likelier), then the current ones; the device acts on the one that verifies.
    if (to && device->pending_dm) {
      if (auto pending = package0(*device->pending_dm, reset_nonce))
        ok = static_cast<bool>(sender_.send(*to, *pending));
    }
    if (to && pdu) ok = static_cast<bool>(sender_.send(*to, *pdu)) || ok;
    // A failed send counts as an attempt too: the retries stay bounded.
    auto marked = store_.mark_job_notified(job.id, t + delay, t);
    if (!marked || !*marked) continue;
    (void)store_.append_audit({0, t, "system", ok ? "dpf.notify" : "dpf.notify.failed", job.dev_id,
                               "job " + std::to_string(job.id) + " attempt " + std::to_string(job.notify_attempts + 1) +
                                   " to " + device->push_address + (reset_nonce ? " (reset nonce)" : "")});
    if (ok) {
      ++sent;
      spdlog::info("notifier: package 0 for job {} pushed to {} (attempt {})", job.id, device->push_address,
                   job.notify_attempts + 1);
    } else {
      spdlog::warn("notifier: package 0 for job {} to '{}' failed", job.id, device->push_address);
    }
  }
  return sent + pushed;
}

}  // namespace m2mdm::server
