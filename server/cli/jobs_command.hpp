/// @file jobs_command.hpp
/// @brief `m2mdm jobs list|show|cancel`: a device's jobs, one job (following it until it ends
///        with --wait) and withdrawing a queued job, over the REST API.
#pragma once

#include <CLI/CLI.hpp>

namespace m2mdm::cli {

/// Adds the `jobs` sub-command to @p app.
void add_jobs_command(CLI::App& app);

}  // namespace m2mdm::cli
