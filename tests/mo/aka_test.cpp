// Network-side AKA: vector generation, AUTS verification, SQN generation (TS 33.102 §6.3, Annex C).
#include "m2mdm/mo/aka.hpp"
#include "m2mdm/mo/error.hpp"

#include "m2mdm/test/hex.hpp"

#include <gtest/gtest.h>

#include <set>
#include <string>
#include <string_view>

namespace m2mdm::mo {
namespace {

using test::unhex;
using test::hex;

// Three of the TS 35.208 §4.3 test sets (4.3.1, 4.3.3, 4.3.20): K, RAND, SQN, AMF, OPc, f1,
// f2, f3, f4, f5, f1*, f5* - used to check that the AUTN/AUTS layouts are assembled from them.
struct Set {
  std::string_view k, rand, sqn, amf, opc, f1, f2, f3, f4, f5, f1s, f5s;
};
constexpr Set kSets[] = {
    {"465b5ce8b199b49faa5f0a2ee238a6bc", "23553cbe9637a89d218ae64dae47bf35", "ff9bb4d0b607", "b9b9",
     "cd63cb71954a9f4e48a5994e37a02baf", "4a9ffac354dfafb3", "a54211d5e3ba50bf", "b40ba9a3c58b2a05bbf0d987b21bf8cb",
     "f769bcd751044604127672711c6d3441", "aa689c648370", "01cfaf9ec4e871e9", "451e8beca43b"},
    {"fec86ba6eb707ed08905757b1bb44b8f", "9f7c8d021accf4db213ccff0c7f71a6a", "9d0277595ffc", "725c",
     "1006020f0a478bf6b699f15c062e42b3", "9cabc3e99baf7281", "8011c48c0c214ed2", "5dbdbb2954e8f3cde665b046179a5098",
     "59a92d3b476a0443487055cf88b2307b", "33484dc2136b", "95814ba2b3044324", "deacdd848cc6"},
    {"90dca4eda45b53cf0f12d7c9c3bc6a89", "9fddc72092c6ad036b6e464789315b78", "20f813bd4141", "61df",
     "cb9cccc4b9258e6dca4760379fb82581", "09db94eab4f8149e", "a95100e2760952cd", "b5f2da03883b69f96bf52e029ed9ac45",
     "b4721368bc16ea67875c5598688bb0ef", "83cfd54db913", "a29468aa9775b527", "4f2039392ddc"},
};

Bytes xor_bytes(const Bytes& a, const Bytes& b) {
  Bytes out(a.size());
  for (std::size_t i = 0; i < a.size(); ++i) out[i] = static_cast<std::uint8_t>(a[i] ^ b[i]);
  return out;
}

/// Deterministic RandomSource for tests: a counter pattern.
class CountingRandom final : public RandomSource {
 public:
  Result<void> fill(std::span<std::uint8_t> out) override {
    for (auto& b : out) b = next_++;
    return {};
  }
  std::uint8_t next_ = 0;
};

class FailingRandom final : public RandomSource {
 public:
  Result<void> fill(std::span<std::uint8_t>) override { return fail(make_error_code(errc::crypto_error)); }
};

TEST(Aka, VectorMatchesTs35208Sets) {
  for (const auto& s : kSets) {
    auto keys = SubscriberKeys::from_opc(unhex(s.k), unhex(s.opc));
    ASSERT_TRUE(keys);
    auto v = generate_vector(*keys, unhex(s.rand), sqn_from_bytes(unhex(s.sqn)), unhex(s.amf));
    ASSERT_TRUE(v) << v.error().message();
    EXPECT_EQ(hex(v->rand), s.rand);
    EXPECT_EQ(hex(v->xres.bytes), s.f2);
    EXPECT_EQ(hex(v->ck.bytes), s.f3);
    EXPECT_EQ(hex(v->ik.bytes), s.f4);
    // AUTN = SQN xor AK || AMF || MAC-A, assembled here from the document's columns.
    const Bytes sqn_xor_ak = xor_bytes(unhex(s.sqn), unhex(s.f5));
    EXPECT_EQ(hex(v->autn), hex_encode(sqn_xor_ak) + std::string(s.amf) + std::string(s.f1));
    auto fields = parse_autn(v->autn);
    ASSERT_TRUE(fields);
    EXPECT_EQ(hex(fields->sqn_xor_ak), hex_encode(sqn_xor_ak));
    EXPECT_EQ(hex(fields->amf), s.amf);
    EXPECT_EQ(hex(fields->mac_a), s.f1);
    // The raw-bytes convenience overload gives the same vector.
    auto v2 = generate_vector(unhex(s.k), unhex(s.opc), v->sqn, unhex(s.amf), unhex(s.rand));
    ASSERT_TRUE(v2);
    EXPECT_EQ(v2->autn, v->autn);
    EXPECT_EQ(v2->xres, v->xres);
  }
}

TEST(Aka, AutsLayoutAndVerification) {
  for (const auto& s : kSets) {
    auto keys = SubscriberKeys::from_opc(unhex(s.k), unhex(s.opc));
    ASSERT_TRUE(keys);
    auto m = keys->milenage();
    ASSERT_TRUE(m);
    const std::uint64_t sqn_ms = sqn_from_bytes(unhex(s.sqn));
    auto auts = make_auts(*m, unhex(s.rand), sqn_ms);
    ASSERT_TRUE(auts);
    // First 6 bytes: SQN_MS xor AK* with AK* = f5* from the document.
    EXPECT_EQ(hex_encode(ByteView(auts->data(), 6)), hex_encode(xor_bytes(unhex(s.sqn), unhex(s.f5s))));
    // MAC-S uses AMF = 0000 (TS 33.102 §6.3.3), so it differs from the document's f1* (AMF != 0).
    auto f1 = m->f1(unhex(s.rand), unhex(s.sqn), unhex("0000"));
    ASSERT_TRUE(f1);
    EXPECT_EQ(hex_encode(ByteView(auts->data() + 6, 8)), hex(f1->mac_s));
    EXPECT_NE(hex(f1->mac_s), s.f1s);

    auto got = verify_auts(*keys, unhex(s.rand), *auts);
    ASSERT_TRUE(got) << got.error().message();
    EXPECT_EQ(*got, sqn_ms);
    auto got_raw = verify_auts(unhex(s.k), unhex(s.opc), unhex(s.rand), *auts);
    ASSERT_TRUE(got_raw);
    EXPECT_EQ(*got_raw, sqn_ms);

    // Any flipped bit anywhere in AUTS is refused (a flip in the SQN part changes the MAC input).
    for (std::size_t i = 0; i < kAutsSize; ++i) {
      Auts bad = *auts;
      bad[i] ^= 0x01;
      EXPECT_EQ(verify_auts(*keys, unhex(s.rand), bad).error(), make_error_code(errc::mac_mismatch)) << i;
    }
    // Wrong RAND: refused too.
    Bytes other_rand = unhex(s.rand);
    other_rand[15] ^= 0x80;
    EXPECT_EQ(verify_auts(*keys, other_rand, *auts).error(), make_error_code(errc::mac_mismatch));
  }
}

// A known AUTS for TS 35.208 test set 20's K/OPc/RAND (SQN_MS = 1), as published with an
// independent implementation's test suite (hostap tests/test-milenage.c): checks verify_auts
// against a value our own make_auts did not produce.
TEST(Aka, KnownAutsFromIndependentImplementation) {
  const auto& s = kSets[2];
  auto got = verify_auts(unhex(s.k), unhex(s.opc), unhex(s.rand), unhex("4f2039392ddd4bb4316ed4a14688"));
  ASSERT_TRUE(got) << got.error().message();
  EXPECT_EQ(*got, 1u);
}

TEST(Aka, RejectsBadLengths) {
  auto keys = SubscriberKeys::from_opc(Bytes(16, 1), Bytes(16, 2));
  ASSERT_TRUE(keys);
  const auto inval = make_error_code(errc::invalid_argument);
  EXPECT_EQ(generate_vector(*keys, Bytes(15), 1, Bytes(2)).error(), inval);
  EXPECT_EQ(generate_vector(*keys, Bytes(16), 1, Bytes(1)).error(), inval);
  EXPECT_EQ(generate_vector(*keys, Bytes(16), kSqnMax + 1, Bytes(2)).error(), inval);
  EXPECT_EQ(generate_vector(Bytes(16), Bytes(15), 1, Bytes(2), Bytes(16)).error(), inval);
  EXPECT_EQ(verify_auts(*keys, Bytes(16), Bytes(13)).error(), make_error_code(errc::malformed));
  EXPECT_EQ(verify_auts(*keys, Bytes(12), Bytes(14)).error(), inval);
  EXPECT_EQ(parse_autn(Bytes(15)).error(), make_error_code(errc::malformed));
  EXPECT_EQ(SubscriberKeys::from_opc(Bytes(16), Bytes(8)).error(), inval);
  EXPECT_EQ(SubscriberKeys::from_op(Bytes(3), Bytes(16)).error(), inval);
}

TEST(Aka, FromOpEqualsFromOpc) {
  auto a = SubscriberKeys::from_op(unhex("465b5ce8b199b49faa5f0a2ee238a6bc"), unhex("cdc202d5123e20f62b6d676ac72cb318"));
  ASSERT_TRUE(a);
  EXPECT_EQ(hex(a->opc.bytes), "cd63cb71954a9f4e48a5994e37a02baf");
}

TEST(Aka, RandomRandFromInjectedSource) {
  auto keys = SubscriberKeys::from_opc(unhex(kSets[0].k), unhex(kSets[0].opc));
  ASSERT_TRUE(keys);
  CountingRandom rng;
  auto v = generate_vector(*keys, rng, 42, unhex("8000"));
  ASSERT_TRUE(v);
  EXPECT_EQ(hex(v->rand), "000102030405060708090a0b0c0d0e0f");
  auto same = generate_vector(*keys, v->rand, 42, unhex("8000"));
  ASSERT_TRUE(same);
  EXPECT_EQ(same->autn, v->autn);
  FailingRandom bad;
  EXPECT_EQ(generate_vector(*keys, bad, 42, unhex("8000")).error(), make_error_code(errc::crypto_error));
}

TEST(Aka, OpenSslRandomGivesDistinctRands) {
  auto keys = SubscriberKeys::from_opc(unhex(kSets[0].k), unhex(kSets[0].opc));
  ASSERT_TRUE(keys);
  OpenSslRandom rng;
  std::set<std::string> seen;
  for (int i = 0; i < 32; ++i) {
    auto v = generate_vector(*keys, rng, 1, unhex("8000"));
    ASSERT_TRUE(v);
    seen.insert(hex(v->rand));
  }
  EXPECT_EQ(seen.size(), 32u);
}

TEST(SqnGenerator, SeqIncrementsAndIndCycles) {
  SqnGenerator g;  // profile: IND 5 bits
  std::uint64_t prev = 0;
  for (std::uint32_t i = 0; i < 70; ++i) {
    auto sqn = g.next();
    ASSERT_TRUE(sqn);
    EXPECT_EQ(g.profile().seq_of(*sqn), i + 1);
    EXPECT_EQ(g.profile().ind_of(*sqn), i % 32);
    EXPECT_GT(*sqn, prev);
    prev = *sqn;
  }
  EXPECT_EQ(g.seq(), 70u);
  EXPECT_EQ(g.next_ind(), 70u % 32);
  // Restored from persisted state, it continues where it left off.
  SqnGenerator restored({}, g.seq(), g.next_ind());
  auto a = g.next();
  auto b = restored.next();
  ASSERT_TRUE(a && b);
  EXPECT_EQ(*a, *b);
}

TEST(SqnGenerator, Exhaustion) {
  SqnProfile p;
  SqnGenerator g(p, p.max_seq() - 1, 0);
  auto last = g.next();
  ASSERT_TRUE(last);
  EXPECT_LE(*last, kSqnMax);
  EXPECT_EQ(g.next().error(), make_error_code(errc::sqn_exhausted));
}

TEST(SqnGenerator, Resync) {
  SqnProfile p;
  SqnGenerator g(p, 10, 3);
  // USIM has seen SEQ 500: the HE's next (11) would be refused -> jump to 500.
  EXPECT_TRUE(g.resync(p.make_sqn(500, 7)));
  EXPECT_EQ(g.seq(), 500u);
  auto n = g.next();
  ASSERT_TRUE(n);
  EXPECT_EQ(p.seq_of(*n), 501u);
  // USIM behind the HE by less than Δ: nothing to change.
  EXPECT_FALSE(g.resync(p.make_sqn(400, 0)));
  EXPECT_EQ(g.seq(), 501u);
  // HE more than Δ ahead of the USIM (wrap-around protection would refuse): come back down.
  SqnGenerator far(p, 10 + p.delta + 5, 0);
  EXPECT_TRUE(far.resync(p.make_sqn(10, 0)));
  EXPECT_EQ(far.seq(), 10u);
}

}  // namespace
}  // namespace m2mdm::mo
