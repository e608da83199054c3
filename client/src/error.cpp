#include "m2mdm/client/error.hpp"
#include "m2mdm/syncml/error_category.hpp"

namespace m2mdm::client {
namespace {

const char* describe(errc v) noexcept {
  switch (v) {
    M2MDM_COMMON_ERRC_CASES(errc): return syncml::common_error_text(v);
    case errc::tre_storage_corrupt: return "TRE stored item fails its integrity check";
    case errc::tre_mid_blocked: return "MID is blocked";
    case errc::tre_bad_id: return "invalid MID identifier";
    case errc::registry_corrupt: return "MCIM registry state is corrupt";
    case errc::registry_bad_transition: return "lifecycle transition not allowed";
    case errc::registry_exists: return "an MCIM with that identifier already exists";
    case errc::session_aborted: return "DM session aborted";
    case errc::transport_failed: return "transport failed";
    case errc::tls_pin_mismatch: return "server public key does not match the bootstrap pin";
    case errc::bad_url: return "unusable server URL";
    case errc::tls_handshake_failed: return "TLS handshake failed";
    case errc::response_too_large: return "server response too large";
    case errc::timed_out: return "timed out";
    case errc::http_status: return "unexpected HTTP status";
    case errc::bad_content_type: return "response is not a SyncML DM message";
    case errc::push_unverified: return "push failed its authentication";
    case errc::not_bootstrapped: return "no DM account for that server";
  }
  return nullptr;  // "unknown m2mdm.client error"
}

}  // namespace

M2MDM_DEFINE_ERROR_CATEGORY("m2mdm.client", describe)

}  // namespace m2mdm::client
