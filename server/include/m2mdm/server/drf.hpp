/// @file drf.hpp
/// @brief The DRF's bootstrap issuer (TR 33.812 §5.2.2.6.3.2; seed 003 steps 9-11), I/O-free:
///        fresh DM credentials for the device, the OMA CP bootstrap document with the two
///        contexts (MCIM provisioning at the DPF, M2M application) and the DPF's TLS key pin,
///        MAC'd with the device PIN (OMA-WAP-ProvBoot 1.1 §5.3/§5.4), framed as a connectionless
///        WSP push PDU (WAP-230-WSP §8.2.4.1) and as SMS segments (WAP-259-WDP Annex A).
///
/// Randomness comes from OpenSSL's RAND_bytes (no sockets, no files, no clock).
#pragma once

#include "m2mdm/bootstrap/security.hpp"
#include "m2mdm/server/store.hpp"
#include "m2mdm/syncml/result.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace m2mdm::server {

/// The DM server of one bootstrap context: what the device's account there and the context's
/// bearer are written with.
struct DrfServerSettings {
  std::string server_id;  ///< PROVIDER-ID -> DMAcc ServerID
  std::string name;       ///< APPLICATION NAME
  std::string apn;        ///< NAPDEF NAP-ADDRESS of the context's bearer
  Bytes spki_sha256;      ///< SHA-256 of the server's TLS SubjectPublicKeyInfo
};

/// What the DRF writes into every bootstrap (from the server configuration).
struct DrfSettings {
  std::string provurl;                       ///< BOOTSTRAP PROVURL (the DRF itself); "" = the DPF URL
  std::string name = "m2mdm RO bootstrap";   ///< BOOTSTRAP NAME
  /// MCIM provisioning context (the DPF, at the device's DPF address); spki_sha256: 32 bytes.
  DrfServerSettings dpf{"m2mdm-dpf", "RO DPF", "m2m.ro.example", {}};
  /// M2M application context (the SHO's application DM server); spki_sha256: empty = the DPF's pin.
  DrfServerSettings app{"m2m-app", "M2M application", "iot.sho.example", {}};
  std::string app_address;                   ///< APPADDR; "" = the device's DPF address
  /// AAUTHTYPE of both APPAUTHs: "DIGEST" (MD5 digest, DM_Security 1.2 §5.3) or "HMAC".
  std::string auth_type = "DIGEST";
};

/// How the bootstrap leaves the RO.
enum class BootstrapDelivery { udp, sms };

/// One issued bootstrap, ready to store and send.
struct IssuedBootstrap {
  DmCredentials dm;          ///< the DPF context's account (what the DPF authenticates the device with)
  DmCredentials app;         ///< the application context's account
  bootstrap::SecMethod sec = bootstrap::SecMethod::userpin;
  Bytes wbxml;               ///< the CP document (application/vnd.wap.connectivity-wbxml)
  std::string mac;           ///< HMAC-SHA1 over wbxml, 40 upper-case hex
  Bytes push_pdu;            ///< connectionless WSP push PDU = the UDP payload (WDP over UDP)
  std::vector<Bytes> sms;    ///< the same PDU as SMS user data (UDH + payload), one per segment
};

/// The SEC methods the DRF issues pushes with (those that carry a MAC parameter):
/// USERPIN, NETWPIN, USERNETWPIN. USERPINMAC (no MAC in the push) is refused.
Result<bootstrap::SecMethod> parse_drf_sec_method(std::string_view name);

/// Builds a bootstrap for @p device: fresh random DM credentials for both contexts (passwords of
/// 32 hex digits, 16-byte nonces), the document, the MAC with the device PIN (USERPIN) and/or
/// the PCID as IMSI (NETWPIN, USERNETWPIN), the push PDU (TID @p tid) and SMS segments
/// (concatenation reference @p sms_reference, < 256). @p rebootstrap_token, when non-empty,
/// is written into both contexts' VENDORCONFIG (the device's re-bootstrap guard checks it).
/// Errors: invalid_argument (no PIN for a PIN method, an unusable PCID for NETWPIN, a pin that is
/// not 32 bytes, no DPF address), or the bootstrap library's build/encode errors.
Result<IssuedBootstrap> issue_bootstrap(const Device& device, const DrfSettings& settings,
                                        bootstrap::SecMethod sec, std::uint8_t tid, std::uint8_t sms_reference,
                                        std::string_view rebootstrap_token = {});

}  // namespace m2mdm::server
