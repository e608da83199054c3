// `m2mdm sho authorise-change`, `m2mdm sho show-change-token` and `m2mdm subscriber authorise-change`
// (change_token_commands.cpp).
#pragma once

namespace CLI {
class App;
}

namespace m2mdm::cli {

/// Adds the operator-change token commands under the `sho` command @p sho.
void add_change_token_commands(CLI::App& sho);

/// Adds `authorise-change` (a token "by" the subscriber) under the `subscriber` command @p subscriber.
void add_subscriber_change_token_command(CLI::App& subscriber);

}  // namespace m2mdm::cli
