// The DPF's DM server session engine (see m2mdm/server/dm_session.hpp). No I/O: storage is
// reached through DmBackend, bytes arrive through handle() and leave in its DmReply.
#include "m2mdm/server/dm_session.hpp"

#include "m2mdm/mo/m2msim_object.hpp"
#include "m2mdm/server/error.hpp"
#include "m2mdm/syncml/error.hpp"
#include "m2mdm/syncml/status.hpp"

#include <algorithm>
#include <deque>
#include <set>

namespace m2mdm::server {

using syncml::AlertCode;
using syncml::AuthType;
using syncml::Command;
using syncml::CommandKind;
using syncml::ItemCommand;
using syncml::Message;
using syncml::StatusCode;

namespace {

syncml::Status make_status(std::uint32_t msg_ref, std::uint32_t cmd_ref, std::string_view cmd, StatusCode code) {
  syncml::Status s;
  s.msg_ref = msg_ref;
  s.cmd_ref = cmd_ref;
  s.cmd = std::string(cmd);
  s.data = syncml::code(code);
  return s;
}

bool success(std::uint16_t code) { return code >= 200 && code < 300; }

// The device's DevInfo leaves we record from package 1.
constexpr std::string_view kDevInfoPrefix = "./DevInfo/";

}  // namespace

struct DmServerSession::Impl {
  DmBackend& backend;
  DmServerConfig config;
  DmServerState state = DmServerState::New;
  DmServerReport report;
  std::string session_id;
  std::string device_uri;  // the device's LocURI (its DevId)
  DmCredentials creds;
  syncml::Encoding encoding;
  AuthType client_auth = AuthType::md5;  // how the device must authenticate
  std::uint32_t next_msg_id = 1;
  std::uint32_t next_cmd_id = 1;
  std::uint32_t last_device_msg = 0;
  std::uint64_t device_max_msg_size = 0;
  std::uint64_t device_max_obj_size = 0;
  unsigned device_auth_failures = 0;
  unsigned our_auth_attempts = 0;
  bool pfc_requested = false;

  // What each command we sent was for, so that its Status can move the workflow on.
  enum class Purpose { GetPfc, AddSlot, AddPackage, AddAuthToken, ExecJob, Other };
  std::map<std::uint32_t, Purpose> awaiting;

  // The job being delivered.
  struct Delivery {
    Job job;
    std::string slot_uri;
    Bytes package;
    std::size_t offset = 0;  // bytes of package already sent
    bool slot_sent = false;
    bool token_sent = false;
    bool exec_sent = false;
    bool done = false;
  };
  std::optional<Delivery> delivery;
  std::deque<Command> pending_ops;  // our commands not yet sent

  Impl(DmBackend& b, DmServerConfig c) : backend(b), config(std::move(c)), encoding(config.default_encoding) {}

  std::uint32_t cmd_id() { return next_cmd_id++; }

  // ---- authentication -----------------------------------------------------------------------

  std::optional<syncml::Chal> new_client_challenge() {
    auto challenge = syncml::make_challenge(client_auth);
    if (!challenge) return std::nullopt;
    creds.client_nonce = challenge->next_nonce;
    backend.save_nonces(device_uri, creds.server_nonce, creds.client_nonce);
    syncml::Chal chal;
    chal.meta.type = std::string(challenge->type_string());
    chal.meta.format = std::string(syncml::kFormatB64);
    if (!challenge->next_nonce.empty()) chal.meta.next_nonce = challenge->next_nonce_b64();
    return chal;
  }

