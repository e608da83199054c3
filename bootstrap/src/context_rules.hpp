// Rules the CP (w7 + VENDORCONFIG) and the DM-profile (DMAcc + Ext/m2mdm) bootstraps share when
// they build a BootstrapResult (private to bootstrap).
#pragma once

#include "m2mdm/bootstrap/apply.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace m2mdm::bootstrap::detail {

/// m2mdm's extension of one context as the document carries it (VENDORCONFIG parms in CP,
/// Ext/m2mdm leaves in a DM profile); nullopt where the document has none.
struct M2mdmExtension {
  std::optional<std::string> role;         ///< M2M-CONTEXT
  std::optional<std::string> spki_sha256;  ///< SPKI-SHA256, base64
  std::string rebootstrap_token;           ///< REBOOTSTRAP-TOKEN ("" when absent)
};

/// Sets @p ctx's role (and context name), key pin and re-bootstrap token from @p ext.
/// Errors: cp_invalid_w7 for a role that names no ContextRole or a pin that is not a base64 SHA-256.
Result<void> apply_extension(BootstrapContext& ctx, const M2mdmExtension& ext);

/// Appends @p ctx to @p out. Errors: cp_invalid_w7 when an earlier context has its context name or ServerID.
Result<void> add_context(BootstrapResult& out, BootstrapContext ctx);

/// A port number as a bootstrap writes it (CP PORTNBR, DM-profile Port/<x>/PortNbr): decimal
/// digits only, 1..65535; nullopt for anything else (" 443", "+443", "443abc", "0").
std::optional<std::uint16_t> parse_port(std::string_view text);

/// @p out when it holds at least one context. Errors: cp_missing_w7.
Result<BootstrapResult> require_contexts(BootstrapResult out);

}  // namespace m2mdm::bootstrap::detail
