// `m2mdm sho authorise-change` and `m2mdm sho show-change-token` (change_token_commands.cpp).
#pragma once

namespace CLI {
class App;
}

namespace m2mdm::cli {

/// Adds the operator-change token commands under the `sho` command @p sho.
void add_change_token_commands(CLI::App& sho);

}  // namespace m2mdm::cli
