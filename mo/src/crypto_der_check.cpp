#include "crypto_der_check.hpp"

#include <algorithm>
#include <array>
#include <initializer_list>
#include <cstdint>
#include <optional>

namespace m2mdm::mo::detail {
namespace {

struct Tlv {
  std::uint8_t tag = 0;
  ByteView value;
};

// A bounded reader of single-byte-tag, definite-length DER.
class Der {
 public:
  explicit Der(ByteView b) noexcept : rest_(b) {}
  bool empty() const noexcept { return rest_.empty(); }
  std::optional<Tlv> next() noexcept {
    if (rest_.size() < 2) return std::nullopt;
    Tlv t;
    t.tag = rest_[0];
    if ((t.tag & 0x1f) == 0x1f) return std::nullopt;  // multi-byte tags do not occur here
    std::size_t len = rest_[1];
    std::size_t hdr = 2;
    if (len & 0x80) {
      const std::size_t n = len & 0x7f;
      if (n == 0 || n > 3 || rest_.size() < 2 + n) return std::nullopt;  // indefinite or huge
      len = 0;
      for (std::size_t i = 0; i < n; ++i) len = (len << 8) | rest_[2 + i];
      hdr += n;
    }
    if (rest_.size() - hdr < len) return std::nullopt;
    t.value = rest_.subspan(hdr, len);
    rest_ = rest_.subspan(hdr + len);
    return t;
  }
  std::optional<Tlv> peek() const noexcept {
    Der copy(rest_);
    return copy.next();
  }

