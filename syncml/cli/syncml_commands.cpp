#include "syncml_commands.hpp"

namespace m2mdm::cli {

void add_syncml_codec_commands(CLI::App& syncml);  // codec_commands.cpp
void add_syncml_auth_commands(CLI::App& syncml);   // auth_commands.cpp

void add_syncml_commands(CLI::App& app) {
  auto* syncml = app.add_subcommand("syncml", "SyncML DM 1.2 messages: decode, encode, credentials, package 0");
  syncml->require_subcommand(1);
  add_syncml_codec_commands(*syncml);
  add_syncml_auth_commands(*syncml);
}

}  // namespace m2mdm::cli
