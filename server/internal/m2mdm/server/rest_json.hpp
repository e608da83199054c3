/// @file rest_json.hpp
/// @brief Strict validators for the REST API's JSON request bodies (network input: fuzzed by
///        tests/fuzz/fuzz_rest_json.cpp). Each returns the typed request or a one-line reason
///        the router sends back as a 400 detail. Unknown members are rejected.
#pragma once

#include "m2mdm/server/store.hpp"

#include <cstdint>
#include <expected>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace m2mdm::server {

/// A validated value or the reason it was refused.
template <class T>
using Parsed = std::expected<T, std::string>;

/// Limits of the validators.
inline constexpr std::size_t kMaxIdLength = 64;        ///< devId, pcid
inline constexpr std::size_t kMaxNameLength = 128;     ///< SHO name, DM usernames
inline constexpr std::size_t kMaxSecretLength = 128;   ///< DM passwords, PIN
inline constexpr std::size_t kMaxUrlLength = 2048;
inline constexpr std::size_t kMaxAuthorisationLength = 16 * 1024;
inline constexpr std::size_t kMaxPushAddressLength = 300;

/// One device of a bulk import. JSON object members (camelCase):
/// devId, pcid (required strings); shoId (integer, operator only); dpfAddress (http(s) URL),
/// pushAddress ("udp:HOST:PORT"); k, opc (32 hex digits); sqn (integer < 2^48); devicePin (string);
/// secMethod ("USERPIN" default, "NETWPIN", "USERNETWPIN": how the DRF MACs the bootstrap);
/// dm {serverId, serverUsername, serverPassword, clientUsername, clientPassword} (strings).
struct ImportedDevice {
  Device device;
  bool sho_given = false;  ///< "shoId" was present
};

/// Parses a JSON array of device objects, or NDJSON (one object per non-empty line) when
/// @p ndjson. At most @p max_devices. A duplicate devId or pcid within the batch is refused.
Parsed<std::vector<ImportedDevice>> parse_device_import(std::string_view body, bool ndjson,
                                                         std::size_t max_devices);

/// POST /api/v1/devices:claim (docs/server.md "Who owns a device"): {"devId": "...",
/// "devicePin": "..." (1..kMaxSecretLength characters: the proof of possession)}.
struct ClaimRequest {
  std::string dev_id;
  Bytes device_pin;
};
Parsed<ClaimRequest> parse_claim_request(std::string_view body);

/// POST /api/v1/shos: {"name": "...", "signer": "..." (optional: the CN of the SHO's signing
/// certificate, as in its sealed MCIMs and operator-change tokens; default = name)}.
struct ShoCreate {
  std::string name;
  std::string signer;  ///< empty = name
};
Parsed<ShoCreate> parse_sho_create(std::string_view body);

/// POST /api/v1/subscribers: {"name": "..."} — [A-Za-z0-9._-]{1,64}, the CN of the subscriber's
/// signing certificate (the "subscriber" of the operator-change tokens it signs).
Parsed<std::string> parse_subscriber_create(std::string_view body);

/// POST /api/v1/subscribers/{id}/devices: {"devIds": ["...", ...]} — 1..@p max_devices DevIds, each once.
Parsed<std::vector<std::string>> parse_device_id_list(std::string_view body, std::size_t max_devices);

/// PUT /api/v1/callback: {"url": "http(s)://..."}.
Parsed<std::string> parse_callback_registration(std::string_view body);

/// POST /api/v1/devices/{devId}/jobs:
/// {"kind": "install"|..., "object": "<base64 sealed M2MSIMMobj>", "authorisation": "...",
///  "ttlSeconds": n (optional, 60..31536000), "correlator": "..." (optional)}.
struct JobSubmission {
  JobKind kind = JobKind::install;
  Bytes object;
  std::string authorisation;
  std::optional<std::int64_t> ttl_seconds;
  std::string correlator;
};
Parsed<JobSubmission> parse_job_submission(std::string_view body, std::size_t max_object_bytes);

/// POST /api/v1/devices/{devId}/commands (docs/server.md "Management commands"):
/// {"commands": [{"verb": "Get"|"Replace"|"Add"|"Delete"|"Exec"|"Copy", "target": "./...",
///   "source": "./..." (Copy only), "data": "..." (not Get/Delete/Copy), "format": "chr"|"b64"|...,
///   "type": "..."}, ...] (1..32), "wrap": "Atomic"|"Sequence" (optional), "ttlSeconds": n (1..2592000)}.
struct CommandSubmission {
  MgmtWrap wrap = MgmtWrap::none;
  std::vector<MgmtOp> ops;
  std::optional<std::int64_t> ttl_seconds;
};
Parsed<CommandSubmission> parse_command_submission(std::string_view body);