  // DM_Security 1.2 §5: 212 newly authenticated, 200 already in this session, 401/407 otherwise.
  StatusCode authenticate_device(const Message& msg, ByteView body, std::optional<std::string_view> hmac_header) {
    if (client_auth == AuthType::hmac) {
      if (!hmac_header) return StatusCode::MissingCredentials;
      auto parsed = syncml::parse_hmac_header(*hmac_header);
      if (!parsed || parsed->username != creds.client_username) return StatusCode::InvalidCredentials;
      if (!syncml::verify_hmac(*parsed, creds.client_password, creds.client_nonce, body))
        return StatusCode::InvalidCredentials;
    } else {
      if (!msg.hdr.cred) return report.device_authenticated ? StatusCode::Ok : StatusCode::MissingCredentials;
      auto type = syncml::parse_auth_type(msg.hdr.cred->meta.type.value_or(std::string(syncml::kAuthTypeBasic)));
      if (!type || *type != client_auth) return StatusCode::InvalidCredentials;
      if (!syncml::verify_credential(*type, msg.hdr.cred->data, creds.client_username, creds.client_password,
                                     creds.client_nonce))
        return StatusCode::InvalidCredentials;
    }
    const bool first = !report.device_authenticated;
    report.device_authenticated = true;
    return first ? StatusCode::AuthenticationAccepted : StatusCode::Ok;
  }

  // ---- our messages -------------------------------------------------------------------------

  Message new_message() {
    Message m;
    m.hdr.session_id = session_id;
    m.hdr.msg_id = next_msg_id++;
    m.hdr.target.loc_uri = device_uri;
    m.hdr.source.loc_uri = config.server_uri;
    if (!config.resp_uri.empty()) m.hdr.resp_uri = config.resp_uri;
    syncml::Meta meta;
    meta.max_msg_size = config.max_msg_size;
    meta.max_obj_size = config.max_obj_size;
    m.hdr.meta = meta;
    if (!report.server_authenticated && client_auth != AuthType::hmac) {
      // Our credential over the nonce the device gave us (DM_Security 1.2 §5.1).
      const AuthType ours = client_auth;
      if (auto cred = syncml::make_credential(ours, creds.server_username, creds.server_password, creds.server_nonce)) {
        syncml::Cred c;
        c.meta.type = std::string(syncml::auth_type_string(ours));
        c.meta.format = std::string(syncml::kFormatB64);
        c.data = *cred;
        m.hdr.cred = c;
      }
    }
    return m;
  }

  Result<DmReply> emit(Message m, bool over) {
    // Every command, Status and Results included, carries a CmdID (DM_RepPro 1.2 §6.6).
    for (auto& c : m.body) {
      if (auto* st = std::get_if<syncml::Status>(&c.value); st && st->cmd_id == 0) st->cmd_id = cmd_id();
      if (auto* rs = std::get_if<syncml::Results>(&c.value); rs && rs->cmd_id == 0) rs->cmd_id = cmd_id();
    }
    auto body = syncml::encode(m, encoding);
    if (!body) return fail(body.error());
    DmReply reply;
    reply.body = std::move(*body);
    reply.content_type = syncml::content_type(encoding);
    reply.session_over = over;
    if (client_auth == AuthType::hmac) {
      auto header = syncml::hmac_header_value(creds.server_username, creds.server_password, creds.server_nonce,
                                              reply.body);
      if (!header) return fail(header.error());
      reply.hmac_header = std::move(*header);
    }
    if (over && state != DmServerState::Aborted) state = DmServerState::Completed;
    return reply;
  }

  // Alert 1223 with Final: the session ends here (DM_Protocol 1.2 §8.7).
  Result<DmReply> abort_session(std::string reason) {
    report.abort_reason = std::move(reason);
    state = DmServerState::Aborted;
    if (delivery && !delivery->done) {
      // Not delivered: the job goes back to the queue by the backend's rules (it stays
      // claimed as delivering; the next session re-delivers it from the start).
      delivery.reset();
    }
    Message m = new_message();
    syncml::Alert alert;
    alert.cmd_id = cmd_id();
    alert.data = syncml::code(AlertCode::SessionAbort);
    m.body.push_back(Command{alert});
    m.final = true;
    return emit(std::move(m), true);
  }

  // ---- the workflow: what to ask the device next ---------------------------------------------

  std::uint64_t chunk_budget() const {
    // Room for one chunk: the device's MaxMsgSize minus headers and the other commands, and
    // base64 growth (4/3). Floors keep progress possible on tiny limits.
    const std::uint64_t msg = device_max_msg_size ? device_max_msg_size : 16 * 1024;
    const std::uint64_t overhead = 1536;
    const std::uint64_t room = msg > overhead + 256 ? msg - overhead : 256;
    return std::max<std::uint64_t>(room * 3 / 4 / 4 * 4, 192);
  }

