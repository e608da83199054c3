// Shared helpers of the MCIM profile / sealing / TRE tests (tests/mo and tests/client).
#pragma once

#include "m2mdm/mo/crypto_handles.hpp"
#include "m2mdm/mo/mcim_profile.hpp"
#include "m2mdm/mo/pki.hpp"
#include "m2mdm/mo/seal.hpp"
#include "m2mdm/mo/trust.hpp"
#include "m2mdm/test/files.hpp"

#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <string>
#include <string_view>
#include <stdexcept>
#include <sys/wait.h>
#include <unistd.h>

namespace m2mdm::test {

namespace fs = std::filesystem;

/// Runs a shell command; returns its exit status (0 = success).
inline int run(const std::string& cmd) {
  const int rc = std::system((cmd + " >/dev/null 2>&1").c_str());
  return rc == -1 ? -1 : WEXITSTATUS(rc);
}

/// One more SHO signer of the test PKI (mo::issue_test_sho).
struct ShoSigner {
  std::string id;  ///< the certificate's CN
  fs::path dir;
  mo::Certificate cert;
  mo::PrivateKey key;
};

struct Device {
  std::string id;
  fs::path dir;
  mo::Certificate pfc;
  mo::PrivateKey key;
};

/// One test PKI (from mo::init_test_pki) per test program, with devices created on demand.
class TestPki {
 public:
  static TestPki& instance() {
    static TestPki pki;
    return pki;
  }

  fs::path dir;
  mo::Certificate sho_ca, sho_cert, manufacturer_ca;
  mo::PrivateKey sho_key;
  std::int64_t now = static_cast<std::int64_t>(std::time(nullptr));  // binding checks use this clock

  const Device& device(const std::string& id, mo::KeyType type = mo::KeyType::ec_p256) {
    auto it = devices_.find(id);
    if (it != devices_.end()) return it->second;
    auto files = mo::issue_test_device(dir, id, type);
    if (!files) throw std::runtime_error("issue_test_device failed");
    Device d;
    d.id = id;
    d.dir = dir / "devices" / id;
    d.pfc = *mo::Certificate::from_pem(slurp(d.dir / "pfc.pem"));
    d.key = *mo::PrivateKey::from_pem(slurp(d.dir / "platform-key.pem"));
    return devices_.emplace(id, std::move(d)).first->second;
  }

  /// A TRE directory of one test's own: a fresh temporary directory (make_temp_dir(@p tag)) with
  /// a copy of device @p id's platform key and PfC.
  fs::path tre_copy(const std::string& id, std::string_view tag) {
    const Device& dev = device(id);
    fs::path tre = make_temp_dir(tag);
    fs::copy(dev.dir / "platform-key.pem", tre / "platform-key.pem");
    fs::copy(dev.dir / "pfc.pem", tre / "pfc.pem");
    return tre;
  }

  /// A second (third, ...) SHO signer under the same SHO CA, created on first use.
  const ShoSigner& sho(const std::string& id) {
    auto it = shos_.find(id);
    if (it != shos_.end()) return it->second;
    if (!mo::issue_test_sho(dir, id)) throw std::runtime_error("issue_test_sho failed");
    return shos_.emplace(id, load_signer(id, dir / "shos" / id, "sho")).first->second;
  }

  /// A subscriber (device owner) signer under the PKI's subscriber CA, created on first use.
  const ShoSigner& subscriber(const std::string& id) {
    auto it = subscribers_.find(id);
    if (it != subscribers_.end()) return it->second;
    if (!mo::issue_test_subscriber(dir, id)) throw std::runtime_error("issue_test_subscriber failed");
    return subscribers_.emplace(id, load_signer(id, dir / "subscribers" / id, "subscriber")).first->second;
  }

  /// The subscriber CA as trust anchors (the owner CA of a device); after subscriber() once.
  mo::TrustAnchors subscriber_anchors() const {
    mo::TrustAnchors a(mo::AnchorKind::test);
    auto ca = mo::Certificate::from_pem(slurp(dir / "subscriber-ca.pem"));
    if (!ca || !a.add(*ca)) throw std::runtime_error("subscriber anchor");
    return a;
  }

  mo::TrustAnchors anchors() const {
    mo::TrustAnchors a(mo::AnchorKind::test);
    if (!a.add(sho_ca)) throw std::runtime_error("anchor");
    return a;
  }

 private:
  /// The signer @p id of @p signer_dir: <kind>-cert.pem and <kind>-key.pem.
  static ShoSigner load_signer(const std::string& id, const fs::path& signer_dir, const std::string& kind) {
    ShoSigner s;
    s.id = id;
    s.dir = signer_dir;
    s.cert = *mo::Certificate::from_pem(slurp(s.dir / (kind + "-cert.pem")));
    s.key = *mo::PrivateKey::from_pem(slurp(s.dir / (kind + "-key.pem")));
    return s;
  }

  TestPki() {
    dir = make_temp_dir("pki");
    auto files = mo::init_test_pki(dir);
    if (!files) throw std::runtime_error("init_test_pki failed");
    sho_ca = *mo::Certificate::from_pem(slurp(dir / "sho-ca.pem"));
    sho_cert = *mo::Certificate::from_pem(slurp(dir / "sho-cert.pem"));
    sho_key = *mo::PrivateKey::from_pem(slurp(dir / "sho-key.pem"));
    manufacturer_ca = *mo::Certificate::from_pem(slurp(dir / "manufacturer-ca.pem"));
  }
  std::map<std::string, Device> devices_;
  std::map<std::string, ShoSigner> shos_;
  std::map<std::string, ShoSigner> subscribers_;
};

/// The example profile of docs/examples.
inline mo::McimProfile example_profile() {
  const std::string text = slurp(fs::path(M2MDM_SOURCE_DIR) / "docs/examples/mcim-profile.json");
  auto p = mo::parse_profile(as_bytes(text));
  if (!p) throw std::runtime_error("example profile does not parse: " + p.error().message());
  return std::move(*p);
}

/// The example profile bound to @p device_id with @p counter, issued at pki.now - 60, valid 1 day.
inline mo::McimProfile bound_profile(const std::string& device_id, std::uint64_t counter,
                                     const mo::Certificate* pfc = nullptr) {
  mo::McimProfile p = example_profile();
  mo::McimBinding b;
  b.device_id = device_id;
  if (pfc != nullptr) b.pfc_spki_sha256 = pfc->spki_sha256();
  b.transaction_id = "tx-test-1";
  b.issued = TestPki::instance().now - 60;
  b.expires = TestPki::instance().now + 86400;
  b.counter = counter;
  p.binding = b;
  return p;
}

inline mo::OpenPolicy policy_for(const std::string& device_id) {
  mo::OpenPolicy pol;
  pol.device_id = device_id;
  pol.now = TestPki::instance().now;
  return pol;
}

}  // namespace m2mdm::test
