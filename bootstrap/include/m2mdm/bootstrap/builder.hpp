/// @file builder.hpp
/// @brief The RO's (DRF's) bootstrap document (3GPP TR 33.812 §5.2.2.6.3.2; seed 003 steps
///        9-11): BOOTSTRAP + per context one NAPDEF, one w7 APPLICATION (the DM account) and
///        one VENDORCONFIG "m2mdm" (context role + the DM server's public-key pin).
///
/// Layout (see docs/bootstrap.md "Contexts" and "Public-key pin"):
/// @code
///   BOOTSTRAP      NAME, PROVURL, CONTEXT-ALLOW = number of contexts
///   per context:
///     NAPDEF       NAPID, NAME, BEARER GSM-GPRS, NAP-ADDRESS <apn>, NAP-ADDRTYPE APN,
///                  NAPAUTHINFO (AUTHTYPE, AUTHNAME, AUTHSECRET)
///     APPLICATION  APPID w7, PROVIDER-ID <ServerID>, NAME, TO-NAPID <NAPID>,
///                  APPADDR (ADDR, ADDRTYPE, PORT (PORTNBR)),
///                  APPAUTH (AAUTHLEVEL APPSRV|CLIENT, AAUTHTYPE, AAUTHNAME, AAUTHSECRET, AAUTHDATA), INIT
///     VENDORCONFIG NAME m2mdm, SERVER-ID <ServerID>, M2M-CONTEXT mcim-provisioning|m2m-application,
///                  SPKI-SHA256 <base64 of SHA-256(SubjectPublicKeyInfo DER)>, [REBOOTSTRAP-TOKEN]
/// @endcode
#pragma once

#include "m2mdm/bootstrap/cp_document.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace m2mdm::bootstrap {

/// The two configuration contexts of TR 33.812 §5.2.2.6.3.2 ("the context for provisioning the
/// USIM application [MCIM], and the context for provisioning M2M applications").
enum class ContextRole { mcim_provisioning, m2m_application };

/// "mcim-provisioning" / "m2m-application".
std::string_view context_role_name(ContextRole r) noexcept;
/// Inverse of context_role_name (exact match).
std::optional<ContextRole> parse_context_role(std::string_view s) noexcept;

/// NAPDEF/NAPAUTHINFO (ProvCont §6.3).
struct NapAuthSpec {
  std::string type = "PAP";  ///< AUTHTYPE: PAP or CHAP
  std::string name;          ///< AUTHNAME
  std::string secret;        ///< AUTHSECRET
};

/// NAPDEF (ProvCont §6.3) for a GPRS APN.
struct NapSpec {
  std::string napid;               ///< NAPID (referenced by the w7 TO-NAPID)
  std::string name;                ///< NAME
  std::string bearer = "GSM-GPRS"; ///< BEARER
  std::string apn;                 ///< NAP-ADDRESS (NAP-ADDRTYPE is APN)
  std::optional<NapAuthSpec> auth; ///< NAPAUTHINFO
};

/// One APPAUTH of the w7 (AC w7 / DM Bootstrap appendix).
struct AppAuthSpec {
  std::string level;   ///< AAUTHLEVEL: "APPSRV" (client -> server creds) or "CLIENT" (server -> client)
  std::string type;    ///< AAUTHTYPE, e.g. "DIGEST", "BASIC", "HMAC"
  std::string name;    ///< AAUTHNAME
  std::string secret;  ///< AAUTHSECRET
  Bytes data;          ///< AAUTHDATA (nonce), sent base64; empty = omitted
};

/// The w7 APPLICATION (the DM account).
struct DmServerSpec {
  std::string server_id;            ///< PROVIDER-ID (becomes DMAcc ServerID)
  std::string name;                 ///< NAME
  std::string addr;                 ///< APPADDR/ADDR: the DM server URL
  std::string addr_type = "URI";    ///< APPADDR/ADDRTYPE
  std::optional<std::uint16_t> port;///< APPADDR/PORT/PORTNBR
  std::vector<AppAuthSpec> auths;   ///< APPAUTH entries (normally APPSRV + CLIENT)
  bool init = true;                 ///< INIT: start a DM session as soon as bootstrapped
  Bytes spki_sha256;                ///< 32 bytes: SHA-256 of the server's SubjectPublicKeyInfo DER
  std::string rebootstrap_token;    ///< only for a re-bootstrap of an already bootstrapped context
};

/// One context = one NAPDEF + one w7 + one VENDORCONFIG.
struct ContextSpec {
  ContextRole role = ContextRole::mcim_provisioning;
  NapSpec nap;
  DmServerSpec server;
};

/// The whole bootstrap.
struct BootstrapSpec {
  std::string name;     ///< BOOTSTRAP NAME
  std::string provurl;  ///< BOOTSTRAP PROVURL (names the TPS, i.e. the DRF)
  std::vector<ContextSpec> contexts;
};

/// SHA-256 of @p spki_der (a DER SubjectPublicKeyInfo), the pin format of SPKI-SHA256.
Bytes spki_sha256(ByteView spki_der);

/// Builds the document. Errors (bad_config): no context, two contexts with the same role,
/// ServerID or NAPID, an empty ServerID/ADDR/NAPID/APN, a pin that is not 32 bytes, an
/// AAUTHLEVEL other than APPSRV/CLIENT.
Result<ProvisioningDoc> build_bootstrap_doc(const BootstrapSpec& spec);

}  // namespace m2mdm::bootstrap
