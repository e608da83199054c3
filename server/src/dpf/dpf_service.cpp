// The DPF DM endpoint: HTTP requests -> DM server sessions, sessions -> the Store.
#include "m2mdm/server/dpf_service.hpp"

#include "m2mdm/mo/m2msim_object.hpp"
#include "m2mdm/syncml/encoding.hpp"
#include "m2mdm/syncml/unix_clock.hpp"

#include <openssl/rand.h>

#include <spdlog/spdlog.h>

#include <chrono>

namespace m2mdm::server {
namespace {

std::string random_token() {
  unsigned char raw[16];
  if (RAND_bytes(raw, sizeof raw) != 1) return {};
  return hex_encode(ByteView(raw, sizeof raw));
}

std::string query_param(std::string_view query, std::string_view name) {
  while (!query.empty()) {
    const auto amp = query.find('&');
    const std::string_view pair = query.substr(0, amp);
    const auto eq = pair.find('=');
    if (eq != std::string_view::npos && pair.substr(0, eq) == name) return std::string(pair.substr(eq + 1));
    if (amp == std::string_view::npos) break;
    query.remove_prefix(amp + 1);
  }
  return {};
}

// DmBackend over the Store for one session.
class StoreBackend final : public DmBackend {
 public:
  StoreBackend(Store& store, std::function<std::int64_t()> clock, std::string peer,
               std::function<void(std::int64_t)> on_result)
      : store_(store), clock_(std::move(clock)), peer_(std::move(peer)), on_result_(std::move(on_result)) {}

  // The engine asks for both sets at the start of a session: one read of the device serves both.
  // The session's device row is read once, here, and kept for the session's other questions
  // (its state, whether its PfC is known). What a message changes about the device is gathered
  // (writes_) and written in one transaction by flush() before the reply; claims, results, the
  // PfC and a credential switch are written at once.
  Result<DmCredentials> credentials(std::string_view dev_id) override {
    // The session needs none of the device's SIM secrets (PIN, K, OPc): they are not even unsealed.
    auto device = store_.get_device_account(dev_id);
    if (!device) return fail(device.error());
    device_ = std::move(*device);
    return device_->dm;
  }

  std::optional<DmCredentials> pending_credentials(std::string_view dev_id) override {
    if (const Device* d = cached(dev_id)) return d->pending_dm;
    auto device = store_.get_device_account(dev_id);
    return device ? device->pending_dm : std::nullopt;
  }

  void on_pending_credentials_used(std::string_view dev_id) override {
    if (auto r = store_.promote_pending_credentials(dev_id, clock_()); !r)
      spdlog::error("dpf: cannot switch {} to its re-bootstrap credentials: {}", dev_id, r.error().message());
    device_.reset();  // its credentials changed: read again when next asked
  }

  void save_nonces(std::string_view dev_id, ByteView server_nonce, ByteView client_nonce) override {
    writes_for(dev_id).server_nonce = Bytes(server_nonce.begin(), server_nonce.end());
    writes_.client_nonce = Bytes(client_nonce.begin(), client_nonce.end());
  }

  void on_device_info(std::string_view dev_id, const std::map<std::string, std::string>& devinfo) override {
    writes_for(dev_id).seen = true;
    writes_.registered = true;  // from imported or bootstrapped only (the store's filter)
    if (device_ && device_->dev_id == dev_id &&
        (device_->state == DeviceState::imported || device_->state == DeviceState::bootstrapped))
      device_->state = DeviceState::registered;
    std::string detail = "peer=" + peer_;
    for (const auto& [k, v] : devinfo) detail += " " + k + "=" + v;
    audit(dev_id, "dm.session", detail);
  }

  bool wants_pfc(std::string_view dev_id) override {
    if (const Device* d = cached(dev_id)) return d->pfc_der.empty();
    auto device = store_.get_device_account(dev_id);
    return device && device->pfc_der.empty();
  }

