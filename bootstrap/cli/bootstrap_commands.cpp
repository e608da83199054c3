// `m2mdm bootstrap build|verify|decode` (docs/bootstrap.md "Commands").
// Exit codes: 0 ok; 1 usage, I/O or configuration error; 2 authentication failed (MAC missing,
// malformed or wrong; PIN/IMSI missing or invalid); 3 the input does not decode.
#include "bootstrap_commands.hpp"

#include "bootstrap_config.hpp"
#include "bootstrap_framing.hpp"
#include "cli_support.hpp"
#include "m2mdm/bootstrap/cp_document.hpp"
#include "m2mdm/bootstrap/security.hpp"

#include <iostream>
#include <memory>

namespace m2mdm::cli {
namespace {

constexpr int kExitAuth = 2;
constexpr int kExitDecode = 3;

struct BuildOpts {
  std::string config, sec, pin, imsi, format, out;
};
struct VerifyOpts {
  std::string sec, pin, imsi, mac, file;
};
struct DecodeOpts {
  std::string file;
};

bootstrap::SecCredentials creds_of(const std::string& pin, const std::string& imsi) {
  bootstrap::SecCredentials c;
  if (!pin.empty()) c.pin = pin;
  if (!imsi.empty()) c.imsi = imsi;
  return c;
}

bootstrap::SecMethod method_or_fail(const std::string& name) {
  auto m = bootstrap::parse_sec_method(name);
  if (!m) fail("unknown SEC method '" + name + "' (NETWPIN, USERPIN, USERNETWPIN, USERPINMAC)");
  return *m;
}

void run_build(const BuildOpts& o) {
  const auto method = method_or_fail(o.sec);
  auto spec = load_bootstrap_config(o.config);
  if (!spec) fail(spec.error());
  auto doc = bootstrap::build_bootstrap_doc(*spec);
  if (!doc) fail("configuration rejected: " + doc.error().message());
  auto body = bootstrap::encode_cp_wbxml(*doc);
  if (!body) fail(body.error().message());
  const auto creds = creds_of(o.pin, o.imsi);
  auto mac = bootstrap::compute_mac(method, creds, *body);
  if (!mac) fail(mac.error().message(), kExitAuth);
  // USERPINMAC: no MAC travels; *mac is the K||m code the user has to enter.
  std::optional<std::string> wire_mac;
  if (method != bootstrap::SecMethod::userpinmac) wire_mac = *mac;
  auto framed = frame_cp_bootstrap(o.format, *body, method, wire_mac, o.out);
  if (!framed) fail(framed.error());
  if (o.out != "-") {
    if (method == bootstrap::SecMethod::userpinmac)
      std::cout << "USERPINMAC code (give to the user): " << *mac << '\n';
    else
      std::cout << "SEC=" << bootstrap::sec_method_name(method) << " MAC=" << *mac << '\n';
  }
}

void run_verify(const VerifyOpts& o) {
  const auto method = method_or_fail(o.sec);
  const Bytes input = read_file_or_fail(o.file);
  auto in = unframe_bootstrap(input);
  if (!in) fail(in.error(), kExitDecode);
  std::optional<std::string> mac;
  if (in->mac) mac = in->mac;
  if (!o.mac.empty()) {
    if (mac && *mac != o.mac) fail("--mac differs from the MAC in the push headers", kExitAuth);
    mac = o.mac;
  }
  if (in->sec && *in->sec != method)
    fail(std::string("the push says SEC=") + std::string(bootstrap::sec_method_name(*in->sec)) + ", not " +
             std::string(bootstrap::sec_method_name(method)),
         kExitAuth);
  const auto creds = creds_of(o.pin, o.imsi);
  const auto profile = in->dm_profile ? bootstrap::SecProfile::dm : bootstrap::SecProfile::cp;
  if (auto ok = bootstrap::verify_mac(method, creds, in->body, mac, profile); !ok)
    fail("verification failed: " + ok.error().message(), kExitAuth);
  auto xml = body_to_xml(*in);
  if (!xml) fail("MAC verified but the document does not decode: " + xml.error(), kExitDecode);
  std::cout << *xml;
}

void run_decode(const DecodeOpts& o) {
  const Bytes input = read_file_or_fail(o.file);
  auto in = unframe_bootstrap(input);
  if (!in) fail(in.error(), kExitDecode);
  auto xml = body_to_xml(*in);
  if (!xml) fail(xml.error(), kExitDecode);
  std::cout << *xml;
}

}  // namespace

void add_bootstrap_commands(CLI::App& app) {
  auto* boot = app.add_subcommand("bootstrap", "OMA CP bootstrap: build, verify and decode (ProvBoot 1.1)");
  boot->require_subcommand(1);

  auto build_opts = std::make_shared<BuildOpts>();
  auto* build = boot->add_subcommand("build", "Build the RO's bootstrap from a TOML/JSON configuration");
  build->add_option("--config", build_opts->config, "configuration file (.toml or .json)")->required();
  build->add_option("--sec", build_opts->sec, "NETWPIN, USERPIN, USERNETWPIN or USERPINMAC")->required();
  build->add_option("--pin", build_opts->pin, "the PIN (USERPIN/USERNETWPIN) or K (USERPINMAC)");
  build->add_option("--imsi", build_opts->imsi, "the IMSI (NETWPIN/USERNETWPIN)");
  build->add_option("--format", build_opts->format, "wbxml, push (WSP push PDU) or sms (hex segment lines)")
      ->required()
      ->check(CLI::IsMember({"wbxml", "push", "sms"}));
  build->add_option("--out", build_opts->out, "output file ('-' = stdout)")->required();
  build->callback([build_opts] { run_build(*build_opts); });

  auto verify_opts = std::make_shared<VerifyOpts>();
  auto* verify = boot->add_subcommand("verify", "Verify a bootstrap's MAC and print it as XML");
  verify->add_option("--sec", verify_opts->sec, "NETWPIN, USERPIN, USERNETWPIN or USERPINMAC")->required();
  verify->add_option("--pin", verify_opts->pin, "the PIN (USERPINMAC: K||m as entered)");
  verify->add_option("--imsi", verify_opts->imsi, "the IMSI");
  verify->add_option("--mac", verify_opts->mac, "the MAC (40 hex) for a raw WBXML body");
  verify->add_option("FILE", verify_opts->file, "raw WBXML body or WSP push PDU")->required();
  verify->callback([verify_opts] { run_verify(*verify_opts); });

  auto decode_opts = std::make_shared<DecodeOpts>();
  auto* decode = boot->add_subcommand("decode", "Decode WBXML, a push PDU or SMS segments to XML (no MAC check)");
  decode->add_option("FILE", decode_opts->file, "WBXML, WSP push PDU, or hex SMS segment lines")->required();
  decode->callback([decode_opts] { run_decode(*decode_opts); });
}

}  // namespace m2mdm::cli
