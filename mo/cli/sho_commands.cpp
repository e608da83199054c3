// m2mdm sho seal: bind an MCIM profile to a device and seal it (TR 33.812 §5.1.3.7.1 step 16).
#include "change_token_commands.hpp"
#include "cli_support.hpp"

#include "m2mdm/mo/mcim_profile.hpp"
#include "m2mdm/mo/seal.hpp"

#include <CLI/CLI.hpp>

#include <ctime>
#include <iostream>
#include <memory>
#include <optional>
#include <string>

namespace m2mdm::cli {
namespace {

struct SealOpts {
  std::string pfc, signer_cert, signer_key, device, in, out, transaction_id, chain;
  std::uint64_t counter = 0;
  std::int64_t issued = 0;
  CLI::Option* issued_opt = nullptr;
  std::int64_t valid_for = 30 * 86400;
  bool no_spki_binding = false;
};

std::string text_of(const std::string& path) {
  auto b = read_file_or_fail(path);
  return std::string(b.begin(), b.end());
}

void run_seal(const SealOpts& o) {
  auto pfc = mo::Certificate::from_pem(text_of(o.pfc));
  if (!pfc) fail("cannot read the PfC certificate " + o.pfc);
  auto cert = mo::Certificate::from_pem(text_of(o.signer_cert));
  if (!cert) fail("cannot read the signer certificate " + o.signer_cert);
  auto key = mo::PrivateKey::from_pem(text_of(o.signer_key));
  if (!key) fail("cannot read the signer key " + o.signer_key);
  if (!key->matches(*cert)) fail("the signer key does not match the signer certificate");
  std::vector<mo::Certificate> chain;
  if (!o.chain.empty()) {
    auto c = mo::Certificate::all_from_pem(text_of(o.chain));
    if (!c) fail("cannot read the chain certificates " + o.chain);
    chain = std::move(*c);
  }

  const auto bytes = read_file_or_fail(o.in);
  std::string where;
  auto profile = mo::parse_profile(bytes, &where);
  if (!profile) fail("profile " + o.in + ": " + profile.error().message() + (where.empty() ? "" : " at " + where));
  if (profile->binding) fail("profile " + o.in + " already has a binding; give the editable (unbound) profile");

  mo::McimBinding b;
  b.device_id = o.device;
  if (!o.no_spki_binding) b.pfc_spki_sha256 = pfc->spki_sha256();
  if (o.transaction_id.empty()) {
    auto r = mo::random_bytes(8);
    if (!r) fail("no randomness for a transaction id");
    b.transaction_id = "tx-" + hex_encode(*r);
  } else {
    b.transaction_id = o.transaction_id;
  }
  b.issued = o.issued_opt->count() > 0 ? o.issued : static_cast<std::int64_t>(std::time(nullptr));
  b.expires = b.issued + o.valid_for;
  b.counter = o.counter;
  profile->binding = std::move(b);
  if (auto v = mo::validate_profile(*profile, &where); !v) fail("binding: " + v.error().message() + " at " + where);

  auto sealed = mo::seal_profile(*profile, *cert, *key, *pfc, chain);
  if (!sealed) fail("seal failed: " + sealed.error().message());
  write_file_or_fail(o.out, *sealed);
  if (o.out != "-") {
    for (const auto& [name, value] : mo::profile_summary(*profile)) std::cout << name << ": " << value << '\n';
    std::cout << "sealed: " << o.out << " (" << sealed->size() << " bytes)\n";
  }
}

}  // namespace

void add_sho_commands(CLI::App& app) {
  auto* sho = add_command_group(app, "sho", "Selected Home Operator tools");
  auto [seal, o] = add_command<SealOpts>(
      *sho, "seal",
      "Bind an MCIM profile to a device and seal it: CMS SignedData inside AuthEnvelopedData (AES-256-GCM) to the PfC",
      run_seal);
  seal->add_option("--pfc", o->pfc, "The device's platform certificate (PEM)")->required();
  seal->add_option("--signer-cert", o->signer_cert, "SHO signing certificate (PEM)")->required();
  seal->add_option("--signer-key", o->signer_key, "SHO signing key (PEM)")->required();
  seal->add_option("--device", o->device, "DevId the package is bound to")->required();
  seal->add_option("--counter", o->counter, "Monotonic counter (> the device's last installed for this SHO)")
      ->required()
      ->check(CLI::Range(std::uint64_t{1}, UINT64_MAX));
  seal->add_option("--in", o->in, "Editable MCIM profile (JSON, no binding)")->required();
  seal->add_option("--out", o->out, "Sealed package to write (DER; - = stdout)")->required();
  seal->add_option("--transaction-id", o->transaction_id, "Transaction id (default: random)");
  o->issued_opt = seal->add_option("--issued", o->issued, "Issue time, seconds since the epoch (default: now)");
  seal->add_option("--valid-for", o->valid_for, "Validity in seconds after issue")->capture_default_str()->check(
      CLI::Range(std::int64_t{1}, std::int64_t{100} * 365 * 86400));
  seal->add_option("--chain", o->chain, "Intermediate certificates to include (PEM)");
  seal->add_flag("--no-spki-binding", o->no_spki_binding, "Do not bind to the PfC public key hash (DevId only)");
  add_change_token_commands(*sho);
}

}  // namespace m2mdm::cli
