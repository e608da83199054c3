// Both directions of DM session authentication (see m2mdm/syncml/peer_auth.hpp).
#include "m2mdm/syncml/peer_auth.hpp"

namespace m2mdm::syncml {
namespace {

// Schemes from weakest to strongest.
int strength(AuthType t) noexcept {
  switch (t) {
    case AuthType::basic: return 0;
    case AuthType::md5: return 1;
    case AuthType::hmac: return 2;
  }
  return 0;
}

}  // namespace

Chal chal_from(const Challenge& challenge) {
  Chal chal;
  chal.meta.type = std::string(challenge.type_string());
  chal.meta.format = std::string(kFormatB64);
  if (!challenge.next_nonce.empty()) chal.meta.next_nonce = challenge.next_nonce_b64();
  return chal;
}

// ---- the peer's credentials ----------------------------------------------------------------

StatusCode PeerAuthenticator::accept() noexcept {
  const bool first = !authenticated_;
  authenticated_ = true;
  return first ? StatusCode::AuthenticationAccepted : StatusCode::Ok;
}

StatusCode PeerAuthenticator::verify(const Message& msg, ByteView body, std::optional<std::string_view> hmac_header) {
  if (expected_.type == AuthType::hmac) {
    // syncml:auth-MAC authenticates every message, not only the first (DM_Security 1.2 §5.5).
    if (!hmac_header) return StatusCode::MissingCredentials;
    auto parsed = parse_hmac_header(*hmac_header);
    if (!parsed || parsed->username != expected_.name) return StatusCode::InvalidCredentials;
    if (!verify_hmac(*parsed, expected_.secret, expected_.nonce, body)) return StatusCode::InvalidCredentials;
    return accept();
  }
  // Credentials are needed until accepted once in the session (DM_Security 1.2 §5.1).
  if (!msg.hdr.cred) return authenticated_ ? StatusCode::Ok : StatusCode::MissingCredentials;
  const Cred& cred = *msg.hdr.cred;
  // A Cred without Meta Type is syncml:auth-basic (DM_RepPro 1.2 §5.1.14).
  auto type = parse_auth_type(cred.meta.type.value_or(std::string(kAuthTypeBasic)));
  if (!type || *type != expected_.type) return StatusCode::InvalidCredentials;
  if (!verify_credential(*type, cred.data, expected_.name, expected_.secret, expected_.nonce))
    return StatusCode::InvalidCredentials;
  return accept();
}

std::optional<Chal> PeerAuthenticator::challenge() {
  auto challenge = make_challenge(expected_.type);
  if (!challenge) return std::nullopt;
  expected_.nonce = challenge->next_nonce;
  return chal_from(*challenge);
}

// ---- our credentials -------------------------------------------------------------------------

std::optional<Cred> OwnCredential::cred() const {
  if (accepted_ || ours_.type == AuthType::hmac) return std::nullopt;
  auto data = make_credential(ours_.type, ours_.name, ours_.secret, ours_.nonce);
  if (!data) return std::nullopt;
  Cred c;
  c.meta.type = std::string(auth_type_string(ours_.type));
  c.meta.format = std::string(kFormatB64);
  c.data = std::move(*data);
  return c;
}

Result<std::optional<std::string>> OwnCredential::hmac_header(ByteView body) const {
  if (ours_.type != AuthType::hmac) return std::optional<std::string>{};
  auto header = hmac_header_value(ours_.name, ours_.secret, ours_.nonce, body);
  if (!header) return fail(header.error());
  return std::optional<std::string>{std::move(*header)};
}

OwnCredential::Effect OwnCredential::on_status(const Status& hdr_status) {
  Effect effect;
  if (hdr_status.chal) {
    // The Chal's NextNonce is the nonce of our next credential (DM_Security 1.2 §5.3): with 212
    // for the next session, with 401/407 for the retry now.
    if (hdr_status.chal->meta.next_nonce) {
      if (auto nonce = base64_decode(*hdr_status.chal->meta.next_nonce)) {
        ours_.nonce = std::move(*nonce);
        effect.nonce_changed = true;
      }
    }
    // A challenge may ask for another scheme, never a weaker one than we started with.
    if (follow_ && hdr_status.chal->meta.type) {
      if (auto t = parse_auth_type(*hdr_status.chal->meta.type); t && strength(*t) >= strength(floor_))
        ours_.type = *t;
    }
  }
  if (hdr_status.data == code(StatusCode::AuthenticationAccepted) || hdr_status.data == code(StatusCode::Ok)) {
    accepted_ = true;
    effect.outcome = Outcome::accepted;
  } else if (hdr_status.data == code(StatusCode::InvalidCredentials) ||
             hdr_status.data == code(StatusCode::MissingCredentials)) {
    accepted_ = false;
    effect.outcome = Outcome::refused;
  }
  return effect;
}

}  // namespace m2mdm::syncml
