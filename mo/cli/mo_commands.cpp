#include "mo_commands.hpp"

namespace m2mdm::cli {

void add_pki_commands(CLI::App& app);  // pki_commands.cpp: m2mdm pki init|device
void add_sho_commands(CLI::App& app);  // sho_commands.cpp: m2mdm sho seal
void add_aka_commands(CLI::App& app);  // aka_commands.cpp: m2mdm aka milenage

void add_mo_commands(CLI::App& app) {
  add_pki_commands(app);
  add_sho_commands(app);
  add_aka_commands(app);
}

}  // namespace m2mdm::cli
