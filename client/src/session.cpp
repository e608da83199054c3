// The DM client session engine (see m2mdm/client/session.hpp). No I/O: every byte arrives
// through on_response() and leaves through the Outgoing values it returns.
#include "m2mdm/client/session.hpp"

#include "m2mdm/client/error.hpp"
#include "m2mdm/client/http_transport.hpp"
#include "m2mdm/mo/standard_objects.hpp"
#include "m2mdm/syncml/large_object.hpp"
#include "m2mdm/syncml/message_builder.hpp"
#include "m2mdm/syncml/peer_auth.hpp"
#include "m2mdm/syncml/status.hpp"

#include <algorithm>
#include <cctype>
#include <map>
#include <set>

namespace m2mdm::client {

// The engine is written in the SyncML vocabulary (Message, Command, StatusCode, ...).
using namespace syncml;

namespace {

constexpr std::string_view kClientCredLevel = "CLCRED";
constexpr std::string_view kServerCredLevel = "SRVCRED";

std::string upper(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}


std::optional<std::string> item_target(const syncml::Item& item) {
  if (!item.target) return std::nullopt;
  return item.target->loc_uri;
}



// True when @p a and @p b name the same scheme, host (case-insensitively) and port.
bool same_origin(std::string_view a, std::string_view b) {
  const auto x = parse_http_url(a);
  const auto y = parse_http_url(b);
  return x && y && x->tls == y->tls && x->port == y->port && upper(x->host) == upper(y->host);
}

}  // namespace

std::optional<AuthType> auth_type_from_aauth(std::string_view aauth_type) noexcept {
  const std::string t = upper(aauth_type);
  if (t == "BASIC") return AuthType::basic;
  if (t == "DIGEST" || t == "MD5") return AuthType::md5;
  if (t == "HMAC") return AuthType::hmac;
  return std::nullopt;
}

Result<AccountCredentials> read_account_credentials(const mo::Tree& tree, std::string_view server_id) {
  const auto account = mo::find_dm_account(tree, server_id);
  if (!account) return fail(errc::not_found);
  AccountCredentials c;
  c.node_name = account->node_name;
  c.server_id = account->server_id;
  if (account->app_addr.empty() || account->app_addr.front().addr.empty()) return fail(errc::invalid_argument);
  c.server_uri = account->app_addr.front().addr;
  bool have_client = false;
  bool have_server = false;
  for (const auto& auth : account->app_auth) {
    const std::string level = upper(auth.level);
    const auto type = auth_type_from_aauth(auth.type);
    if (!type) continue;
    if (level == kClientCredLevel) {
      c.client_auth = *type;
      c.client_name = auth.auth_name;
      c.client_secret = auth.secret;
      c.client_nonce = auth.data;
      have_client = true;
    } else if (level == kServerCredLevel) {
      c.server_auth = *type;
      c.server_name = auth.auth_name.empty() ? c.server_id : auth.auth_name;
      c.server_secret = auth.secret;
      c.server_nonce = auth.data;
      have_server = true;
    }
  }
  // DM_Security 1.2 §5.3: both directions are authenticated; an account without either
  // credential cannot run a session.
  if (!have_client || !have_server) return fail(errc::invalid_argument);
  return c;
}

// ---------------------------------------------------------------------------------------------

struct ClientSession::Impl {
  mo::Tree& tree;
  AlertOutbox& outbox;
  std::string server_id;
  SessionConfig config;
  mo::Caller caller;

  AccountCredentials creds;
  SessionState state = SessionState::Idle;
  SessionReport report;
  std::string session_id;
  std::string dev_id;
  std::string target_uri;  // where messages go (RespURI once the server gives one)
  std::uint64_t server_max_msg_size = 0;  // 0 = not announced
  unsigned stalled_messages = 0;           // messages in a row that sent nothing of the queue
  std::uint64_t server_max_obj_size = 0;
  std::optional<std::uint16_t> initial_alert;  // 1200 or 1201
  unsigned client_auth_attempts = 0;
  unsigned server_auth_failures = 0;

