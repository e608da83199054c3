// The DM client session engine (see m2mdm/client/session.hpp). No I/O: every byte arrives
// through on_response() and leaves through the Outgoing values it returns.
#include "m2mdm/client/session.hpp"

#include "m2mdm/client/error.hpp"
#include "m2mdm/mo/standard_objects.hpp"
#include "m2mdm/syncml/status.hpp"

#include <openssl/rand.h>

#include <algorithm>
#include <cctype>
#include <map>
#include <set>

namespace m2mdm::client {

using syncml::AlertCode;
using syncml::AuthType;
using syncml::Command;
using syncml::CommandKind;
using syncml::ItemCommand;
using syncml::Message;
using syncml::StatusCode;

namespace {

constexpr std::string_view kClientCredLevel = "CLCRED";
constexpr std::string_view kServerCredLevel = "SRVCRED";

std::string upper(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

syncml::Status make_status(std::uint32_t msg_ref, std::uint32_t cmd_ref, std::string_view cmd, StatusCode code) {
  syncml::Status s;
  s.msg_ref = msg_ref;
  s.cmd_ref = cmd_ref;
  s.cmd = std::string(cmd);
  s.data = syncml::code(code);
  return s;
}

std::optional<std::string> item_target(const syncml::Item& item) {
  if (!item.target) return std::nullopt;
  return item.target->loc_uri;
}

// The Meta in effect for an item: the item's own, else the command's (DM_RepPro 1.2 §6.5.6).
syncml::Meta effective_meta(const syncml::Item& item, const std::optional<syncml::Meta>& command_meta) {
  syncml::Meta m = command_meta.value_or(syncml::Meta{});
  if (item.meta) {
    if (item.meta->format) m.format = item.meta->format;
    if (item.meta->type) m.type = item.meta->type;
    if (item.meta->size) m.size = item.meta->size;
    if (item.meta->mark) m.mark = item.meta->mark;
  }
  return m;
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
  AuthType configured_client_auth = AuthType::md5;  // the DMAcc's, the floor for challenges
  SessionState state = SessionState::Idle;
  SessionReport report;
  std::string session_id;
  std::string dev_id;
  std::string target_uri;  // where messages go (RespURI once the server gives one)
  std::uint32_t next_msg_id = 1;
  std::uint32_t next_cmd_id = 1;
  std::uint64_t server_max_msg_size = 0;  // 0 = not announced
  std::uint64_t server_max_obj_size = 0;
  std::optional<std::uint16_t> initial_alert;  // 1200 or 1201
  unsigned client_auth_attempts = 0;
  unsigned server_auth_failures = 0;

  // Commands waiting to be sent (statuses and results of the server's package, alerts).
  std::vector<Command> queue;
  std::map<std::uint32_t, std::uint64_t> alerts_in_flight;  // our CmdID -> outbox id
  std::set<std::uint64_t> alerts_sent_this_session;

  // A large object being received (DM_Protocol 1.2 §6.2 / DM_RepPro 1.2 §7).
  struct LargeObject {
    CommandKind kind = CommandKind::Replace;
    std::string uri;
    std::uint64_t declared_size = 0;
    mo::NodeValue value;
  };
  std::optional<LargeObject> large_object;

  // A Results item of ours being sent in chunks (DM_RepPro 1.2 §7): the rest waits at its place
  // in the queue (a Results whose CmdRef/MsgRef are these) until the server answers 213.
  struct OutgoingChunk {
    std::uint32_t sent_cmd_id = 0;  // CmdID of the last chunk sent
    std::uint32_t cmd_ref = 0;
    std::uint32_t msg_ref = 0;
  };
  std::optional<OutgoingChunk> chunk;

  Impl(mo::Tree& t, AlertOutbox& o, std::string id, SessionConfig c)
      : tree(t), outbox(o), server_id(std::move(id)), config(c), caller(mo::Caller::server(server_id)) {}

  // ---- setup --------------------------------------------------------------------------------

  Result<void> load() {
    auto c = read_account_credentials(tree, server_id);
    if (!c) return fail(c.error());
    creds = std::move(*c);
    configured_client_auth = creds.client_auth;
    target_uri = creds.server_uri;
    dev_id = tree.get_text("./DevInfo/DevId").value_or(std::string{});
    if (dev_id.empty()) return fail(errc::invalid_argument);
    return {};
  }

  // ---- nonces: kept in the DMAcc's AAuthData, so persisting the tree persists them --------

  // @p persist false keeps the nonce for this session only: a message whose sender has not
  // proved who it is never changes the tree.
  void store_nonce(std::string_view level, ByteView nonce, bool persist) {
    if (persist) {
      if (auto account = mo::find_dm_account(tree, server_id)) {
        for (auto& auth : account->app_auth)
          if (upper(auth.level) == level) auth.data.assign(nonce.begin(), nonce.end());
        mo::write_dm_account(tree, *account);
      }
    }
    if (level == kClientCredLevel)
      creds.client_nonce.assign(nonce.begin(), nonce.end());
    else
      creds.server_nonce.assign(nonce.begin(), nonce.end());
  }

  // ---- building our messages ----------------------------------------------------------------

  std::uint32_t cmd_id() { return next_cmd_id++; }

  Message new_message() {
    Message m;
    m.hdr.session_id = session_id;
    m.hdr.msg_id = next_msg_id++;
    m.hdr.target.loc_uri = creds.server_uri;
    m.hdr.source.loc_uri = dev_id;
    syncml::Meta meta;
    meta.max_msg_size = config.max_msg_size;
    meta.max_obj_size = config.max_obj_size;
    m.hdr.meta = meta;
    // DM_Security 1.2 §5.1: credentials until the server has accepted them in this session.
    if (!report.client_authenticated && creds.client_auth != AuthType::hmac) {
      if (auto cred = syncml::make_credential(creds.client_auth, creds.client_name, creds.client_secret,
                                              creds.client_nonce)) {
        syncml::Cred c;
        c.meta.type = std::string(syncml::auth_type_string(creds.client_auth));
        c.meta.format = std::string(syncml::kFormatB64);
        c.data = *cred;
        m.hdr.cred = c;
      }
    }
    return m;
  }

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

  // Room kept in every message for the Alert 1222 / Final that flush() may add after sizing.
  static constexpr std::size_t kTrailerRoom = 64;

  Result<bool> fits(const Message& m, std::uint64_t limit) const {
    auto probe = syncml::encode(m, config.encoding);
    if (!probe) return fail(probe.error());
    return probe->size() + kTrailerRoom <= limit;
  }

  bool chunk_of(const syncml::Results& r) const {
    return chunk && chunk->cmd_ref == r.cmd_ref && chunk->msg_ref == r.msg_ref.value_or(0);
  }

  // Drops the rest of a Results being chunked (the server refused a chunk).
  void drop_chunk_remainder() {
    if (!chunk) return;
    std::erase_if(queue, [&](const Command& c) {
      const auto* r = std::get_if<syncml::Results>(&c.value);
      return r && r->cmd_ref == chunk->cmd_ref && r->msg_ref.value_or(0) == chunk->msg_ref;
    });
    chunk.reset();
  }

  // Puts into @p m as much of the Results @p r as fits @p limit: whole items first, then the
  // first chunk of an item too large for one message (DM_RepPro 1.2 §7: Meta Size on the first
  // chunk, MoreData on all but the last). Returns what is left to send (nullopt: all taken).
  Result<std::optional<syncml::Results>> split_results(Message& m, syncml::Results r, std::uint64_t limit) {
    syncml::Results part = r;
    part.items.clear();
    part.cmd_id = cmd_id();
    std::size_t whole = 0;
    for (; whole < r.items.size(); ++whole) {
      part.items.push_back(r.items[whole]);
      m.body.push_back(Command{part});
      auto ok = fits(m, limit);
      m.body.pop_back();
      if (!ok) return fail(ok.error());
      if (!*ok) {
        part.items.pop_back();
        break;
      }
    }
    syncml::Results rest = r;
    rest.items.erase(rest.items.begin(), rest.items.begin() + static_cast<std::ptrdiff_t>(whole));
    if (whole == 0) {
      // The first item alone is too large: send a chunk of its data.
      syncml::Item& big = rest.items.front();
      const std::string data = big.data.value_or(std::string{});
      const bool b64 = (big.meta && big.meta->format == "b64");
      const bool first_chunk = !chunk_of(r);
      syncml::Item piece = big;
      if (first_chunk) {
        if (!piece.meta) piece.meta = syncml::Meta{};
        // Size is the object's size: the decoded bytes for b64 (what the receiver assembles).
        piece.meta->size = b64 ? base64_decode(data).value_or(Bytes{}).size() : data.size();
      } else if (piece.meta) {
        piece.meta->size.reset();
      }
      piece.more_data = true;
      // Largest prefix that fits: start from the room left, shrink until the encoding fits.
      piece.data = std::string{};
      part.items = {piece};
      m.body.push_back(Command{part});
      auto empty = syncml::encode(m, config.encoding);
      m.body.pop_back();
      if (!empty) return fail(empty.error());
      if (empty->size() + kTrailerRoom >= limit) return std::optional<syncml::Results>{std::move(r)};  // no room at all
      std::size_t n = std::min<std::size_t>(data.size(), limit - kTrailerRoom - empty->size());
      while (n > 0) {
        if (b64) n -= n % 4;  // each chunk decodes on its own
        if (n == 0) break;
        part.items.front().data = data.substr(0, n);
        part.items.front().more_data = n < data.size();
        m.body.push_back(Command{part});
        auto ok = fits(m, limit);
        m.body.pop_back();
        if (!ok) return fail(ok.error());
        if (*ok) break;
        n = n > 64 ? n - n / 8 : n - 1;  // escaping made it larger than the raw bytes
      }
      if (n == 0) return std::optional<syncml::Results>{std::move(r)};
      m.body.push_back(Command{part});
      if (n >= data.size()) {
        rest.items.erase(rest.items.begin());
        if (chunk && !first_chunk) chunk.reset();
      } else {
        big.data = data.substr(n);
        if (big.meta) big.meta->size.reset();
        chunk = OutgoingChunk{part.cmd_id, r.cmd_ref, r.msg_ref.value_or(0)};
      }
    } else {
      if (chunk_of(r)) chunk.reset();  // the chunked item's last piece is in this part
      m.body.push_back(Command{part});
    }
    if (rest.items.empty()) return std::optional<syncml::Results>{};
    return std::optional<syncml::Results>{std::move(rest)};
  }

  // Moves as many queued commands as fit the server's MaxMsgSize into a message and encodes it.
  // A Results too large for the room left is split, by items and then in chunks; a message that
  // carries a chunk ends with it (DM_RepPro 1.2 §7).
  Result<Outgoing> flush(bool package_complete, bool ask_next_message) {
    Message m = new_message();
    std::size_t taken = 0;
    const std::uint64_t limit = server_max_msg_size;
    for (; taken < queue.size(); ++taken) {
      m.body.push_back(queue[taken]);
      if (limit == 0) continue;
      auto ok = fits(m, limit);
      if (!ok) return fail(ok.error());
      if (*ok) {
        if (const auto* r = std::get_if<syncml::Results>(&queue[taken].value); r && chunk_of(*r)) chunk.reset();
        continue;
      }
      m.body.pop_back();
      if (auto* r = std::get_if<syncml::Results>(&queue[taken].value)) {
        auto rest = split_results(m, *r, limit);
        if (!rest) return fail(rest.error());
        if (!*rest) {
          ++taken;  // all of it went in after all
          continue;
        }
        queue[taken] = Command{std::move(**rest)};
        break;
      }
      if (taken == 0) {
        m.body.push_back(queue[taken]);  // one command larger than the limit: nothing smaller to send
        ++taken;
      }
      break;
    }
    queue.erase(queue.begin(), queue.begin() + static_cast<std::ptrdiff_t>(taken));
    // Every command, Status included, carries a CmdID (DM_RepPro 1.2 §6.6).
    for (auto& c : m.body) {
      if (auto* st = std::get_if<syncml::Status>(&c.value); st && st->cmd_id == 0) st->cmd_id = cmd_id();
    }
    const bool more = !queue.empty();
    if (ask_next_message || more) {
      // DM_RepPro 1.2 §8.2 / DM_Protocol 1.2 §8.2.1: Alert 1222 asks for the next message.
      if (ask_next_message) {
        syncml::Alert next;
        next.cmd_id = cmd_id();
        next.data = syncml::code(AlertCode::NextMessage);
        m.body.push_back(Command{next});
      }
    }
    m.final = package_complete && !more && !ask_next_message;
    auto body = syncml::encode(m, config.encoding);
    if (!body) return fail(body.error());
    Outgoing out;
    out.uri = target_uri;
    out.content_type = syncml::content_type(config.encoding);
    out.body = std::move(*body);
    if (creds.client_auth == AuthType::hmac) {
      auto header = syncml::hmac_header_value(creds.client_name, creds.client_secret, creds.client_nonce, out.body);
      if (!header) return fail(header.error());
      out.hmac_header = std::move(*header);
    }
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
    queue_package1();
    queue_pending_alerts();
    return flush(/*package_complete=*/true, /*ask_next_message=*/false);
  }

  // ---- authentication of the server (DM_Security 1.2 §5) -----------------------------------

  // Returns the status for the server's SyncHdr: 212 newly authenticated, 200 authenticated
  // earlier in this session, 401 wrong credentials, 407 missing credentials.
  StatusCode authenticate_server(const Message& msg, ByteView body, std::optional<std::string_view> hmac_header) {
    if (creds.server_auth == AuthType::hmac) {
      // HMAC authenticates every message, not only the first (DM_Security 1.2 §5.5).
      if (!hmac_header) return StatusCode::MissingCredentials;
      auto parsed = syncml::parse_hmac_header(*hmac_header);
      if (!parsed || parsed->username != creds.server_name) return StatusCode::InvalidCredentials;
      if (!syncml::verify_hmac(*parsed, creds.server_secret, creds.server_nonce, body))
        return StatusCode::InvalidCredentials;
      const bool first = !report.server_authenticated;
      report.server_authenticated = true;
      return first ? StatusCode::AuthenticationAccepted : StatusCode::Ok;
    }
    if (!msg.hdr.cred) {
      return report.server_authenticated ? StatusCode::Ok : StatusCode::MissingCredentials;
    }
    const auto& cred = *msg.hdr.cred;
    auto type = syncml::parse_auth_type(cred.meta.type.value_or(std::string(syncml::kAuthTypeBasic)));
    if (!type || *type != creds.server_auth) return StatusCode::InvalidCredentials;
    if (!syncml::verify_credential(*type, cred.data, creds.server_name, creds.server_secret, creds.server_nonce))
      return StatusCode::InvalidCredentials;
    const bool first = !report.server_authenticated;
    report.server_authenticated = true;
    return first ? StatusCode::AuthenticationAccepted : StatusCode::Ok;
  }

  // A challenge for the server with a fresh nonce, which becomes the nonce the server must use next.
  std::optional<syncml::Chal> new_server_challenge(bool persist) {
    auto challenge = syncml::make_challenge(creds.server_auth);
    if (!challenge) return std::nullopt;
    store_nonce(kServerCredLevel, challenge->next_nonce, persist);
    syncml::Chal chal;
    chal.meta.type = std::string(challenge->type_string());
    chal.meta.format = std::string(syncml::kFormatB64);
    if (!challenge->next_nonce.empty()) chal.meta.next_nonce = challenge->next_nonce_b64();
    return chal;
  }

  // ---- the server's statuses for our commands ----------------------------------------------

  enum class ClientAuthOutcome { Unchanged, Accepted, Rejected };

  // Auth types from weakest to strongest; a challenge may not make us weaker than the DMAcc says.
  static int strength(AuthType t) noexcept {
    switch (t) {
      case AuthType::basic: return 0;
      case AuthType::md5: return 1;
      case AuthType::hmac: return 2;
    }
    return 0;
  }

  // @p server_ok: the server proved who it is in this message. Without that, only what is needed
  // to retry our credentials is taken (in memory); acknowledgements are ignored.
  ClientAuthOutcome handle_statuses(const Message& msg, bool server_ok) {
    ClientAuthOutcome outcome = ClientAuthOutcome::Unchanged;
    for (const auto& command : msg.body) {
      const auto* status = std::get_if<syncml::Status>(&command.value);
      if (!status) continue;
      if (status->cmd == "SyncHdr") {
        // A Chal carries the nonce for our next credential (DM_Security 1.2 §5.3): with 212 it is
        // for the next session, with 401/407 for the retry now.
        if (status->chal && status->chal->meta.next_nonce) {
          auto nonce = base64_decode(*status->chal->meta.next_nonce);
          if (nonce) store_nonce(kClientCredLevel, *nonce, server_ok);
        }
        // A challenge may ask for another scheme, but never a weaker one than the DMAcc's
        // (no downgrade to basic by whoever answers, DM_Security 1.2 §5.3).
        if (status->chal && status->chal->meta.type) {
          if (auto t = syncml::parse_auth_type(*status->chal->meta.type);
              t && strength(*t) >= strength(configured_client_auth))
            creds.client_auth = *t;
        }
        if (status->data == syncml::code(StatusCode::AuthenticationAccepted) ||
            status->data == syncml::code(StatusCode::Ok)) {
          report.client_authenticated = true;
          outcome = ClientAuthOutcome::Accepted;
        } else if (status->data == syncml::code(StatusCode::InvalidCredentials) ||
                   status->data == syncml::code(StatusCode::MissingCredentials)) {
          report.client_authenticated = false;
          outcome = ClientAuthOutcome::Rejected;
        }
        continue;
      }
      if (!server_ok) continue;
      if (status->cmd == "Results" && chunk && status->cmd_ref == chunk->sent_cmd_id) {
        // The server's answer to a chunk of our large object: 213 (or 200) asks for the rest;
        // anything else ends it (DM_RepPro 1.2 §7).
        const auto code = static_cast<StatusCode>(status->data);
        if (code != StatusCode::ChunkedItemAccepted && !syncml::is_success(code)) drop_chunk_remainder();
        continue;
      }
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
    if (!large_object) return;
    syncml::Alert alert;
    alert.cmd_id = cmd_id();
    alert.data = syncml::code(AlertCode::NoEndOfData);
    syncml::Item item;
    item.target = syncml::Location{large_object->uri, std::nullopt};
    alert.items.push_back(std::move(item));
    out.push_back(Command{alert});
    large_object.reset();
  }

  StatusCode apply_write(CommandKind kind, const std::string& uri, const mo::NodeValue& value) {
    return kind == CommandKind::Add ? tree.add(caller, uri, value) : tree.replace(caller, uri, value);
  }

  // Add / Replace of one item, including large-object chunks.
  StatusCode write_item(CommandKind kind, const syncml::Item& item, const std::optional<syncml::Meta>& command_meta) {
    const auto uri = item_target(item);
    if (!uri) return StatusCode::BadRequest;
    const syncml::Meta meta = effective_meta(item, command_meta);
    auto value = item_value(item, meta);
    if (!value) return value.error();

    if (item.more_data || large_object) {
      if (!large_object) {
        // First chunk: Meta Size is mandatory and bounded by our MaxObjSize (DM_RepPro 1.2 §7).
        if (!meta.size) return StatusCode::SizeRequired;
        if (*meta.size > config.max_obj_size) return StatusCode::RequestEntityTooLarge;
        if (auto pre = tree.preflight(caller, *uri, kind == CommandKind::Add, value->format,
                                      static_cast<std::size_t>(*meta.size));
            !syncml::is_success(pre))
          return pre;
        large_object = LargeObject{kind, *uri, *meta.size, mo::NodeValue{value->format, value->type, {}}};
      }
      auto& lo = *large_object;
      lo.value.data.insert(lo.value.data.end(), value->data.begin(), value->data.end());
      if (lo.value.data.size() > lo.declared_size) {
        large_object.reset();
        return StatusCode::SizeMismatch;
      }
      if (item.more_data) return StatusCode::ChunkedItemAccepted;
      // Last chunk: the assembled object must have exactly the announced size.
      LargeObject done = std::move(lo);
      large_object.reset();
      if (done.value.data.size() != done.declared_size) return StatusCode::SizeMismatch;
      return apply_write(done.kind, done.uri, done.value);
    }
    if (config.max_obj_size && value->data.size() > config.max_obj_size) return StatusCode::RequestEntityTooLarge;
    return apply_write(kind, *uri, *value);
  }

  // Executes one ItemCommand; appends its Status(es) (and Results) to @p out.
  void execute_item_command(const ItemCommand& cmd, std::uint32_t msg_ref, std::vector<Command>& out,
                            std::vector<std::size_t>* status_positions) {
    const char* name = syncml::command_name(cmd.kind);
    if (cmd.items.empty()) {
      auto s = make_status(msg_ref, cmd.cmd_id, name, StatusCode::BadRequest);
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
          if (large_object && large_object->uri != uri) interrupt_large_object(out);
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
      auto s = make_status(msg_ref, cmd.cmd_id, name, code);
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
      out.push_back(Command{make_status(msg_ref, alert->cmd_id, "Alert", s)});
      return true;
    }
    if (const auto* container = std::get_if<syncml::Container>(&command.value)) {
      interrupt_large_object(out);
      if (container->kind == CommandKind::Sequence) {
        out.push_back(Command{make_status(msg_ref, container->cmd_id, "Sequence", StatusCode::Ok)});
        for (const auto& inner : container->commands)
          if (!execute(inner, msg_ref, out, status_positions)) return false;
        return true;
      }
      // Atomic (DM_RepPro 1.2 §6.6.4): all or nothing. Exec and Get are not allowed inside.
      const std::size_t atomic_pos = out.size();
      out.push_back(Command{make_status(msg_ref, container->cmd_id, "Atomic", StatusCode::Ok)});
      auto snapshot = tree.snapshot();
      std::vector<std::size_t> inner_positions;
      bool failed = false;
      for (const auto& inner : container->commands) {
        const auto kind = inner.kind();
        if (kind == CommandKind::Exec || kind == CommandKind::Get || kind == CommandKind::Results ||
            kind == CommandKind::Status) {
          inner_positions.push_back(out.size());
          out.push_back(Command{make_status(msg_ref, inner.cmd_id(), syncml::command_name(kind),
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
    auto decoded = [&]() -> Result<Message> {
      if (auto enc = syncml::encoding_from_content_type(content_type)) {
        return *enc == syncml::Encoding::Xml ? syncml::decode_xml(body, config.decode_limits, &detail)
                                             : syncml::decode_wbxml(body, config.decode_limits, &detail);
      }
      return syncml::decode(body, config.decode_limits, &detail);
    }();
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
    const StatusCode server_auth = authenticate_server(msg, body, hmac_header);
    const bool server_ok = syncml::is_success(server_auth);
    // Only a server that proved itself may send us elsewhere (our next message carries credentials).
    if (server_ok && msg.hdr.resp_uri && !msg.hdr.resp_uri->empty()) target_uri = *msg.hdr.resp_uri;

    // Did the server accept our credentials?
    const auto client_auth = handle_statuses(msg, server_ok);

    syncml::Status hdr_status = make_status(msg.hdr.msg_id, 0, "SyncHdr", server_auth);
    hdr_status.target_refs.push_back(dev_id);
    hdr_status.source_refs.push_back(msg.hdr.source.loc_uri);
    // A fresh nonce for the server's next credential goes with 212 (DM_Security 1.2 §5.3), but
    // only in a message we actually send: rotated in the tree and never told, it would lock the
    // server out of the next session.
    const bool rotate_server_nonce =
        server_auth == StatusCode::AuthenticationAccepted && creds.server_auth != AuthType::basic;
    if (!server_ok) {
      if (++server_auth_failures > 1) {
        // One more challenge after a failure, then stop (DM_Security 1.2 §5.3).
        return abort("server failed to authenticate");
      }
      hdr_status.chal = new_server_challenge(/*persist=*/false);
    }

    if (client_auth == ClientAuthOutcome::Rejected) {
      if (rotate_server_nonce) hdr_status.chal = new_server_challenge(/*persist=*/true);
      if (++client_auth_attempts >= config.max_auth_attempts) return abort("server refused our credentials");
      // Send package 1 again with a credential over the new nonce.
      queue.clear();
      chunk.reset();
      alerts_in_flight.clear();
      alerts_sent_this_session.clear();
      queue.push_back(Command{hdr_status});
      queue_package1();
      queue_pending_alerts();
      return reply(true, false);
    }

    // A message without Final that carries Alert 1222 asks for the rest of OUR package; one
    // without Final and without it announces more of the server's (DM_Protocol 1.2 §8.2.1).
    const bool server_asks_next = std::any_of(msg.body.begin(), msg.body.end(), [](const Command& c) {
      const auto* a = std::get_if<syncml::Alert>(&c.value);
      return a && a->data == syncml::code(AlertCode::NextMessage);
    });

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
      state = large_object ? SessionState::Aborted : SessionState::Completed;
      if (large_object) report.abort_reason = "server ended the session inside a large object";
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
  std::uint16_t sid = 0;
  while (sid == 0) {
    if (RAND_bytes(reinterpret_cast<unsigned char*>(&sid), sizeof sid) != 1) return fail(errc::io_error);
  }
  return impl_->start(syncml::code(AlertCode::ClientInitiatedMgmt), syncml::session_id_hex(sid));
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
