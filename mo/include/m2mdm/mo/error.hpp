/// @file error.hpp
/// @brief The mo component's error codes (category "m2mdm.mo").
#pragma once

#include "m2mdm/syncml/common_errc.hpp"

#include <string>
#include <system_error>

namespace m2mdm::mo {

/// Why a mo operation failed. Values are stable (they appear in logs); add new ones at the end.
enum class errc {
  M2MDM_COMMON_ERRC_ENUMERATORS,  ///< ok, invalid_argument, malformed, not_found, io_error (common_errc.hpp)
  // Milenage / AKA, 300+
  crypto_error = 300,     ///< OpenSSL failed inside Milenage (AES) or RAND generation
  mac_mismatch = 301,     ///< an AKA MAC (e.g. MAC-S in AUTS) did not verify
  sqn_exhausted = 302,    ///< the 48-bit SQN space is used up
  profile_malformed = 600,  ///< MCIM profile is not well-formed JSON or a field has the wrong type
  profile_unknown_field = 601,  ///< MCIM profile has an unknown field
  profile_missing_field = 602,  ///< MCIM profile lacks a required field
  profile_duplicate_field = 603,  ///< MCIM profile repeats a field
  profile_bad_length = 604,  ///< MCIM profile field has the wrong length
  profile_bad_digits = 605,  ///< MCIM profile field has bad digits
  profile_bad_value = 606,  ///< MCIM profile field value out of range
  profile_unbound = 607,  ///< MCIM profile has no binding
  seal_malformed = 620,  ///< sealed package is malformed
  seal_unsupported_algorithm = 621,  ///< sealed package uses an algorithm m2mdm refuses
  seal_wrong_recipient = 622,  ///< sealed package is not addressed to this platform key
  seal_key_unwrap_failed = 623,  ///< sealed package content key does not unwrap
  seal_tag_mismatch = 624,  ///< sealed package authentication tag mismatch (tampered ciphertext)
  seal_bad_signature = 625,  ///< SHO signature does not verify
  seal_untrusted_signer = 626,  ///< SHO signer does not chain to the trust anchors
  seal_test_signer_in_production = 627,  ///< package signed under a test root refused by a production device
  seal_signer_sho_mismatch = 628,  ///< signer certificate does not belong to the profile's SHO
  seal_wrong_device = 629,  ///< package is bound to another device
  seal_expired = 630,  ///< package has expired
  seal_not_yet_valid = 631,  ///< package issue time is in the future
  seal_replayed = 632,  ///< package counter equals the last installed counter (replay)
  seal_rolled_back = 633,  ///< package counter is below the last installed counter (rollback)
  trust_anchor_kind_mismatch = 634,  ///< trust anchor kind does not match the anchor set (test vs production)
  crypto_failure = 635,  ///< cryptographic library failure
  bad_key = 636,  ///< key or certificate unusable
  token_malformed = 640,  ///< operator-change token is not a well-formed signed token
  token_bad_signature = 641,  ///< operator-change token signature does not verify
  token_untrusted_signer = 642,  ///< operator-change token signer does not chain to the trust anchors
  token_signer_mismatch = 643,  ///< operator-change token is not signed by the SHO it names as the old SHO
  token_wrong_device = 644,  ///< operator-change token is bound to another device
  token_wrong_variant = 645,  ///< operator-change token authorises another variant
  token_wrong_sho = 646,  ///< operator-change token names other SHOs than the change in hand
  token_expired = 647,  ///< operator-change token has expired or is not yet valid
  token_replayed = 648,  ///< operator-change token was already used
  token_missing = 649,  ///< operator change without an authorisation token
  token_wrong_authoriser = 650,  ///< operator-change token is not by the party that may authorise this change
  // DM tree persistence, 100+
  store_corrupt = 100,        ///< a stored tree file fails its checksum or does not parse
  store_version = 101,        ///< a stored tree file has an unsupported format version
  store_missing = 102,        ///< no stored tree generation exists
  store_unsealed = 103,       ///< a clear tree image where only sealed ones are written any more
};

/// The category of m2mdm::mo::errc.
const std::error_category& category() noexcept;

inline std::error_code make_error_code(errc e) noexcept { return {static_cast<int>(e), category()}; }

}  // namespace m2mdm::mo

template <>
struct std::is_error_code_enum<m2mdm::mo::errc> : std::true_type {};
