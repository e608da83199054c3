// Operator change on the device (M2msimAgent + McimRegistry over a real software TRE and real
// CMS). Variant A: the old SHO's token lets the new SHO's MCIM replace the old one in one TRE
// write. Variant B: the old SHO's token resets the device to the pristine state in one TRE
// write and arms the re-bootstrap. Every bad token changes nothing; a power loss at any write
// leaves a defined state (A: the old or the new MCIM active; B: the old MCIM active or none).
#include "tre_copy_fixture.hpp"

#include "m2mdm/client/alert_outbox.hpp"
#include "m2mdm/client/m2msim_agent.hpp"
#include "m2mdm/client/mcim_registry.hpp"
#include "m2mdm/client/software_tre.hpp"
#include "m2mdm/mo/change_token.hpp"
#include "m2mdm/mo/m2msim_object.hpp"
#include "m2mdm/syncml/encoding.hpp"

#include <gtest/gtest.h>

#include <functional>

namespace m2mdm::client {
namespace {

namespace fs = std::filesystem;
using test::TestPki;

constexpr std::string_view kDev = "oc-dev";
constexpr std::string_view kServer = "ro.example";
constexpr std::string_view kOldSho = "sho.example";    // the test PKI's first SHO signer
constexpr std::string_view kNewSho = "sho-b.example";

/// A token the device must refuse, and what is wrong with it.
struct TokenCase {
  std::string name;
  Bytes token;
};

class OperatorChange : public TreCopyTest {
 protected:
  OperatorChange() : TreCopyTest(std::string(kDev), "oc") {}
  void SetUp() override {
    TreCopyTest::SetUp();
    start();
    // The old SHO's MCIM, installed and active (the initial provisioning).
    deliver("old", sealed_by_old(1, "1"), {});
    ASSERT_EQ(last_result(), mo::M2msimResult::Success);
    ASSERT_EQ(registry_->active()->sho_id, kOldSho);
    outbox_ = MemoryAlertOutbox{};
  }
  /// (Re)starts the device: TRE, registry, tree with the M2MSIMMobj, agent (a reboot).
  void start() {
    agent_.reset();
    registry_.reset();
    tre_ = open_tre();
    auto r = McimRegistry::open(*tre_);
    if (!r) throw std::runtime_error("registry: " + r.error().message());
    registry_.emplace(std::move(*r));
    tree_ = std::make_unique<mo::Tree>();
    mo::M2msimConfig cfg{tre_->platform_certificate(), std::string(kDev), {std::string(kServer)}};
    ASSERT_EQ(mo::install_m2msim_object(*tree_, cfg), syncml::StatusCode::Ok);
    M2msimAgentOptions o;
    o.clock = [] { return TestPki::instance().now; };
    o.owner_anchors = owner_anchors_;
    o.owner_name = owner_name_;
    agent_.emplace(*tree_, *tre_, *registry_, outbox_, TestPki::instance().anchors(), o);
    agent_->attach();
  }

  Bytes seal(const mo::Certificate& cert, const mo::PrivateKey& key, std::string_view sho, std::uint64_t counter,
             const std::string& imsi_suffix, const std::string& iccid = {}) {
    mo::McimProfile p = test::bound_profile(std::string(kDev), counter);
    p.sho_id = std::string(sho);
    p.imsi = "00101000000000" + imsi_suffix;
    if (!iccid.empty()) p.iccid = iccid;
    auto s = mo::seal_profile(p, cert, key, TestPki::instance().device(std::string(kDev)).pfc);
    if (!s) throw std::runtime_error("seal: " + s.error().message());
    return *s;
  }
  Bytes sealed_by_old(std::uint64_t counter, const std::string& imsi_suffix) {
    auto& pki = TestPki::instance();
    return seal(pki.sho_cert, pki.sho_key, kOldSho, counter, imsi_suffix);
  }
  Bytes sealed_by_new(std::uint64_t counter = 1) {
    const auto& s = TestPki::instance().sho(std::string(kNewSho));
    return seal(s.cert, s.key, kNewSho, counter, "9");
  }

