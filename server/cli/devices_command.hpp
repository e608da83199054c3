/// @file devices_command.hpp
/// @brief `m2mdm devices import`: bulk device import into a running RO server over the REST API,
///        in batches, with progress; `m2mdm devices claim`: an SHO claims devices of the
///        operator's registry by proving possession (device PIN); `list`, `show`, `get`, `replace`, `exec`.
#pragma once

#include <CLI/CLI.hpp>

namespace m2mdm::cli {

/// Adds the `devices` sub-command (with `import` and `claim`) to @p app.
void add_devices_command(CLI::App& app);

/// Adds `get`, `replace` and `exec` (generic management commands, devices_mgmt_command.cpp) to
/// the `devices` sub-command.
void add_devices_mgmt_commands(CLI::App* devices);

/// Adds `list` and `show` (devices_query_command.cpp) to the `devices` sub-command.
void add_devices_query_commands(CLI::App* devices);

}  // namespace m2mdm::cli
