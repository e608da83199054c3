// The DPF's DM server session engine (see m2mdm/server/dm_session.hpp). No I/O: storage is
// reached through DmBackend, bytes arrive through handle() and leave in its DmReply.
#include "m2mdm/server/dm_session.hpp"

#include "dpf/mgmt_run.hpp"

#include "m2mdm/mo/m2msim_object.hpp"
#include "m2mdm/server/error.hpp"
#include "m2mdm/syncml/error.hpp"
#include "m2mdm/syncml/large_object.hpp"
#include "m2mdm/syncml/message_builder.hpp"
#include "m2mdm/syncml/peer_auth.hpp"
#include "m2mdm/syncml/status.hpp"

#include <algorithm>
#include <deque>
#include <set>

namespace m2mdm::server {

// The engine is written in the SyncML vocabulary (Message, Command, StatusCode, ...).
using namespace syncml;

namespace {


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
  syncml::Encoding encoding;
  // The shared session layer (syncml/): our messages, the device's credentials, ours. This
  // engine keeps only the DPF's policy around them.
  syncml::MessageBuilder builder;
  syncml::PeerAuthenticator device_check;  // the device must prove its client credentials
  syncml::OwnCredential own;               // we prove ours, in the device's scheme
  // A re-bootstrap the device has not used yet: its credentials, tried when the current ones fail.
  std::optional<syncml::PeerAuthenticator> pending_check;
  std::optional<syncml::OwnCredential> pending_own;
  std::uint32_t last_device_msg = 0;
  std::uint64_t device_max_msg_size = 0;
  std::uint64_t device_max_obj_size = 0;
  unsigned device_auth_failures = 0;
  unsigned our_auth_attempts = 0;
  bool pfc_requested = false;

  // What each command we sent was for, so that its Status can move the workflow on.
  enum class Purpose { GetPfc, AddSlot, AddPackage, AddAuthToken, ExecJob, Mgmt, Other };
  std::map<std::uint32_t, Purpose> awaiting;

  // The job being delivered.
  struct Delivery {
    Job job;
    std::string slot_uri;
    syncml::ObjectChunker package;  // the sealed package, sent in large-object chunks
    bool slot_sent = false;
    bool token_sent = false;
    bool exec_sent = false;
    bool done = false;
  };
  std::optional<Delivery> delivery;
  std::deque<Command> pending_ops;  // our commands not yet sent
  // The generic management command being run (after the jobs), and Statuses owed to the
  // device's chunked Results.
  std::optional<MgmtRun> mgmt;
  syncml::LargeObjectAssembler replace_object;  // a device's Replace value arriving in chunks
  syncml::LargeObjectAssembler pfc_object;      // the device's PfC Results arriving in chunks
  std::vector<syncml::Status> results_statuses;

  Impl(DmBackend& b, DmServerConfig c) : backend(b), config(std::move(c)), encoding(config.default_encoding) {}

  std::uint32_t cmd_id() { return builder.next_cmd_id(); }
  syncml::AuthType client_auth() const noexcept { return device_check.expected().type; }

  // ---- authentication (DM_Security 1.2 §5), by the shared layer ------------------------------

  // A fresh nonce for the device's next credential. Stored for the next session only when
  // @p persist: a message from a device that has not proved who it is never writes to the store
  // (the retry within this session uses the nonce held here; a device whose session dies after
  // the challenge is challenged again in its next one).
  std::optional<syncml::Chal> new_client_challenge(bool persist) {
    auto chal = device_check.challenge();
    if (!chal) return std::nullopt;
    if (persist) backend.save_nonces(device_uri, own.secret().nonce, device_check.expected().nonce);
    return chal;
  }

  // ---- our messages -------------------------------------------------------------------------

  // Our credential over the nonce the device gave us, until it accepts it (DM_Security 1.2 §5.1).
  Message new_message() { return builder.new_message(own.cred()); }

