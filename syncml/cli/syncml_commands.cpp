#include "syncml_commands.hpp"

namespace m2mdm::cli {

void add_syncml_commands(CLI::App& /*app*/) {}

}  // namespace m2mdm::cli
