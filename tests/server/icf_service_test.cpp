// The ICF service over a real SQLite store, with a deterministic random source: vectors match
// Milenage for the reserved SQNs, concurrent-safe reservation, resynchronisation from an AUTS,
// and each refusal as its own error code with nothing changed.
#include "m2mdm/mo/aka.hpp"
#include "m2mdm/server/error.hpp"
#include "m2mdm/server/icf.hpp"
#include "test_util.hpp"

#include <gtest/gtest.h>

#include <algorithm>

namespace m2mdm::server {
namespace {

/// RANDs 0x01.., 0x02.., ... so that expected vectors can be recomputed.
class CountingRandom final : public mo::RandomSource {
 public:
  Result<void> fill(std::span<std::uint8_t> out) override {
    ++calls;
    std::ranges::fill(out, static_cast<std::uint8_t>(calls));
    return {};
  }
  int calls = 0;
};

class FailingRandom final : public mo::RandomSource {
 public:
  Result<void> fill(std::span<std::uint8_t>) override { return fail(make_error_code(mo::errc::crypto_error)); }
};

struct IcfServiceTest : test::StoreWithSho {
  CountingRandom random;
  IcfService icf{*store, random, IcfOptions{4, {0x80, 0x00}}};

  void SetUp() override {
    test::StoreWithSho::SetUp();
    std::vector<Device> devices{test::make_device("IMEI:1", "001010000000001", sho),
                                test::make_device("IMEI:2", "001010000000002", sho)};
    devices[1].k.clear();  // no temporary credentials
    devices[1].opc.clear();
    ASSERT_TRUE(store->upsert_devices(devices, t));
  }
};

TEST_F(IcfServiceTest, VectorsAreMilenageForConsecutiveReservedSqns) {
  auto first = icf.vectors("001010000000001", 2, t);
  ASSERT_TRUE(first) << first.error().message();
  ASSERT_EQ(first->vectors.size(), 2u);
  auto second = icf.vectors("001010000000001", 1, t);
  ASSERT_TRUE(second);
  EXPECT_EQ(second->first_sqn, first->first_sqn + 2);  // never reused
  const Bytes k(16, 0x11), opc(16, 0x22);
  for (std::size_t i = 0; i < 2; ++i) {
    const Bytes rand(16, static_cast<std::uint8_t>(i + 1));
    auto expected = mo::generate_vector(k, opc, first->first_sqn + i, Bytes{0x80, 0x00}, rand);
    ASSERT_TRUE(expected);
    EXPECT_EQ(hex_encode(first->vectors[i].autn), hex_encode(expected->autn));
    EXPECT_EQ(hex_encode(first->vectors[i].xres.view()), hex_encode(expected->xres.view()));
    EXPECT_EQ(first->vectors[i].sqn, first->first_sqn + i);
  }
  EXPECT_EQ(store->get_device("IMEI:1")->sqn, first->first_sqn + 3);
}

TEST_F(IcfServiceTest, RefusalsAreTypedAndChangeNothing) {
  const auto sqn_before = store->get_device("IMEI:1")->sqn;
  EXPECT_EQ(icf.vectors("001010000000001", 0, t).error(), make_error_code(errc::invalid_argument));
  EXPECT_EQ(icf.vectors("001010000000001", 5, t).error(), make_error_code(errc::invalid_argument));
  EXPECT_EQ(icf.vectors("999", 1, t).error(), make_error_code(errc::not_found));
  EXPECT_EQ(icf.vectors("001010000000002", 1, t).error(), make_error_code(errc::no_credentials));
  FailingRandom broken;
  IcfService no_rng(*store, broken);
  EXPECT_FALSE(no_rng.vectors("001010000000001", 1, t));
  EXPECT_EQ(random.calls, 0);
  // The failing RNG came after the reservation: SQNs may be skipped, never reused.
  EXPECT_GE(store->get_device("IMEI:1")->sqn, sqn_before);
}

TEST_F(IcfServiceTest, SqnSpaceExhaustionIsReported) {
  constexpr std::uint64_t kSqnMax = (std::uint64_t{1} << 48) - 1;
  ASSERT_TRUE(store->set_sqn("001010000000001", kSqnMax - 1, t));
  EXPECT_EQ(icf.vectors("001010000000001", 2, t).error(), make_error_code(errc::exhausted));
  EXPECT_EQ(store->get_device("IMEI:1")->sqn, kSqnMax - 1);
}

TEST_F(IcfServiceTest, ResyncContinuesAfterTheUsimSqnAndRefusesABadMac) {
  auto keys = mo::SubscriberKeys::from_opc(Bytes(16, 0x11), Bytes(16, 0x22));
  ASSERT_TRUE(keys);
  auto m = keys->milenage();
  ASSERT_TRUE(m);
  const Bytes rand(16, 0x5a);
  auto auts = mo::make_auts(*m, rand, 1000);
  ASSERT_TRUE(auts);
  Bytes bad(auts->begin(), auts->end());
  bad.back() ^= 1;
  EXPECT_EQ(icf.resync("001010000000001", rand, bad, t).error(), make_error_code(errc::verification_failed));
  EXPECT_EQ(store->get_device("IMEI:1")->sqn, 0u);
  auto out = icf.resync("001010000000001", rand, Bytes(auts->begin(), auts->end()), t);
  ASSERT_TRUE(out) << out.error().message();
  EXPECT_EQ(out->sqn_ms, 1000u);
  EXPECT_EQ(out->next_sqn, 1001u);
  EXPECT_EQ(store->get_device("IMEI:1")->sqn, 1001u);
  // An older SQN_MS never moves the ICF back.
  auto older = mo::make_auts(*m, rand, 10);
  ASSERT_TRUE(older);
  auto again = icf.resync("001010000000001", rand, Bytes(older->begin(), older->end()), t);
  ASSERT_TRUE(again);
  EXPECT_EQ(again->next_sqn, 1001u);
  EXPECT_EQ(icf.resync("001010000000002", rand, Bytes(auts->begin(), auts->end()), t).error(),
            make_error_code(errc::no_credentials));
}

}  // namespace
}  // namespace m2mdm::server
