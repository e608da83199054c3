// `m2mdm`: the operator's command. A thin main: every component registers its own
// sub-commands (see <component>/cli/), so this file never needs to change for a new command.
#include "bootstrap_commands.hpp"
#include "client_commands.hpp"
#include "conformance_commands.hpp"
#include "mo_commands.hpp"
#include "server_commands.hpp"
#include "syncml_commands.hpp"

#include <CLI/CLI.hpp>

#include <exception>
#include <iostream>

int main(int argc, char** argv) {
  CLI::App app{"m2mdm: remote provisioning of MCIMs into M2M equipment over OMA DM (3GPP TR 33.812)", "m2mdm"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "m2mdm 0.1.0");
  m2mdm::cli::add_syncml_commands(app);
  m2mdm::cli::add_mo_commands(app);
  m2mdm::cli::add_bootstrap_commands(app);
  m2mdm::cli::add_client_commands(app);
  m2mdm::cli::add_server_commands(app);
  m2mdm::cli::add_conformance_commands(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::RuntimeError& e) {
    return e.get_exit_code();  // the command already printed its one-line reason
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  } catch (const std::exception& e) {
    std::cerr << "m2mdm: " << e.what() << '\n';
    return 1;
  }
  return 0;
}
