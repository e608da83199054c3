// m2mdm sho authorise-change / sho show-change-token: make and inspect the operator-change
// authorisation (mo/change_token.hpp, docs/operator-change.md).
#include "change_token_commands.hpp"

#include "cli_support.hpp"

#include "m2mdm/mo/change_token.hpp"
#include "m2mdm/mo/pki.hpp"
#include "m2mdm/mo/seal.hpp"

#include <CLI/CLI.hpp>

#include <ctime>
#include <iostream>
#include <memory>
#include <string>

namespace m2mdm::cli {
namespace {

struct AuthoriseOpts {
  mo::ChangeAuthoriser by = mo::ChangeAuthoriser::old_sho;
  std::string signer_cert, signer_key, device, variant = "A", from_sho, to_sho, out, nonce;
  std::int64_t valid_for = 3600;
  std::int64_t issued = 0;
  CLI::Option* issued_opt = nullptr;
};

struct ShowOpts {
  std::string in, ca;
};

std::string text_of(const std::string& path) {
  auto b = read_file_or_fail(path);
  return std::string(b.begin(), b.end());
}

void print_token(const mo::ChangeToken& t) {
  std::cout << "by: " << to_string(t.by);
  if (t.by == mo::ChangeAuthoriser::subscriber) std::cout << " " << t.subscriber;
  std::cout << "\ndevice: " << t.device_id << "\nvariant: " << to_string(t.variant) << "\nfrom: " << t.from_sho
            << "\nto: " << t.to_sho << "\nissued: " << t.issued << "\nnot_after: " << t.not_after
            << "\nnonce: " << t.nonce << '\n';
}

void run_authorise(const AuthoriseOpts& o) {
  auto cert = mo::Certificate::from_pem(text_of(o.signer_cert));
  if (!cert) fail("cannot read the signer certificate " + o.signer_cert);
  auto key = mo::PrivateKey::from_pem(text_of(o.signer_key));
  if (!key) fail("cannot read the signer key " + o.signer_key);
  if (!key->matches(*cert)) fail("the signer key does not match the signer certificate");
  mo::ChangeToken t;
  t.device_id = o.device;
  t.variant = *mo::parse_change_variant(o.variant);
  t.by = o.by;
  if (o.by == mo::ChangeAuthoriser::subscriber) {
    t.subscriber = cert->subject_cn();  // the owner signs as itself (docs/operator-change.md)
    t.from_sho = o.from_sho;
  } else {
    t.from_sho = cert->subject_cn();  // the old SHO signs as itself
  }
  t.to_sho = o.to_sho;
  t.issued = o.issued_opt->count() > 0 ? o.issued : static_cast<std::int64_t>(std::time(nullptr));
  t.not_after = t.issued + o.valid_for;
  if (o.nonce.empty()) {
    auto n = mo::new_change_nonce();
    if (!n) fail("no randomness for the nonce");
    t.nonce = *n;
  } else {
    t.nonce = o.nonce;
  }
  if (!mo::serialize_change_token(t))
    fail("invalid token: --device, --from-sho and --to-sho are [A-Za-z0-9._:-] ids (so is the signer's CN), the old "
         "SHO (" + t.from_sho + ") differs from --to-sho, --nonce is 32 lower-case hex digits");
  auto signed_token = mo::sign_change_token(t, *cert, *key);
  if (!signed_token) fail("signing failed: " + signed_token.error().message());
  write_file_or_fail(o.out, *signed_token);
  if (o.out != "-") {
    print_token(t);
    std::cout << "token: " << o.out << " (" << signed_token->size() << " bytes, CMS SignedData)\n";
  }
}

void run_show(const ShowOpts& o) {
  auto der = read_file_or_fail(o.in);
  auto anchors = mo::TrustAnchors::from_pem(text_of(o.ca), mo::AnchorKind::production);
  if (!anchors) anchors = mo::TrustAnchors::from_pem(text_of(o.ca), mo::AnchorKind::test);
  if (!anchors) fail("cannot read the CA certificates " + o.ca);
  // Signature, chain and signer checks only: the device, the SHOs and the time are shown, not checked.
  auto verified = mo::verify_signed_data(der, *anchors, static_cast<std::int64_t>(std::time(nullptr)));
  if (!verified) fail("token " + o.in + ": " + verified.error().message());
  auto t = mo::parse_change_token(verified->content.view());
  if (!t) fail("token " + o.in + ": " + t.error().message());
  const std::string& expected = t->by == mo::ChangeAuthoriser::subscriber ? t->subscriber : t->from_sho;
  if (verified->signer.subject_cn() != expected)
    fail("token " + o.in + ": signed by " + verified->signer.subject_cn() + ", not by " +
         (t->by == mo::ChangeAuthoriser::subscriber ? "the subscriber " : "the old SHO ") + expected);
  print_token(*t);
  std::cout << "signer: " << verified->signer.subject_cn() << " (verified)\n";
}

}  // namespace

namespace {

/// `authorise-change` under @p parent, for the old SHO or the subscriber (@p by): the signer is
/// who authorises, so the old SHO names the new SHO only, the subscriber both.
void add_authorise_command(CLI::App& parent, mo::ChangeAuthoriser by, const std::string& description) {
  auto a = std::make_shared<AuthoriseOpts>();
  a->by = by;
  const bool subscriber = by == mo::ChangeAuthoriser::subscriber;
  const std::string who = subscriber ? "the subscriber's" : "the old SHO's";
  auto* cmd = parent.add_subcommand("authorise-change", description);
  cmd->add_option("--signer-cert", a->signer_cert,
                  who + " signing certificate (PEM; its CN is \"" + (subscriber ? "subscriber" : "from") + "\")")
      ->required();
  cmd->add_option("--signer-key", a->signer_key, who + " signing key (PEM)")->required();
  cmd->add_option("--device", a->device, "DevId of the device")->required();
  if (subscriber)
    cmd->add_option("--from-sho", a->from_sho, "the SHO the device leaves (the CN of its signing certificate)")
        ->required();
  cmd->add_option("--to-sho", a->to_sho, "the new SHO's id (the CN of its signing certificate)")->required();
  cmd->add_option("--variant", a->variant, "operator-change variant")->capture_default_str()->check(
      CLI::IsMember({"A", "B", "C"}));
  cmd->add_option("--valid-for", a->valid_for, "seconds the token stays valid")->capture_default_str()->check(
      CLI::Range(std::int64_t{60}, std::int64_t{30} * 86400));
  a->issued_opt = cmd->add_option("--issued", a->issued, "issue time, seconds since the epoch (default: now)");
  cmd->add_option("--nonce", a->nonce, "32 lower-case hex digits (default: random; a token works once)");
  cmd->add_option("--out", a->out, "token to write (DER; - = stdout)")->required();
  cmd->callback([a] { run_authorise(*a); });
}

}  // namespace

void add_change_token_commands(CLI::App& sho) {
  add_authorise_command(sho, mo::ChangeAuthoriser::old_sho,
                        "As the old SHO, authorise moving one device to another SHO: an operator-change token (CMS "
                        "SignedData, single use; docs/operator-change.md)");
  auto s = std::make_shared<ShowOpts>();
  auto* show = sho.add_subcommand("show-change-token",
                                  "Verify an operator-change token's signature against the SHO CA and print it");
  show->add_option("--in", s->in, "token (DER)")->required();
  show->add_option("--ca", s->ca, "CA certificates of the signer (PEM: the SHO CA, or the subscriber's CA)")->required();
  show->callback([s] { run_show(*s); });
}

void add_subscriber_change_token_command(CLI::App& subscriber) {
  add_authorise_command(subscriber, mo::ChangeAuthoriser::subscriber,
                        "As the device's subscriber (its owner), authorise moving it from its SHO to another: an "
                        "operator-change token \"by\":\"subscriber\" (CMS SignedData, single use; "
                        "docs/operator-change.md). A device configured with its owner's CA, and the RO for a device "
                        "assigned to a subscriber, accept only this kind");
}

}  // namespace m2mdm::cli
