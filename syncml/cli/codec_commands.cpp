// m2mdm syncml decode|encode
#include <CLI/CLI.hpp>

namespace m2mdm::cli {

void add_syncml_codec_commands(CLI::App& /*parent*/) {}

}  // namespace m2mdm::cli