  // Whether @p cmds can be encoded in this session's encoding, tried in a message of their own
  // before they are queued: one job or management command that cannot be encoded (text XML
  // cannot carry, a value WBXML refuses) must fail alone, never every message of the session.
  std::optional<std::string> unencodable(const std::vector<Command>& cmds) const {
    Message probe;  // a header of its own: the session's MsgIDs and CmdIDs are not used up
    probe.hdr.session_id = "1";
    probe.hdr.msg_id = 1;
    probe.hdr.target.loc_uri = device_uri.empty() ? std::string("probe") : device_uri;
    probe.hdr.source.loc_uri = config.server_uri.empty() ? std::string("probe") : config.server_uri;
    probe.body = cmds;
    std::uint32_t id = 1;
    for (auto& c : probe.body)
      if (auto* ic = std::get_if<ItemCommand>(&c.value); ic && ic->cmd_id == 0) ic->cmd_id = id++;
    probe.final = true;
    if (auto body = syncml::encode(probe, encoding); !body) return body.error().message();
    return std::nullopt;
  }

  Result<DmReply> emit(Message m, bool over) {
    // Every command, Status and Results included, carries a CmdID (DM_RepPro 1.2 §6.6).
    builder.number(m);
    auto body = syncml::encode(m, encoding);
    if (!body) return fail(body.error());
    DmReply reply;
    reply.body = std::move(*body);
    reply.content_type = syncml::content_type(encoding);
    reply.session_over = over;
    auto hmac = own.hmac_header(reply.body);
    if (!hmac) return fail(hmac.error());
    if (*hmac) reply.hmac_header = std::move(**hmac);
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
    finish_mgmt(MgmtState::failed, "session aborted: " + report.abort_reason);
    Message m = new_message();
    m.body.push_back(Command{syncml::session_alert(cmd_id(), AlertCode::SessionAbort)});
    m.final = true;
    return emit(std::move(m), true);
  }

