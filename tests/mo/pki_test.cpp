// The test PKI: files, chains (checked with `openssl verify`), SAN, permissions, device PfCs,
// revocation through the manufacturer CRL.
#include "mcim_test_util.hpp"

#include "m2mdm/mo/error.hpp"
#include "m2mdm/mo/pki.hpp"

#include <gtest/gtest.h>
#include <openssl/x509v3.h>

#include <sys/stat.h>

namespace m2mdm::mo {
namespace {

namespace fs = std::filesystem;

unsigned mode_of(const fs::path& p) {
  struct stat st {};
  ::stat(p.c_str(), &st);
  return st.st_mode & 0777;
}

class Pki : public ::testing::Test {
 protected:
  void SetUp() override { dir_ = test::make_temp_dir("pkitest"); }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  std::string q(const fs::path& p) const { return "'" + p.string() + "'"; }
  // The exit status of `openssl verify -CAfile <dir_/ca> [options] <cert>`.
  int verify(const std::string& ca, const std::string& options, const fs::path& cert) const {
    return test::run("openssl verify -CAfile " + q(dir_ / ca) + (options.empty() ? "" : " " + options) + " " + q(cert));
  }
  fs::path dir_;
};

TEST_F(Pki, InitWritesTheNamedFiles) {
  auto files = init_test_pki(dir_);
  ASSERT_TRUE(files.has_value()) << files.error().message();
  std::map<std::string, fs::path> by_name;
  for (const auto& f : *files) by_name[f.name] = f.path;
  for (const char* name : {"manufacturer-ca", "manufacturer-crl", "sho-ca", "sho-cert", "sho-key", "tls-cert", "tls-key",
                           "tls-ca", "pva-cert", "pva-key"}) {
    ASSERT_TRUE(by_name.count(name)) << name;
    EXPECT_TRUE(fs::exists(by_name[name])) << name;
  }
  for (const char* key : {"sho-key", "tls-key", "pva-key", "manufacturer-ca-key", "sho-ca-key", "tls-ca-key"})
    EXPECT_EQ(mode_of(by_name[key]), 0600u) << key;
  EXPECT_EQ(test::slurp(by_name["sho-key"]).rfind("-----BEGIN PRIVATE KEY-----", 0), 0u);
  // A second init refuses to overwrite, unless forced.
  auto again = init_test_pki(dir_);
  ASSERT_FALSE(again.has_value());
  PkiInitOptions force;
  force.force = true;
  EXPECT_TRUE(init_test_pki(dir_, force).has_value());
}

TEST_F(Pki, ChainsVerifyWithTheOpensslTool) {
  if (test::run("openssl version") != 0) GTEST_SKIP();
  ASSERT_TRUE(init_test_pki(dir_).has_value());
  EXPECT_EQ(verify("sho-ca.pem", "-purpose smimesign", dir_ / "sho-cert.pem"), 0);
  EXPECT_EQ(verify("tls-ca.pem", "-purpose sslserver -verify_ip 127.0.0.1", dir_ / "tls-cert.pem"), 0);
  EXPECT_EQ(verify("tls-ca.pem", "-verify_hostname localhost", dir_ / "tls-cert.pem"), 0);
  EXPECT_NE(verify("tls-ca.pem", "-verify_ip 10.0.0.1", dir_ / "tls-cert.pem"), 0);
  EXPECT_NE(verify("manufacturer-ca.pem", "", dir_ / "sho-cert.pem"), 0);
  EXPECT_EQ(test::run("openssl crl -in " + q(dir_ / "manufacturer-crl.pem") + " -CAfile " +
                      q(dir_ / "manufacturer-ca.pem") + " -noout"),
            0);
}

TEST_F(Pki, SignerCertificateCarriesTheShoIdAndTestMarker) {
  PkiInitOptions o;
  o.sho_id = "sho.operator-b";
  ASSERT_TRUE(init_test_pki(dir_, o).has_value());
  auto cert = Certificate::from_pem(test::slurp(dir_ / "sho-cert.pem"));
  ASSERT_TRUE(cert.has_value());
  EXPECT_EQ(cert->subject_cn(), "sho.operator-b");
  EXPECT_TRUE(cert->is_test_certificate());
  auto key = PrivateKey::from_pem(test::slurp(dir_ / "sho-key.pem"));
  ASSERT_TRUE(key.has_value());
  EXPECT_TRUE(key->matches(*cert));
}

TEST_F(Pki, DeviceIsASoftwareTreDirectoryWithAPfc) {
  ASSERT_TRUE(init_test_pki(dir_).has_value());
  for (auto type : {KeyType::ec_p256, KeyType::rsa}) {
    const std::string id = type == KeyType::rsa ? "M2ME-RSA-1" : "M2ME-0001";
    auto files = issue_test_device(dir_, id, type);
    ASSERT_TRUE(files.has_value()) << files.error().message();
    std::map<std::string, fs::path> by_name;
    for (const auto& f : *files) by_name[f.name] = f.path;
    ASSERT_TRUE(by_name.count("pfc") && by_name.count("platform-key") && by_name.count("tre-dir"));
    EXPECT_EQ(by_name["tre-dir"], dir_ / "devices" / id);
    EXPECT_EQ(mode_of(by_name["platform-key"]), 0600u);
    auto pfc = Certificate::from_pem(test::slurp(by_name["pfc"]));
    ASSERT_TRUE(pfc.has_value());
    EXPECT_EQ(pfc->subject_cn(), id);
    ASSERT_EQ(pfc->san_uris().size(), 1u);
    EXPECT_EQ(pfc->san_uris()[0], "urn:m2mdm:dev:" + id);
    EXPECT_EQ(device_id_of(*pfc), id);
    auto key = PrivateKey::from_pem(test::slurp(by_name["platform-key"]));
    ASSERT_TRUE(key.has_value());
    EXPECT_EQ(key->type(), type);
    EXPECT_TRUE(key->matches(*pfc));
    if (test::run("openssl version") == 0) {
      EXPECT_EQ(verify("manufacturer-ca.pem", "", by_name["pfc"]), 0);
    }
  }
  EXPECT_FALSE(issue_test_device(dir_, "../escape").has_value());
  EXPECT_FALSE(issue_test_device(dir_ / "nope", "dev").has_value());
}

TEST_F(Pki, RevokedPfcFailsTheCrlCheck) {
  if (test::run("openssl version") != 0) GTEST_SKIP();
  ASSERT_TRUE(init_test_pki(dir_).has_value());
  ASSERT_TRUE(issue_test_device(dir_, "dev-a").has_value());
  ASSERT_TRUE(issue_test_device(dir_, "dev-b").has_value());
  const std::string check = "openssl verify -crl_check -CAfile " + q(dir_ / "manufacturer-ca.pem") + " -CRLfile " +
                            q(dir_ / "manufacturer-crl.pem") + " ";
  EXPECT_EQ(test::run(check + q(dir_ / "devices/dev-a/pfc.pem")), 0);
  auto r = revoke_test_device(dir_, "dev-a");
  ASSERT_TRUE(r.has_value()) << r.error().message();
  ASSERT_EQ(r->size(), 1u);
  EXPECT_EQ((*r)[0].name, "manufacturer-crl");
  EXPECT_NE(test::run(check + q(dir_ / "devices/dev-a/pfc.pem")), 0);
  EXPECT_EQ(test::run(check + q(dir_ / "devices/dev-b/pfc.pem")), 0);
  ASSERT_TRUE(revoke_test_device(dir_, "dev-b").has_value());  // both listed now
  EXPECT_NE(test::run(check + q(dir_ / "devices/dev-a/pfc.pem")), 0);
  EXPECT_NE(test::run(check + q(dir_ / "devices/dev-b/pfc.pem")), 0);
  EXPECT_FALSE(revoke_test_device(dir_, "dev-unknown").has_value());
}

}  // namespace
}  // namespace m2mdm::mo