  void on_pfc(std::string_view dev_id, ByteView der) override {
    if (auto r = store_.set_device_pfc(dev_id, der, clock_()); !r)
      spdlog::warn("dpf: cannot store the PfC of {}: {}", dev_id, r.error().message());
    else if (device_ && device_->dev_id == dev_id)
      device_->pfc_der.assign(der.begin(), der.end());
    audit(dev_id, "dm.pfc", std::to_string(der.size()) + " bytes");
  }

  std::optional<Job> next_job(std::string_view dev_id) override {
    // A job whose delivery was cut off (session lost, server restarted) is delivered again
    // from the start; the device installs a given transaction once (TRE counter check).
    if (auto active = store_.active_job(dev_id); active && *active) {
      const Job& job = **active;
      if (job.state == JobState::delivering || job.state == JobState::delivered) return job;
      return std::nullopt;  // awaiting_result: the device's Generic Alert is still to come
    }
    auto claimed = store_.claim_next_job(dev_id, clock_());
    if (!claimed || !*claimed) return std::nullopt;
    writes_for(dev_id).state = DeviceState::provisioning;
    audit(dev_id, "job.deliver", "job " + std::to_string((*claimed)->id));
    return **claimed;
  }

  std::optional<MgmtCommand> next_command(std::string_view dev_id) override {
    auto claimed = store_.claim_next_command(dev_id, clock_());
    if (!claimed) {
      spdlog::warn("dpf: cannot claim a command for {}: {}", dev_id, claimed.error().message());
      return std::nullopt;
    }
    if (!*claimed) return std::nullopt;
    audit(dev_id, "command.deliver", "command " + std::to_string((*claimed)->id));
    return std::move(**claimed);
  }

  void on_command_finished(const MgmtCommand& cmd) override {
    if (auto r = store_.finish_command(cmd, clock_()); !r)
      spdlog::error("dpf: cannot store the outcome of command {}: {}", cmd.id, r.error().message());
    audit(cmd.dev_id, "command." + std::string(to_string(cmd.state)),
          "command " + std::to_string(cmd.id) + " " + std::to_string(cmd.statuses.size()) + " statuses " +
              std::to_string(cmd.results.size()) + " results" + (cmd.error.empty() ? "" : ": " + cmd.error));
  }

  void on_job_state(const Job& job, JobState to) override {
    auto current = store_.get_job(job.id);
    if (!current || current->state == to) return;
    (void)store_.transition_job(job.id, current->state, to, clock_());
  }

  void on_job_completed(const Job& job, int code, std::string_view message) override {
    record(job, code, message);
    audit(job.dev_id, "job.completed", "job " + std::to_string(job.id) + " code " + std::to_string(code));
  }

  void on_job_failed(const Job& job, int code, std::string_view message) override {
    record(job, code, message);
    audit(job.dev_id, "job.failed", "job " + std::to_string(job.id) + " code " + std::to_string(code));
  }

