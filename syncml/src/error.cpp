#include "m2mdm/syncml/error.hpp"
#include "m2mdm/syncml/error_category.hpp"

namespace m2mdm::syncml {
namespace {

const char* describe(errc v) noexcept {
  switch (v) {
    case errc::ok: return "success";
    case errc::malformed_xml: return "malformed XML";
    case errc::malformed_wbxml: return "malformed WBXML";
    case errc::unknown_element: return "unknown element";
    case errc::missing_element: return "missing mandatory element";
    case errc::invalid_value: return "invalid element value";
    case errc::too_large: return "input too large";
    case errc::too_deep: return "nesting too deep";
    case errc::unsupported_version: return "unsupported version";
    case errc::bad_base64: return "invalid base64";
    case errc::bad_hex: return "invalid hex";
    case errc::auth_failed: return "authentication failed";
    case errc::truncated: return "truncated input";
    case errc::encode_failed: return "encoding failed";
    case errc::crypto_failed: return "cryptographic primitive failed";
    case errc::bad_header: return "malformed header value";
  }
  return nullptr;  // "unknown m2mdm.syncml error"
}

}  // namespace

M2MDM_DEFINE_ERROR_CATEGORY("m2mdm.syncml", describe)

}  // namespace m2mdm::syncml
