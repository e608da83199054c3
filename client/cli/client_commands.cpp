#include "client_commands.hpp"

#include "cli_support.hpp"

#include "m2mdm/client/mcim_registry.hpp"
#include "m2mdm/client/software_tre.hpp"
#include "m2mdm/mo/mcim_profile.hpp"
#include "m2mdm/mo/trust.hpp"

#include <ctime>
#include <iostream>
#include <memory>
#include <optional>
#include <string>

namespace m2mdm::cli {
namespace {

struct TreOpenOpts {
  std::string tre_dir, anchors, sealed;
  std::uint64_t counter_floor = 0;
  std::int64_t now = 0;
  CLI::Option* counter_floor_opt = nullptr;
  CLI::Option* now_opt = nullptr;
  bool production = false;
  std::string install_id;
};

// m2mdm tre open: TR 33.812 §5.1.3.7.1 step 19, decrypt + verify inside the (software) TRE.
void run_tre_open(const TreOpenOpts& o) {
  auto tre = client::SoftwareTre::open(o.tre_dir);
  if (!tre) fail("cannot open the TRE in " + o.tre_dir + ": " + tre.error().message());
  const auto pem = read_file_or_fail(o.anchors);
  const auto kind = o.production ? mo::AnchorKind::production : mo::AnchorKind::test;
  auto anchors = mo::TrustAnchors::from_pem(as_chars(pem), kind);
  if (!anchors) {
    if (anchors.error() == mo::errc::trust_anchor_kind_mismatch)
      fail(std::string("trust anchors ") + o.anchors + " are not " + (o.production ? "production" : "test") +
           " anchors (test and production anchors are never mixed)");
    fail("cannot load trust anchors " + o.anchors + ": " + anchors.error().message());
  }
  const auto sealed = read_file_or_fail(o.sealed);
  mo::OpenPolicy policy;
  policy.now = o.now_opt->count() > 0 ? o.now : static_cast<std::int64_t>(std::time(nullptr));
  if (o.counter_floor_opt->count() > 0) policy.counter_floor = o.counter_floor;

  if (!o.install_id.empty()) {
    auto reg = client::McimRegistry::open(**tre);
    if (!reg) fail("cannot open the MCIM registry: " + reg.error().message());
    auto entry = reg->install_sealed(o.install_id, sealed, *anchors, policy);
    if (!entry) fail("refused: " + entry.error().message());
    auto prof = reg->profile(o.install_id);
    if (!prof) fail("installed but unreadable: " + prof.error().message());
    for (const auto& [name, value] : mo::profile_summary(*prof)) std::cout << name << ": " << value << '\n';
    std::cout << "state: " << client::to_string(entry->state) << '\n';
    return;
  }
  auto opened = (*tre)->open_sealed(sealed, *anchors, policy);
  if (!opened) fail("refused: " + opened.error().message());
  for (const auto& [name, value] : mo::profile_summary(opened->profile)) std::cout << name << ": " << value << '\n';
  std::cout << "signer: " << opened->signer.subject() << '\n';
}

}  // namespace

void add_client_commands(CLI::App& app) {
  auto* tre = add_command_group(app, "tre", "The device's TRE (software TRE directory)");
  auto [open, o] = add_command<TreOpenOpts>(
      *tre, "open", "Decrypt and verify a sealed MCIM inside the TRE; prints the MCIM summary (never K, OPc or OTA keys)",
      run_tre_open);
  open->add_option("--tre-dir", o->tre_dir, "Software TRE directory (from `m2mdm pki device`)")->required();
  open->add_option("--trust-anchors", o->anchors, "SHO trust anchors (PEM)")->required();
  open->add_option("SEALED", o->sealed, "Sealed MCIM package (DER)")->required();
  o->counter_floor_opt =
      open->add_option("--counter-floor", o->counter_floor, "Last installed counter: a package must be above it");
  open->add_flag("--production", o->production, "The anchors are production anchors (test-PKI signers refused)");
  o->now_opt = open->add_option("--now", o->now, "Current time, seconds since the epoch (default: the clock)");
  open->add_option("--install", o->install_id, "Also install the MCIM into the TRE's registry under this id");
}

}  // namespace m2mdm::cli