  mo::ChangeToken token(std::string_view nonce = "0123456789abcdef0123456789abcdef") {
    mo::ChangeToken t;
    t.device_id = std::string(kDev);
    t.from_sho = std::string(kOldSho);
    t.to_sho = std::string(kNewSho);
    t.issued = TestPki::instance().now - 10;
    t.not_after = TestPki::instance().now + 600;
    t.nonce = std::string(nonce);
    return t;
  }
  Bytes signed_token(const mo::ChangeToken& t) {
    auto& pki = TestPki::instance();
    auto s = mo::sign_change_token(t, pki.sho_cert, pki.sho_key);
    if (!s) throw std::runtime_error("token: " + s.error().message());
    return *s;
  }

  /// What the DPF does: Add Download/<slot> with Package (and AuthToken), Exec Install.
  void deliver(const std::string& slot, const Bytes& package, const Bytes& auth_token) {
    const auto who = mo::Caller::server(kServer);
    const std::string base = mo::m2msim_uri("Download/" + slot);
    if (!tree_->exists(base)) {
      ASSERT_EQ(tree_->add(who, base, {mo::Format::Node, {}, {}}), syncml::StatusCode::Ok);
      ASSERT_EQ(tree_->add(who, base + "/Operations/Install", {mo::Format::Null, {}, {}}), syncml::StatusCode::Ok);
    }
    (void)tree_->add(who, base + "/Package", {mo::Format::Bin, std::string(mo::kSealedPackageType), package});
    (void)tree_->replace(who, base + "/Package", {mo::Format::Bin, std::string(mo::kSealedPackageType), package});
    if (!auth_token.empty()) {
      (void)tree_->add(who, base + "/AuthToken", {mo::Format::Bin, {}, auth_token});
      (void)tree_->replace(who, base + "/AuthToken", {mo::Format::Bin, {}, auth_token});
    }
    EXPECT_EQ(tree_->exec(who, base + "/Operations/Install", {}, "corr-" + slot),
              syncml::StatusCode::AcceptedForProcessing);
  }

  /// What the DPF does for variant B: Exec Operations/ResetToPristine, Data = base64 of the token.
  void reset(const Bytes& token) {
    const std::string data = token.empty() ? std::string{} : base64_encode(token);
    EXPECT_EQ(tree_->exec(mo::Caller::server(kServer), mo::m2msim_uri("Operations/ResetToPristine"), as_bytes(data),
                          "corr-reset"),
              syncml::StatusCode::AcceptedForProcessing);
  }
  mo::ChangeToken pristine_token(std::string_view nonce = "00112233445566778899aabbccddeeff") {
    auto t = token(nonce);
    t.variant = mo::ChangeVariant::pristine;
    return t;
  }
  bool armed() const { return mo::rebootstrap_armed(*tree_, TestPki::instance().now); }

  /// Cuts the power at each step of each TRE write that @p action makes (on a freshly set-up
  /// device every time), powers the device back on and runs @p after_reboot; stops once a run
  /// made no write left to cut (every point covered).
  void at_every_power_cut(const std::function<void()>& action, const std::function<void()>& after_reboot) {
    bool covered = false;
    for (int write_no = 0; write_no < 8 && !covered; ++write_no) {
      for (const char* step : {"write", "sync", "rename", "dir-sync"}) {
        SCOPED_TRACE(std::to_string(write_no) + " " + step);
        TearDown();
        SetUp();
        int writes = 0;
        bool crashed = false;
        tre_->set_crash_hook_for_testing([&](std::string_view s, std::string_view) {
          if (s == "write") ++writes;
          const bool now = writes - 1 == write_no && s == step;
          crashed = crashed || now;
          return now;
        });
        action();
        tre_->set_crash_hook_for_testing(nullptr);
        start();  // power back
        after_reboot();
        if (!crashed) {  // past the last write: every point was covered
          covered = true;
          break;
        }
      }
    }
    EXPECT_TRUE(covered);
  }

