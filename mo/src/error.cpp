#include "m2mdm/mo/error.hpp"
#include "m2mdm/syncml/error_category.hpp"

namespace m2mdm::mo {
namespace {

const char* describe(errc v) noexcept {
  switch (v) {
    M2MDM_COMMON_ERRC_CASES(errc): return syncml::common_error_text(v);
    case errc::crypto_error: return "cryptographic operation failed";
    case errc::mac_mismatch: return "authentication code mismatch";
    case errc::sqn_exhausted: return "sequence number space exhausted";
    case errc::profile_malformed: return "MCIM profile is not well-formed JSON or a field has the wrong type";
    case errc::profile_unknown_field: return "MCIM profile has an unknown field";
    case errc::profile_missing_field: return "MCIM profile lacks a required field";
    case errc::profile_duplicate_field: return "MCIM profile repeats a field";
    case errc::profile_bad_length: return "MCIM profile field has the wrong length";
    case errc::profile_bad_digits: return "MCIM profile field has bad digits";
    case errc::profile_bad_value: return "MCIM profile field value out of range";
    case errc::profile_unbound: return "MCIM profile has no binding";
    case errc::seal_malformed: return "sealed package is malformed";
    case errc::seal_unsupported_algorithm: return "sealed package uses an algorithm m2mdm refuses";
    case errc::seal_wrong_recipient: return "sealed package is not addressed to this platform key";
    case errc::seal_key_unwrap_failed: return "sealed package content key does not unwrap";
    case errc::seal_tag_mismatch:
      return "authentication tag mismatch (AES-GCM): the sealed data was altered or sealed under another key";
    case errc::seal_bad_signature: return "SHO signature does not verify";
    case errc::seal_untrusted_signer: return "SHO signer does not chain to the trust anchors";
    case errc::seal_test_signer_in_production: return "package signed under a test root refused by a production device";
    case errc::seal_signer_sho_mismatch: return "signer certificate does not belong to the profile's SHO";
    case errc::seal_wrong_device: return "package is bound to another device";
    case errc::seal_expired: return "package has expired";
    case errc::seal_not_yet_valid: return "package issue time is in the future";
    case errc::seal_replayed: return "package counter equals the last installed counter (replay)";
    case errc::seal_rolled_back: return "package counter is below the last installed counter (rollback)";
    case errc::trust_anchor_kind_mismatch: return "trust anchor kind does not match the anchor set (test vs production)";
    case errc::crypto_failure: return "cryptographic library failure";
    case errc::bad_key: return "key or certificate unusable";
    case errc::token_malformed: return "operator-change token is not a well-formed signed token";
    case errc::token_bad_signature: return "operator-change token signature does not verify";
    case errc::token_untrusted_signer: return "operator-change token signer does not chain to the trust anchors";
    case errc::token_signer_mismatch: return "operator-change token is not signed by the SHO it names as the old SHO";
    case errc::token_wrong_device: return "operator-change token is bound to another device";
    case errc::token_wrong_variant: return "operator-change token authorises another variant";
    case errc::token_wrong_sho: return "operator-change token names other SHOs than the change in hand";
    case errc::token_expired: return "operator-change token has expired or is not yet valid";
    case errc::token_replayed: return "operator-change token was already used";
    case errc::token_missing: return "operator change without an authorisation token";
    case errc::token_wrong_authoriser:
      return "operator-change token is not by the party that may authorise this change (the device's subscriber when it has one)";
    case errc::store_corrupt: return "stored tree file is corrupt (checksum or structure)";
    case errc::store_version: return "stored tree file has an unsupported format version";
    case errc::store_missing: return "no stored tree generation exists";
    case errc::store_unsealed:
      return "a clear tree image where only sealed ones are written any more (planted or restored from an old copy)";
  }
  return nullptr;  // "unknown m2mdm.mo error"
}

}  // namespace

M2MDM_DEFINE_ERROR_CATEGORY("m2mdm.mo", describe)

}  // namespace m2mdm::mo