  void plan_pfc() {
    if (pfc_requested || !backend.wants_pfc(device_uri)) return;
    pfc_requested = true;
    ItemCommand get;
    get.kind = CommandKind::Get;
    get.cmd_id = cmd_id();
    syncml::Item item;
    item.target = syncml::Location{mo::m2msim_uri("PfC"), std::nullopt};
    get.items.push_back(std::move(item));
    awaiting[get.cmd_id] = Purpose::GetPfc;
    pending_ops.push_back(Command{get});
  }

  std::string exec_target(const Job& job) const {
    switch (job.kind) {
      case JobKind::install:
      case JobKind::operator_change:
        return mo::m2msim_uri("Download/j" + std::to_string(job.id) + "/Operations/Install");
      case JobKind::reset:
        return mo::m2msim_uri("Operations/ResetToPristine");
      case JobKind::activate:
        return mo::m2msim_uri("MCIM/" + std::string(as_chars(job.payload)) + "/Operations/Activate");
      case JobKind::deactivate:
        return mo::m2msim_uri("MCIM/" + std::string(as_chars(job.payload)) + "/Operations/Deactivate");
      case JobKind::delete_mcim:
        return mo::m2msim_uri("MCIM/" + std::string(as_chars(job.payload)) + "/Operations/Delete");
    }
    return {};
  }

  static bool needs_package(const Job& job) {
    return job.kind == JobKind::install || job.kind == JobKind::operator_change;
  }

  void start_next_job() {
    if (delivery && !delivery->done) return;
    auto job = backend.next_job(device_uri);
    if (!job) return;
    Delivery d;
    d.job = *job;
    d.slot_uri = mo::m2msim_uri("Download/j" + std::to_string(job->id));
    if (needs_package(*job)) {
      // Objects larger than the device accepts cannot be delivered (DM_RepPro 1.2 §7).
      if (device_max_obj_size && job->payload.size() > device_max_obj_size) {
        backend.on_job_failed(*job, syncml::code(StatusCode::RequestEntityTooLarge),
                              "sealed package exceeds the device's MaxObjSize");
        ++report.jobs_failed;
        return start_next_job();
      }
      d.package = job->payload;
    }
    delivery = std::move(d);
  }

  // Queues an Add of one item and remembers what its Status is for.
  void queue_add(std::string uri, std::string format, std::optional<std::string> data, Purpose purpose) {
    ItemCommand add;
    add.kind = CommandKind::Add;
    add.cmd_id = cmd_id();
    syncml::Item item;
    item.target = syncml::Location{std::move(uri), std::nullopt};
    syncml::Meta meta;
    meta.format = std::move(format);
    item.meta = meta;
    item.data = std::move(data);
    add.items.push_back(std::move(item));
    awaiting[add.cmd_id] = purpose;
    pending_ops.push_back(Command{add});
  }