  // The shared session layer (syncml/): our messages, the server's credentials, ours, and large
  // objects both ways. This engine keeps only the device's policy around them.
  syncml::MessageBuilder builder;
  syncml::PeerAuthenticator server_check;  // the server must prove SRVCRED
  syncml::OwnCredential own;               // we prove CLCRED
  syncml::MessagePacker packer;

  // Commands waiting to be sent (statuses and results of the server's package, alerts).
  std::vector<Command> queue;
  std::map<std::uint32_t, std::uint64_t> alerts_in_flight;  // our CmdID -> outbox id
  std::set<std::uint64_t> alerts_sent_this_session;

  // A large object being received (DM_Protocol 1.2 §6.2 / DM_RepPro 1.2 §7): the assembler
  // holds its bytes, this what the object is for.
  syncml::LargeObjectAssembler large_object;
  CommandKind large_object_kind = CommandKind::Replace;
  mo::NodeValue large_object_value;

  Impl(mo::Tree& t, AlertOutbox& o, std::string id, SessionConfig c)
      : tree(t), outbox(o), server_id(std::move(id)), config(c), caller(mo::Caller::server(server_id)),
        packer(config.encoding) {}

  // ---- setup --------------------------------------------------------------------------------

  Result<void> load() {
    auto c = read_account_credentials(tree, server_id);
    if (!c) return fail(c.error());
    creds = std::move(*c);
    target_uri = creds.server_uri;
    dev_id = tree.get_text("./DevInfo/DevId").value_or(std::string{});
    if (dev_id.empty()) return fail(errc::invalid_argument);
    server_check = syncml::PeerAuthenticator(
        syncml::AuthSecret{creds.server_auth, creds.server_name, creds.server_secret, creds.server_nonce});
    // A Chal may move us to a stronger scheme than the DMAcc's, never a weaker one.
    own = syncml::OwnCredential(
        syncml::AuthSecret{creds.client_auth, creds.client_name, creds.client_secret, creds.client_nonce},
        /*follow_scheme=*/true);
    builder.header().target = creds.server_uri;
    builder.header().source = dev_id;
    builder.header().max_msg_size = config.max_msg_size;
    builder.header().max_obj_size = config.max_obj_size;
    return {};
  }

  // ---- nonces: kept in the DMAcc's AAuthData, so persisting the tree persists them --------

  // Writes a nonce into the DMAcc's AAuthData of @p level. Only nonces from a message whose sender
  // proved who it is are written: an unauthenticated message never changes the tree.
  void persist_nonce(std::string_view level, ByteView nonce) {
    if (auto account = mo::find_dm_account(tree, server_id)) {
      for (auto& auth : account->app_auth)
        if (upper(auth.level) == level) auth.data.assign(nonce.begin(), nonce.end());
      mo::write_dm_account(tree, *account);
    }
  }

  // ---- building our messages ----------------------------------------------------------------

  std::uint32_t cmd_id() { return builder.next_cmd_id(); }

  // DM_Security 1.2 §5.1: credentials until the server has accepted them in this session.
  Message new_message() { return builder.new_message(own.cred()); }

  // Package 1 (DM_Protocol 1.2 §8.3): the session alert and ./DevInfo.
  void queue_package1() {
    syncml::Alert alert;
    alert.cmd_id = cmd_id();
    alert.data = *initial_alert;
    queue.push_back(Command{alert});
    ItemCommand replace;
    replace.kind = CommandKind::Replace;
    replace.cmd_id = cmd_id();
    for (const char* leaf : {"DevId", "Man", "Mod", "DmV", "Lang"}) {
      const std::string uri = std::string("./DevInfo/") + leaf;
      syncml::Item item;
      item.source = syncml::Location{uri, std::nullopt};
      syncml::Meta meta;
      meta.format = "chr";
      item.meta = meta;
      item.data = tree.get_text(uri).value_or(std::string{});
      replace.items.push_back(std::move(item));
    }
    queue.push_back(Command{replace});
  }

