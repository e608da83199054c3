/// @file script.hpp
/// @brief The scripted DM server of the client conformance vectors, without I/O: expands a step's
///        template into the server message, reads each device message (the checks that hold
///        always) and judges it against the step's expectations (conformance/vectors/client/
///        README.md). The GoogleTest runner feeds it the in-process ClientSession; `m2mdm
///        conformance` feeds it what a real device posts over HTTP.
///
/// Judging never throws and never stops on the first problem: every failed check is one line in
/// Findings (with the spec rule it breaks where that is not the case's own rule).
#pragma once

#include "m2mdm/conformance/vectors.hpp"
#include "m2mdm/syncml/encoding.hpp"
#include "m2mdm/syncml/message.hpp"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace m2mdm::conformance {

/// The failed checks of one message or one session. `fatal` means the script cannot go on
/// (e.g. the device's message does not decode).
struct Findings {
  std::vector<std::string> failures;
  bool fatal = false;

  void fail(std::string what) { failures.push_back(std::move(what)); }
  void fatal_fail(std::string what) {
    fatal = true;
    failures.push_back(std::move(what));
  }
  bool ok() const noexcept { return failures.empty(); }
  void append(const Findings& other) {
    failures.insert(failures.end(), other.failures.begin(), other.failures.end());
    fatal = fatal || other.fatal;
  }
};

/// The device's DM account for the scripted server and what the device reports about itself.
struct Account {
  std::string dev_id;                     ///< ./DevInfo/DevId, CLCRED user, the device's Source
  std::string server_id;                  ///< ServerID, SRVCRED user, package 0's server identifier
  std::string server_uri;                 ///< the server's URI (Source of its messages)
  std::string client_auth = "DIGEST";     ///< CLCRED AAuthType: BASIC | DIGEST | HMAC
  std::string server_auth = "DIGEST";     ///< SRVCRED AAuthType
  std::string client_secret = "client-secret";
  std::string server_secret = "server-secret";
  std::string man;                        ///< ./DevInfo/Man the device must report
  std::string mod;                        ///< ./DevInfo/Mod
  std::string lang = "en-US";             ///< ./DevInfo/Lang
  /// The device's MaxObjSize ({{OverMaxObjSize}} = this + 1); 0 = take the MaxObjSize the device
  /// announced in its SyncHdr Meta.
  std::uint64_t max_obj_size = 0;
};

/// What the scripted server knows from the wire, kept across the sessions of a case (and, in a
/// remote run, across cases): nonces travel only in messages, so a device that rotates a nonce
/// without telling the server fails the next session.
///
/// A nonce travels in a message the peer may refuse: the device keeps a nonce the server offered
/// only if it accepted that server message (SyncHdr Status 200/212), and stores the nonce it sent
/// the server only with such a Status; after a 401/407 either is good for the retries of that
/// session alone (DM_Security 1.2 §5.3). end_session() falls back to the confirmed ones.
struct Wire {
  Bytes server_nonce;                    ///< for the server's next credential
  Bytes client_nonce;                    ///< the device must use it for its next credential
  std::optional<Bytes> last_chal_nonce;  ///< the last NextNonce the device sent the server
  std::map<std::string, Bytes> nonces;   ///< {{Nonce:<name>}}
  Bytes confirmed_server_nonce;          ///< sent by the device with 200/212
  Bytes confirmed_client_nonce;          ///< offered in a server message the device accepted

  /// Starts from nonces both sides hold.
  void start(Bytes server, Bytes client) {
    server_nonce = confirmed_server_nonce = std::move(server);
    client_nonce = confirmed_client_nonce = std::move(client);
  }
};

/// A message the device sent.
struct DeviceMessage {
  Bytes body;
  std::optional<std::string> hmac;  ///< its x-syncml-hmac header
};

/// A message the scripted server sends.
struct ServerMessage {
  Bytes body;
  std::string content_type;
  std::optional<std::string> hmac;  ///< the x-syncml-hmac header to send with it
  std::string text;                 ///< the expanded template (for traces)
};

/// One DM session as the scripted server sees it.
struct SessionCtx {
  std::string session_id;            ///< the SessionID the device must use
  std::uint32_t expected_msg_id = 1;
  syncml::Message last;              ///< the device's last message
  Bytes last_body;
  std::optional<std::string> last_hmac;
  std::vector<std::pair<std::uint32_t, std::uint32_t>> statuses_sent;  ///< (MsgRef, CmdRef)
  std::uint64_t server_max_msg_size = 0;      ///< the MaxMsgSize the server announced last
  std::uint64_t device_max_obj_size = 0;      ///< the MaxObjSize the device announced
  std::map<std::string, std::string> assembled;  ///< Results data per source, concatenated
  /// Alert codes the expectations and templates name, replaced for this session: a remote run
  /// that opens a `start: client` session with package 0 maps 1201 -> 1200 (and 1200 -> 1201).
  std::map<int, int> alert_alias;
  /// The client nonce the server's last message offered ({{Nonce}}), until the device answers it.
  std::optional<Bytes> offered_client_nonce;
  /// The server's last message carried a credential that verifies ({{ServerCred}} or a valid
  /// HMAC: true), a deliberately wrong one (false), or none (nullopt).
  std::optional<bool> last_server_cred_valid;
  bool server_authenticated = false;  ///< the device's last SyncHdr Status to the server was 200/212
};

/// A value given as text or as {"repeat": "<text>", "times": n}.
std::string value_spec(const nlohmann::json& v);

/// Reads one device message: decodes it and checks what holds for every message (VerDTD 1.2,
/// VerProto DM/1.2, the session's SessionID, MsgIDs 1, 2, 3..., Source = DevId, a CmdID on every
/// Status, every Results after the Status of its command — DM_RepPro 1.2 §6.6.12 —, no larger
/// than the server's MaxMsgSize — DM_RepPro 1.2 §7.1); keeps the NextNonce of a Chal the device
/// sent on the server's SyncHdr.
Findings accept_device_message(SessionCtx& ctx, Wire& wire, const Account& account, const DeviceMessage& msg);

/// Expands the placeholders of @p text (README.md "Placeholders in templates"); an unknown one
/// or a CmdRef to a command the device did not send is a finding.
std::string expand(SessionCtx& ctx, Wire& wire, const Account& account, const std::string& text,
                   Findings& findings);

/// The server message of one step: @p raw (the template named by step.send) expanded unless
/// step.literal, encoded as WBXML when step.encode = "wbxml", with an x-syncml-hmac header when
/// step.hmac is given. Records the MaxMsgSize it announces in @p ctx.
ServerMessage build_server_message(SessionCtx& ctx, Wire& wire, const Account& account,
                                   const nlohmann::json& step, const std::string& raw, Findings& findings);

/// Judges the device's last message against @p want (README.md "Expectations on one device
/// message"; `none` is the caller's business).
Findings check_reply(SessionCtx& ctx, Wire& wire, const Account& account, const nlohmann::json& want);

/// The session-end expectations the wire shows: `assembled` (Results data per source).
Findings check_assembled(const SessionCtx& ctx, const nlohmann::json& expect);

/// At the end of a session: the nonces each side holds from now on are the confirmed ones. A
/// nonce offered in the server's last message, which the device did not answer, counts as taken
/// when that message authenticated the server (a valid credential, or none in a session where
/// the server had authenticated).
void end_session(const SessionCtx& ctx, Wire& wire);

}  // namespace m2mdm::conformance