  syncml::StatusCode on_generic_alert(std::string_view dev_id, const DeviceAlert& alert) override {
    using syncml::StatusCode;
    if (alert.correlator.empty()) {
      // Unsolicited (e.g. an MCIM blocked at TRE start): recorded in the audit log.
      audit(dev_id, "device.alert", alert.type + " " + alert.data);
      return StatusCode::Ok;
    }
    auto parsed = mo::parse_m2msim_alert_data(alert.data);
    if (!parsed) {
      audit(dev_id, "device.alert.malformed", alert.correlator + " " + alert.data);
      return StatusCode::Ok;  // acknowledged so the device stops resending garbage; nothing recorded
    }
    auto job = store_.get_job_by_correlator(alert.correlator);
    if (!job || job->dev_id != dev_id) {
      audit(dev_id, "device.alert.unknown", alert.correlator);
      return StatusCode::Ok;
    }
    // A result answers an Exec this server sent to this device (the job is then delivered or
    // awaiting_result; a terminal job makes it a harmless duplicate). A Correlator of a job
    // still queued, notified or being delivered was never sent with an Exec: refused, recorded.
    if (job->state == JobState::queued || job->state == JobState::notified || job->state == JobState::delivering) {
      audit(dev_id, "device.alert.premature",
            alert.correlator + " for job " + std::to_string(job->id) + " in state " + std::string(to_string(job->state)));
      return StatusCode::Forbidden;
    }
    // Operator change variant A step 9: the device discarded the old SHO's MCIM. Not the job's
    // result (that follows in its own alert): it moves the operator change on and reaches the
    // old SHO (callback).
    if (alert.type == mo::kAlertDiscarded) {
      auto change = store_.operator_change_for_job(job->id);
      if (!change || !*change) {
        audit(dev_id, "device.alert.unknown", alert.correlator + " discarded without an operator change");
        return StatusCode::Ok;
      }
      if (auto r = store_.record_change_discarded((*change)->id, alert.data, clock_()); !r) {
        spdlog::error("dpf: cannot record the discard of change {}: {}", (*change)->id, r.error().message());
        return StatusCode::CommandFailed;  // the device keeps the alert and sends it again
      }
      return StatusCode::Ok;
    }
    if (!record(*job, parsed->first, parsed->second)) return StatusCode::CommandFailed;  // 500: sent again
    return StatusCode::Ok;
  }

  /// Writes what the message changed (nonces, last seen, state, audit entries) in one
  /// transaction; the DPF calls it after each message, before the reply leaves, so that a reply
  /// is only sent once what it depends on (the nonces it announces) is durable.
  void flush() {
    if (writes_.empty()) return;
    if (auto r = store_.record_dm_message(writes_dev_, writes_, clock_()); !r)
      spdlog::warn("dpf: cannot record the DM message of {}: {}", writes_dev_, r.error().message());
    writes_ = DmMessageWrites{};
  }

 private:
  /// Records a job's result and tells the observer; false when the store failed.
  bool record(const Job& job, int code, std::string_view message) {
    auto outcome = store_.record_result(job.correlator, code, message, clock_());
    if (!outcome) {
      spdlog::error("dpf: cannot record the result of job {}: {}", job.id, outcome.error().message());
      return false;
    }
    if (on_result_) on_result_(job.id);
    return true;
  }

  void audit(std::string_view dev_id, std::string_view action, std::string detail) {
    AuditEntry e;
    e.at = clock_();
    e.actor = "device:" + std::string(dev_id);
    e.action = std::string(action);
    e.subject = std::string(dev_id);
    e.detail = std::move(detail);
    writes_for(dev_id).audit.push_back(std::move(e));
  }

  Store& store_;
  std::function<std::int64_t()> clock_;
  std::string peer_;
  std::function<void(std::int64_t)> on_result_;
  /// The device row read by credentials() (this session's device), or none.
  const Device* cached(std::string_view dev_id) const {
    return device_ && device_->dev_id == dev_id ? &*device_ : nullptr;
  }
  std::optional<Device> device_;

