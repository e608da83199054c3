// m2mdm pki init|device|revoke|sho: a test PKI for the SHO, the manufacturer (PfCs) and TLS.
#include "cli_support.hpp"

#include "m2mdm/mo/error.hpp"
#include "m2mdm/mo/pki.hpp"

#include <CLI/CLI.hpp>

#include <iostream>
#include <memory>
#include <string>

namespace m2mdm::cli {
namespace {

void print_files(const std::vector<mo::PkiFile>& files) {
  for (const auto& f : files) std::cout << f.name << ": " << f.path.string() << '\n';
  std::cout.flush();
}

/// Prints the files `pki device|sho|subscriber` (@p command) issued, or fails the command: "invalid
/// @p what id" when mo refused the id @p id, otherwise naming the PKI directory @p dir it expected.
void print_issued(const Result<std::vector<mo::PkiFile>>& issued, const std::string& command, const std::string& what,
                  const std::string& dir, const std::string& id) {
  if (!issued) {
    if (issued.error() == mo::errc::invalid_argument) fail("invalid " + what + " id: " + id);
    fail("pki " + command + " failed (is " + dir + " a PKI from `m2mdm pki init`?): " + issued.error().message());
  }
  print_files(*issued);
}

}  // namespace

void add_pki_commands(CLI::App& app) {
  auto* pki = add_command_group(app, "pki", "Test PKI: manufacturer CA (PfCs, CRL), SHO CA + signer, TLS, PVA");

  struct InitOpts {
    std::string dir;
    std::string sho_id = "sho.example";
    bool force = false;
  };
  auto init_opts = std::make_shared<InitOpts>();
  auto* init = pki->add_subcommand("init", "Create a test PKI in a directory; prints one `name: path` line per file");
  // `pki init DIR` and `pki init --dir DIR` are the same (one of them is required).
  init->add_option("--dir,DIR", init_opts->dir, "Directory to create the PKI in (`init DIR` or `init --dir DIR`)")
      ->required();
  init->add_option("--sho-id", init_opts->sho_id, "SHO id (CN of the SHO signing certificate)")->capture_default_str();
  init->add_flag("--force", init_opts->force, "Overwrite an existing PKI in the directory");
  init->callback([init_opts] {
    mo::PkiInitOptions o;
    o.sho_id = init_opts->sho_id;
    o.force = init_opts->force;
    auto r = mo::init_test_pki(init_opts->dir, o);
    if (!r) {
      if (r.error() == mo::errc::invalid_argument)
        fail("a PKI already exists in " + init_opts->dir + " (use --force to overwrite)");
      fail("pki init failed: " + r.error().message());
    }
    print_files(*r);
  });

  struct DeviceOpts {
    std::string dir;
    std::string id;
    bool rsa = false;
  };
  auto dev_opts = std::make_shared<DeviceOpts>();
  auto* device = pki->add_subcommand(
      "device", "Issue a device's platform key + PfC (CN=ID, SAN URI urn:m2mdm:dev:ID) as a software TRE directory");
  device->add_option("--dir", dev_opts->dir, "Directory of the PKI (from `pki init`)")->required();
  device->add_option("--id", dev_opts->id, "Device identifier (DevId)")->required();
  device->add_flag("--rsa", dev_opts->rsa, "RSA-2048 platform key instead of EC P-256");
  device->callback([dev_opts] {
    const auto key = dev_opts->rsa ? mo::KeyType::rsa : mo::KeyType::ec_p256;
    print_issued(mo::issue_test_device(dev_opts->dir, dev_opts->id, key), "device", "device", dev_opts->dir,
                 dev_opts->id);
  });

  auto rev_opts = std::make_shared<DeviceOpts>();
  auto* revoke = pki->add_subcommand("revoke", "Revoke a device's PfC: re-issue the manufacturer CRL listing it");
  revoke->add_option("--dir", rev_opts->dir, "Directory of the PKI")->required();
  revoke->add_option("--id", rev_opts->id, "Device identifier whose PfC to revoke")->required();
  revoke->callback([rev_opts] {
    auto r = mo::revoke_test_device(rev_opts->dir, rev_opts->id);
    if (!r) fail("pki revoke failed for " + rev_opts->id + ": " + r.error().message());
    print_files(*r);
  });

  struct ShoOpts {
    std::string dir;
    std::string id;
  };
  auto sho_opts = std::make_shared<ShoOpts>();
  auto* sho = pki->add_subcommand(
      "sho", "Issue one more SHO signing certificate (CN=ID) under the PKI's SHO CA, into DIR/shos/ID (a second "
             "SHO for operator change)");
  sho->add_option("--dir", sho_opts->dir, "Directory of the PKI (from `pki init`)")->required();
  sho->add_option("--id", sho_opts->id, "The SHO's id: its signing certificate's CN ([A-Za-z0-9._-])")->required();
  sho->callback([sho_opts] {
    print_issued(mo::issue_test_sho(sho_opts->dir, sho_opts->id), "sho", "SHO", sho_opts->dir, sho_opts->id);
  });

  auto sub_opts = std::make_shared<ShoOpts>();
  auto* subscriber = pki->add_subcommand(
      "subscriber", "Issue a subscriber's (device owner's) signing certificate (CN=ID) under the PKI's subscriber CA "
                    "(DIR/subscriber-ca.pem, created on first use), into DIR/subscribers/ID");
  subscriber->add_option("--dir", sub_opts->dir, "Directory of the PKI (from `pki init`)")->required();
  subscriber->add_option("--id", sub_opts->id, "The subscriber's id: its signing certificate's CN ([A-Za-z0-9._-])")
      ->required();
  subscriber->callback([sub_opts] {
    print_issued(mo::issue_test_subscriber(sub_opts->dir, sub_opts->id), "subscriber", "subscriber", sub_opts->dir,
                 sub_opts->id);
  });
}

}  // namespace m2mdm::cli