 private:
  ByteView rest_;
};

bool equals(ByteView v, ByteView want) noexcept {
  return v.size() == want.size() && std::equal(v.begin(), v.end(), want.begin());
}

// 1.2.840.113549.1.9.16.1.23 id-ct-authEnvelopedData
constexpr std::uint8_t kAuthEnveloped[] = {0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01,
                                                                0x09, 0x10, 0x01, 0x17};
// 1.2.840.113549.1.7.1 id-data, 1.2.840.113549.1.7.2 id-signedData
constexpr std::uint8_t kData[] = {0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x01};
constexpr std::uint8_t kSignedData[] = {0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x02};
// 2.16.840.1.101.3.4.1.46 id-aes256-GCM
constexpr std::uint8_t kAes256Gcm[] = {0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x01, 0x2e};

std::optional<Tlv> expect(Der& d, std::uint8_t tag) noexcept {
  auto t = d.next();
  if (!t || t->tag != tag) return std::nullopt;
  return t;
}

// The first element of a RecipientInfo / SignerInfo: its version INTEGER (one byte).
std::optional<int> version_of(ByteView body) noexcept {
  Der d(body);
  auto v = expect(d, 0x02);
  if (!v || v->value.size() != 1) return std::nullopt;
  return v->value[0];
}

// The body of a CMS ContentInfo (RFC 5652 §3) of content type @p type, all of @p der:
// SEQUENCE { OID type, [0] EXPLICIT SEQUENCE { body } }; nullopt for anything else.
std::optional<ByteView> content_body(ByteView der, ByteView type) noexcept {
  Der top(der);
  auto ci = expect(top, 0x30);
  if (!ci || !top.empty()) return std::nullopt;
  Der c(ci->value);
  auto oid = expect(c, 0x06);
  if (!oid || !equals(oid->value, type)) return std::nullopt;
  auto explicit0 = expect(c, 0xa0);
  if (!explicit0 || !c.empty()) return std::nullopt;
  Der e(explicit0->value);
  auto body = expect(e, 0x30);
  if (!body || !e.empty()) return std::nullopt;
  return body->value;
}

}  // namespace

errc check_auth_enveloped_der(ByteView der) noexcept {
  auto aed = content_body(der, kAuthEnveloped);
  if (!aed) return errc::seal_malformed;
  Der a(*aed);
  auto version = expect(a, 0x02);
  if (!version || version->value.size() != 1 || version->value[0] != 0) return errc::seal_malformed;  // RFC 5083 §2.1
  if (auto p = a.peek(); p && p->tag == 0xa0) (void)a.next();                     // originatorInfo
  auto ris = expect(a, 0x31);
  if (!ris) return errc::seal_malformed;
  Der r(ris->value);
  while (!r.empty()) {
    auto ri = r.next();
    if (!ri) return errc::seal_malformed;
    if (ri->tag == 0x30) {  // KeyTransRecipientInfo (RFC 5652 §6.2.1)
      auto v = version_of(ri->value);
      if (!v || (*v != 0 && *v != 2)) return errc::seal_malformed;
    } else if (ri->tag == 0xa1) {  // KeyAgreeRecipientInfo (RFC 5652 §6.2.2)
      auto v = version_of(ri->value);
      if (!v || *v != 3) return errc::seal_malformed;
    }
  }
  auto eci = expect(a, 0x30);
  if (!eci) return errc::seal_malformed;
  Der ec(eci->value);
  auto ctype = expect(ec, 0x06);
  if (!ctype || !equals(ctype->value, kData)) return errc::seal_malformed;
  auto alg = expect(ec, 0x30);
  if (!alg) return errc::seal_malformed;
  Der al(alg->value);
  auto alg_oid = expect(al, 0x06);
  if (!alg_oid) return errc::seal_malformed;
  if (!equals(alg_oid->value, kAes256Gcm)) return errc::seal_unsupported_algorithm;
  auto params = expect(al, 0x30);
  if (!params || !al.empty()) return errc::seal_malformed;
  Der pr(params->value);
  auto nonce = expect(pr, 0x04);
  if (!nonce || nonce->value.size() != 12) return errc::seal_malformed;  // RFC 5084 §3.2 (12 recommended)
  if (!pr.empty()) {
    auto icv = expect(pr, 0x02);
    if (!icv || icv->value.size() != 1 || icv->value[0] != 16 || !pr.empty()) return errc::seal_malformed;
  }
  if (!ec.empty()) {
    auto content = expect(ec, 0x80);  // [0] IMPLICIT OCTET STRING, primitive in DER
    if (!content || !ec.empty()) return errc::seal_malformed;
  }
  if (auto p = a.peek(); p && p->tag == 0xa1) (void)a.next();  // authAttrs
  auto mac = expect(a, 0x04);
  if (!mac || mac->value.size() != 16) return errc::seal_malformed;
  if (auto p = a.peek(); p && p->tag == 0xa2) (void)a.next();  // unauthAttrs
  if (!a.empty()) return errc::seal_malformed;
  return errc::ok;
}

errc check_signed_data_der(ByteView der) noexcept {
  auto sd = content_body(der, kSignedData);
  if (!sd) return errc::seal_malformed;
  Der s(*sd);
  auto version = expect(s, 0x02);
  if (!version || version->value.size() != 1) return errc::seal_malformed;
  if (!expect(s, 0x31) || !expect(s, 0x30)) return errc::seal_malformed;  // digestAlgorithms, encapContentInfo
  if (auto p = s.peek(); p && p->tag == 0xa0) (void)s.next();           // certificates
  if (auto p = s.peek(); p && p->tag == 0xa1) (void)s.next();           // crls
  auto sis = expect(s, 0x31);
  if (!sis || !s.empty()) return errc::seal_malformed;
  Der si_set(sis->value);
  auto si = expect(si_set, 0x30);
  if (!si || !si_set.empty()) return errc::seal_malformed;
  auto siv = version_of(si->value);
  // RFC 5652 §5.1 / §5.3: v1 with issuerAndSerialNumber (and SignedData v1 for id-data without
  // v3 SignerInfos), v3 with subjectKeyIdentifier (and SignedData v3).
  const int sdv = version->value[0];
  if (!siv || !((sdv == 1 && *siv == 1) || (sdv == 3 && *siv == 3))) return errc::seal_malformed;
  return errc::ok;
}

}  // namespace m2mdm::mo::detail
