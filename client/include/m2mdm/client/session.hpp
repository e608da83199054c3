/// @file session.hpp
/// @brief The DM client session engine: bytes in, bytes out (like nghttp2), no I/O.
///
/// One `ClientSession` runs one OMA DM 1.2 management session with one server, acting on the
/// device's DM tree (`mo::Tree`) as that server (its ServerID is the ACL principal):
/// - client-initiated (Alert 1201) or server-initiated from a verified package 0 (Alert 1200
///   with the notification's SessionID), package 1 carrying ./DevInfo (DM_Protocol 1.2 §8.3);
/// - authentication both ways per DMAcc (basic, MD5 digest, HMAC), challenges and NextNonce
///   handled as DM_Security 1.2 §5 says; nonces are written back into the DMAcc AAuthData nodes,
///   so persisting the tree persists them;
/// - MaxMsgSize/MaxObjSize both ways, large objects received in chunks (213 + Alert 1222,
///   424 on size mismatch, Alert 1225 when interrupted, assembled before one atomic tree change)
///   and sent in chunks (a Results larger than the server's MaxMsgSize is split by item, then
///   each item chunked: Meta Size on the first chunk, MoreData, continued on 213 / Alert 1222,
///   stopped on an error status; DM_Protocol 1.2 §7), Atomic with rollback
///   (216/507), Sequence, Status/Results ordering;
/// - Exec answered with what the tree's handler says (202 for asynchronous operations such as
///   the M2MSIMMobj's Install); Generic Alerts (1226) from the `AlertOutbox` are sent in every
///   client message until the server acknowledges them.
///
/// Messages from a server that has not authenticated change nothing durable: no tree node, no
/// persisted nonce, no acknowledged alert, no RespURI; a Chal never lowers the DMAcc's auth type.
///
/// The integrator moves the bytes: `start_*()` returns the first message to POST to
/// `Outgoing::uri`, each response goes to `on_response()`, which returns the next message or
/// nothing when the session is over.
#pragma once

#include "m2mdm/client/alert_outbox.hpp"
#include "m2mdm/mo/tree.hpp"
#include "m2mdm/syncml/auth.hpp"
#include "m2mdm/syncml/codec.hpp"
#include "m2mdm/syncml/notification.hpp"
#include "m2mdm/syncml/result.hpp"

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace m2mdm::client {

/// Settings of a session that are not in the DM tree.
struct SessionConfig {
  syncml::Encoding encoding = syncml::Encoding::Xml;  ///< how we encode our messages
  std::uint64_t max_msg_size = 16 * 1024;     ///< our MaxMsgSize (what we accept)
  std::uint64_t max_obj_size = 2 * 1024 * 1024;  ///< our MaxObjSize (largest object we assemble)
  unsigned max_messages = 64;                 ///< a session longer than this is aborted
  unsigned max_auth_attempts = 2;             ///< credentials sent at most this often per session
  syncml::DecodeLimits decode_limits{};       ///< bounds for decoding server messages
};

/// One message to send to the server.
struct Outgoing {
  std::string uri;           ///< where to POST it (the DMAcc AppAddr, or the server's RespURI)
  std::string content_type;  ///< application/vnd.syncml.dm+xml or +wbxml
  Bytes body;
  std::optional<std::string> hmac_header;  ///< value of x-syncml-hmac, when HMAC is in use
};

/// Where a session stands.
enum class SessionState {
  Idle,              ///< not started
  AwaitingResponse,  ///< a message was produced; feed the server's answer to on_response()
  Completed,         ///< the server ended the session normally
  Aborted,           ///< either side aborted (1223), authentication failed, or the server misbehaved
};

/// What happened in a session, for logs and tests.
struct SessionReport {
  unsigned messages_sent = 0;
  unsigned messages_received = 0;
  unsigned commands_executed = 0;      ///< server commands answered with a 2xx status
  unsigned commands_refused = 0;       ///< server commands answered with a non-2xx status
  unsigned alerts_acknowledged = 0;    ///< Generic Alerts the server acknowledged
  bool server_authenticated = false;   ///< the server proved its credentials in this session
  bool client_authenticated = false;   ///< the server accepted ours (212/200 on our SyncHdr)
  std::string abort_reason;            ///< why the session was aborted (empty otherwise)
};

/// The DM client session engine (see the file comment). Not thread-safe; one per session.
class ClientSession {
 public:
  /// @param tree       the device's DM tree (the DMAcc of @p server_id must exist in it)
  /// @param outbox     pending Generic Alerts (sent and acknowledged through this session)
  /// @param server_id  the ServerID of the DMAcc to use
  /// @param config     limits and encoding
  ClientSession(mo::Tree& tree, AlertOutbox& outbox, std::string server_id, SessionConfig config = {});
  ~ClientSession();
  ClientSession(const ClientSession&) = delete;
  ClientSession& operator=(const ClientSession&) = delete;

  /// Starts a client-initiated session (Alert 1201). Fails when the DMAcc is missing or incomplete.
  Result<Outgoing> start_client_initiated();
  /// Starts a session the server asked for with a package 0 that the caller has VERIFIED
  /// (Alert 1200, SessionID from the notification, DM_Notification 1.2 §6).
  Result<Outgoing> start_server_initiated(const syncml::Notification& notification);

  /// Feeds the server's response (body, its Content-Type, and the x-syncml-hmac header if any).
  /// Returns the next message to send, or std::nullopt when the session has ended (see state()).
  /// A malformed or unauthenticated server message never changes the tree.
  Result<std::optional<Outgoing>> on_response(ByteView body, std::string_view content_type,
                                              std::optional<std::string_view> hmac_header = std::nullopt);

  SessionState state() const noexcept;
  const SessionReport& report() const noexcept;
  /// The SessionID of this session (upper-case hex, DM_Notification 1.2 §6.2.2.3).
  const std::string& session_id() const noexcept;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

/// The server-side credentials of a DMAcc, as the engine uses them (read from ./DMAcc/<x>).
struct AccountCredentials {
  std::string node_name;      ///< ./DMAcc/<x>
  std::string server_id;
  std::string server_uri;     ///< AppAddr/<x>/Addr (+ port when given separately)
  // How the client proves itself to the server (AAuthLevel CLCRED).
  syncml::AuthType client_auth = syncml::AuthType::md5;
  std::string client_name;
  std::string client_secret;
  Bytes client_nonce;         ///< the nonce the server gave us for our next credential
  // How the server proves itself to the client (AAuthLevel SRVCRED).
  syncml::AuthType server_auth = syncml::AuthType::md5;
  std::string server_name;
  std::string server_secret;
  Bytes server_nonce;         ///< the nonce we gave the server for its next credential
};

/// Reads the credentials of the DMAcc whose ServerID is @p server_id.
Result<AccountCredentials> read_account_credentials(const mo::Tree& tree, std::string_view server_id);
/// Maps a DMAcc AAuthType ("BASIC", "DIGEST", "HMAC") to the SyncML auth type.
std::optional<syncml::AuthType> auth_type_from_aauth(std::string_view aauth_type) noexcept;

}  // namespace m2mdm::client