  // Generic Alerts (1226) still owed to this server and not yet sent in this session.
  void queue_pending_alerts() {
    for (const auto& pending : outbox.pending(server_id)) {
      if (alerts_sent_this_session.contains(pending.id)) continue;
      syncml::Alert alert;
      alert.cmd_id = cmd_id();
      alert.data = syncml::code(AlertCode::GenericAlert);
      if (!pending.payload.correlator.empty()) alert.correlator = pending.payload.correlator;
      syncml::Item item;
      if (!pending.payload.source_uri.empty()) item.source = syncml::Location{pending.payload.source_uri, std::nullopt};
      syncml::Meta meta;
      meta.type = pending.payload.type;
      meta.format = pending.payload.format;
      if (!pending.payload.mark.empty()) meta.mark = pending.payload.mark;
      item.meta = meta;
      item.data = pending.payload.data;
      alert.items.push_back(std::move(item));
      alerts_in_flight[alert.cmd_id] = pending.id;
      alerts_sent_this_session.insert(pending.id);
      (void)outbox.mark_sent(pending.id);
      queue.push_back(Command{alert});
    }
  }

  // Moves as many queued commands as fit the server's MaxMsgSize into a message and encodes it.
  // A Results too large for the room left is split, by items and then in chunks; a message that
  // carries a chunk ends with it (DM_RepPro 1.2 §7).
  Result<Outgoing> flush(bool package_complete, bool ask_next_message) {
    Message m = new_message();
    // Progress is measured on what is not a Status: Statuses for the server's last message go
    // into every message.
    const auto requests_queued = [this] {
      return std::count_if(queue.begin(), queue.end(),
                           [](const Command& c) { return !std::holds_alternative<syncml::Status>(c.value); });
    };
    const auto queued_before = requests_queued();
    if (auto packed = packer.pack(m, queue, server_max_msg_size, builder); !packed) return fail(packed.error());
    builder.number(m);
    const bool more = !queue.empty();
    // What is left does not fit beside the Statuses every message must carry: asking for the
    // next message again would go on for ever (DM_RepPro 1.2 §7.1: the server's MaxMsgSize is
    // too small for a chunk). Two such messages in a row end the session with the reason.
    const bool progressed = requests_queued() < queued_before ||
                            std::any_of(m.body.begin(), m.body.end(), [](const Command& c) {
                              return std::holds_alternative<syncml::Results>(c.value);
                            });
    stalled_messages = (more && !progressed) ? stalled_messages + 1 : 0;
    if (stalled_messages >= 2)
      return abort("the server's MaxMsgSize (" + std::to_string(server_max_msg_size) +
                   " bytes) leaves no room for what is left to send");
    if (ask_next_message || more) {
      // DM_RepPro 1.2 §8.2 / DM_Protocol 1.2 §8.2.1: Alert 1222 asks for the next message.
      if (ask_next_message) m.body.push_back(Command{syncml::session_alert(cmd_id(), AlertCode::NextMessage)});
    }
    m.final = package_complete && !more && !ask_next_message;
    auto body = syncml::encode(m, config.encoding);
    if (!body) return fail(body.error());
    Outgoing out;
    out.uri = target_uri;
    out.content_type = syncml::content_type(config.encoding);
    out.body = std::move(*body);
    auto hmac = own.hmac_header(out.body);
    if (!hmac) return fail(hmac.error());
    out.hmac_header = std::move(*hmac);
    ++report.messages_sent;
    if (report.messages_sent > config.max_messages) return abort("session exceeded its message limit");
    state = SessionState::AwaitingResponse;
    return out;
  }

  std::unexpected<std::error_code> abort(std::string reason) {
    state = SessionState::Aborted;
    report.abort_reason = std::move(reason);
    large_object.reset();
    return fail(errc::session_aborted);
  }

  // ---- starting -----------------------------------------------------------------------------

