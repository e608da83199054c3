/// @file mcim_profile.hpp
/// @brief The MCIM profile (TR 33.812 §5.1.3.7.1 step 16: what the SHO seals into the
///        M2MSIMMobj) and its binding to one device, one transaction and one counter value.
///
/// Format: strict JSON with a fixed field set (docs/mcim.md). Parsing refuses unknown fields,
/// duplicate fields, missing fields, wrong types, wrong lengths and bad digits, each with its own
/// error code. serialize_profile() emits the canonical form (keys sorted, no white space,
/// lower-case hex), so the same profile always gives the same bytes.
#pragma once

#include "m2mdm/mo/crypto_handles.hpp"
#include "m2mdm/mo/error.hpp"
#include "m2mdm/syncml/encoding.hpp"
#include "m2mdm/syncml/result.hpp"

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace m2mdm::mo {

/// Milenage constants c1..c5 (16 bytes each) and rotations r1..r5 (0..127), TS 35.206 §4.1.
/// Present in a profile only when the operator does not use the defaults.
struct MilenageConstants {
  std::array<std::array<std::uint8_t, 16>, 5> c{};
  std::array<std::uint8_t, 5> r{};
  /// The TS 35.206 defaults (c1 = 0, c2 = ..01, c3 = ..02, c4 = ..04, c5 = ..08; r = 64,0,32,64,96).
  static MilenageConstants defaults() noexcept;
  friend bool operator==(const MilenageConstants&, const MilenageConstants&) = default;
};

/// OTA keys of the USIM (TS 102 225 KIc for ciphering, KID for integrity) and their algorithms.
struct OtaKeys {
  SecretBytes kic;
  std::string kic_algorithm;  ///< "aes-cbc" (16/24/32-byte key) or "des3-cbc" (16/24)
  SecretBytes kid;
  std::string kid_algorithm;  ///< "aes-cmac" (16/24/32) or "des3-cbc-mac" (16/24)
  std::uint8_t kvn = 1;       ///< key version number 1..15
};

/// What ties a sealed profile to one device and one issuance (checked by the TRE when opening).
struct McimBinding {
  std::string device_id;                      ///< DevId of the target M2ME (the PfC's CN)
  std::optional<Bytes> pfc_spki_sha256;       ///< SHA-256 of the PfC SubjectPublicKeyInfo (32 B)
  std::string transaction_id;                 ///< the SHO's provisioning transaction
  std::int64_t issued = 0;                    ///< issue time, seconds since the Unix epoch (UTC)
  std::int64_t expires = 0;                   ///< expiry, seconds since the Unix epoch, > issued
  std::uint64_t counter = 0;                  ///< monotonic per SHO, >= 1
  friend bool operator==(const McimBinding&, const McimBinding&) = default;
};

/// An MCIM profile. K, OPc/OP and the OTA keys are SecretBytes (wiped on destruction).
struct McimProfile {
  static constexpr int kVersion = 1;
  std::string sho_id;          ///< the Selected Home Operator, [A-Za-z0-9._:-]{1,64}
  std::string plmn_id;         ///< MCC+MNC, 5 or 6 digits; the IMSI starts with it
  std::string imsi;            ///< 6..15 digits (TS 23.003 §2.2)
  std::string iccid;           ///< 18..20 digits, Luhn check digit last (ITU-T E.118)
  SecretBytes k;               ///< subscriber key K, 16 bytes
  SecretBytes opc;             ///< OPc, 16 bytes (exactly one of opc / op is set)
  SecretBytes op;              ///< OP, 16 bytes
  std::optional<MilenageConstants> milenage;  ///< absent = TS 35.206 defaults
  std::array<std::uint8_t, 2> amf{};          ///< authentication management field
  std::uint64_t sqn = 0;                      ///< SQN start, 48 bits
  OtaKeys ota;
  std::optional<McimBinding> binding;         ///< absent in the editable (unsealed) form
};

/// Parses a profile strictly. On failure, @p where (if given) receives the JSON path of the
/// offending field, e.g. "ota.kic". Errors: profile_malformed, profile_unknown_field,
/// profile_missing_field, profile_duplicate_field, profile_bad_length, profile_bad_digits,
/// profile_bad_value.
Result<McimProfile> parse_profile(ByteView json, std::string* where = nullptr);

/// Checks the semantic rules parse_profile() applies to a profile built in code.
Result<void> validate_profile(const McimProfile& p, std::string* where = nullptr);

/// The canonical serialization (keys sorted, compact, lower-case hex). Holds secrets, hence
/// returned as SecretBytes.
SecretBytes serialize_profile(const McimProfile& p);

/// Non-secret fields for display, in a fixed order: imsi, iccid, sho, plmn, and, if bound,
/// device, pfc-spki-sha256, counter, transaction-id, issued, expires (ISO 8601 UTC).
/// Never contains K, OPc, OP or OTA keys.
std::vector<std::pair<std::string, std::string>> profile_summary(const McimProfile& p);

/// Formats seconds since the epoch as "YYYY-MM-DDThh:mm:ssZ".
std::string format_utc(std::int64_t seconds);

}  // namespace m2mdm::mo