  std::vector<mo::GenericAlertPayload> alerts() const {
    std::vector<mo::GenericAlertPayload> out;
    for (const auto& a : outbox_.all()) out.push_back(a.payload);
    return out;
  }
  mo::M2msimResult last_result() const {
    auto parsed = mo::parse_m2msim_alert_data(outbox_.all().back().payload.data);
    return parsed ? static_cast<mo::M2msimResult>(parsed->first) : mo::M2msimResult::InternalError;
  }
  /// The old MCIM is the active one, intact, and nothing of the new SHO is stored.
  void expect_unchanged() {
    ASSERT_TRUE(registry_->active().has_value());
    EXPECT_EQ(registry_->active()->sho_id, kOldSho);
    EXPECT_TRUE(registry_->profile(registry_->active()->id).has_value());
    for (const auto& e : registry_->entries())
      if (e.sho_id == kNewSho) {
        EXPECT_EQ(e.state, McimState::deleted);
      }
  }

  /// Nothing of the old MCIM is left: not its profile, not its TRE item, not its node.
  void expect_old_mcim_gone() {
    EXPECT_FALSE(registry_->profile("old").has_value());
    auto items = tre_->list();
    ASSERT_TRUE(items.has_value());
    for (const auto& item : *items) EXPECT_NE(item.id, "mcim.old");
    EXPECT_FALSE(tree_->exists(mo::m2msim_uri("MCIM/old")));
  }
  /// The two alerts of a change that succeeded: the discard confirmation of the old MCIM (for the
  /// old SHO, Correlator @p correlator), then @p result_type with the result Success.
  void expect_discarded_then(std::string_view result_type, std::string_view correlator) {
    const auto a = alerts();
    ASSERT_EQ(a.size(), 2u);
    EXPECT_EQ(a[0].type, mo::kAlertDiscarded);
    EXPECT_EQ(a[0].source_uri, mo::m2msim_uri("MCIM/old"));
    EXPECT_EQ(a[0].correlator, correlator);
    EXPECT_EQ(a[1].type, result_type);
    EXPECT_EQ(last_result(), mo::M2msimResult::Success);
  }

