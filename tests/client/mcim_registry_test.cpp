// The MCIM registry over a real software TRE: lifecycle, at most one Active, counters per SHO,
// Blocked at start, and power loss at every write step of install and switch.
#include "tre_copy_fixture.hpp"

#include "m2mdm/client/error.hpp"
#include "m2mdm/client/mcim_registry.hpp"
#include "m2mdm/client/software_tre.hpp"
#include "m2mdm/mo/error.hpp"

#include <gtest/gtest.h>

namespace m2mdm::client {
namespace {

namespace fs = std::filesystem;
using test::TestPki;

class Registry : public TreCopyTest {
 protected:
  Registry() : TreCopyTest("reg-ec", "reg") {}
  Bytes sealed(std::uint64_t counter, const std::string& imsi_suffix = "1") {
    auto& pki = TestPki::instance();
    mo::McimProfile p = test::bound_profile("reg-ec", counter);
    p.imsi = "00101000000000" + imsi_suffix;
    auto s = mo::seal_profile(p, pki.sho_cert, pki.sho_key, pki.device("reg-ec").pfc);
    if (!s) throw std::runtime_error("seal");
    return *s;
  }
  static McimState state_of(const McimRegistry& r, std::string_view id) { return r.find(id)->state; }
  static int active_count(const McimRegistry& r) {
    int n = 0;
    for (const auto& e : r.entries()) n += e.state == McimState::active ? 1 : 0;
    return n;
  }
};

TEST_F(Registry, InstallActivateSwitchDelete) {
  auto tre = open_tre();
  auto reg = McimRegistry::open(*tre);
  ASSERT_TRUE(reg.has_value());
  auto& pki = TestPki::instance();
  auto a = reg->install_sealed("A", sealed(1, "1"), pki.anchors(), test::policy_for("x"));
  ASSERT_TRUE(a.has_value()) << a.error().message();
  EXPECT_EQ(a->state, McimState::installed);
  EXPECT_EQ(a->sho_id, "sho.example");
  EXPECT_EQ(a->counter, 1u);
  auto b = reg->install_sealed("B", sealed(2, "2"), pki.anchors(), test::policy_for("x"));
  ASSERT_TRUE(b.has_value()) << b.error().message();
  EXPECT_EQ(reg->last_counter("sho.example"), 2u);

  ASSERT_TRUE(reg->activate("A").has_value());
  EXPECT_EQ(reg->active()->id, "A");
  ASSERT_TRUE(reg->activate("B").has_value());  // the switch
  EXPECT_EQ(state_of(*reg, "A"), McimState::inactive);
  EXPECT_EQ(state_of(*reg, "B"), McimState::active);
  EXPECT_EQ(active_count(*reg), 1);
  auto prof = reg->profile("B");
  ASSERT_TRUE(prof.has_value());
  EXPECT_EQ(prof->imsi, "001010000000002");

  // Persisted: a restart sees the same registry.
  tre = open_tre();  // restart (the old registry object is not used any more)
  auto again = McimRegistry::open(*tre);
  ASSERT_TRUE(again.has_value());
  EXPECT_EQ(again->active()->id, "B");
  EXPECT_EQ(state_of(*again, "A"), McimState::inactive);
  EXPECT_EQ(again->last_counter("sho.example"), 2u);

  ASSERT_TRUE(again->deactivate("B").has_value());
  EXPECT_FALSE(again->active().has_value());
  EXPECT_EQ(again->deactivate("B").error(), make_error_code(errc::registry_bad_transition));
  ASSERT_TRUE(again->remove("A").has_value());
  EXPECT_EQ(state_of(*again, "A"), McimState::deleted);
  EXPECT_EQ(again->activate("A").error(), make_error_code(errc::registry_bad_transition));
  EXPECT_EQ(tre->get("mcim.A").error(), make_error_code(mo::errc::not_found));
  ASSERT_TRUE(again->reset_to_pristine().has_value());
  for (const auto& e : again->entries()) EXPECT_EQ(e.state, McimState::deleted);
  EXPECT_EQ(again->last_counter("sho.example"), 2u);  // counters survive pristine
}

TEST_F(Registry, CountersRefuseReplayAndRollbackAcrossRestarts) {
  auto& pki = TestPki::instance();
  const Bytes five = sealed(5);
  {
    auto tre = open_tre();
    auto reg = McimRegistry::open(*tre);
    ASSERT_TRUE(reg->install_sealed("A", five, pki.anchors(), test::policy_for("x")).has_value());
  }
  auto tre = open_tre();
  auto reg = McimRegistry::open(*tre);
  ASSERT_TRUE(reg.has_value());
  auto replay = reg->install_sealed("B", five, pki.anchors(), test::policy_for("x"));
  ASSERT_FALSE(replay.has_value());
  EXPECT_EQ(replay.error(), make_error_code(mo::errc::seal_replayed));
  EXPECT_EQ(state_of(*reg, "B"), McimState::downloaded);
  EXPECT_EQ(reg->find("B")->last_result, replay.error().message());
  ASSERT_TRUE(reg->remove("B").has_value());
  auto old = reg->install_sealed("C", sealed(4), pki.anchors(), test::policy_for("x"));
  ASSERT_FALSE(old.has_value());
  EXPECT_EQ(old.error(), make_error_code(mo::errc::seal_rolled_back));
  EXPECT_EQ(reg->install_sealed("A", sealed(6), pki.anchors(), test::policy_for("x")).error(),
            make_error_code(errc::registry_exists));
  EXPECT_TRUE(reg->install_sealed("D", sealed(6), pki.anchors(), test::policy_for("x")).has_value());
}

TEST_F(Registry, DamagedMcimIsBlockedAtStartAndLosesActive) {
  auto& pki = TestPki::instance();
  {
    auto tre = open_tre();
    auto reg = McimRegistry::open(*tre);
    ASSERT_TRUE(reg->install_sealed("A", sealed(1), pki.anchors(), test::policy_for("x")).has_value());
    ASSERT_TRUE(reg->install_sealed("B", sealed(2), pki.anchors(), test::policy_for("x")).has_value());
    ASSERT_TRUE(reg->activate("A").has_value());
  }
  Bytes blob = test::slurp_bytes(dir_ / "store" / "mcim.A.bin");
  blob[10] ^= 0x80;
  test::write_file(dir_ / "store" / "mcim.A.bin", blob);
  auto tre = open_tre();
  auto reg = McimRegistry::open(*tre);
  ASSERT_TRUE(reg.has_value());
  EXPECT_EQ(state_of(*reg, "A"), McimState::blocked);
  EXPECT_FALSE(reg->active().has_value());
  EXPECT_EQ(state_of(*reg, "B"), McimState::installed);
  EXPECT_EQ(reg->activate("A").error(), make_error_code(errc::registry_bad_transition));
  EXPECT_TRUE(reg->activate("B").has_value());
  EXPECT_TRUE(reg->remove("A").has_value());
}

TEST_F(Registry, CorruptRegistryIsReported) {
  {
    auto tre = open_tre();
    auto reg = McimRegistry::open(*tre);
    ASSERT_TRUE(reg->install_sealed("A", sealed(1), TestPki::instance().anchors(), test::policy_for("x")).has_value());
  }
  Bytes blob = test::slurp_bytes(dir_ / "store" / "registry.bin");
  blob.resize(blob.size() / 2);
  test::write_file(dir_ / "store" / "registry.bin", blob);
  auto tre = open_tre();
  auto reg = McimRegistry::open(*tre);
  ASSERT_FALSE(reg.has_value());
  EXPECT_EQ(reg.error(), make_error_code(errc::registry_corrupt));
}

// Power loss at each step of each write of an operation: after the "reboot" the registry shows
// the complete old state or the complete new state, and the Active MCIM's profile is readable
// and is the one the registry names.
TEST_F(Registry, PowerLossDuringSwitchAndInstallLeavesOldOrNew) {
  auto& pki = TestPki::instance();
  const Bytes c_pkg = sealed(3, "3");
  struct Snapshot {
    std::optional<std::string> active;
    std::vector<std::pair<std::string, McimState>> states;
    bool operator==(const Snapshot&) const = default;
  };
  auto snapshot = [](const McimRegistry& r) {
    Snapshot s;
    if (auto a = r.active()) s.active = a->id;
    for (const auto& e : r.entries())
      if (e.state != McimState::deleted) s.states.emplace_back(e.id, e.state);
    return s;
  };
  enum class Op { activate_b, install_c };
  for (Op op : {Op::activate_b, Op::install_c}) {
    for (int write_no = 0; write_no < 4; ++write_no) {
      for (const char* step : {"write", "sync", "rename", "dir-sync"}) {
        std::error_code ec;
        fs::remove_all(dir_ / "store", ec);
        Snapshot before, after;
        bool crashed = false;
        {
          auto tre = open_tre();
          auto reg = McimRegistry::open(*tre);
          ASSERT_TRUE(reg->install_sealed("A", sealed(1, "1"), pki.anchors(), test::policy_for("x")).has_value());
          ASSERT_TRUE(reg->install_sealed("B", sealed(2, "2"), pki.anchors(), test::policy_for("x")).has_value());
          ASSERT_TRUE(reg->activate("A").has_value());
          before = snapshot(*reg);
          int writes = 0;
          tre->set_crash_hook_for_testing([&](std::string_view s, std::string_view) {
            if (s == "write") ++writes;
            const bool now = writes - 1 == write_no && s == step;
            crashed = crashed || now;
            return now;
          });
          if (op == Op::activate_b) (void)reg->activate("B");
          else (void)reg->install_sealed("C", c_pkg, pki.anchors(), test::policy_for("x"));
          tre->set_crash_hook_for_testing(nullptr);
          if (!crashed) {
            after = snapshot(*reg);
          } else {
            // What the operation would have produced without the crash.
            after = before;
            if (op == Op::activate_b) {
              after.active = "B";
              after.states = {{"A", McimState::inactive}, {"B", McimState::active}};
            } else {
              after.states.emplace_back("C", McimState::installed);
            }
          }
        }
        auto tre = open_tre();  // reboot
        auto reg = McimRegistry::open(*tre);
        ASSERT_TRUE(reg.has_value()) << "write " << write_no << " step " << step;
        const Snapshot now = snapshot(*reg);
        // A Downloaded C (sealed package stored, not yet opened) is a legitimate intermediate
        // of install that leaves the old MCIMs untouched.
        Snapshot now_without_download = now;
        std::erase_if(now_without_download.states, [](const auto& s) { return s.second == McimState::downloaded; });
        EXPECT_TRUE(now == before || now == after || now_without_download == before)
            << "write " << write_no << " step " << step << " op " << static_cast<int>(op);
        ASSERT_EQ(active_count(*reg), 1);
        auto prof = reg->profile(reg->active()->id);
        ASSERT_TRUE(prof.has_value()) << "active MCIM unreadable after power loss";
        EXPECT_EQ(prof->imsi, reg->active()->imsi);
        for (const auto& e : reg->entries()) EXPECT_NE(e.state, McimState::blocked);
      }
    }
  }
}

}  // namespace
}  // namespace m2mdm::client
