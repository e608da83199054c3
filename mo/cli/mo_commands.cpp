#include "mo_commands.hpp"

namespace m2mdm::cli {

void add_mo_commands(CLI::App& /*app*/) {}

}  // namespace m2mdm::cli