  std::unique_ptr<SoftwareTre> tre_;
  std::optional<McimRegistry> registry_;
  std::unique_ptr<mo::Tree> tree_;
  MemoryAlertOutbox outbox_;
  std::optional<M2msimAgent> agent_;
  std::optional<mo::TrustAnchors> owner_anchors_;  ///< set: a device with an owner (subscriber)
  std::string owner_name_;
};

TEST_F(OperatorChange, TheOldShosTokenMovesTheDeviceToTheNewSho) {
  deliver("new", sealed_by_new(), signed_token(token()));
  auto active = registry_->active();
  ASSERT_TRUE(active.has_value());
  EXPECT_EQ(active->id, "new");
  EXPECT_EQ(active->sho_id, kNewSho);
  // The old credentials are gone from the TRE, not merely inactive.
  EXPECT_EQ(registry_->find("old")->state, McimState::deleted);
  ASSERT_NO_FATAL_FAILURE(expect_old_mcim_gone());
  // The discard confirmation first (for the old SHO), then the install result.
  ASSERT_NO_FATAL_FAILURE(expect_discarded_then(mo::kAlertInstall, "corr-new"));
  // The tree shows only the new MCIM.
  EXPECT_EQ(tree_->get_text(mo::m2msim_uri("MCIM/new/State")), "Active");
  // After a reboot too.
  start();
  EXPECT_EQ(registry_->active()->id, "new");
  EXPECT_TRUE(registry_->change_nonce_used("0123456789abcdef0123456789abcdef"));
}

TEST_F(OperatorChange, EveryBadTokenIsRefusedWith1412AndChangesNothing) {
  auto& pki = TestPki::instance();
  const auto& new_sho = pki.sho(std::string(kNewSho));
  std::vector<TokenCase> cases{{"missing", {}}};
  auto t = token();
  t.not_after = pki.now - 1;
  t.issued = pki.now - 100;
  cases.push_back({"expired", signed_token(t)});
  t = token();
  t.device_id = "another-device";
  cases.push_back({"wrong device", signed_token(t)});
  t = token();
  t.variant = mo::ChangeVariant::pristine;
  cases.push_back({"wrong variant", signed_token(t)});
  t = token();
  t.to_sho = "sho-c.example";
  cases.push_back({"for another new SHO", signed_token(t)});
  // Signed by the new SHO itself (same CA, but not the old SHO).
  cases.push_back({"wrong signer", *mo::cms_sign(as_bytes(*mo::serialize_change_token(token())), new_sho.cert,
                                                 new_sho.key)});
  Bytes tampered = signed_token(token());
  const std::string needle(kDev);
  auto at = std::search(tampered.begin(), tampered.end(), needle.begin(), needle.end());
  *(at + 1) = 'X';
  cases.push_back({"tampered", tampered});
  cases.push_back({"garbage", Bytes{1, 2, 3}});

  std::uint64_t counter = 1;
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    outbox_ = MemoryAlertOutbox{};
    deliver("new" + std::to_string(counter), sealed_by_new(counter), c.token);
    ++counter;
    EXPECT_EQ(last_result(), mo::M2msimResult::AuthorizationFailed);
    EXPECT_EQ(alerts().size(), 1u);  // no discard confirmation
    expect_unchanged();
  }
}

TEST_F(OperatorChange, AUsedTokenIsRefusedTheSecondTime) {
  auto& pki = TestPki::instance();
  const Bytes first = signed_token(token());
  deliver("b1", sealed_by_new(1), first);
  ASSERT_EQ(last_result(), mo::M2msimResult::Success);
  // Back to the first SHO, authorised by the second (now the old SHO).
  mo::ChangeToken back = token("fedcba9876543210fedcba9876543210");
  back.from_sho = std::string(kNewSho);
  back.to_sho = std::string(kOldSho);
  const auto& sho_b = pki.sho(std::string(kNewSho));
  auto back_token = mo::sign_change_token(back, sho_b.cert, sho_b.key);
  ASSERT_TRUE(back_token.has_value());
  deliver("a2", sealed_by_old(2, "2"), *back_token);
  ASSERT_EQ(last_result(), mo::M2msimResult::Success);
  ASSERT_EQ(registry_->active()->sho_id, kOldSho);
  // The first token again, with a fresh package of the second SHO: a replay.
  outbox_ = MemoryAlertOutbox{};
  deliver("b2", sealed_by_new(2), first);
  EXPECT_EQ(last_result(), mo::M2msimResult::AuthorizationFailed);
  EXPECT_NE(outbox_.all().back().payload.data.find("already used"), std::string::npos);
  expect_unchanged();
}

TEST_F(OperatorChange, SameShoInstallNeedsNoToken) {
  deliver("again", sealed_by_old(2, "2"), {});
  EXPECT_EQ(last_result(), mo::M2msimResult::Success);
  EXPECT_EQ(registry_->active()->id, "again");
  EXPECT_EQ(registry_->find("old")->state, McimState::inactive);  // kept, as before
}

TEST_F(OperatorChange, PowerLossAtEveryWriteLeavesTheOldOrTheNewActive) {
  const Bytes pkg = sealed_by_new();
  const Bytes tok = signed_token(token());
  bool saw_old = false, saw_new = false;
  at_every_power_cut([&] { deliver("new", pkg, tok); },
                     [&] {
                       auto active = registry_->active();
                       ASSERT_TRUE(active.has_value()) << "no MCIM active after the power loss";
                       int active_count = 0;
                       for (const auto& e : registry_->entries()) active_count += e.state == McimState::active ? 1 : 0;
                       EXPECT_EQ(active_count, 1);
                       EXPECT_TRUE(registry_->profile(active->id).has_value());
                       if (active->sho_id == kOldSho) {
                         saw_old = true;
                         // The DPF delivers again (the install result never reached it): the change completes.
                         outbox_ = MemoryAlertOutbox{};
                         deliver("new", pkg, tok);
                         EXPECT_EQ(last_result(), mo::M2msimResult::Success);
                       } else {
                         saw_new = true;
                         EXPECT_FALSE(registry_->profile("old").has_value()) << "old credentials still usable";
                       }
                       EXPECT_EQ(registry_->active()->sho_id, kNewSho);
                     });
  EXPECT_TRUE(saw_old && saw_new);
}

// ---- variant C: new IMSI, K and OTA keys for the same USIM application (seed 001 §5.4.4) --------

TEST_F(OperatorChange, VariantCReplacesTheSubscriptionOfTheSameUsimApplication) {
  const std::string iccid = registry_->active()->iccid;
  auto t = token();
  t.variant = mo::ChangeVariant::usim_update;
  deliver("c", sealed_by_new(), signed_token(t));
  ASSERT_EQ(last_result(), mo::M2msimResult::Success);
  auto active = registry_->active();
  ASSERT_TRUE(active.has_value());
  EXPECT_EQ(active->sho_id, kNewSho);
  EXPECT_EQ(active->iccid, iccid) << "the same USIM application";
  EXPECT_EQ(active->imsi, "001010000000009") << "the USIM presents the new IMSI";
  EXPECT_EQ(registry_->profile(active->id)->imsi, "001010000000009");
  EXPECT_FALSE(registry_->profile("old").has_value()) << "the old K and OTA keys are gone";
  const auto a = alerts();
  ASSERT_EQ(a.size(), 2u);
  EXPECT_EQ(a[0].type, mo::kAlertDiscarded);
  EXPECT_NE(a[0].data.find("replaced the IMSI, K and OTA keys of " + iccid), std::string::npos) << a[0].data;
  EXPECT_NE(a[1].data.find("in place; USIM reset"), std::string::npos) << a[1].data;
}

TEST_F(OperatorChange, VariantCRefusesAnotherUsimApplicationAndNeedsItsOwnToken) {
  auto t = token();
  t.variant = mo::ChangeVariant::usim_update;
  const auto& s = TestPki::instance().sho(std::string(kNewSho));
  // A package for another USIM application (another ICCID) is not an in-place update.
  deliver("other", seal(s.cert, s.key, kNewSho, 1, "9", "8900101000000000027"), signed_token(t));
  EXPECT_EQ(last_result(), mo::M2msimResult::AuthorizationFailed);
  expect_unchanged();
  // A B token does not authorise it either.
  outbox_ = MemoryAlertOutbox{};
  deliver("b", sealed_by_new(2), signed_token(pristine_token()));
  EXPECT_EQ(last_result(), mo::M2msimResult::AuthorizationFailed);
  expect_unchanged();
}

TEST_F(OperatorChange, VariantCPowerLossAtEveryWriteLeavesTheOldOrTheNewCredentials) {
  auto t = token();
  t.variant = mo::ChangeVariant::usim_update;
  const Bytes tok = signed_token(t);
  const Bytes pkg = sealed_by_new();
  bool saw_old = false, saw_new = false;
  at_every_power_cut([&] { deliver("c", pkg, tok); },
                     [&] {
                       // One USIM application, active with either the old or the new credentials.
                       auto active = registry_->active();
                       ASSERT_TRUE(active.has_value()) << "no USIM application active after the power loss";
                       EXPECT_EQ(active->iccid, "8999900000000000014");
                       if (active->sho_id == kOldSho) {
                         saw_old = true;
                         EXPECT_EQ(registry_->profile(active->id)->imsi, "001010000000001");
                         outbox_ = MemoryAlertOutbox{};
                         deliver("c", pkg, tok);  // delivered again: the update completes
                         EXPECT_EQ(last_result(), mo::M2msimResult::Success);
                       } else {
                         saw_new = true;
                         EXPECT_FALSE(registry_->profile("old").has_value()) << "old K still usable";
                       }
                       EXPECT_EQ(registry_->profile(registry_->active()->id)->imsi, "001010000000009");
                     });
  EXPECT_TRUE(saw_old && saw_new);
}

// ---- variant B: back to the pristine state (seed 004 §5.2.5.8.3.2) ----------------------------

TEST_F(OperatorChange, VariantBTheOldShosTokenResetsToPristineAndArmsTheReBootstrap) {
  EXPECT_FALSE(armed());
  reset(signed_token(pristine_token()));
  // Step 3: no MCIM left, none usable, nothing of them in the TRE.
  EXPECT_FALSE(registry_->active().has_value());
  for (const auto& e : registry_->entries()) EXPECT_EQ(e.state, McimState::deleted);
  ASSERT_NO_FATAL_FAILURE(expect_old_mcim_gone());
  // The re-bootstrap naming the new SHO will be accepted from the server that reset it.
  EXPECT_TRUE(armed());
  EXPECT_EQ(tree_->get_text(mo::m2msim_uri("ReBootstrap/ArmedBy")), kServer);
  // The discard confirmation (for the old SHO), then the reset result.
  ASSERT_NO_FATAL_FAILURE(expect_discarded_then(mo::kAlertReset, "corr-reset"));
  // Steps 13-14: a pristine device takes the new SHO's MCIM like a new one (no token).
  outbox_ = MemoryAlertOutbox{};
  deliver("new", sealed_by_new(), {});
  EXPECT_EQ(last_result(), mo::M2msimResult::Success);
  EXPECT_EQ(registry_->active()->sho_id, kNewSho);
  start();  // after a reboot the nonce is still spent
  EXPECT_TRUE(registry_->change_nonce_used("00112233445566778899aabbccddeeff"));
}

TEST_F(OperatorChange, VariantBEveryBadTokenIsRefusedWith1412AndChangesNothing) {
  auto& pki = TestPki::instance();
  const auto& new_sho = pki.sho(std::string(kNewSho));
  std::vector<TokenCase> cases{{"missing", {}}};
  cases.push_back({"variant A token", signed_token(token())});
  auto t = pristine_token();
  t.device_id = "another-device";
  cases.push_back({"wrong device", signed_token(t)});
  t = pristine_token();
  t.not_after = pki.now - 1;
  t.issued = pki.now - 100;
  cases.push_back({"expired", signed_token(t)});
  // The new SHO cannot reset the device of another SHO, even naming itself as "from".
  t = pristine_token();
  t.from_sho = std::string(kNewSho);
  t.to_sho = "sho-c.example";
  auto self = mo::sign_change_token(t, new_sho.cert, new_sho.key);
  ASSERT_TRUE(self.has_value());
  cases.push_back({"from an SHO with no MCIM here", *self});
  cases.push_back({"garbage", Bytes{1, 2, 3}});
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    outbox_ = MemoryAlertOutbox{};
    reset(c.token);
    EXPECT_EQ(last_result(), mo::M2msimResult::AuthorizationFailed);
    EXPECT_EQ(alerts().size(), 1u);  // no discard confirmation
    expect_unchanged();
    EXPECT_FALSE(armed());
  }
  // Not base64 at all.
  outbox_ = MemoryAlertOutbox{};
  EXPECT_EQ(tree_->exec(mo::Caller::server(kServer), mo::m2msim_uri("Operations/ResetToPristine"),
                        as_bytes(std::string_view("%%not base64%%")), "corr-reset"),
            syncml::StatusCode::AcceptedForProcessing);
  EXPECT_EQ(last_result(), mo::M2msimResult::AuthorizationFailed);
  expect_unchanged();
  // A token used once does not work twice.
  const Bytes once = signed_token(pristine_token());
  reset(once);
  ASSERT_EQ(last_result(), mo::M2msimResult::Success);
  deliver("back", sealed_by_old(2, "2"), {});
  ASSERT_EQ(last_result(), mo::M2msimResult::Success);
  outbox_ = MemoryAlertOutbox{};
  reset(once);
  EXPECT_EQ(last_result(), mo::M2msimResult::AuthorizationFailed);
  EXPECT_EQ(registry_->active()->id, "back");
}