  Result<Outgoing> start(std::uint16_t alert, std::string sid) {
    if (state != SessionState::Idle) return fail(errc::invalid_argument);
    if (auto r = load(); !r) return fail(r.error());
    initial_alert = alert;
    session_id = std::move(sid);
    builder.header().session_id = session_id;
    queue_package1();
    queue_pending_alerts();
    return flush(/*package_complete=*/true, /*ask_next_message=*/false);
  }

  // ---- authentication (DM_Security 1.2 §5), by the shared layer ------------------------------

  // A challenge for the server with a fresh nonce, which becomes the nonce the server must use
  // next; written to the tree only when @p persist (the server proved itself).
  std::optional<syncml::Chal> new_server_challenge(bool persist) {
    auto chal = server_check.challenge();
    if (chal && persist) persist_nonce(kServerCredLevel, server_check.expected().nonce);
    return chal;
  }

  // ---- the server's statuses for our commands ----------------------------------------------

  using ClientAuthOutcome = syncml::OwnCredential::Outcome;

  // @p server_ok: the server proved who it is in this message. Without that, only what is needed
  // to retry our credentials is taken (in memory); acknowledgements are ignored.
  ClientAuthOutcome handle_statuses(const Message& msg, bool server_ok) {
    ClientAuthOutcome outcome = ClientAuthOutcome::unchanged;
    for (const auto& command : msg.body) {
      const auto* status = std::get_if<syncml::Status>(&command.value);
      if (!status) continue;
      if (status->cmd == "SyncHdr") {
        // With 212 the Chal's nonce is for the next session, with 401/407 for the retry now: it
        // is kept in memory either way, written to the tree only if the server proved itself.
        const auto effect = own.on_status(*status);
        if (effect.nonce_changed && server_ok) persist_nonce(kClientCredLevel, own.secret().nonce);
        report.client_authenticated = own.accepted();
        if (effect.outcome != ClientAuthOutcome::unchanged) outcome = effect.outcome;
        continue;
      }
      if (!server_ok) continue;
      // The server's answer to a chunk of our large object (DM_RepPro 1.2 §7).
      if (packer.on_status(*status, queue)) continue;
      if (status->cmd == "Alert") {
        auto it = alerts_in_flight.find(status->cmd_ref);
        if (it != alerts_in_flight.end() && syncml::is_success(static_cast<StatusCode>(status->data))) {
          if (outbox.acknowledge(it->second)) ++report.alerts_acknowledged;
          alerts_in_flight.erase(it);
        }
      }
    }
    return outcome;
  }

  // ---- executing the server's commands ------------------------------------------------------

  void count(StatusCode code) {
    if (syncml::is_success(code))
      ++report.commands_executed;
    else
      ++report.commands_refused;
  }

  // Converts an item's data into the value stored in the tree.
  std::expected<mo::NodeValue, StatusCode> item_value(const syncml::Item& item, const syncml::Meta& meta) {
    mo::NodeValue value;
    if (meta.format) {
      auto format = mo::parse_format(*meta.format);
      if (!format) return std::unexpected(StatusCode::UnsupportedMediaType);
      value.format = *format;
    }
    if (meta.type) value.type = *meta.type;
    const std::string& data = item.data ? *item.data : std::string{};
    if (value.format == mo::Format::B64) {
      // b64 on the wire: the node holds the decoded bytes. A node described as bin takes them
      // as bin (XML cannot carry raw binary, so bin values travel as b64).
      auto decoded = base64_decode(data);
      if (!decoded) return std::unexpected(StatusCode::BadRequest);
      value.data = std::move(*decoded);
      if (const auto uri = item_target(item)) {
        if (auto parsed = mo::Uri::parse(*uri, tree.options().limits)) {
          if (const auto* rule = tree.rule_for(*parsed); rule && rule->format == mo::Format::Bin)
            value.format = mo::Format::Bin;
        }
      }
    } else {
      value.data.assign(data.begin(), data.end());
    }
    return value;
  }

  // Another command arrived before the last chunk: the object is discarded and the server told
  // with Alert 1225 naming the item (DM_RepPro 1.2 §7, "End of Data for chunked object not received").
  void interrupt_large_object(std::vector<Command>& out) {
    if (!large_object.active()) return;
    out.push_back(Command{syncml::no_end_of_data_alert(cmd_id(), large_object.uri())});
    large_object.reset();
  }

