// Framing glue for `m2mdm bootstrap`: WBXML body <-> WSP push PDU <-> SMS segments (hex lines),
// using wsp.hpp / sms.hpp, and the CP or DM-profile decoder for the body.
#pragma once

#include "m2mdm/bootstrap/security.hpp"
#include "m2mdm/syncml/encoding.hpp"

#include <expected>
#include <optional>
#include <string>

namespace m2mdm::cli {

/// A bootstrap body with whatever SEC/MAC its framing carried.
struct Unframed {
  Bytes body;
  std::optional<bootstrap::SecMethod> sec;  ///< from the push Content-Type SEC parameter
  std::optional<std::string> mac;           ///< from the push Content-Type MAC parameter
  bool dm_profile = false;                  ///< application/vnd.syncml.dm+wbxml (DM Bootstrap 1.2)
  std::string framing;                      ///< "wbxml", "push" or "sms"
};

/// Writes @p body framed as @p format ("wbxml" | "push" | "sms") to @p out.
std::expected<void, std::string> frame_cp_bootstrap(const std::string& format, const Bytes& body,
                                                    bootstrap::SecMethod sec, const std::optional<std::string>& mac,
                                                    const std::string& out);

/// Detects the input: hex SMS segment lines, a raw CP (or SyncML DM) WBXML body, or a WSP push PDU.
std::expected<Unframed, std::string> unframe_bootstrap(const Bytes& input);

/// The body as XML: the CP document (canonical PROV XML), or for the DM profile the SyncML
/// message as XML.
std::expected<std::string, std::string> body_to_xml(const Unframed& in);

}  // namespace m2mdm::cli
