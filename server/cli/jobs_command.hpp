/// @file jobs_command.hpp
/// @brief `m2mdm jobs list|show|cancel|retry`: a device's (or every visible device's) jobs, one
///        job (following it until it ends with --wait), withdrawing a queued job and queueing an
///        ended one again, over the REST API.
#pragma once

#include <CLI/CLI.hpp>

namespace m2mdm::cli {

/// Adds the `jobs` sub-command to @p app.
void add_jobs_command(CLI::App& app);

}  // namespace m2mdm::cli
