/// @file demo_command.hpp
/// @brief `m2mdm demo`: provisions a fleet of `m2mdm-device` agents end to end against the RO
///        server run in-process (docs/demo.md).
#pragma once

#include <CLI/CLI.hpp>

namespace m2mdm::cli {

/// Adds the `demo` sub-command to @p app.
void add_demo_command(CLI::App& app);

}  // namespace m2mdm::cli
