/// @file subscriber_command.hpp
/// @brief `m2mdm subscriber create|list|assign|remove|devices` (the operator manages subscribers,
///        the devices' owners, over the REST API) and `m2mdm subscriber authorise-change` (the
///        subscriber signs an operator-change token; docs/operator-change.md "The subscriber").
#pragma once

#include <CLI/CLI.hpp>

namespace m2mdm::cli {

/// Adds the `subscriber` sub-command to @p app.
void add_subscriber_command(CLI::App& app);

}  // namespace m2mdm::cli
