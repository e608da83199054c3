// The software USIM against the network side (mo/aka.hpp): real Milenage, real files.
#include "m2mdm/client/error.hpp"
#include "m2mdm/client/usim.hpp"
#include "m2mdm/mo/aka.hpp"
#include "m2mdm/mo/error.hpp"

#include "m2mdm/test/hex.hpp"

#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>

namespace m2mdm::client {
namespace {

namespace fs = std::filesystem;

using test::unhex;

// TS 35.208 §4.3.1 test set 1 keys.
mo::SubscriberKeys keys1() {
  return mo::SubscriberKeys::from_opc(unhex("465b5ce8b199b49faa5f0a2ee238a6bc"),
                                      unhex("cd63cb71954a9f4e48a5994e37a02baf"))
      .value();
}
// TS 35.208 §4.3.3 test set 3 keys (used as "the other subscription").
mo::SubscriberKeys keys3() {
  return mo::SubscriberKeys::from_opc(unhex("fec86ba6eb707ed08905757b1bb44b8f"),
                                      unhex("1006020f0a478bf6b699f15c062e42b3"))
      .value();
}

// Whether @p out is an answer of the USIM, and the @p Outcome one (AkaSuccess, AkaSyncFailure,
// AkaMacFailure, AkaAmfFailure).
template <typename Outcome>
::testing::AssertionResult answered(const Result<AkaOutcome>& out) {
  if (!out) return ::testing::AssertionFailure() << "no answer: " << out.error().message();
  if (!std::holds_alternative<Outcome>(*out))
    return ::testing::AssertionFailure() << "another outcome (alternative " << out->index() << ")";
  return ::testing::AssertionSuccess();
}

UsimProfile profile(std::string imsi = "001010000000001", mo::SubscriberKeys k = keys1(), std::uint64_t sqn = 0) {
  return UsimProfile{std::move(imsi), std::move(k), sqn};
}

const Bytes kAmf = {0x80, 0x00};

/// A per-test temporary directory, removed afterwards.
class TempDir {
 public:
  TempDir() {
    path_ = fs::temp_directory_path() / ("m2mdm-usim-" + std::to_string(::getpid()) + "-" +
                                         ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(path_);
    fs::create_directories(path_);
  }
  ~TempDir() { fs::remove_all(path_); }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

struct Network {
  mo::SubscriberKeys keys = keys1();
  mo::SqnGenerator sqn;
  mo::OpenSslRandom rng;
  mo::AuthVector next() {
    auto s = sqn.next();
    EXPECT_TRUE(s);
    auto v = mo::generate_vector(keys, rng, *s, kAmf);
    EXPECT_TRUE(v);
    return std::move(*v);
  }
};

TEST(Usim, RoundTripWithNetworkVectors) {
  auto usim = Usim::create(profile());
  ASSERT_TRUE(usim) << usim.error().message();
  Network net;
  for (int i = 0; i < 40; ++i) {
    const auto v = net.next();
    auto out = usim->authenticate(v.rand, v.autn);
    ASSERT_TRUE(out) << out.error().message();
    auto* ok = std::get_if<AkaSuccess>(&*out);
    ASSERT_NE(ok, nullptr) << "vector " << i << " outcome index " << out->index();
    EXPECT_EQ(ok->res, v.xres);  // RES == XRES
    EXPECT_EQ(ok->ck, v.ck);
    EXPECT_EQ(ok->ik, v.ik);
  }
  EXPECT_EQ(usim->sqn_state().highest_seq(), 40u);
}

TEST(Usim, VectorsOutOfOrderWithinTheArrayAreAccepted) {
  auto usim = Usim::create(profile());
  ASSERT_TRUE(usim);
  Network net;
  std::vector<mo::AuthVector> batch;
  for (int i = 0; i < 5; ++i) batch.push_back(net.next());  // distinct IND values 0..4
  for (int i = 4; i >= 0; --i) {
    EXPECT_TRUE(answered<AkaSuccess>(usim->authenticate(batch[i].rand, batch[i].autn))) << i;
  }
}

TEST(Usim, ReplayOfSameAutnIsRefusedWithAuts) {
  auto usim = Usim::create(profile());
  ASSERT_TRUE(usim);
  Network net;
  const auto v = net.next();
  ASSERT_TRUE(answered<AkaSuccess>(usim->authenticate(v.rand, v.autn)));
  auto again = usim->authenticate(v.rand, v.autn);
  ASSERT_TRUE(answered<AkaSyncFailure>(again));
  // The AUTS verifies at the network and carries the USIM's highest SQN.
  auto sqn_ms = mo::verify_auts(net.keys, v.rand, std::get<AkaSyncFailure>(*again).auts);
  ASSERT_TRUE(sqn_ms) << sqn_ms.error().message();
  EXPECT_EQ(*sqn_ms, v.sqn);
}

TEST(Usim, MacFailureOnAnyTamperedAutnOrWrongKey) {
  auto usim = Usim::create(profile());
  ASSERT_TRUE(usim);
  Network net;
  const auto v = net.next();
  for (std::size_t i = 0; i < mo::kAutnSize; ++i) {
    mo::Autn bad = v.autn;
    bad[i] ^= 0x04;
    EXPECT_TRUE(answered<AkaMacFailure>(usim->authenticate(v.rand, bad))) << "byte " << i;
  }
  mo::Rand other = v.rand;
  other[0] ^= 1;
  ASSERT_TRUE(answered<AkaMacFailure>(usim->authenticate(other, v.autn)));
  // A vector made with other keys.
  auto foreign = mo::generate_vector(keys3(), v.rand, 1, kAmf);
  ASSERT_TRUE(foreign);
  ASSERT_TRUE(answered<AkaMacFailure>(usim->authenticate(foreign->rand, foreign->autn)));
  // The untampered vector still works: failures did not touch the SQN state.
  EXPECT_TRUE(answered<AkaSuccess>(usim->authenticate(v.rand, v.autn)));
}

TEST(Usim, SqnOutOfWindowThenResyncRecovers) {
  // The USIM has already consumed SQN up to SEQ 1000 (e.g. vectors of an earlier HE).
  mo::SqnProfile p;
  auto usim = Usim::create(profile("001010000000001", keys1(), p.make_sqn(1000, 0)));
  ASSERT_TRUE(usim);
  Network net;  // HE starts at SEQ 0: out of sync
  const auto v = net.next();
  auto out = usim->authenticate(v.rand, v.autn);
  ASSERT_TRUE(answered<AkaSyncFailure>(out));
  auto sqn_ms = mo::verify_auts(net.keys, v.rand, std::get<AkaSyncFailure>(*out).auts);
  ASSERT_TRUE(sqn_ms);
  EXPECT_EQ(p.seq_of(*sqn_ms), 1000u);
  EXPECT_TRUE(net.sqn.resync(*sqn_ms));
  const auto v2 = net.next();
  EXPECT_TRUE(answered<AkaSuccess>(usim->authenticate(v2.rand, v2.autn)));
}

TEST(Usim, ForwardJumpBeyondDeltaIsRefused) {
  auto usim = Usim::create(profile());
  ASSERT_TRUE(usim);
  mo::SqnProfile p;
  const auto keys = keys1();
  mo::OpenSslRandom rng;
  auto far = mo::generate_vector(keys, rng, p.make_sqn(p.delta + 1, 0), kAmf);
  ASSERT_TRUE(far);
  ASSERT_TRUE(answered<AkaSyncFailure>(usim->authenticate(far->rand, far->autn)));
  auto edge = mo::generate_vector(keys, rng, p.make_sqn(p.delta, 0), kAmf);
  ASSERT_TRUE(edge);
  EXPECT_TRUE(answered<AkaSuccess>(usim->authenticate(edge->rand, edge->autn)));
}

TEST(Usim, OldSeqBeyondLIsRefusedEvenInUnusedSlot) {
  mo::SqnProfile p;
  auto usim = Usim::create(profile());
  ASSERT_TRUE(usim);
  const auto keys = keys1();
  mo::OpenSslRandom rng;
  auto hi = mo::generate_vector(keys, rng, p.make_sqn(100, 0), kAmf);
  ASSERT_TRUE(hi);
  ASSERT_TRUE(answered<AkaSuccess>(usim->authenticate(hi->rand, hi->autn)));
  // SEQ 100 - 32 = 68 in slot 5 (still at 0): 100 - 68 >= L -> refused.
  auto old = mo::generate_vector(keys, rng, p.make_sqn(100 - p.limit_l, 5), kAmf);
  ASSERT_TRUE(old);
  EXPECT_TRUE(answered<AkaSyncFailure>(usim->authenticate(old->rand, old->autn)));
  // SEQ 69 in slot 6: within L -> accepted.
  auto recent = mo::generate_vector(keys, rng, p.make_sqn(100 - p.limit_l + 1, 6), kAmf);
  ASSERT_TRUE(recent);
  EXPECT_TRUE(answered<AkaSuccess>(usim->authenticate(recent->rand, recent->autn)));
}

TEST(Usim, AmfSeparationBit) {
  UsimOptions o;
  o.require_amf_separation_bit = true;
  auto usim = Usim::create(profile(), nullptr, o);
  ASSERT_TRUE(usim);
  mo::OpenSslRandom rng;
  auto v = mo::generate_vector(keys1(), rng, mo::SqnProfile{}.make_sqn(1, 0), Bytes{0x00, 0x00});
  ASSERT_TRUE(v);
  ASSERT_TRUE(answered<AkaAmfFailure>(usim->authenticate(v->rand, v->autn)));
  v = mo::generate_vector(keys1(), rng, mo::SqnProfile{}.make_sqn(1, 0), kAmf);
  ASSERT_TRUE(v);
  EXPECT_TRUE(answered<AkaSuccess>(usim->authenticate(v->rand, v->autn)));
}

TEST(Usim, BadArguments) {
  EXPECT_EQ(Usim::create(profile("12345")).error(), make_error_code(errc::invalid_argument));
  EXPECT_EQ(Usim::create(profile("00101000000000a")).error(), make_error_code(errc::invalid_argument));
  auto usim = Usim::create(profile());
  ASSERT_TRUE(usim);
  EXPECT_EQ(usim->authenticate(Bytes(15), Bytes(16)).error(), make_error_code(errc::invalid_argument));
  EXPECT_EQ(usim->authenticate(Bytes(16), Bytes(17)).error(), make_error_code(errc::invalid_argument));
}

TEST(UsimPersistence, StateSurvivesRestartAndReplayStaysRefused) {
  TempDir dir;
  const fs::path file = dir.path() / "usim.sqn";
  Network net;
  const auto v1 = net.next();
  const auto v2 = net.next();
  {
    auto usim = Usim::create(profile(), std::make_unique<FileSqnStateStore>(file));
    ASSERT_TRUE(usim);
    EXPECT_TRUE(fs::exists(file));  // the initial state is saved at once
    ASSERT_TRUE(answered<AkaSuccess>(usim->authenticate(v1.rand, v1.autn)));
  }
  // "Power cycle": a new USIM object on the same file.
  auto usim = Usim::create(profile(), std::make_unique<FileSqnStateStore>(file));
  ASSERT_TRUE(usim);
  EXPECT_EQ(usim->sqn_state().highest_seq(), 1u);
  ASSERT_TRUE(answered<AkaSyncFailure>(usim->authenticate(v1.rand, v1.autn)));
  ASSERT_TRUE(answered<AkaSuccess>(usim->authenticate(v2.rand, v2.autn)));
  EXPECT_FALSE(fs::exists(file.string() + ".tmp"));
}

TEST(UsimPersistence, SaveFailureLeavesChallengeUnanswered) {
  TempDir dir;
  const fs::path sub = dir.path() / "gone";
  fs::create_directories(sub);
  auto usim = Usim::create(profile(), std::make_unique<FileSqnStateStore>(sub / "usim.sqn"));
  ASSERT_TRUE(usim);
  fs::remove_all(sub);  // the storage disappears
  Network net;
  const auto v = net.next();
  auto out = usim->authenticate(v.rand, v.autn);
  ASSERT_FALSE(out);
  EXPECT_EQ(usim->sqn_state().highest_seq(), 0u);  // state unchanged
}

TEST(UsimPersistence, CorruptStateIsAnErrorNotAReset) {
  TempDir dir;
  const fs::path file = dir.path() / "usim.sqn";
  {
    std::ofstream out(file, std::ios::binary);
    out << "garbage";
  }
  auto usim = Usim::create(profile(), std::make_unique<FileSqnStateStore>(file));
  ASSERT_FALSE(usim);
  EXPECT_EQ(usim.error(), make_error_code(errc::malformed));
}

TEST(SqnStateCodec, RoundTripAndStrictParsing) {
  SqnState s("001010123456789", 5, 7);
  mo::SqnProfile p;
  s.accept(p.make_sqn(9, 3), p);
  const Bytes b = s.serialize();
  EXPECT_EQ(b.size(), 4u + 3u + 15u + 32u * 6u);
  auto back = SqnState::deserialize(b);
  ASSERT_TRUE(back);
  EXPECT_EQ(*back, s);
  EXPECT_EQ(back->seq(3), 9u);
  EXPECT_EQ(back->sqn_ms(), p.make_sqn(9, 3));
  // Every truncation and every extension is refused.
  for (std::size_t n = 0; n < b.size(); ++n)
    EXPECT_FALSE(SqnState::deserialize(ByteView(b.data(), n))) << n;
  Bytes longer = b;
  longer.push_back(0);
  EXPECT_FALSE(SqnState::deserialize(longer));
  Bytes bad_magic = b;
  bad_magic[0] = 'X';
  EXPECT_FALSE(SqnState::deserialize(bad_magic));
  Bytes bad_digit = b;
  bad_digit[7] = 'a';
  EXPECT_FALSE(SqnState::deserialize(bad_digit));
  Bytes bad_seq = b;
  bad_seq[7 + 15] = 0xFF;  // SEQ above 43 bits
  EXPECT_FALSE(SqnState::deserialize(bad_seq));
}

TEST(UsimReset, NewSubscriptionReplacesOld) {
  TempDir dir;
  const fs::path file = dir.path() / "usim.sqn";
  auto usim = Usim::create(profile(), std::make_unique<FileSqnStateStore>(file));
  ASSERT_TRUE(usim);
  Network old_net;
  for (int i = 0; i < 3; ++i) {
    const auto v = old_net.next();
    ASSERT_TRUE(answered<AkaSuccess>(usim->authenticate(v.rand, v.autn)));
  }
  // Alt 3d: the MCIM brings IMSI 2, K/OPc of set 3.
  ASSERT_TRUE(usim->reset(profile("208930000000002", keys3(), 0)));
  EXPECT_EQ(usim->imsi(), "208930000000002");
  EXPECT_EQ(usim->sqn_state().highest_seq(), 0u);
  // Old subscription's vectors now fail the MAC; the new HE's vectors succeed.
  const auto stale = old_net.next();
  EXPECT_TRUE(answered<AkaMacFailure>(usim->authenticate(stale.rand, stale.autn)));
  Network new_net;
  new_net.keys = keys3();
  const auto v = new_net.next();
  ASSERT_TRUE(answered<AkaSuccess>(usim->authenticate(v.rand, v.autn)));
  // After a restart with the new profile, the saved state (new IMSI) is resumed.
  auto again = Usim::create(profile("208930000000002", keys3(), 0), std::make_unique<FileSqnStateStore>(file));
  ASSERT_TRUE(again);
  EXPECT_EQ(again->sqn_state().highest_seq(), 1u);
  // A bad profile changes nothing.
  EXPECT_FALSE(usim->reset(profile("x", keys1(), 0)));
  EXPECT_EQ(usim->imsi(), "208930000000002");
}

}  // namespace
}  // namespace m2mdm::client
