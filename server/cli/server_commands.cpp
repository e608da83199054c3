#include "server_commands.hpp"

namespace m2mdm::cli {

void add_server_commands(CLI::App& /*app*/) {}

}  // namespace m2mdm::cli
