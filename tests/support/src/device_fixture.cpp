// The device of the tests: test PKI, device tree, sealed example MCIM.
#include "m2mdm/test/device_fixture.hpp"

#include "m2mdm/mo/m2msim_object.hpp"
#include "m2mdm/mo/mcim_profile.hpp"
#include "m2mdm/mo/pki.hpp"
#include "m2mdm/mo/seal.hpp"
#include "m2mdm/mo/standard_objects.hpp"
#include "m2mdm/test/files.hpp"
#include "m2mdm/test/mock_clock.hpp"

namespace m2mdm::test {

Result<PkiFiles> make_test_pki(const std::filesystem::path& dir, std::string_view dev_id) {
  PkiFiles files;
  auto pki = mo::init_test_pki(dir);
  if (!pki) return fail(pki.error());
  for (const auto& f : *pki) files[f.name] = f.path;
  auto device = mo::issue_test_device(dir, dev_id);
  if (!device) return fail(device.error());
  for (const auto& f : *device) files[f.name] = f.path;
  return files;
}

std::string install_device_tree(mo::Tree& tree, const DeviceTreeSpec& spec) {
  auto failed = [](std::string_view step, syncml::StatusCode s) {
    return std::string(step) + ": " + std::to_string(syncml::code(s));
  };
  mo::DevInfo info;
  info.dev_id = spec.dev_id;
  info.man = "m2mdm";
  info.mod = spec.model;
  if (auto s = mo::install_devinfo(tree, info); !syncml::is_success(s)) return failed("DevInfo", s);
  if (auto s = mo::install_dmacc(tree); !syncml::is_success(s)) return failed("DMAcc", s);
  mo::DmAccountView acc;
  acc.node_name = "RO";
  acc.server_id = spec.server_id;
  acc.name = spec.server_name;
  acc.app_addr.push_back(mo::DmAppAddr{"1", spec.server_uri, "URI", {}});
  acc.aauth_pref = spec.client_auth;
  acc.app_auth.push_back(
      mo::DmAppAuth{"CLCRED", "CLCRED", spec.client_auth, spec.dev_id, spec.client_secret, spec.client_nonce});
  acc.app_auth.push_back(
      mo::DmAppAuth{"SRVCRED", "SRVCRED", spec.server_auth, spec.server_id, spec.server_secret, spec.server_nonce});
  if (auto s = mo::write_dm_account(tree, acc); !syncml::is_success(s)) return failed("DM account", s);
  mo::M2msimConfig m2msim;
  m2msim.pfc_der = spec.pfc_der;
  m2msim.dev_id = spec.dev_id;
  m2msim.servers = {spec.server_id};
  if (auto s = mo::install_m2msim_object(tree, m2msim); !syncml::is_success(s)) return failed("M2MSIMMobj", s);
  return {};
}

Result<Bytes> seal_example_mcim(const PkiFiles& pki, const mo::Certificate& pfc, const SealSpec& spec) {
  auto profile = mo::parse_profile(as_bytes(slurp(std::filesystem::path(M2MDM_SOURCE_DIR) / "docs/examples/mcim-profile.json")));
  if (!profile) return fail(profile.error());
  if (!spec.iccid.empty()) profile->iccid = spec.iccid;
  if (!spec.imsi.empty()) profile->imsi = spec.imsi;
  const std::int64_t now = system_now();
  mo::McimBinding b;
  b.device_id = spec.dev_id;
  b.transaction_id = spec.transaction_id.empty() ? "tx-" + std::to_string(spec.counter) : spec.transaction_id;
  b.issued = spec.issued != 0 ? spec.issued : now - 10;
  b.expires = spec.expires != 0 ? spec.expires : now + 3600;
  b.counter = spec.counter;
  profile->binding = b;
  auto signer = mo::Certificate::from_pem(slurp(pki.at("sho-cert")));
  if (!signer) return fail(signer.error());
  auto key = mo::PrivateKey::from_pem(slurp(pki.at("sho-key")));
  if (!key) return fail(key.error());
  return mo::seal_profile(*profile, *signer, *key, pfc);
}

}  // namespace m2mdm::test