  StatusCode apply_write(CommandKind kind, const std::string& uri, const mo::NodeValue& value) {
    return kind == CommandKind::Add ? tree.add(caller, uri, value) : tree.replace(caller, uri, value);
  }

  // Add / Replace of one item, including large-object chunks.
  StatusCode write_item(CommandKind kind, const syncml::Item& item, const std::optional<syncml::Meta>& command_meta) {
    const auto uri = item_target(item);
    if (!uri) return StatusCode::BadRequest;
    const syncml::Meta meta = syncml::effective_meta(item, command_meta);
    auto value = item_value(item, meta);
    if (!value) return value.error();

    if (item.more_data || large_object.active()) {
      if (!large_object.active()) {
        // First chunk: Meta Size is mandatory and bounded by our MaxObjSize (DM_RepPro 1.2 §7),
        // and the tree must be able to take the whole object.
        if (auto first = syncml::LargeObjectAssembler::check_first(meta.size, config.max_obj_size);
            !syncml::is_success(first))
          return first;
        if (auto pre = tree.preflight(caller, *uri, kind == CommandKind::Add, value->format,
                                      static_cast<std::size_t>(*meta.size));
            !syncml::is_success(pre))
          return pre;
        large_object.start(*uri, *meta.size);
        large_object_kind = kind;
        large_object_value = mo::NodeValue{value->format, value->type, {}};
      }
      const StatusCode chunk_status = large_object.append(value->data, item.more_data);
      if (chunk_status != StatusCode::Ok) return chunk_status;  // 213 for more, 424 on a size mismatch
      const std::string done_uri = large_object.uri();
      large_object_value.data = large_object.take();
      return apply_write(large_object_kind, done_uri, large_object_value);
    }
    if (config.max_obj_size && value->data.size() > config.max_obj_size) return StatusCode::RequestEntityTooLarge;
    return apply_write(kind, *uri, *value);
  }

  // Executes one ItemCommand; appends its Status(es) (and Results) to @p out.
  void execute_item_command(const ItemCommand& cmd, std::uint32_t msg_ref, std::vector<Command>& out,
                            std::vector<std::size_t>* status_positions) {
    const char* name = syncml::command_name(cmd.kind);
    if (cmd.items.empty()) {
      auto s = status_for(msg_ref, cmd.cmd_id, name, StatusCode::BadRequest);
      count(StatusCode::BadRequest);
      if (status_positions) status_positions->push_back(out.size());
      out.push_back(Command{s});
      return;
    }
    std::optional<syncml::Results> results;
    for (const auto& item : cmd.items) {
      StatusCode code = StatusCode::Ok;
      const std::string uri = item_target(item).value_or(std::string{});
      switch (cmd.kind) {
        case CommandKind::Add:
        case CommandKind::Replace:
          if (large_object.active() && large_object.uri() != uri) interrupt_large_object(out);
          code = write_item(cmd.kind, item, cmd.meta);
          break;
        case CommandKind::Delete:
          code = uri.empty() ? StatusCode::BadRequest : tree.remove(caller, uri);
          break;
        case CommandKind::Exec: {
          const std::string data = item.data.value_or(std::string{});
          code = uri.empty() ? StatusCode::BadRequest
                             : tree.exec(caller, uri, as_bytes(data), cmd.correlator.value_or(std::string{}));
          break;
        }
        case CommandKind::Copy: {
          const std::string source = item.source ? item.source->loc_uri : std::string{};
          code = (uri.empty() || source.empty()) ? StatusCode::BadRequest : tree.copy(caller, uri, source);
          break;
        }
        case CommandKind::Get: {
          auto got = tree.get(caller, uri);
          code = got.status;
          if (syncml::is_success(code)) {
            if (!results) {
              results.emplace();
              results->msg_ref = msg_ref;
              results->cmd_ref = cmd.cmd_id;
            }
            for (auto& r : got.items) {
              syncml::Item ri;
              ri.source = syncml::Location{r.uri, std::nullopt};
              syncml::Meta meta;
              // Binary values travel as b64 (XML cannot carry raw bytes).
              const bool binary = r.format == mo::Format::B64 || r.format == mo::Format::Bin;
              meta.format = binary ? std::string("b64") : std::string(mo::format_name(r.format));
              if (!r.type.empty()) meta.type = r.type;
              ri.meta = meta;
              ri.data = binary ? base64_encode(r.data) : std::string(as_chars(r.data));
              results->items.push_back(std::move(ri));
            }
          }
          break;
        }
        default:
          code = StatusCode::CommandNotAllowed;
      }
      count(code);
      auto s = status_for(msg_ref, cmd.cmd_id, name, code);
      if (!uri.empty()) s.target_refs.push_back(uri);
      if (status_positions) status_positions->push_back(out.size());
      out.push_back(Command{s});
    }
    if (results) {
      results->cmd_id = cmd_id();
      out.push_back(Command{*results});  // Results follow their Status (DM_RepPro 1.2 §6.6.12)
    }
  }

