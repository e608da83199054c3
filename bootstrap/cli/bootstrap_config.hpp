// `m2mdm bootstrap build --config FILE`: the TOML/JSON configuration -> BootstrapSpec.
// Format: docs/bootstrap.md "Configuration"; example: docs/examples/bootstrap.toml / .json.
#pragma once

#include "m2mdm/bootstrap/builder.hpp"

#include <expected>
#include <string>

namespace m2mdm::cli {

/// Loads FILE (".json" = JSON, anything else TOML). On error returns the one-line reason.
std::expected<bootstrap::BootstrapSpec, std::string> load_bootstrap_config(const std::string& path);

}  // namespace m2mdm::cli
