// m2mdm syncml digest|pkg0
#include <CLI/CLI.hpp>

namespace m2mdm::cli {

void add_syncml_auth_commands(CLI::App& /*parent*/) {}

}  // namespace m2mdm::cli
