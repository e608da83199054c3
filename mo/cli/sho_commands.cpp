// m2mdm sho seal
#include <CLI/CLI.hpp>

namespace m2mdm::cli {

void add_sho_commands(CLI::App& /*parent*/) {}

}  // namespace m2mdm::cli
