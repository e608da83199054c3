// Builder -> WBXML -> verify -> DMAcc/connectivity mapping -> atomic apply + re-bootstrap guard.
#include "cp_test_support.hpp"
#include "m2mdm/bootstrap/apply.hpp"

#include <gtest/gtest.h>

namespace m2mdm::bootstrap {
namespace {

using namespace testing;
using Clock = RebootstrapGuard::Clock;

const SecCredentials kPin{std::string("8372"), std::nullopt};

Result<VerifiedBootstrap> verified(const BootstrapSpec& spec) {
  auto doc = build_bootstrap_doc(spec);
  if (!doc) return fail(doc.error());
  auto wbxml = encode_cp_wbxml(*doc);
  if (!wbxml) return fail(wbxml.error());
  auto mac = compute_mac(SecMethod::userpin, kPin, *wbxml);
  return verify_cp_bootstrap(*wbxml, SecMethod::userpin, kPin, *mac);
}

TEST(CpBuilder, DocumentLayout) {
  auto doc = build_bootstrap_doc(sample_spec());
  ASSERT_TRUE(doc);
  const auto boot = doc->of_type("BOOTSTRAP");
  ASSERT_EQ(boot.size(), 1u);
  EXPECT_EQ(boot[0]->value_of("PROVURL"), "https://drf.ro.example/prov");
  EXPECT_EQ(boot[0]->value_of("CONTEXT-ALLOW"), "2");
  EXPECT_EQ(doc->of_type("NAPDEF").size(), 2u);
  EXPECT_EQ(doc->of_type("APPLICATION").size(), 2u);
  EXPECT_EQ(doc->of_type("VENDORCONFIG").size(), 2u);
  const auto* nap = doc->of_type("NAPDEF")[0];
  EXPECT_EQ(nap->value_of("NAP-ADDRESS"), "m2m.ro.example");
  EXPECT_EQ(nap->value_of("NAP-ADDRTYPE"), "APN");
  EXPECT_EQ(nap->children_of("NAPAUTHINFO").at(0)->value_of("AUTHTYPE"), "PAP");
}

TEST(CpBuilder, RejectsBadConfig) {
  auto s = sample_spec();
  s.contexts[1].role = s.contexts[0].role;
  EXPECT_EQ(build_bootstrap_doc(s).error(), make_error_code(errc::bad_config));
  s = sample_spec();
  s.contexts[0].server.spki_sha256.resize(20);
  EXPECT_EQ(build_bootstrap_doc(s).error(), make_error_code(errc::bad_config));
  s = sample_spec();
  s.contexts[0].server.auths[0].level = "USER";
  EXPECT_EQ(build_bootstrap_doc(s).error(), make_error_code(errc::bad_config));
  s = sample_spec();
  s.contexts.clear();
  EXPECT_EQ(build_bootstrap_doc(s).error(), make_error_code(errc::bad_config));
}

TEST(CpApply, W7MapsToDmAccAndNapdefToConnectivity) {
  auto vb = verified(sample_spec());
  ASSERT_TRUE(vb) << vb.error().message();
  const auto& r = vb->result();
  EXPECT_EQ(r.provurl, "https://drf.ro.example/prov");
  ASSERT_EQ(r.contexts.size(), 2u);
  const auto& mcim = r.contexts[0];
  EXPECT_EQ(mcim.context, "mcim-provisioning");
  EXPECT_EQ(mcim.role, ContextRole::mcim_provisioning);
  EXPECT_EQ(mcim.account.app_id, "w7");
  EXPECT_EQ(mcim.account.server_id, "dpf.ro.example");
  EXPECT_EQ(mcim.account.name, "RO DPF");
  EXPECT_EQ(mcim.account.addr, "https://dpf.ro.example:8443/dm");
  EXPECT_EQ(mcim.account.addr_type, "URI");
  EXPECT_EQ(mcim.account.port, 8443);
  EXPECT_EQ(mcim.account.pref_conref, "NAP-MCIM");
  EXPECT_TRUE(mcim.account.init);
  EXPECT_EQ(mcim.account.acl, "Get=dpf.ro.example&Replace=dpf.ro.example&Delete=dpf.ro.example");
  const auto* cl = mcim.account.credential("CLCRED");  // from AAUTHLEVEL APPSRV
  ASSERT_NE(cl, nullptr);
  EXPECT_EQ(cl->name, "IMEI:490154203237518");
  EXPECT_EQ(cl->secret, "client-secret");
  EXPECT_EQ(cl->data, (Bytes{1, 2, 3, 4}));
  const auto* sv = mcim.account.credential("SRVCRED");  // from AAUTHLEVEL CLIENT
  ASSERT_NE(sv, nullptr);
  EXPECT_EQ(sv->secret, "server-secret");
  ASSERT_TRUE(mcim.connectivity);
  EXPECT_EQ(mcim.connectivity->apn, "m2m.ro.example");
  EXPECT_EQ(mcim.connectivity->bearer, "GSM-GPRS");
  EXPECT_EQ(mcim.connectivity->auth_name, "m2m");
  EXPECT_EQ(mcim.spki_sha256, Bytes(32, 0xA5));
  const auto& app = r.contexts[1];
  EXPECT_EQ(app.context, "m2m-application");
  EXPECT_FALSE(app.account.init);
  EXPECT_EQ(app.account.credential("SRVCRED"), nullptr);
  EXPECT_EQ(app.spki_sha256, Bytes(32, 0x5A));
}

TEST(CpApply, ChunghwaDocumentHasNoW7) {
  const Bytes body = slurp_bytes(vectors_dir() / "cht-userpin-0000.wbxml");
  auto vb = verify_cp_bootstrap(body, SecMethod::userpin, {std::string("0000"), std::nullopt},
                                "AA2DC41FC48AEEF3FED7351B1EE704461A8894D4");
  EXPECT_EQ(vb.error(), make_error_code(errc::cp_missing_w7));  // MAC held, but nothing to apply
}

TEST(CpApply, AtomicAndGuardedByRebootstrapArm) {
  const auto now = Clock::now();
  MemoryAccountStore store;
  RebootstrapGuard guard;
  auto first = verified(sample_spec());
  ASSERT_TRUE(first);

  // A store failure in the middle leaves nothing behind.
  store.fail_put_at(5);
  EXPECT_EQ(apply_bootstrap(*first, store, guard, now).error(), make_error_code(errc::store_failed));
  EXPECT_TRUE(store.committed().empty());
  store.fail_put_at(std::nullopt);

  ASSERT_TRUE(apply_bootstrap(*first, store, guard, now));
  ASSERT_EQ(store.committed().size(), 2u);
  EXPECT_TRUE(store.is_bootstrapped("mcim-provisioning"));
  EXPECT_EQ(store.committed().at("mcim-provisioning").pin, Bytes(32, 0xA5));
  const auto before = store.committed();

  // A second bootstrap of the same contexts is refused while not armed.
  auto second_spec = sample_spec();
  second_spec.contexts[0].server.addr = "https://evil.example/dm";
  auto second = verified(second_spec);
  ASSERT_TRUE(second);
  EXPECT_EQ(apply_bootstrap(*second, store, guard, now).error(), make_error_code(errc::already_bootstrapped));
  EXPECT_EQ(store.committed(), before);

  // Armed, but the new bootstrap carries the wrong token: denied and the arm is used up.
  const std::string token = "0123456789abcdef-one-shot";
  ASSERT_TRUE(guard.arm("mcim-provisioning", token, std::chrono::seconds(600), now));
  ASSERT_TRUE(guard.arm("m2m-application", token, std::chrono::seconds(600), now));
  second_spec.contexts[0].server.rebootstrap_token = "wrong-token-wrong-token";
  second_spec.contexts[1].server.rebootstrap_token = token;
  second = verified(second_spec);
  EXPECT_EQ(apply_bootstrap(*second, store, guard, now).error(), make_error_code(errc::rebootstrap_denied));
  EXPECT_FALSE(guard.armed("mcim-provisioning", now));
  EXPECT_EQ(store.committed(), before);

  // Expired arm.
  ASSERT_TRUE(guard.arm("mcim-provisioning", token, std::chrono::seconds(60), now));
  second_spec.contexts[0].server.rebootstrap_token = token;
  second = verified(second_spec);
  EXPECT_EQ(apply_bootstrap(*second, store, guard, now + std::chrono::seconds(61)).error(),
            make_error_code(errc::already_bootstrapped));

  // Correct token within the TTL: applied, arms consumed (one shot).
  ASSERT_TRUE(guard.arm("mcim-provisioning", token, std::chrono::seconds(60), now));
  ASSERT_TRUE(apply_bootstrap(*second, store, guard, now + std::chrono::seconds(1)));
  EXPECT_EQ(store.committed().at("mcim-provisioning").account->addr, "https://evil.example/dm");
  EXPECT_FALSE(guard.armed("mcim-provisioning", now));
  EXPECT_FALSE(guard.armed("m2m-application", now));
  EXPECT_EQ(apply_bootstrap(*second, store, guard, now).error(), make_error_code(errc::already_bootstrapped));
}

TEST(CpApply, InvalidW7IsRefused) {
  ProvisioningDoc doc;
  Characteristic app{"APPLICATION", {}, {}};
  app.add("APPID", "w7").add("PROVIDER-ID", "srv");  // no address
  doc.characteristics.push_back(app);
  EXPECT_EQ(interpret_cp_document(doc).error(), make_error_code(errc::cp_invalid_w7));
  doc.characteristics[0].add("ADDR", "http://x/");
  doc.characteristics[0].add("TO-NAPID", "missing");
  EXPECT_EQ(interpret_cp_document(doc).error(), make_error_code(errc::cp_invalid_w7));
  doc.characteristics[0].parms.back().value = "INTERNET";
  auto ok = interpret_cp_document(doc);
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->contexts[0].context, "srv");
  EXPECT_FALSE(ok->contexts[0].spki_sha256);
}

}  // namespace
}  // namespace m2mdm::bootstrap
