/// @file operator_change_command.hpp
/// @brief `m2mdm operator-change request|status`: a new SHO's bulk operator change over the REST
///        API (docs/operator-change.md), with per-device results and progress; `list|show`: a
///        device's operator changes and one change, for any role.
#pragma once

#include <CLI/CLI.hpp>

namespace m2mdm::cli {

/// Adds the `operator-change` sub-command to @p app.
void add_operator_change_command(CLI::App& app);

/// Adds `list` and `show` (operator_change_query_command.cpp) to the `operator-change` sub-command.
void add_operator_change_query_commands(CLI::App* oc);

}  // namespace m2mdm::cli
