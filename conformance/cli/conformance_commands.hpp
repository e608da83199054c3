/// @file conformance_commands.hpp
/// @brief The `m2mdm conformance` sub-command: the client conformance vectors played to a device
///        under test over real HTTP (docs/conformance.md).
#pragma once

#include <CLI/CLI.hpp>

namespace m2mdm::cli {

/// Registers `m2mdm conformance` on the top-level `m2mdm` application.
void add_conformance_commands(CLI::App& app);

}  // namespace m2mdm::cli