  // Handles one server command; returns false when the server aborted the session (1223).
  bool execute(const Command& command, std::uint32_t msg_ref, std::vector<Command>& out,
               std::vector<std::size_t>* status_positions) {
    if (const auto* cmd = std::get_if<ItemCommand>(&command.value)) {
      if (cmd->kind != CommandKind::Get && cmd->kind != CommandKind::Add && cmd->kind != CommandKind::Replace)
        interrupt_large_object(out);  // any other command between chunks ends the large object
      execute_item_command(*cmd, msg_ref, out, status_positions);
      return true;
    }
    if (const auto* alert = std::get_if<syncml::Alert>(&command.value)) {
      const auto code = alert->data.value_or(0);
      if (code == syncml::code(AlertCode::SessionAbort)) return false;  // not answered (DM_Protocol 1.2 §8.7)
      StatusCode s = StatusCode::Ok;
      if (code == syncml::code(AlertCode::NextMessage) || code == syncml::code(AlertCode::Display)) {
        s = StatusCode::Ok;
      } else if (code >= 1100 && code <= 1104) {
        s = StatusCode::OptionalFeatureNotSupported;  // a headless M2ME has no user to ask
      } else {
        s = StatusCode::OptionalFeatureNotSupported;
      }
      count(s);
      if (status_positions) status_positions->push_back(out.size());
      out.push_back(Command{status_for(msg_ref, alert->cmd_id, "Alert", s)});
      return true;
    }
    if (const auto* container = std::get_if<syncml::Container>(&command.value)) {
      interrupt_large_object(out);
      if (container->kind == CommandKind::Sequence) {
        out.push_back(Command{status_for(msg_ref, container->cmd_id, "Sequence", StatusCode::Ok)});
        for (const auto& inner : container->commands)
          if (!execute(inner, msg_ref, out, status_positions)) return false;
        return true;
      }
      // Atomic (DM_RepPro 1.2 §6.6.4): all or nothing. Exec and Get are not allowed inside.
      const std::size_t atomic_pos = out.size();
      out.push_back(Command{status_for(msg_ref, container->cmd_id, "Atomic", StatusCode::Ok)});
      auto snapshot = tree.snapshot();
      std::vector<std::size_t> inner_positions;
      bool failed = false;
      for (const auto& inner : container->commands) {
        const auto kind = inner.kind();
        if (kind == CommandKind::Exec || kind == CommandKind::Get || kind == CommandKind::Results ||
            kind == CommandKind::Status) {
          inner_positions.push_back(out.size());
          out.push_back(Command{status_for(msg_ref, inner.cmd_id(), syncml::command_name(kind),
                                            StatusCode::CommandNotAllowed)});
          failed = true;
          continue;
        }
        if (!execute(inner, msg_ref, out, &inner_positions)) return false;
      }
      for (const auto pos : inner_positions) {
        const auto& st = std::get<syncml::Status>(out[pos].value);
        if (!syncml::is_success(static_cast<StatusCode>(st.data))) failed = true;
      }
      auto& atomic_status = std::get<syncml::Status>(out[atomic_pos].value);
      if (failed) {
        tree.restore(std::move(snapshot));
        for (const auto pos : inner_positions) {
          auto& st = std::get<syncml::Status>(out[pos].value);
          if (syncml::is_success(static_cast<StatusCode>(st.data))) st.data = syncml::code(StatusCode::AtomicRollBackOk);
        }
        // Results of Gets cannot occur here (Get is refused inside Atomic).
        atomic_status.data = syncml::code(StatusCode::AtomicFailed);
      }
      if (status_positions) status_positions->push_back(atomic_pos);
      return true;
    }
    return true;  // Status and Results were handled before; Results need no Status
  }

