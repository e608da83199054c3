/// @file operator_change_command.hpp
/// @brief `m2mdm operator-change request|status`: a new SHO's bulk operator change over the REST
///        API (docs/operator-change.md), with per-device results and progress.
#pragma once

#include <CLI/CLI.hpp>

namespace m2mdm::cli {

/// Adds the `operator-change` sub-command to @p app.
void add_operator_change_command(CLI::App& app);

}  // namespace m2mdm::cli
