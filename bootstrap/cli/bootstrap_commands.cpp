#include "bootstrap_commands.hpp"

namespace m2mdm::cli {

void add_bootstrap_commands(CLI::App& /*app*/) {}

}  // namespace m2mdm::cli