  // ---- one server message -------------------------------------------------------------------

  Result<std::optional<Outgoing>> receive(ByteView body, std::string_view content_type,
                                          std::optional<std::string_view> hmac_header) {
    if (state != SessionState::AwaitingResponse) return fail(errc::invalid_argument);
    ++report.messages_received;

    syncml::DecodeError detail;
    auto decoded = syncml::decode_received(body, content_type, config.decode_limits, &detail);
    if (!decoded) {
      return abort("malformed server message: " + detail.what + (detail.where.empty() ? "" : " at " + detail.where));
    }
    const Message& msg = *decoded;
    if (msg.hdr.ver_proto != "DM/1.2" || msg.hdr.ver_dtd != "1.2") return abort("server speaks another protocol version");
    if (msg.hdr.session_id != session_id) return abort("server answered with another SessionID");
    if (msg.hdr.meta) {
      if (msg.hdr.meta->max_msg_size) server_max_msg_size = *msg.hdr.meta->max_msg_size;
      if (msg.hdr.meta->max_obj_size) server_max_obj_size = *msg.hdr.meta->max_obj_size;
    }

    // Does the server prove who it is? Nothing it asks for runs unless it does.
    const StatusCode server_auth = server_check.verify(msg, body, hmac_header);
    report.server_authenticated = server_check.authenticated();
    const bool server_ok = syncml::is_success(server_auth);
    // RespURI: where the server wants the rest of the session (DM_RepPro 1.2, the SyncHdr RespURI). A server
    // that has not proved itself yet is followed only within the origin we already talk to
    // (scheme, host, port: the same TLS-verified peer); only one that proved itself may send us
    // elsewhere (our next message carries credentials). Not following it at all would split the
    // session: our answer to the server's challenge would reach a new session at the server,
    // which never saw that challenge, and neither side could ever prove itself.
    if (msg.hdr.resp_uri && !msg.hdr.resp_uri->empty() && (server_ok || same_origin(*msg.hdr.resp_uri, target_uri)))
      target_uri = *msg.hdr.resp_uri;

    // Did the server accept our credentials?
    const auto client_auth = handle_statuses(msg, server_ok);

    syncml::Status hdr_status = builder.header_status(msg, server_auth);
    // A fresh nonce for the server's next credential goes with 212 (DM_Security 1.2 §5.3), but
    // only in a message we actually send: rotated in the tree and never told, it would lock the
    // server out of the next session.
    const bool rotate_server_nonce = server_check.next_nonce_due(server_auth);
    if (!server_ok) {
      if (++server_auth_failures > 1) {
        // One more challenge after a failure, then stop (DM_Security 1.2 §5.3).
        return abort("server failed to authenticate");
      }
      hdr_status.chal = new_server_challenge(/*persist=*/false);
    }

    if (client_auth == ClientAuthOutcome::refused) {
      if (rotate_server_nonce) hdr_status.chal = new_server_challenge(/*persist=*/true);
      if (++client_auth_attempts >= config.max_auth_attempts) return abort("server refused our credentials");
      // Send package 1 again with a credential over the new nonce.
      queue.clear();
      packer.reset();
      alerts_in_flight.clear();
      alerts_sent_this_session.clear();
      queue.push_back(Command{hdr_status});
      queue_package1();
      queue_pending_alerts();
      return reply(true, false);
    }

    // A message without Final that carries Alert 1222 asks for the rest of OUR package; one
    // without Final and without it announces more of the server's (DM_Protocol 1.2 §8.2.1).
    const bool server_asks_next = syncml::asks_next_message(msg);

    std::vector<Command> responses;
    responses.push_back(Command{hdr_status});
    bool has_operations = false;
    bool aborted_by_server = false;
    if (server_ok) {
      for (const auto& command : msg.body) {
        const auto kind = command.kind();
        if (kind == CommandKind::Status || kind == CommandKind::Results) continue;
        has_operations = true;
        if (!execute(command, msg.hdr.msg_id, responses, nullptr)) {
          aborted_by_server = true;
          break;
        }
      }
    } else {
      has_operations = true;  // the server must repeat its package with credentials
    }
    if (aborted_by_server) {
      state = SessionState::Aborted;
      report.abort_reason = "server aborted the session (1223)";
      large_object.reset();
      return std::optional<Outgoing>{};
    }

    // Session end: the server's package is complete and holds nothing to answer, and we owe
    // nothing (DM_Protocol 1.2 §8.6).
    queue_pending_alerts_if_authenticated(server_ok);
    if (msg.final && !has_operations && queue.empty()) {
      state = large_object.active() ? SessionState::Aborted : SessionState::Completed;
      if (large_object.active()) report.abort_reason = "server ended the session inside a large object";
      large_object.reset();
      return std::optional<Outgoing>{};
    }
    if (rotate_server_nonce) std::get<syncml::Status>(responses.front().value).chal = new_server_challenge(true);
    queue.insert(queue.begin(), responses.begin(), responses.end());
    const bool ask_next = !msg.final && !server_asks_next;  // the server's package has more messages
    return reply(msg.final || server_asks_next, ask_next);
  }