TEST_F(OperatorChange, VariantBPowerLossAtEveryWriteLeavesTheOldActiveOrNone) {
  const Bytes tok = signed_token(pristine_token());
  bool saw_old = false, saw_pristine = false;
  at_every_power_cut([&] { reset(tok); },
                     [&] {
                       if (auto active = registry_->active()) {
                         saw_old = true;
                         EXPECT_EQ(active->sho_id, kOldSho);
                         EXPECT_TRUE(registry_->profile(active->id).has_value());
                         EXPECT_FALSE(registry_->change_nonce_used("00112233445566778899aabbccddeeff"));
                         // The DPF sends the reset again (its result never arrived): it completes.
                         reset(tok);
                         EXPECT_EQ(last_result(), mo::M2msimResult::Success);
                       } else {
                         saw_pristine = true;
                       }
                       // Either way the device ends pristine, with no usable credential of the old SHO.
                       EXPECT_FALSE(registry_->active().has_value());
                       EXPECT_FALSE(registry_->profile("old").has_value());
                       EXPECT_TRUE(registry_->change_nonce_used("00112233445566778899aabbccddeeff"));
                     });
  EXPECT_TRUE(saw_old && saw_pristine);
}


// --- a device with an owner (seed 004: the subscriber alone authorises a change of SHO)