  // Queues the next commands of the current delivery. Returns true when our package is not
  // complete yet (a large object continues in the next message).
  bool plan_delivery() {
    if (!delivery || delivery->done) return false;
    auto& d = *delivery;
    if (needs_package(d.job)) {
      if (!d.slot_sent) {
        queue_add(d.slot_uri, "node", {}, Purpose::AddSlot);
        // The Exec target of the slot is created by the server (docs/m2msimmobj.md).
        queue_add(d.slot_uri + "/Operations/Install", "null", {}, Purpose::AddSlot);
        if (!d.job.authorisation.empty())
          queue_add(d.slot_uri + "/AuthToken", "b64", base64_encode(as_bytes(d.job.authorisation)),
                    Purpose::AddAuthToken);
        d.slot_sent = true;
      }
      if (d.offset < d.package.size() || d.package.empty()) {
        // The package: one Add, as large-object chunks when it does not fit one message.
        // Meta Size counts the object's bytes (after b64 decoding); each chunk is b64 on its own.
        const std::uint64_t budget = chunk_budget();
        const std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(budget, d.package.size() - d.offset));
        ItemCommand add;
        add.kind = CommandKind::Add;
        add.cmd_id = cmd_id();
        syncml::Item item;
        item.target = syncml::Location{d.slot_uri + "/Package", std::nullopt};
        syncml::Meta meta;
        meta.format = "b64";
        meta.type = std::string(mo::kSealedPackageType);
        if (d.offset == 0) meta.size = d.package.size();
        item.meta = meta;
        item.data = base64_encode(ByteView(d.package).subspan(d.offset, n));
        d.offset += n;
        item.more_data = d.offset < d.package.size();
        add.items.push_back(std::move(item));
        awaiting[add.cmd_id] = Purpose::AddPackage;
        pending_ops.push_back(Command{add});
        if (d.offset < d.package.size()) return true;  // more chunks follow
        if (d.package.empty()) d.offset = 1;           // nothing to send; mark as sent
      }
    }
    if (!d.exec_sent) {
      ItemCommand exec;
      exec.kind = CommandKind::Exec;
      exec.cmd_id = cmd_id();
      exec.correlator = d.job.correlator;
      syncml::Item item;
      item.target = syncml::Location{exec_target(d.job), std::nullopt};
      exec.items.push_back(std::move(item));
      awaiting[exec.cmd_id] = Purpose::ExecJob;
      pending_ops.push_back(Command{exec});
      d.exec_sent = true;
      backend.on_job_state(d.job, JobState::delivering);
    }
    return false;
  }

  void job_failed(int code, std::string_view why) {
    if (!delivery || delivery->done) return;
    backend.on_job_failed(delivery->job, code, why);
    ++report.jobs_failed;
    delivery->done = true;
    // Drop what we had not sent yet for it.
    pending_ops.clear();
  }

  // ---- the device's answers -----------------------------------------------------------------

  void handle_status(const syncml::Status& st) {
    if (st.cmd == "SyncHdr") {
      if (st.chal && st.chal->meta.next_nonce) {
        if (auto nonce = base64_decode(*st.chal->meta.next_nonce)) {
          creds.server_nonce = *nonce;
          backend.save_nonces(device_uri, creds.server_nonce, creds.client_nonce);
        }
      }
      if (success(st.data)) report.server_authenticated = true;
      if (st.data == syncml::code(StatusCode::InvalidCredentials) ||
          st.data == syncml::code(StatusCode::MissingCredentials)) {
        report.server_authenticated = false;
        ++our_auth_attempts;
      }
      return;
    }
    auto it = awaiting.find(st.cmd_ref);
    if (it == awaiting.end()) return;
    const Purpose purpose = it->second;
    awaiting.erase(it);
    switch (purpose) {
      case Purpose::GetPfc:
        break;  // Results carry the data; a failed Get leaves the PfC unknown
      case Purpose::AddSlot:
        if (!success(st.data) && st.data != syncml::code(StatusCode::AlreadyExists))
          job_failed(st.data, "device refused the delivery slot");
        break;
      case Purpose::AddAuthToken:
        if (!success(st.data)) job_failed(st.data, "device refused the authorisation token");
        break;
      case Purpose::AddPackage:
        if (!success(st.data)) job_failed(st.data, "device refused the sealed package");
        break;
      case Purpose::ExecJob:
        if (delivery && !delivery->done) {
          if (success(st.data)) {
            // 202: accepted, the outcome follows as a Generic Alert with the Correlator.
            backend.on_job_state(delivery->job, JobState::awaiting_result);
            ++report.jobs_delivered;
            delivery->done = true;
          } else {
            job_failed(st.data, "device refused the Exec");
          }
        }
        break;
      case Purpose::Other:
        break;
    }
  }

  void handle_results(const syncml::Results& results) {
    for (const auto& item : results.items) {
      const std::string uri = item.source ? item.source->loc_uri : results.target_ref.value_or(std::string{});
      if (uri == mo::m2msim_uri("PfC") && item.data) {
        const bool b64 = item.meta && item.meta->format && *item.meta->format == "b64";
        if (b64) {
          if (auto der = base64_decode(*item.data)) backend.on_pfc(device_uri, *der);
        } else {
          backend.on_pfc(device_uri, as_bytes(*item.data));
        }
      }
    }
  }