  // Our answer to a server message. When it cannot be built (e.g. a status would have to echo a
  // URI that XML cannot carry), the session ends: an error never leaves it waiting.
  Result<std::optional<Outgoing>> reply(bool package_complete, bool ask_next_message) {
    auto out = flush(package_complete, ask_next_message);
    if (!out) {
      if (state == SessionState::AwaitingResponse) return abort("cannot encode our reply: " + out.error().message());
      return fail(out.error());
    }
    return std::optional<Outgoing>{std::move(*out)};
  }

  void queue_pending_alerts_if_authenticated(bool server_ok) {
    if (server_ok) queue_pending_alerts();
  }
};

// ---------------------------------------------------------------------------------------------

ClientSession::ClientSession(mo::Tree& tree, AlertOutbox& outbox, std::string server_id, SessionConfig config)
    : impl_(std::make_unique<Impl>(tree, outbox, std::move(server_id), config)) {}

ClientSession::~ClientSession() = default;

Result<Outgoing> ClientSession::start_client_initiated() {
  const auto sid = syncml::random_session_id();
  if (!sid) return fail(errc::io_error);
  return impl_->start(syncml::code(AlertCode::ClientInitiatedMgmt), syncml::session_id_hex(*sid));
}

Result<Outgoing> ClientSession::start_server_initiated(const syncml::Notification& notification) {
  if (notification.server_id != impl_->server_id) return fail(errc::invalid_argument);
  return impl_->start(syncml::code(AlertCode::ServerInitiatedMgmt), syncml::session_id_hex(notification.session_id));
}

Result<std::optional<Outgoing>> ClientSession::on_response(ByteView body, std::string_view content_type,
                                                           std::optional<std::string_view> hmac_header) {
  return impl_->receive(body, content_type, hmac_header);
}

SessionState ClientSession::state() const noexcept { return impl_->state; }
const SessionReport& ClientSession::report() const noexcept { return impl_->report; }
const std::string& ClientSession::session_id() const noexcept { return impl_->session_id; }

}  // namespace m2mdm::client