/// POST /api/v1/devices/{devId}/operator-change (docs/operator-change.md):
/// {"variant": "A", "authorisation": "<base64 of the CMS token>", "object": "<base64 sealed MCIM>",
///  "ttlSeconds": n (optional), "correlator": "..." (optional)}.
struct OperatorChangeRequest {
  std::string variant;  ///< "A", "B" or "C"
  Bytes authorisation;  ///< the token (CMS SignedData, DER)
  Bytes object;         ///< the new SHO's sealed MCIM
  std::optional<std::int64_t> ttl_seconds;
  std::string correlator;
};
Parsed<OperatorChangeRequest> parse_operator_change_request(std::string_view body, std::size_t max_object_bytes);

/// POST /api/v1/operator-changes (a bulk request, docs/operator-change.md):
/// {"variant": "C", "changes": [{"devId": "...", "authorisation": "<base64 token>",
///  "object": "<base64 sealed MCIM>", "correlator": "..." (optional)}, ...], "ttlSeconds": n (optional)}.
/// Every DevId once.
struct OperatorChangeBatchEntry {
  std::string dev_id;
  Bytes authorisation;
  Bytes object;
  std::string correlator;
};
struct OperatorChangeBatchRequest {
  std::string variant;
  std::vector<OperatorChangeBatchEntry> changes;
  std::optional<std::int64_t> ttl_seconds;
};
Parsed<OperatorChangeBatchRequest> parse_operator_change_batch(std::string_view body, std::size_t max_object_bytes,
                                                               std::size_t max_changes);

/// POST /api/v1/icf/vectors: {"pcid": "...", "count": 1..max}.
struct VectorRequest {
  std::string pcid;
  std::uint32_t count = 1;
};
Parsed<VectorRequest> parse_vector_request(std::string_view body, std::uint32_t max_count);

/// POST /api/v1/icf/resync: {"pcid": "...", "rand": "<32 hex>", "auts": "<28 hex>"}.
struct ResyncRequest {
  std::string pcid;
  Bytes rand;  ///< 16 bytes
  Bytes auts;  ///< 14 bytes
};
Parsed<ResyncRequest> parse_resync_request(std::string_view body);

/// POST /api/v1/pva/validate with Content-Type application/json:
/// {"pfc": "<PEM, or base64 DER>", "chain": "<PEM intermediates>" (optional),
///  "devId": "..." (optional: record the verdict on that device)}.
struct PvaRequest {
  Bytes pfc;           ///< PEM text or DER bytes
  Bytes intermediates; ///< PEM
  std::string dev_id;
};
Parsed<PvaRequest> parse_pva_request(std::string_view body);

/// PATCH /api/v1/devices/{devId}: {"pushAddress": "udp:HOST:PORT" or "" (clear),
/// "secMethod": "USERPIN"|"NETWPIN"|"USERNETWPIN"}; at least one member.
Parsed<DevicePatch> parse_device_patch(std::string_view body);

/// True when @p pcid can key a NETWPIN or USERNETWPIN bootstrap MAC: an IMSI of 6 to 15 digits
/// (ITU-T E.212; OMA ProvSec 1.1 §5.4.3 encodes it as semi-octets).
bool pcid_is_imsi(std::string_view pcid) noexcept;

/// True when bootstrap method @p sec_method (canonical name) keys its MAC with the IMSI.
bool sec_method_needs_imsi(std::string_view sec_method) noexcept;

/// POST /api/v1/devices/{devId}/bootstrap: empty body, or {"delivery": "push"|"sms" (default
/// push = UDP to the device's pushAddress), "rebootstrap": bool, "rebootstrapToken": "..." (16+
/// characters, only with rebootstrap: written into VENDORCONFIG REBOOTSTRAP-TOKEN)}.
struct BootstrapRequestBody {
  bool sms = false;
  bool rebootstrap = false;
  std::string rebootstrap_token;
};
Parsed<BootstrapRequestBody> parse_bootstrap_request(std::string_view body);

}  // namespace m2mdm::server