  /// The writes gathered for @p dev_id (a message concerns one device; another one flushes first).
  DmMessageWrites& writes_for(std::string_view dev_id) {
    if (writes_dev_ != dev_id) {
      flush();
      writes_dev_ = std::string(dev_id);
    }
    return writes_;
  }
  std::string writes_dev_;
  DmMessageWrites writes_;
};

}  // namespace

struct DpfService::Entry {
  std::mutex mutex;  // one message of a session at a time
  std::unique_ptr<StoreBackend> backend;
  std::unique_ptr<DmServerSession> session;
  std::chrono::steady_clock::time_point last_used;
  // Guarded by DpfService::mutex_:
  std::string token;
  std::string peer_host;  // the peer's address without its port
  std::string dev_id;     // known after the first message
  std::uint64_t seq = 0;  // age, for the unauthenticated index
  bool listed = false;    // still in sessions_
  bool authenticated = false;
};

namespace {

std::string host_of(std::string_view peer) {
  // "1.2.3.4:5678" or "::1:5678" (the HTTP layer writes address ':' port).
  const auto colon = peer.rfind(':');
  return std::string(colon == std::string_view::npos ? peer : peer.substr(0, colon));
}

}  // namespace

void DpfService::erase_locked(const std::shared_ptr<Entry>& entry) {
  if (!entry->listed) return;
  entry->listed = false;
  sessions_.erase(entry->token);
  unauthenticated_.erase(entry->seq);
}

void DpfService::authenticated_locked(const std::shared_ptr<Entry>& entry) {
  if (entry->authenticated) return;
  entry->authenticated = true;
  unauthenticated_.erase(entry->seq);
}

bool DpfService::evict_oldest_unauthenticated_locked(const std::function<bool(const Entry&)>& which) {
  for (auto it = unauthenticated_.begin(); it != unauthenticated_.end(); ++it) {
    if (!which(*it->second)) continue;
    auto victim = it->second;
    erase_locked(victim);
    ++stats_.unauthenticated_evicted;
    ++stats_.sessions_aborted;
    return true;
  }
  return false;
}

// Keeps the unauthenticated sessions within their bounds after @p entry's message, dropping the
// oldest others first (never @p entry itself, which is the newest).
void DpfService::bound_unauthenticated_locked(const std::shared_ptr<Entry>& entry) {
  auto count = [&](const std::function<bool(const Entry&)>& which) {
    std::size_t n = 0;
    for (const auto& [seq, e] : unauthenticated_) n += which(*e) ? 1 : 0;
    return n;
  };
  const auto others_of_device = [&](const Entry& e) { return &e != entry.get() && e.dev_id == entry->dev_id; };
  const auto others_of_peer = [&](const Entry& e) { return &e != entry.get() && e.peer_host == entry->peer_host; };
  const auto others = [&](const Entry& e) { return &e != entry.get(); };
  if (!entry->dev_id.empty()) {
    while (count([&](const Entry& e) { return e.dev_id == entry->dev_id; }) > options_.max_unauthenticated_per_device &&
           evict_oldest_unauthenticated_locked(others_of_device)) {
    }
  }
  while (count([&](const Entry& e) { return e.peer_host == entry->peer_host; }) > options_.max_unauthenticated_per_peer &&
         evict_oldest_unauthenticated_locked(others_of_peer)) {
  }
  while (unauthenticated_.size() > options_.max_unauthenticated && evict_oldest_unauthenticated_locked(others)) {
  }
}


DpfService::DpfService(Store& store, DpfOptions options) : store_(store), options_(std::move(options)) {
  if (!options_.clock) {
    options_.clock = [] { return unix_now(); };
  }
}

DpfService::~DpfService() = default;

std::int64_t DpfService::now() const { return options_.clock(); }

HttpResponse DpfService::handle_dm(const HttpRequest& request) {
  if (request.method != "POST") return HttpResponse::make(405, "text/plain", "POST only\n").set_header("Allow", "POST");
  const auto content_type = request.header("content-type").value_or("");
  if (!syncml::encoding_from_content_type(content_type))
    return HttpResponse::make(415, "text/plain", "expected application/vnd.syncml.dm+xml or +wbxml\n");
  const auto hmac = request.header(syncml_hmac_header);
  const std::string token = query_param(request.query(), "s");

  std::shared_ptr<Entry> entry;
  {
    std::lock_guard lock(mutex_);
    ++stats_.messages;
    if (!token.empty()) {
      auto it = sessions_.find(token);
      if (it == sessions_.end()) return HttpResponse::make(404, "text/plain", "no such DM session\n");
      entry = it->second;
    }
  }
  if (!entry) {
    std::lock_guard lock(mutex_);
    // A full table makes room by dropping the oldest unauthenticated session, never an
    // authenticated one.
    if (sessions_.size() >= options_.max_sessions &&
        !evict_oldest_unauthenticated_locked([](const Entry&) { return true; }))
      return HttpResponse::make(503, "text/plain", "too many sessions\n");
    std::string new_token = random_token();
    const std::string host = std::string(request.header("host").value_or("127.0.0.1"));
    const std::string base = options_.public_base.empty()
                                 ? std::string(request.tls ? "https://" : "http://") + host
                                 : options_.public_base;
    DmServerConfig config;
    config.server_uri = options_.server_uri.empty() ? base + "/dm" : options_.server_uri;
    config.resp_uri = base + "/dm?s=" + new_token;
    config.max_msg_size = options_.max_msg_size;
    config.max_obj_size = options_.max_obj_size;
    entry = std::make_shared<Entry>();
    entry->backend = std::make_unique<StoreBackend>(store_, options_.clock, request.peer, options_.on_job_result);
    entry->session = std::make_unique<DmServerSession>(*entry->backend, config);
    entry->token = new_token;
    entry->peer_host = host_of(request.peer);
    entry->seq = next_seq_++;
    entry->listed = true;
    sessions_[new_token] = entry;
    unauthenticated_[entry->seq] = entry;
    ++stats_.sessions_started;
  }

  std::lock_guard session_lock(entry->mutex);
  entry->last_used = std::chrono::steady_clock::now();
  auto reply = entry->session->handle(as_bytes(request.body), content_type, hmac);
  entry->backend->flush();  // one transaction for what the message changed, before the reply
  const auto state = entry->session->state();
  const bool finished = state == DmServerState::Completed || state == DmServerState::Aborted;
  {
    std::lock_guard lock(mutex_);
    if (finished || !reply) {
      const bool was_listed = entry->listed;
      erase_locked(entry);
      if (was_listed) {
        if (state == DmServerState::Completed) ++stats_.sessions_completed;
        else ++stats_.sessions_aborted;
        if (!entry->session->report().device_authenticated) ++stats_.auth_failures;
      }
    } else if (entry->listed) {
      entry->dev_id = entry->session->report().dev_id;
      if (entry->session->report().device_authenticated)
        authenticated_locked(entry);
      else
        bound_unauthenticated_locked(entry);
    }
  }
  if (!reply) {
    spdlog::info("dpf: refused a DM message from {}: {} ({})", request.peer, reply.error().message(),
                 entry->session->report().abort_reason);
    return HttpResponse::make(400, "text/plain", "bad DM message\n");
  }
  if (state == DmServerState::Aborted)
    spdlog::info("dpf: session {} with {} aborted: {}", entry->session->session_id(),
                 entry->session->report().dev_id, entry->session->report().abort_reason);
  HttpResponse response = HttpResponse::make(200, reply->content_type, std::string(as_chars(reply->body)));
  if (reply->hmac_header) response.set_header(syncml_hmac_header, *reply->hmac_header);
  return response;
}

std::size_t DpfService::expire_idle() {
  const auto cutoff = std::chrono::steady_clock::now() - options_.session_idle_timeout;
  std::lock_guard lock(mutex_);
  std::size_t n = 0;
  std::vector<std::shared_ptr<Entry>> idle;
  for (const auto& [token, entry] : sessions_)
    if (entry->last_used < cutoff) idle.push_back(entry);
  for (const auto& entry : idle) {
    erase_locked(entry);
    ++n;
  }
  stats_.sessions_expired += n;
  return n;
}

DpfStats DpfService::stats() const {
  std::lock_guard lock(mutex_);
  DpfStats s = stats_;
  s.sessions_open = sessions_.size();
  s.sessions_unauthenticated = unauthenticated_.size();
  return s;
}

}  // namespace m2mdm::server
