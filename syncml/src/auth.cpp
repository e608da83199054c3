#include "m2mdm/syncml/auth.hpp"

#include "auth_internal.hpp"
#include "m2mdm/syncml/error.hpp"
#include "m2mdm/syncml/openssl_handles.hpp"

#include <openssl/evp.h>
#include <openssl/rand.h>

#include <memory>
#include <optional>

namespace m2mdm::syncml {
namespace {

using MdCtx = openssl::MdCtxPtr;

// The @p md digest (MD5, SHA-256) of the concatenation of @p parts.
template <class Digest>
Result<Digest> digest_parts(const EVP_MD* md, std::initializer_list<ByteView> parts) {
  MdCtx ctx{EVP_MD_CTX_new()};
  if (!ctx || EVP_DigestInit_ex(ctx.get(), md, nullptr) != 1) return fail(errc::crypto_failed);
  for (const ByteView p : parts) {
    if (!p.empty() && EVP_DigestUpdate(ctx.get(), p.data(), p.size()) != 1) return fail(errc::crypto_failed);
  }
  Digest out{};
  unsigned int len = 0;
  if (EVP_DigestFinal_ex(ctx.get(), out.data(), &len) != 1 || len != out.size()) return fail(errc::crypto_failed);
  return out;
}

}  // namespace

namespace auth_detail {

Result<Md5Digest> md5_parts(std::initializer_list<ByteView> parts) {
  return digest_parts<Md5Digest>(EVP_md5(), parts);
}

Result<Md5Digest> mac_digest(std::string_view user_key_b64, ByteView nonce, ByteView body) {
  auto body_hash = md5_parts({body});
  if (!body_hash) return fail(body_hash.error());
  const std::string body_b64 = base64_encode(*body_hash);
  const auto colon = as_bytes(":");
  return md5_parts({as_bytes(user_key_b64), colon, nonce, colon, as_bytes(body_b64)});
}

bool iequals(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    auto lower = [](char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; };
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

}  // namespace auth_detail

namespace {

using auth_detail::iequals;

constexpr bool is_ws(char c) noexcept { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }
constexpr bool is_ctl(char c) noexcept {
  const auto u = static_cast<unsigned char>(c);
  return u < 0x20 || u == 0x7f;
}

std::string_view trim(std::string_view s) noexcept {
  while (!s.empty() && is_ws(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_ws(s.back())) s.remove_suffix(1);
  return s;
}

/// Base64 decode that tolerates whitespace and missing trailing padding (the DM_Security 1.2
/// §5.1.4.3 example mac has none). nullopt when it is not base64.
std::optional<Bytes> decode_b64_lenient(std::string_view text) {
  std::string s;
  s.reserve(text.size() + 3);
  for (const char c : text) {
    if (!is_ws(c)) s += c;
  }
  if (s.size() % 4 == 1) return std::nullopt;
  while (s.size() % 4 != 0) s += '=';
  auto r = base64_decode(s);
  if (!r) return std::nullopt;
  return std::move(*r);
}

/// Constant-time comparison of a received base64 digest with the expected digest.
bool digest_matches(std::string_view received_b64, const Md5Digest& expected) {
  const auto got = decode_b64_lenient(received_b64);
  if (!got) return false;
  return constant_time_equal(*got, expected);
}

using Sha256Digest = std::array<std::uint8_t, 32>;

Result<Sha256Digest> sha256_parts(std::initializer_list<ByteView> parts) {
  return digest_parts<Sha256Digest>(EVP_sha256(), parts);
}

Result<Md5Digest> md5_credential_digest(std::string_view user_key_b64, ByteView nonce) {
  return auth_detail::md5_parts({as_bytes(user_key_b64), as_bytes(":"), nonce});
}

}  // namespace

Result<Md5Digest> md5(ByteView data) { return auth_detail::md5_parts({data}); }

std::string_view auth_type_string(AuthType type) noexcept {
  switch (type) {
    case AuthType::basic: return kAuthTypeBasic;
    case AuthType::md5: return kAuthTypeMd5;
    case AuthType::hmac: return kAuthTypeMac;
  }
  return kAuthTypeMd5;
}

Result<AuthType> parse_auth_type(std::string_view text) {
  text = trim(text);
  if (iequals(text, kAuthTypeBasic)) return AuthType::basic;
  if (iequals(text, kAuthTypeMd5)) return AuthType::md5;
  if (iequals(text, kAuthTypeMac)) return AuthType::hmac;
  return fail(errc::invalid_value);
}

// ----- basic (DM_Protocol 1.2 §9.4.1; DM_RepPro 1.2 Cred) -----

std::string basic_credential(std::string_view user, std::string_view password) {
  std::string plain;
  plain.reserve(user.size() + 1 + password.size());
  plain.append(user).append(":").append(password);
  return base64_encode(as_bytes(plain));
}

Result<BasicCredential> parse_basic_credential(std::string_view credential_b64) {
  auto raw = base64_decode(credential_b64);
  if (!raw) return fail(raw.error());
  const std::string_view text = as_chars(*raw);
  const auto colon = text.find(':');
  if (colon == std::string_view::npos) return fail(errc::invalid_value);
  return BasicCredential{std::string(text.substr(0, colon)), std::string(text.substr(colon + 1))};
}

bool verify_basic_credential(std::string_view credential_b64, std::string_view user, std::string_view password) {
  const auto got = base64_decode(credential_b64);
  if (!got) return false;
  // Compare fixed-size SHA-256 digests so that the time does not reveal the expected length
  // (that is, the password's length).
  const auto expected = sha256_parts({as_bytes(user), as_bytes(":"), as_bytes(password)});
  const auto received = sha256_parts({*got});
  return expected && received && constant_time_equal(*expected, *received);
}

// ----- md5 (DM_Security 1.2 §5.1.3.2) -----

Result<std::string> md5_user_key(std::string_view user, std::string_view password) {
  auto h = auth_detail::md5_parts({as_bytes(user), as_bytes(":"), as_bytes(password)});
  if (!h) return fail(h.error());
  return base64_encode(*h);
}

Result<std::string> md5_digest_credential_from_key(std::string_view user_key_b64, ByteView nonce) {
  auto d = md5_credential_digest(user_key_b64, nonce);
  if (!d) return fail(d.error());
  return base64_encode(*d);
}

Result<std::string> md5_digest_credential(std::string_view user, std::string_view password, ByteView nonce) {
  auto key = md5_user_key(user, password);
  if (!key) return fail(key.error());
  return md5_digest_credential_from_key(*key, nonce);
}

bool verify_md5_digest_credential_from_key(std::string_view credential_b64, std::string_view user_key_b64,
                                           ByteView nonce) {
  const auto d = md5_credential_digest(user_key_b64, nonce);
  return d && digest_matches(credential_b64, *d);
}

bool verify_md5_digest_credential(std::string_view credential_b64, std::string_view user,
                                  std::string_view password, ByteView nonce) {
  const auto key = md5_user_key(user, password);
  return key && verify_md5_digest_credential_from_key(credential_b64, *key, nonce);
}

// ----- auth-MAC (DM_Security 1.2 §5.1.4) -----

Result<std::string> hmac_mac_from_key(std::string_view user_key_b64, ByteView nonce, ByteView body) {
  auto d = auth_detail::mac_digest(user_key_b64, nonce, body);
  if (!d) return fail(d.error());
  return base64_encode(*d);
}

Result<std::string> hmac_mac(std::string_view user, std::string_view password, ByteView nonce, ByteView body) {
  auto key = md5_user_key(user, password);
  if (!key) return fail(key.error());
  return hmac_mac_from_key(*key, nonce, body);
}

Result<std::string> hmac_header_value_from_key(std::string_view user, std::string_view user_key_b64,
                                               ByteView nonce, ByteView body) {
  // A control character (CR, LF...) in the user name would break out of the header line.
  for (const char c : user) {
    if (is_ctl(c)) return fail(errc::invalid_value);
  }
  if (user.empty()) return fail(errc::invalid_value);
  auto mac = hmac_mac_from_key(user_key_b64, nonce, body);
  if (!mac) return fail(mac.error());
  std::string out = "algorithm=MD5, username=\"";
  for (const char c : user) {
    if (c == '"' || c == '\\') out += '\\';  // RFC 2616 §2.2 quoted-pair
    out += c;
  }
  out += "\", mac=";
  out += *mac;
  return out;
}

Result<std::string> hmac_header_value(std::string_view user, std::string_view password, ByteView nonce,
                                      ByteView body) {
  auto key = md5_user_key(user, password);
  if (!key) return fail(key.error());
  return hmac_header_value_from_key(user, *key, nonce, body);
}

Result<HmacHeader> parse_hmac_header(std::string_view value) {
  const auto bad = [] { return fail(errc::bad_header); };
  std::size_t i = 0;
  const std::size_t n = value.size();
  auto skip_ws = [&] {
    while (i < n && is_ws(value[i])) ++i;
  };
  // Optional header name, as in the spec's example "x-syncml-hmac: algorithm=MD5, ...".
  skip_ws();
  if (n - i >= kHmacHeaderName.size() && iequals(value.substr(i, kHmacHeaderName.size()), kHmacHeaderName)) {
    std::size_t j = i + kHmacHeaderName.size();
    while (j < n && is_ws(value[j])) ++j;
    if (j < n && value[j] == ':') i = j + 1;
  }

  HmacHeader out;
  bool have_alg = false, have_user = false, have_mac = false;
  while (true) {
    // #rule: elements separated by commas, empty elements allowed (RFC 2616 §2.1).
    while (i < n && (is_ws(value[i]) || value[i] == ',')) ++i;
    if (i >= n) break;
    const std::size_t name_start = i;
    while (i < n && !is_ws(value[i]) && value[i] != '=' && value[i] != ',' && value[i] != '"') {
      if (is_ctl(value[i])) return bad();
      ++i;
    }
    const std::string_view name = value.substr(name_start, i - name_start);
    if (name.empty()) return bad();
    skip_ws();
    if (i >= n || value[i] != '=') return bad();
    ++i;
    skip_ws();
    std::string v;
    bool quoted = false;
    if (i < n && value[i] == '"') {
      quoted = true;
      ++i;
      bool closed = false;
      while (i < n) {
        const char c = value[i++];
        if (c == '"') {
          closed = true;
          break;
        }
        if (c == '\\') {
          if (i >= n) return bad();
          v += value[i++];
          continue;
        }
        if (is_ctl(c) && c != '\t') return bad();
        v += c;
      }
      if (!closed) return bad();
    } else {
      while (i < n && !is_ws(value[i]) && value[i] != ',') {
        if (is_ctl(value[i]) || value[i] == '"') return bad();
        v += value[i++];
      }
    }
    skip_ws();
    if (i < n && value[i] != ',') return bad();  // junk after a value
    if (v.empty() && !quoted) return bad();

    if (iequals(name, "algorithm")) {
      if (have_alg || v.empty()) return bad();
      have_alg = true;
      out.algorithm = std::move(v);
    } else if (iequals(name, "username")) {
      if (have_user || v.empty()) return bad();
      have_user = true;
      out.username = std::move(v);
    } else if (iequals(name, "mac")) {
      if (have_mac || v.empty()) return bad();
      for (const char c : v) {  // mac-value = base64-string (RFC 1521 alphabet)
        const bool b64 = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                         c == '+' || c == '/' || c == '=';
        if (!b64) return bad();
      }
      have_mac = true;
      out.mac = std::move(v);
    }
    // Unknown parameters are ignored.
  }
  if (!have_user || !have_mac) return bad();
  return out;
}

bool verify_hmac_from_key(const HmacHeader& header, std::string_view user_key_b64, ByteView nonce, ByteView body) {
  if (!iequals(header.algorithm, "MD5")) return false;
  const auto d = auth_detail::mac_digest(user_key_b64, nonce, body);
  return d && digest_matches(header.mac, *d);
}

bool verify_hmac(const HmacHeader& header, std::string_view password, ByteView nonce, ByteView body) {
  const auto key = md5_user_key(header.username, password);
  return key && verify_hmac_from_key(header, *key, nonce, body);
}

// ----- nonces and challenges -----

Result<Bytes> generate_nonce(std::size_t size) {
  if (size == 0 || size > 1024) return fail(errc::invalid_value);
  Bytes out(size);
  if (RAND_bytes(out.data(), static_cast<int>(size)) != 1) return fail(errc::crypto_failed);
  return out;
}

Result<Challenge> make_challenge(AuthType type, std::size_t nonce_size) {
  Challenge c;
  c.type = type;
  if (type != AuthType::basic) {
    auto nonce = generate_nonce(nonce_size);
    if (!nonce) return fail(nonce.error());
    c.next_nonce = std::move(*nonce);
  }
  return c;
}

Result<Challenge> parse_challenge(std::string_view type, std::string_view format, std::string_view next_nonce_text) {
  auto t = parse_auth_type(type);
  if (!t) return fail(t.error());
  Challenge c;
  c.type = *t;
  format = trim(format);
  if (iequals(format, kFormatB64)) {
    auto nonce = base64_decode(next_nonce_text);
    if (!nonce) return fail(nonce.error());
    c.next_nonce = std::move(*nonce);
  } else if (format.empty()) {
    const auto b = as_bytes(next_nonce_text);
    c.next_nonce.assign(b.begin(), b.end());
  } else {
    return fail(errc::invalid_value);
  }
  return c;
}

Result<std::string> make_credential(AuthType type, std::string_view user, std::string_view password, ByteView nonce) {
  switch (type) {
    case AuthType::basic: return basic_credential(user, password);
    case AuthType::md5: return md5_digest_credential(user, password, nonce);
    case AuthType::hmac: break;  // DM_Security 1.2 §5.1.4.1: MUST NOT be specified in Cred
  }
  return fail(errc::invalid_value);
}

bool verify_credential(AuthType type, std::string_view credential_b64, std::string_view user,
                       std::string_view password, ByteView nonce) {
  switch (type) {
    case AuthType::basic: return verify_basic_credential(credential_b64, user, password);
    case AuthType::md5: return verify_md5_digest_credential(credential_b64, user, password, nonce);
    case AuthType::hmac: break;
  }
  return false;
}

}  // namespace m2mdm::syncml
