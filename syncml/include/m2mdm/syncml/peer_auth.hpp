/// @file peer_auth.hpp
/// @brief The authentication half of a DM session, shared by the client and the server engines
///        (OMA-TS-DM_Security-V1_2 §5): checking the peer's credentials (`PeerAuthenticator`)
///        and presenting our own (`OwnCredential`), with the nonces both carry.
///
/// DM authenticates both directions. Each side holds two secrets: the one the peer must prove
/// (checked here against the peer's Cred or x-syncml-hmac header, answered with 212/200/401/407
/// in the Status of the peer's SyncHdr, with a Chal carrying a fresh nonce) and its own (sent as
/// Cred, or as a MAC over each message, until the peer accepts it). Only the policy stays in the
/// engines: which secrets, where nonces are persisted, how many failures are tolerated.
///
/// No I/O: nonces come from the OpenSSL CSPRNG (make_challenge()); persisting a changed nonce is
/// the caller's job (every function that changes one says so).
#pragma once

#include "m2mdm/syncml/auth.hpp"
#include "m2mdm/syncml/message.hpp"
#include "m2mdm/syncml/status.hpp"

#include <optional>
#include <string>
#include <string_view>

namespace m2mdm::syncml {

/// One direction's secret: scheme, user name, password and the nonce the next credential is
/// computed over (raw bytes; empty for basic).
struct AuthSecret {
  AuthType type = AuthType::md5;
  std::string name;
  std::string secret;
  Bytes nonce;
};

/// A Chal element for @p challenge: Meta Type, Format b64 and NextNonce (DM_RepPro 1.2 §5.1).
Chal chal_from(const Challenge& challenge);

/// Checks the peer's credentials, message by message (DM_Security 1.2 §5.1, §5.3, §5.5).
class PeerAuthenticator {
 public:
  PeerAuthenticator() = default;
  /// @p expected: what the peer must prove (its user name, password, scheme and our nonce).
  explicit PeerAuthenticator(AuthSecret expected) : expected_(std::move(expected)) {}

  /// The Status code for the peer's SyncHdr:
  /// - 212 AuthenticationAccepted the first time the peer proves itself in this session;
  /// - 200 Ok when it already did (a message without Cred is then fine, except with
  ///   syncml:auth-MAC, which must authenticate every message, §5.5);
  /// - 401 InvalidCredentials for a wrong credential, user name or scheme;
  /// - 407 MissingCredentials when none is given.
  /// @p body is the message exactly as received (the MAC covers it).
  StatusCode verify(const Message& msg, ByteView body, std::optional<std::string_view> hmac_header);

  /// True once verify() has accepted the peer in this session.
  bool authenticated() const noexcept { return authenticated_; }

  /// A challenge of the expected scheme with a fresh nonce, which becomes the nonce the peer
  /// must use next (the caller persists expected().nonce if it should outlive the session).
  /// nullopt when the CSPRNG fails.
  std::optional<Chal> challenge();

  /// Whether the Status @p verdict (from verify()) carries a NextNonce for the peer's next
  /// session: with 212 the nonce is rotated for any scheme that uses one, i.e. not basic
  /// (DM_Security 1.2 §5.3). A 401/407 carries a challenge for the retry in any case.
  bool next_nonce_due(StatusCode verdict) const noexcept {
    return verdict == StatusCode::AuthenticationAccepted && expected_.type != AuthType::basic;
  }

  /// What the peer must prove. The engines may change the scheme (e.g. the server learns it from
  /// the device's first message) or load a stored nonce.
  const AuthSecret& expected() const noexcept { return expected_; }
  AuthSecret& expected() noexcept { return expected_; }

 private:
  StatusCode accept() noexcept;

  AuthSecret expected_;
  bool authenticated_ = false;
};

/// Presents our credentials to the peer and follows its answers (DM_Security 1.2 §5.1, §5.3).
class OwnCredential {
 public:
  /// How the peer's Status for our SyncHdr changed things.
  enum class Outcome {
    unchanged,  ///< neither accepted nor refused (no Status for our SyncHdr, or another code)
    accepted,   ///< 212 or 200
    refused,    ///< 401 or 407: send the credential again, over the Chal's nonce
  };

  /// What on_status() changed.
  struct Effect {
    Outcome outcome = Outcome::unchanged;
    bool nonce_changed = false;  ///< the Chal carried a NextNonce: secret().nonce is new
  };

  OwnCredential() = default;
  /// @p ours: our user name, password, scheme and the peer's last nonce.
  /// @p follow_scheme: whether a Chal may switch us to another scheme, never one weaker than the
  /// scheme we start with (no downgrade by whoever answers, §5.3).
  OwnCredential(AuthSecret ours, bool follow_scheme) : ours_(std::move(ours)), floor_(ours_.type), follow_(follow_scheme) {}

  /// The Cred for our SyncHdr: present until the peer accepts us, never for syncml:auth-MAC
  /// (which travels in the transport header, §5.1.4.1). nullopt also when MD5 is unavailable.
  std::optional<Cred> cred() const;

  /// The x-syncml-hmac header value over @p body when our scheme is syncml:auth-MAC, else
  /// nullopt (§5.1.4.3).
  Result<std::optional<std::string>> hmac_header(ByteView body) const;

  /// Applies a Status of the peer for our SyncHdr: its Chal's NextNonce (kept in secret().nonce;
  /// the caller decides whether to persist it), its Chal's scheme (if following schemes), and
  /// 212/200 (accepted) or 401/407 (refused).
  Effect on_status(const Status& hdr_status);

  bool accepted() const noexcept { return accepted_; }
  const AuthSecret& secret() const noexcept { return ours_; }
  AuthSecret& secret() noexcept { return ours_; }

 private:
  AuthSecret ours_;
  AuthType floor_ = AuthType::md5;
  bool follow_ = false;
  bool accepted_ = false;
};

}  // namespace m2mdm::syncml
