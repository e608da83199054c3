/// @file load_command.hpp
/// @brief `m2mdm load`: a load generator for a running `m2mdm server` (docs/benchmarks.md,
///        "m2mdm load"): N virtual devices imported over the REST API, then DM sessions run
///        in-process with the real client engine, C at a time, for a duration.
#pragma once

#include <CLI/CLI.hpp>

namespace m2mdm::cli {

/// Adds the `load` sub-command to @p app.
void add_load_command(CLI::App& app);

}  // namespace m2mdm::cli
