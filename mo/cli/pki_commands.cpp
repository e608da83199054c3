// m2mdm pki init|device
#include <CLI/CLI.hpp>

namespace m2mdm::cli {

void add_pki_commands(CLI::App& /*parent*/) {}

}  // namespace m2mdm::cli