  // ---- the workflow: what to ask the device next ---------------------------------------------

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
      case JobKind::arm_rebootstrap:
        return mo::m2msim_uri("ReBootstrap/Operations/Arm");
      case JobKind::activate:
        return mo::m2msim_uri("MCIM/" + std::string(as_chars(job.payload)) + "/Operations/Activate");
      case JobKind::deactivate:
        return mo::m2msim_uri("MCIM/" + std::string(as_chars(job.payload)) + "/Operations/Deactivate");
      case JobKind::delete_mcim:
        return mo::m2msim_uri("MCIM/" + std::string(as_chars(job.payload)) + "/Operations/Delete");
    }
    return {};
  }

  static bool names_mcim(const Job& job) {
    return job.kind == JobKind::activate || job.kind == JobKind::deactivate || job.kind == JobKind::delete_mcim;
  }

  static bool needs_package(const Job& job) {
    return job.kind == JobKind::install || job.kind == JobKind::operator_change;
  }

  void start_next_job() {
    if (delivery && !delivery->done) return;
    auto job = backend.next_job(device_uri);
    if (!job) return;
    // An MCIM name that is not one node name would make an Exec we cannot send (or one that
    // points elsewhere in the tree): that job fails alone, the session and later jobs go on.
    if (names_mcim(*job) && !mo::is_valid_m2msim_node_name(as_chars(job->payload))) {
      backend.on_job_failed(*job, syncml::code(StatusCode::BadRequest), "job object is not a valid MCIM node name");
      ++report.jobs_failed;
      return start_next_job();
    }
    if (auto why = unencodable({Command{job_exec(*job)}, Command{job_auth_token(*job, mo::m2msim_uri("Download/j"))}})) {
      backend.on_job_failed(*job, syncml::code(StatusCode::BadRequest), "the job cannot be encoded: " + *why);
      ++report.jobs_failed;
      return start_next_job();
    }
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
      d.package = syncml::ObjectChunker(job->payload);
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

  // One item of a device's Replace sent as a large object. The first chunk declares the object's
  // Size (411 without), within our MaxObjSize (413), in the item's Meta or the command's; chunks
  // are answered 213; a last chunk that does not complete the declared Size is 424 (DM_RepPro 1.2
  // §7). A b64 object's chunks are each base64 (Size counts the decoded bytes); the whole is kept
  // as base64 text, as an unchunked b64 value is. Ok: @p value holds the whole.
  StatusCode on_replace_chunk(const ItemCommand& cmd, const syncml::Item& item, const std::string& uri,
                              std::string& value) {
    if (!replace_object.active()) {
      const StatusCode first = replace_object.begin(uri, syncml::effective_meta(item, cmd.meta), config.max_obj_size);
      if (first != StatusCode::Ok) return first;
    }
    const StatusCode code = replace_object.append_data(value, item.more_data);
    if (code != StatusCode::Ok) return code;  // 213 for more; 400/424 discarded the object
    const bool b64 = replace_object.base64();
    const Bytes whole = replace_object.take();
    value = b64 ? base64_encode(whole) : std::string(as_chars(whole));
    return StatusCode::Ok;
  }

  // Another command, or an item for another node, before the device's last chunk: the object is
  // dropped and the device told with Alert 1225 naming it (DM_RepPro 1.2 §7), as the client does.
  void interrupt_replace_object(Message& reply) { drop_with_1225(replace_object, reply); }

  // Drops @p object, if one is arriving, and tells the device with Alert 1225 naming it.
  void drop_with_1225(syncml::LargeObjectAssembler& object, Message& reply) {
    if (!object.active()) return;
    reply.body.push_back(Command{syncml::no_end_of_data_alert(cmd_id(), object.uri())});
    object.reset();
  }

  // The device ended its package (Final) with an object still arriving: Final closes the package
  // and an object's chunks come in consecutive messages of it (DM_Protocol 1.2 §6, DM_RepPro 1.2
  // §7), so the object never ends; it is dropped with Alert 1225, and the session goes on for
  // the device's Status.
  void interrupt_objects_at_final(Message& reply) {
    drop_with_1225(replace_object, reply);
    drop_with_1225(pfc_object, reply);
  }

  // The Exec that runs @p job on the device (its CmdID is set by the caller).
  ItemCommand job_exec(const Job& job) const {
    ItemCommand exec;
    exec.kind = CommandKind::Exec;
    exec.correlator = job.correlator;
    syncml::Item item;
    item.target = syncml::Location{exec_target(job), std::nullopt};
    if (job.kind == JobKind::arm_rebootstrap) item.data = std::string(as_chars(job.payload));  // validity
    // ResetToPristine carries the old SHO's variant-B token, base64 (docs/operator-change.md).
    if (job.kind == JobKind::reset && !job.authorisation.empty()) item.data = job.authorisation;
    exec.items.push_back(std::move(item));
    return exec;
  }

  // The Add of the job's authorisation into its download slot (empty data when it has none). An
  // operator change carries its token (CMS DER) as base64 text already; another job's
  // authorisation is opaque text.
  static ItemCommand job_auth_token(const Job& job, const std::string& slot_uri) {
    ItemCommand add;
    add.kind = CommandKind::Add;
    syncml::Item item;
    item.target = syncml::Location{slot_uri + "/AuthToken", std::nullopt};
    syncml::Meta meta;
    meta.format = "b64";
    item.meta = meta;
    item.data = job.kind == JobKind::operator_change ? job.authorisation : base64_encode(as_bytes(job.authorisation));
    add.items.push_back(std::move(item));
    return add;
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
        if (!d.job.authorisation.empty()) {
          ItemCommand add = job_auth_token(d.job, d.slot_uri);
          add.cmd_id = cmd_id();
          awaiting[add.cmd_id] = Purpose::AddAuthToken;
          pending_ops.push_back(Command{std::move(add)});
        }
        d.slot_sent = true;
      }
      if (!d.package.done()) {
        // The package: one Add, as large-object chunks when it does not fit one message.
        const auto budget = static_cast<std::size_t>(syncml::chunk_budget(device_max_msg_size));
        ItemCommand add;
        add.kind = CommandKind::Add;
        add.cmd_id = cmd_id();
        syncml::Item templ;
        templ.target = syncml::Location{d.slot_uri + "/Package", std::nullopt};
        templ.meta = syncml::Meta{};
        templ.meta->type = std::string(mo::kSealedPackageType);
        add.items.push_back(d.package.next(budget, std::move(templ)));
        awaiting[add.cmd_id] = Purpose::AddPackage;
        pending_ops.push_back(Command{add});
        if (!d.package.done()) return true;  // more chunks follow
      }
    }
    if (!d.exec_sent) {
      ItemCommand exec = job_exec(d.job);
      exec.cmd_id = cmd_id();
      awaiting[exec.cmd_id] = Purpose::ExecJob;
      pending_ops.push_back(Command{exec});
      d.exec_sent = true;
      // From here the device may hold the Correlator: only now may a result for it be taken.
      backend.on_job_state(d.job, JobState::delivered);
    }
    return false;
  }

  // ---- generic management commands ----------------------------------------------------------

  // Sends the device's next queued management command, once no job is in the way.
  void plan_mgmt() {
    if (mgmt) return;
    auto next = backend.next_command(device_uri);
    if (!next) return;
    mgmt.emplace(std::move(*next));
    auto cmds = mgmt->build([this] { return cmd_id(); });
    if (auto why = unencodable(cmds)) {
      finish_mgmt(MgmtState::failed, "the command cannot be encoded: " + *why);
      return plan_mgmt();
    }
    for (auto& c : cmds) {
      std::uint32_t id = 0;
      if (const auto* ic = std::get_if<ItemCommand>(&c.value)) id = ic->cmd_id;
      if (const auto* box = std::get_if<syncml::Container>(&c.value)) {
        id = box->cmd_id;
        // The commands inside answer with their own Statuses.
        for (const auto& inner : box->commands)
          if (const auto* ic = std::get_if<ItemCommand>(&inner.value)) awaiting[ic->cmd_id] = Purpose::Mgmt;
      }
      awaiting[id] = Purpose::Mgmt;
      pending_ops.push_back(std::move(c));
    }
  }

  void finish_mgmt(MgmtState to, std::string why) {
    if (!mgmt) return;
    MgmtCommand& c = mgmt->command();
    c.state = to;
    c.error = std::move(why);
    if (to == MgmtState::completed) ++report.commands_completed;
    backend.on_command_finished(c);
    mgmt.reset();
  }

  void mgmt_progress() {
    if (mgmt && mgmt->done()) finish_mgmt(MgmtState::completed, {});
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
      const auto effect = own.on_status(st);
      if (effect.nonce_changed) backend.save_nonces(device_uri, own.secret().nonce, device_check.expected().nonce);
      report.server_authenticated = own.accepted();
      if (effect.outcome == syncml::OwnCredential::Outcome::refused) ++our_auth_attempts;
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
          if (success(st.data) && delivery->job.kind == JobKind::arm_rebootstrap) {
            // Arming is done when the Exec returns (200): no Generic Alert follows.
            backend.on_job_completed(delivery->job, st.data, "armed");
            ++report.jobs_delivered;
            delivery->done = true;
          } else if (success(st.data)) {
            // 202: accepted, the outcome follows as a Generic Alert with the Correlator.
            backend.on_job_state(delivery->job, JobState::awaiting_result);
            ++report.jobs_delivered;
            delivery->done = true;
          } else {
            job_failed(st.data, "device refused the Exec");
          }
        }
        break;
      case Purpose::Mgmt:
        if (mgmt) mgmt->on_status(st);
        break;
      case Purpose::Other:
        break;
    }
  }

  void handle_results(const syncml::Results& results, std::uint32_t msg_id) {
    if (mgmt && mgmt->owns(results.cmd_ref)) {
      // A chunk of a large object is answered (213, or its final word); a whole Results needs none.
      if (auto code = mgmt->on_results(results, config.max_obj_size))
        results_statuses.push_back(status_for(msg_id, results.cmd_id, "Results", *code));
      return;
    }
    for (const auto& item : results.items) {
      const std::string uri = item.source ? item.source->loc_uri : results.target_ref.value_or(std::string{});
      if (uri == mo::m2msim_uri("PfC")) on_pfc_item(results, item, msg_id);
    }
  }

  // The device's PfC, the Results of our Get: whole, or in large-object chunks when it does not
  // fit the device's message within our MaxMsgSize (DM_RepPro 1.2 §7): each chunk is answered
  // (213, then 200, or the refusal) and the certificate is stored once, whole.
  void on_pfc_item(const syncml::Results& results, const syncml::Item& item, std::uint32_t msg_id) {
    const syncml::Meta meta = syncml::effective_meta(item, results.meta);
    if (!pfc_object.active() && !item.more_data) {
      if (!item.data) return;
      if (meta.format != "b64") {
        backend.on_pfc(device_uri, as_bytes(*item.data));
      } else if (auto der = base64_decode(*item.data)) {
        backend.on_pfc(device_uri, *der);
      }
      return;
    }
    StatusCode s = StatusCode::Ok;
    if (!pfc_object.active()) s = pfc_object.begin(mo::m2msim_uri("PfC"), meta, config.max_obj_size);
    if (pfc_object.active()) {
      s = pfc_object.append_data(item.data.value_or(""), item.more_data);
      if (s == StatusCode::Ok) backend.on_pfc(device_uri, pfc_object.take());
    }
    results_statuses.push_back(status_for(msg_id, results.cmd_id, "Results", s));
  }

  // ---- one device message -------------------------------------------------------------------

  Result<DmReply> handle(ByteView body, std::string_view content_type, std::optional<std::string_view> hmac_header) {
    if (state == DmServerState::Completed || state == DmServerState::Aborted) return fail(errc::invalid_argument);
    // Before the device has proved who it is, the work spent on its bytes is bounded.
    syncml::DecodeLimits limits = config.decode_limits;
    if (!device_check.authenticated() && config.unauthenticated_max_bytes != 0) {
      limits.max_bytes = std::min(limits.max_bytes, config.unauthenticated_max_bytes);
      limits.max_commands = std::min(limits.max_commands, config.unauthenticated_max_commands);
    }
    syncml::DecodeError detail;
    syncml::Encoding received_in{};
    auto decoded = syncml::decode_received(body, content_type, limits, &detail, &received_in);
    if (!decoded) {
      if (state == DmServerState::New) return fail(decoded.error());
      return abort_session("undecodable message from the device: " + detail.what);
    }
    encoding = received_in;  // answer in the device's encoding
    const Message& msg = *decoded;
    ++report.messages;

    if (state == DmServerState::New) {
      session_id = msg.hdr.session_id;
      device_uri = msg.hdr.source.loc_uri;
      report.dev_id = device_uri;
      auto c = backend.credentials(device_uri);
      if (!c) {
        state = DmServerState::Aborted;
        // The DevId is the sender's text: at most 64 characters of it go into reports and logs.
        report.abort_reason = "unknown device " + (device_uri.size() > 64 ? device_uri.substr(0, 64) + "..." : device_uri);
        return fail(c.error());
      }
      // The device authenticates the way its Cred says, if it is one we accept.
      AuthType scheme = AuthType::md5;
      if (hmac_header) {
        scheme = AuthType::hmac;
      } else if (msg.hdr.cred && msg.hdr.cred->meta.type) {
        if (auto t = syncml::parse_auth_type(*msg.hdr.cred->meta.type); t && *t != AuthType::basic) scheme = *t;
      }
      device_check = syncml::PeerAuthenticator(
          syncml::AuthSecret{scheme, c->client_username, c->client_password, c->client_nonce});
      // We answer in the device's scheme.
      own = syncml::OwnCredential(syncml::AuthSecret{scheme, c->server_username, c->server_password, c->server_nonce},
                                  /*follow_scheme=*/false);
      // A re-bootstrap's credentials, if the device has one it has not used yet (tried when the
      // current ones do not verify).
      if (auto p = backend.pending_credentials(device_uri)) {
        pending_check = syncml::PeerAuthenticator(
            syncml::AuthSecret{scheme, p->client_username, p->client_password, p->client_nonce});
        pending_own = syncml::OwnCredential(
            syncml::AuthSecret{scheme, p->server_username, p->server_password, p->server_nonce}, /*follow_scheme=*/false);
      }
      builder.header() = syncml::MessageBuilder::Header{session_id, device_uri, config.server_uri,
                                                        config.resp_uri.empty() ? std::nullopt
                                                                                : std::optional{config.resp_uri},
                                                        config.max_msg_size, config.max_obj_size};
      state = DmServerState::Running;
    } else if (msg.hdr.session_id != session_id || msg.hdr.source.loc_uri != device_uri) {
      return abort_session("message of another session");
    }
    // OMA DM 1.2 is SyncML DTD 1.2 over DM/1.2 (DM_RepPro 1.2 §5.1.19, §5.1.20).
    if (msg.hdr.ver_proto != "DM/1.2") return abort_session("unsupported protocol " + msg.hdr.ver_proto);
    if (msg.hdr.ver_dtd != "1.2") return abort_session("unsupported SyncML DTD " + msg.hdr.ver_dtd);
    if (report.messages > config.max_messages) return abort_session("session exceeded its message limit");
    last_device_msg = msg.hdr.msg_id;
    if (msg.hdr.meta) {
      if (msg.hdr.meta->max_msg_size) device_max_msg_size = *msg.hdr.meta->max_msg_size;
      if (msg.hdr.meta->max_obj_size) device_max_obj_size = *msg.hdr.meta->max_obj_size;
    }

    StatusCode device_auth = device_check.verify(msg, body, hmac_header);
    if (!syncml::is_success(device_auth) && pending_check) {
      // The device applied its re-bootstrap: from now on its new credentials are the only ones.
      if (const StatusCode p = pending_check->verify(msg, body, hmac_header); syncml::is_success(p)) {
        device_check = std::move(*pending_check);
        own = std::move(*pending_own);
        pending_check.reset();
        pending_own.reset();
        backend.on_pending_credentials_used(device_uri);
        device_auth = p;
      }
    }
    report.device_authenticated = device_check.authenticated();
    syncml::Status hdr_status = builder.header_status(msg, device_auth);

    if (!syncml::is_success(device_auth)) {
      Message reply = new_message();
      // Challenge once more after a failure, then stop (DM_Security 1.2 §5.3).
      if (++device_auth_failures > 2) return abort_session("device failed to authenticate");
      hdr_status.chal = new_client_challenge(/*persist=*/false);
      reply.body.push_back(Command{hdr_status});
      // Only Statuses, and one for every command received: none was executed, and each asks
      // for the credentials so that the device resends it with them (DM_Protocol 1.2 §2.4.1).
      for (auto& st : syncml::statuses_for_all(msg, device_auth, hdr_status.chal)) reply.body.push_back(Command{st});
      reply.final = true;
      return emit(std::move(reply), false);
    }
    if (device_check.next_nonce_due(device_auth))
      hdr_status.chal = new_client_challenge(/*persist=*/true);  // NextNonce for the device's next session

    // The device's answers to our previous message (they may carry the nonce for our credential).
    std::map<std::string, std::string> devinfo;
    for (const auto& command : msg.body) {
      if (const auto* st = std::get_if<syncml::Status>(&command.value)) handle_status(*st);
      if (const auto* res = std::get_if<syncml::Results>(&command.value)) handle_results(*res, msg.hdr.msg_id);
    }
    mgmt_progress();
    if (our_auth_attempts > 2) return abort_session("device refused our credentials");
    Message reply = new_message();
    reply.body.push_back(Command{hdr_status});
    for (auto& st : results_statuses) reply.body.push_back(Command{std::move(st)});
    results_statuses.clear();

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
        if (code == syncml::code(AlertCode::GenericAlert)) {
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
            const StatusCode recorded = backend.on_generic_alert(device_uri, a);
            if (syncml::is_success(recorded))
              ++report.alerts_recorded;
            else if (syncml::is_success(s))
              s = recorded;  // the first refusal answers for the Alert
          }
        }
        reply.body.push_back(Command{status_for(msg.hdr.msg_id, alert->cmd_id, "Alert", s)});
        continue;
      }
      if (const auto* cmd = std::get_if<ItemCommand>(&command.value)) {
        StatusCode s = StatusCode::CommandNotAllowed;
        if (cmd->kind == CommandKind::Replace) {
          // Package 1 carries ./DevInfo (DM_Protocol 1.2 §8.3); a value too large for one message
          // comes as a large object (DM_RepPro 1.2 §7): 213 per chunk, stored whole.
          s = StatusCode::Ok;
          for (const auto& item : cmd->items) {
            const std::string uri = item.source ? item.source->loc_uri
                                                : (item.target ? item.target->loc_uri : std::string{});
            std::string value = item.data.value_or("");
            if (replace_object.active() && replace_object.uri() != uri) interrupt_replace_object(reply);
            if (item.more_data || replace_object.active()) {
              const auto code = on_replace_chunk(*cmd, item, uri, value);
              if (code != StatusCode::Ok) {
                s = code;  // 213 for a chunk, or the refusal (411, 413, 424)
                continue;
              }
            }
            if (uri.starts_with(kDevInfoPrefix)) devinfo[uri.substr(kDevInfoPrefix.size())] = value;
          }
        } else {
          interrupt_replace_object(reply);  // another command before the last chunk
        }
        reply.body.push_back(Command{status_for(msg.hdr.msg_id, cmd->cmd_id, syncml::command_name(cmd->kind), s)});
        continue;
      }
      if (const auto* container = std::get_if<syncml::Container>(&command.value)) {
        interrupt_replace_object(reply);
        reply.body.push_back(Command{status_for(msg.hdr.msg_id, container->cmd_id,
                                                 syncml::command_name(container->kind), StatusCode::CommandNotAllowed)});
      }
    }
    if (!devinfo.empty()) backend.on_device_info(device_uri, devinfo);
    if (msg.final) interrupt_objects_at_final(reply);

    // The device has more of its package: ask for it (DM_Protocol 1.2 §8.2.1).
    if (!msg.final && !syncml::asks_next_message(msg)) {
      reply.body.push_back(Command{syncml::session_alert(cmd_id(), AlertCode::NextMessage)});
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
      if (pending_ops.empty() && !more_to_come && !(delivery && !delivery->done)) plan_mgmt();
    }
    // An Alert of ours already in the reply (1225 for a dropped object) is owed a Status too.
    const bool has_ops = !pending_ops.empty() || std::ranges::any_of(reply.body, [](const Command& c) {
                           return std::holds_alternative<syncml::Alert>(c.value);
                         });
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
DmServerSession::~DmServerSession() {
  // A session dropped (the device went away) while a management command was out: it failed
  // (what came back so far is kept with it).
  if (impl_ && impl_->mgmt)
    impl_->finish_mgmt(MgmtState::failed, impl_->mgmt->statuses_complete()
                                              ? "the session ended before every Results came"
                                              : "the session ended before every Status came back");
}

Result<DmReply> DmServerSession::handle(ByteView body, std::string_view content_type,
                                        std::optional<std::string_view> hmac_header) {
  return impl_->handle(body, content_type, hmac_header);
}
DmServerState DmServerSession::state() const noexcept { return impl_->state; }
const DmServerReport& DmServerSession::report() const noexcept { return impl_->report; }
const std::string& DmServerSession::session_id() const noexcept { return impl_->session_id; }

}  // namespace m2mdm::server
