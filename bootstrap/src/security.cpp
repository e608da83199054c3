// Bootstrap SEC methods: OMA-WAP-ProvBoot 1.1 §5.3-§5.4, DM_Security 1.2 §5.1.7.2.
#include "m2mdm/bootstrap/security.hpp"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <array>
#include <cctype>

namespace m2mdm::bootstrap {
namespace {

std::string upper(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

std::array<std::uint8_t, 20> hmac_sha1(ByteView key, ByteView body) {
  std::array<std::uint8_t, 20> md{};
  unsigned int len = 0;
  static const std::uint8_t kEmpty = 0;
  HMAC(EVP_sha1(), key.empty() ? &kEmpty : key.data(), static_cast<int>(key.size()),
       body.empty() ? &kEmpty : body.data(), body.size(), md.data(), &len);
  return md;
}

// The names of each SEC method: its CP name and number (ProvBoot 1.1 §5.3) and its DM bootstrap
// profile name (DM_Security 1.2 §5.1.7.2; USERPINMAC has none). parse_sec_method takes any.
struct SecMethodNames {
  SecMethod method;
  std::string_view cp;
  std::string_view number;
  std::string_view dm;
};
constexpr std::array<SecMethodNames, 4> kSecMethodNames{{
    {SecMethod::netwpin, "NETWPIN", "0", "NETWORKID"},
    {SecMethod::userpin, "USERPIN", "1", "USERPIN"},
    {SecMethod::usernetwpin, "USERNETWPIN", "2", "USERPIN_NETWORKID"},
    {SecMethod::userpinmac, "USERPINMAC", "3", ""},
}};

}  // namespace

Result<SecMethod> parse_sec_method(std::string_view name) {
  const std::string u = upper(name);
  for (const auto& n : kSecMethodNames)
    if (u == n.cp || u == n.number || (!n.dm.empty() && u == n.dm)) return n.method;
  return fail(errc::sec_unknown_method);
}

std::string_view sec_method_name(SecMethod m) noexcept {
  for (const auto& n : kSecMethodNames)
    if (n.method == m) return n.cp;
  return "";
}

std::string_view dm_sec_method_name(SecMethod m) noexcept {
  for (const auto& n : kSecMethodNames)
    if (n.method == m) return n.dm;
  return "";
}

Result<Bytes> imsi_key(std::string_view imsi) {
  if (imsi.empty()) return fail(errc::sec_missing_imsi);
  // TS 23.003 §2.2: an IMSI has at most 15 digits (MCC 3 + MNC 2-3 + MSIN); 6 is a sanity floor.
  if (imsi.size() < 6 || imsi.size() > 15) return fail(errc::sec_bad_imsi);
  if (!std::all_of(imsi.begin(), imsi.end(), [](char c) { return c >= '0' && c <= '9'; }))
    return fail(errc::sec_bad_imsi);
  // ProvBoot §5.4.1 / TS 24.008 §10.5.1.4: the first nibble is the parity/type ("9" odd IMSI,
  // "1" even), the digits follow, an even-length IMSI is padded with "F"; octets are written
  // low nibble first (semi-octet order).
  std::string digits = (imsi.size() % 2 == 1 ? "9" : "1") + std::string(imsi);
  if (digits.size() % 2 == 1) digits += 'F';
  Bytes key;
  for (std::size_t i = 0; i < digits.size(); i += 2) {
    auto nib = [](char c) -> std::uint8_t { return c == 'F' ? 0xF : static_cast<std::uint8_t>(c - '0'); };
    key.push_back(static_cast<std::uint8_t>((nib(digits[i + 1]) << 4) | nib(digits[i])));
  }
  return key;
}

Result<Bytes> derive_key(SecMethod method, const SecCredentials& creds, SecProfile profile) {
  auto need_pin = [&]() -> Result<Bytes> {
    if (!creds.pin || creds.pin->empty()) return fail(errc::sec_missing_pin);
    auto b = as_bytes(*creds.pin);
    return Bytes(b.begin(), b.end());
  };
  auto need_imsi = [&]() -> Result<Bytes> {
    if (!creds.imsi || creds.imsi->empty()) return fail(errc::sec_missing_imsi);
    return imsi_key(*creds.imsi);
  };
  switch (method) {
    case SecMethod::netwpin: return need_imsi();
    case SecMethod::userpin: return need_pin();
    case SecMethod::usernetwpin: {
      auto k = need_imsi();
      if (!k) return k;
      auto p = need_pin();
      if (!p) return p;
      if (profile == SecProfile::dm) k->push_back(':');  // DM profile: "IMSI-key:PIN"
      k->insert(k->end(), p->begin(), p->end());
      return k;
    }
    case SecMethod::userpinmac: {
      auto p = need_pin();
      if (!p) return p;
      if (p->size() % 2 != 0) return fail(errc::sec_malformed_mac);
      p->resize(p->size() / 2);
      return p;
    }
  }
  return fail(errc::sec_unknown_method);
}

std::string hmac_sha1_hex(ByteView key, ByteView body) {
  const auto md = hmac_sha1(key, body);
  return hex_encode(md, /*upper=*/true);
}

Result<std::string> userpinmac_code(std::string_view k, ByteView body) {
  if (k.empty()) return fail(errc::sec_missing_pin);
  if (k.size() > 20) return fail(errc::sec_malformed_mac);
  const auto md = hmac_sha1(as_bytes(k), body);
  std::string out(k);
  for (std::size_t i = 0; i < k.size(); ++i) out += static_cast<char>('0' + md[i] % 10);
  return out;
}

Result<std::string> compute_mac(SecMethod method, const SecCredentials& creds, ByteView body, SecProfile profile) {
  if (method == SecMethod::userpinmac) {
    if (!creds.pin || creds.pin->empty()) return fail(errc::sec_missing_pin);
    return userpinmac_code(*creds.pin, body);
  }
  auto key = derive_key(method, creds, profile);
  if (!key) return fail(key.error());
  return hmac_sha1_hex(*key, body);
}

Result<void> verify_mac(SecMethod method, const SecCredentials& creds, ByteView body,
                        std::optional<std::string_view> mac, SecProfile profile) {
  if (method == SecMethod::userpinmac) {
    // ProvBoot §5.4.4: the user enters K||m; no MAC parameter travels with the document.
    if (!creds.pin || creds.pin->empty()) return fail(errc::sec_missing_pin);
    const std::string& entered = *creds.pin;
    if (entered.size() % 2 != 0 || entered.size() > 40) return fail(errc::sec_malformed_mac);
    const std::string_view k(entered.data(), entered.size() / 2);
    auto expected = userpinmac_code(k, body);
    if (!expected) return fail(expected.error());
    if (!constant_time_equal(as_bytes(*expected), as_bytes(entered))) return fail(errc::sec_mac_mismatch);
    return {};
  }
  auto key = derive_key(method, creds, profile);
  if (!key) return fail(key.error());
  if (!mac || mac->empty()) return fail(errc::sec_missing_mac);
  if (mac->size() != 40) return fail(errc::sec_malformed_mac);
  auto given = hex_decode(*mac);  // either case
  if (!given) return fail(errc::sec_malformed_mac);
  const auto md = hmac_sha1(*key, body);
  if (!constant_time_equal(md, *given)) return fail(errc::sec_mac_mismatch);
  return {};
}

}  // namespace m2mdm::bootstrap
