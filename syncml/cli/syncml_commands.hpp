/// @file syncml_commands.hpp
/// @brief The `m2mdm` sub-commands contributed by the syncml component.
#pragma once

#include <CLI/CLI.hpp>

namespace m2mdm::cli {

/// Registers this component's sub-commands on the top-level `m2mdm` application.
void add_syncml_commands(CLI::App& app);

}  // namespace m2mdm::cli