class OperatorChangeWithOwner : public OperatorChange {
 protected:
  void SetUp() override {
    auto& pki = TestPki::instance();
    owner_ = &pki.subscriber("owner.example");
    stranger_ = &pki.subscriber("stranger.example");
    owner_anchors_ = pki.subscriber_anchors();
    owner_name_ = "owner.example";
    OperatorChange::SetUp();
  }
  Bytes by(const test::ShoSigner& subscriber, mo::ChangeToken t) {
    t.by = mo::ChangeAuthoriser::subscriber;
    t.subscriber = subscriber.id;
    auto s = mo::sign_change_token(t, subscriber.cert, subscriber.key);
    if (!s) throw std::runtime_error("token: " + s.error().message());
    return *s;
  }
  const test::ShoSigner* owner_ = nullptr;
  const test::ShoSigner* stranger_ = nullptr;
};

TEST_F(OperatorChangeWithOwner, OnlyItsSubscribersTokenMovesIt) {
  // The old SHO's token, valid for a device without an owner: refused, nothing changes.
  deliver("new1", sealed_by_new(1), signed_token(token("10000000000000000000000000000001")));
  EXPECT_EQ(last_result(), mo::M2msimResult::AuthorizationFailed);
  expect_unchanged();
  // Another subscriber's token (the same subscriber CA): refused.
  outbox_ = MemoryAlertOutbox{};
  deliver("new2", sealed_by_new(2), by(*stranger_, token("10000000000000000000000000000002")));
  EXPECT_EQ(last_result(), mo::M2msimResult::AuthorizationFailed);
  expect_unchanged();
  // Its subscriber's token: the change happens as in variant A, and the nonce is spent.
  outbox_ = MemoryAlertOutbox{};
  deliver("new3", sealed_by_new(3), by(*owner_, token()));
  EXPECT_EQ(last_result(), mo::M2msimResult::Success);
  ASSERT_TRUE(registry_->active().has_value());
  EXPECT_EQ(registry_->active()->sho_id, kNewSho);
  EXPECT_EQ(alerts().front().type, mo::kAlertDiscarded);
  EXPECT_TRUE(registry_->change_nonce_used("0123456789abcdef0123456789abcdef"));
}

TEST_F(OperatorChangeWithOwner, OnlyItsSubscriberResetsItToPristine) {
  reset(signed_token(pristine_token("20000000000000000000000000000001")));
  EXPECT_EQ(last_result(), mo::M2msimResult::AuthorizationFailed);
  expect_unchanged();
  EXPECT_FALSE(armed());
  outbox_ = MemoryAlertOutbox{};
  reset(by(*owner_, pristine_token()));
  EXPECT_EQ(last_result(), mo::M2msimResult::Success);
  EXPECT_FALSE(registry_->active().has_value());
  EXPECT_TRUE(armed());
}

}  // namespace
}  // namespace m2mdm::client
