#include "m2mdm/server/error.hpp"
#include "m2mdm/syncml/error_category.hpp"

namespace m2mdm::server {
namespace {

const char* describe(errc v) noexcept {
  switch (v) {
    M2MDM_COMMON_ERRC_CASES(errc): return syncml::common_error_text(v);
    case errc::store_corrupt: return "store file is corrupt or not an m2mdm store";
    case errc::decrypt_failed: return "secret at rest failed authentication";
    case errc::conflict: return "conflict with existing state";
    case errc::tls_error: return "TLS setup failed";
    case errc::bind_failed: return "cannot listen on the address";
    case errc::config_error: return "invalid configuration";
    case errc::no_credentials: return "no usable credentials";
    case errc::exhausted: return "resource exhausted";
    case errc::verification_failed: return "verification failed";
  }
  return nullptr;  // "unknown m2mdm.server error"
}

}  // namespace

M2MDM_DEFINE_ERROR_CATEGORY("m2mdm.server", describe)

}  // namespace m2mdm::server