  // ---- one device message -------------------------------------------------------------------

  Result<DmReply> handle(ByteView body, std::string_view content_type, std::optional<std::string_view> hmac_header) {
    if (state == DmServerState::Completed || state == DmServerState::Aborted) return fail(errc::invalid_argument);
    syncml::DecodeError detail;
    auto enc = syncml::encoding_from_content_type(content_type);
    if (!enc) enc = syncml::detect_encoding(body);
    if (!enc) return fail(syncml::errc::malformed_xml);
    auto decoded = *enc == syncml::Encoding::Xml ? syncml::decode_xml(body, config.decode_limits, &detail)
                                                 : syncml::decode_wbxml(body, config.decode_limits, &detail);
    if (!decoded) {
      if (state == DmServerState::New) return fail(decoded.error());
      return abort_session("undecodable message from the device: " + detail.what);
    }
    encoding = *enc;  // answer in the device's encoding
    const Message& msg = *decoded;
    ++report.messages;

    if (state == DmServerState::New) {
      session_id = msg.hdr.session_id;
      device_uri = msg.hdr.source.loc_uri;
      report.dev_id = device_uri;
      auto c = backend.credentials(device_uri);
      if (!c) {
        state = DmServerState::Aborted;
        report.abort_reason = "unknown device " + device_uri;
        return fail(c.error());
      }
      creds = std::move(*c);
      // The device authenticates the way its Cred says, if it is one we accept.
      if (hmac_header) {
        client_auth = AuthType::hmac;
      } else if (msg.hdr.cred && msg.hdr.cred->meta.type) {
        if (auto t = syncml::parse_auth_type(*msg.hdr.cred->meta.type); t && *t != AuthType::basic) client_auth = *t;
      }
      state = DmServerState::Running;
    } else if (msg.hdr.session_id != session_id || msg.hdr.source.loc_uri != device_uri) {
      return abort_session("message of another session");
    }
    if (msg.hdr.ver_proto != "DM/1.2") return abort_session("unsupported protocol " + msg.hdr.ver_proto);
    if (report.messages > config.max_messages) return abort_session("session exceeded its message limit");
    last_device_msg = msg.hdr.msg_id;
    if (msg.hdr.meta) {
      if (msg.hdr.meta->max_msg_size) device_max_msg_size = *msg.hdr.meta->max_msg_size;
      if (msg.hdr.meta->max_obj_size) device_max_obj_size = *msg.hdr.meta->max_obj_size;
    }

    const StatusCode device_auth = authenticate_device(msg, body, hmac_header);
    syncml::Status hdr_status = make_status(msg.hdr.msg_id, 0, "SyncHdr", device_auth);
    hdr_status.target_refs.push_back(config.server_uri);
    hdr_status.source_refs.push_back(device_uri);

    if (!syncml::is_success(device_auth)) {
      Message reply = new_message();
      // Challenge once more after a failure, then stop (DM_Security 1.2 §5.3).
      if (++device_auth_failures > 2) return abort_session("device failed to authenticate");
      hdr_status.chal = new_client_challenge();
      reply.body.push_back(Command{hdr_status});
      reply.final = true;
      return emit(std::move(reply), false);
    }
    if (device_auth == StatusCode::AuthenticationAccepted && client_auth != AuthType::basic)
      hdr_status.chal = new_client_challenge();  // NextNonce for the device's next session

    // The device's answers to our previous message (they may carry the nonce for our credential).
    bool device_asks_next = false;
    std::map<std::string, std::string> devinfo;
    for (const auto& command : msg.body) {
      if (const auto* st = std::get_if<syncml::Status>(&command.value)) handle_status(*st);
      if (const auto* res = std::get_if<syncml::Results>(&command.value)) handle_results(*res);
    }
    if (our_auth_attempts > 2) return abort_session("device refused our credentials");
    Message reply = new_message();
    reply.body.push_back(Command{hdr_status});

    // The device's own commands.
    for (const auto& command : msg.body) {
      if (const auto* alert = std::get_if<syncml::Alert>(&command.value)) {
        const auto code = alert->data.value_or(0);
        StatusCode s = StatusCode::Ok;
        if (code == syncml::code(AlertCode::SessionAbort)) {
          state = DmServerState::Aborted;
          report.abort_reason = "device aborted the session (1223)";
          return fail(errc::invalid_argument);
        }
        if (code == syncml::code(AlertCode::NextMessage)) device_asks_next = true;
        if (code == syncml::code(AlertCode::GenericAlert)) {
          bool all = true;
          for (const auto& item : alert->items) {
            DeviceAlert a;
            a.correlator = alert->correlator.value_or(std::string{});
            a.source_uri = item.source ? item.source->loc_uri : std::string{};
            if (item.meta) {
              a.type = item.meta->type.value_or(std::string{});
              a.format = item.meta->format.value_or(std::string{});
              a.mark = item.meta->mark.value_or(std::string{});
            }
            a.data = item.data.value_or(std::string{});
            if (backend.on_generic_alert(device_uri, a))
              ++report.alerts_recorded;
            else
              all = false;
          }
          if (!all) s = StatusCode::CommandFailed;
        }
        reply.body.push_back(Command{make_status(msg.hdr.msg_id, alert->cmd_id, "Alert", s)});
        continue;
      }
      if (const auto* cmd = std::get_if<ItemCommand>(&command.value)) {
        StatusCode s = StatusCode::CommandNotAllowed;
        if (cmd->kind == CommandKind::Replace) {
          // Package 1 carries ./DevInfo (DM_Protocol 1.2 §8.3).
          s = StatusCode::Ok;
          for (const auto& item : cmd->items) {
            const std::string uri = item.source ? item.source->loc_uri
                                                : (item.target ? item.target->loc_uri : std::string{});
            if (uri.starts_with(kDevInfoPrefix)) devinfo[uri.substr(kDevInfoPrefix.size())] = item.data.value_or("");
          }
        }
        reply.body.push_back(Command{make_status(msg.hdr.msg_id, cmd->cmd_id, syncml::command_name(cmd->kind), s)});
        continue;
      }
      if (const auto* container = std::get_if<syncml::Container>(&command.value)) {
        reply.body.push_back(Command{make_status(msg.hdr.msg_id, container->cmd_id,
                                                 syncml::command_name(container->kind), StatusCode::CommandNotAllowed)});
      }
    }
    if (!devinfo.empty()) backend.on_device_info(device_uri, devinfo);

    // The device has more of its package: ask for it (DM_Protocol 1.2 §8.2.1).
    if (!msg.final && !device_asks_next) {
      syncml::Alert next;
      next.cmd_id = cmd_id();
      next.data = syncml::code(AlertCode::NextMessage);
      reply.body.push_back(Command{next});
      return emit(std::move(reply), false);
    }

    // Our next commands, once the device has answered everything we asked.
    bool more_to_come = false;
    if (awaiting.empty() && pending_ops.empty()) {
      plan_pfc();
      if (pending_ops.empty()) {
        start_next_job();
        more_to_come = plan_delivery();
      }
    }
    const bool has_ops = !pending_ops.empty();
    while (!pending_ops.empty()) {
      reply.body.push_back(std::move(pending_ops.front()));
      pending_ops.pop_front();
    }
    reply.final = !more_to_come;
    // Nothing asked and nothing owed: this Final message ends the session.
    const bool over = !has_ops && !more_to_come && awaiting.empty();
    return emit(std::move(reply), over);
  }
};

DmServerSession::DmServerSession(DmBackend& backend, DmServerConfig config)
    : impl_(std::make_unique<Impl>(backend, std::move(config))) {}
DmServerSession::~DmServerSession() = default;

Result<DmReply> DmServerSession::handle(ByteView body, std::string_view content_type,
                                        std::optional<std::string_view> hmac_header) {
  return impl_->handle(body, content_type, hmac_header);
}
DmServerState DmServerSession::state() const noexcept { return impl_->state; }
const DmServerReport& DmServerSession::report() const noexcept { return impl_->report; }
const std::string& DmServerSession::session_id() const noexcept { return impl_->session_id; }

}  // namespace m2mdm::server
