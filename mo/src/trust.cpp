#include "m2mdm/mo/trust.hpp"

#include "m2mdm/mo/error.hpp"

#include <openssl/err.h>
#include <openssl/x509v3.h>

namespace m2mdm::mo {

Result<TrustAnchors> TrustAnchors::from_pem(std::string_view pem, AnchorKind kind) {
  auto certs = Certificate::all_from_pem(pem);
  if (!certs) return fail(certs.error());
  TrustAnchors out(kind);
  for (const auto& c : *certs) {
    if (auto r = out.add(c); !r) return fail(r.error());
  }
  return out;
}

Result<void> TrustAnchors::add(const Certificate& anchor) {
  if (!anchor.valid()) return fail(errc::bad_key);
  const bool is_test = anchor.is_test_certificate();
  if (is_test != (kind_ == AnchorKind::test)) return fail(errc::trust_anchor_kind_mismatch);
  const int ca = X509_check_ca(anchor.native());
  ERR_clear_error();
  if (ca == 0) return fail(errc::bad_key);
  anchors_.push_back(anchor);
  return {};
}

}  // namespace m2mdm::mo
