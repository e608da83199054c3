// m2mdm aka milenage
#include <CLI/CLI.hpp>

namespace m2mdm::cli {

void add_aka_commands(CLI::App& /*parent*/) {}

}  // namespace m2mdm::cli
