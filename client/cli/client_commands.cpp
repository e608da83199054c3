#include "client_commands.hpp"

namespace m2mdm::cli {

void add_client_commands(CLI::App& /*app*/) {}

}  // namespace m2mdm::cli
