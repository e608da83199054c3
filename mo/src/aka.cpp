// UMTS AKA, network side (3GPP TS 33.102 §6.3 and Annex C).
#include "m2mdm/mo/aka.hpp"

#include "m2mdm/mo/error.hpp"

#include <openssl/rand.h>

#include <algorithm>
#include <climits>

namespace m2mdm::mo {
namespace {

std::unexpected<std::error_code> err(errc e) { return fail(make_error_code(e)); }

}  // namespace

Result<SubscriberKeys> SubscriberKeys::from_opc(ByteView k, ByteView opc, const MilenageConstants& constants) {
  if (k.size() != kMilenageKeySize || opc.size() != kMilenageKeySize || !milenage_constants_valid(constants))
    return err(errc::invalid_argument);
  SubscriberKeys s;
  std::copy(k.begin(), k.end(), s.k.bytes.begin());
  std::copy(opc.begin(), opc.end(), s.opc.bytes.begin());
  s.constants = constants;
  return s;
}

Result<SubscriberKeys> SubscriberKeys::from_op(ByteView k, ByteView op, const MilenageConstants& constants) {
  auto opc = Milenage::derive_opc(k, op);
  if (!opc) return fail(opc.error());
  return from_opc(k, opc->view(), constants);
}

Result<Milenage> SubscriberKeys::milenage() const { return Milenage::create(k.view(), opc.view(), constants); }

Result<void> OpenSslRandom::fill(std::span<std::uint8_t> out) {
  if (out.empty()) return {};
  if (out.size() > static_cast<std::size_t>(INT_MAX)) return err(errc::invalid_argument);
  if (RAND_bytes(out.data(), static_cast<int>(out.size())) != 1) return err(errc::crypto_error);
  return {};
}

Result<AuthVector> generate_vector(const Milenage& m, ByteView rand, std::uint64_t sqn, ByteView amf) {
  if (rand.size() != kRandSize || amf.size() != kAmfSize || sqn > kSqnMax) return err(errc::invalid_argument);
  const Sqn sqn_bytes = sqn_to_bytes(sqn);
  auto f1 = m.f1(rand, sqn_bytes, amf);
  if (!f1) return fail(f1.error());
  auto f = m.f2345(rand);
  if (!f) return fail(f.error());
  AuthVector v;
  std::copy(rand.begin(), rand.end(), v.rand.begin());
  v.xres = f->res;
  v.ck = f->ck;
  v.ik = f->ik;
  v.sqn = sqn;
  // AUTN = SQN xor AK || AMF || MAC-A (TS 33.102 §6.3.2).
  for (std::size_t i = 0; i < kSqnSize; ++i) v.autn[i] = static_cast<std::uint8_t>(sqn_bytes[i] ^ f->ak.bytes[i]);
  std::copy(amf.begin(), amf.end(), v.autn.begin() + 6);
  std::copy(f1->mac_a.begin(), f1->mac_a.end(), v.autn.begin() + 8);
  return v;
}

Result<AuthVector> generate_vector(const SubscriberKeys& keys, ByteView rand, std::uint64_t sqn, ByteView amf) {
  auto m = keys.milenage();
  if (!m) return fail(m.error());
  return generate_vector(*m, rand, sqn, amf);
}

Result<AuthVector> generate_vector(const SubscriberKeys& keys, RandomSource& rng, std::uint64_t sqn, ByteView amf) {
  Rand rand{};
  if (auto r = rng.fill(rand); !r) return fail(r.error());
  return generate_vector(keys, rand, sqn, amf);
}

Result<AuthVector> generate_vector(ByteView k, ByteView opc, std::uint64_t sqn, ByteView amf, ByteView rand) {
  auto m = Milenage::create(k, opc);
  if (!m) return fail(m.error());
  return generate_vector(*m, rand, sqn, amf);
}

Result<AutnFields> parse_autn(ByteView autn) {
  if (autn.size() != kAutnSize) return err(errc::malformed);
  AutnFields f;
  std::copy(autn.begin(), autn.begin() + 6, f.sqn_xor_ak.begin());
  std::copy(autn.begin() + 6, autn.begin() + 8, f.amf.begin());
  std::copy(autn.begin() + 8, autn.end(), f.mac_a.begin());
  return f;
}

Result<Auts> make_auts(const Milenage& m, ByteView rand, std::uint64_t sqn_ms) {
  if (rand.size() != kRandSize || sqn_ms > kSqnMax) return err(errc::invalid_argument);
  const Sqn sqn_bytes = sqn_to_bytes(sqn_ms);
  constexpr Amf kDummyAmf{0x00, 0x00};  // TS 33.102 §6.3.3: MAC-S uses AMF = 0x0000
  auto f1 = m.f1(rand, sqn_bytes, kDummyAmf);
  if (!f1) return fail(f1.error());
  auto ak_star = m.f5_star(rand);
  if (!ak_star) return fail(ak_star.error());
  Auts auts{};
  for (std::size_t i = 0; i < kSqnSize; ++i) auts[i] = static_cast<std::uint8_t>(sqn_bytes[i] ^ ak_star->bytes[i]);
  std::copy(f1->mac_s.begin(), f1->mac_s.end(), auts.begin() + 6);
  return auts;
}

Result<std::uint64_t> verify_auts(const Milenage& m, ByteView rand, ByteView auts) {
  if (auts.size() != kAutsSize) return err(errc::malformed);
  if (rand.size() != kRandSize) return err(errc::invalid_argument);
  auto ak_star = m.f5_star(rand);
  if (!ak_star) return fail(ak_star.error());
  Sqn sqn_ms{};
  for (std::size_t i = 0; i < kSqnSize; ++i) sqn_ms[i] = static_cast<std::uint8_t>(auts[i] ^ ak_star->bytes[i]);
  constexpr Amf kDummyAmf{0x00, 0x00};
  auto f1 = m.f1(rand, sqn_ms, kDummyAmf);
  if (!f1) return fail(f1.error());
  if (!constant_time_equal(f1->mac_s, auts.subspan(6, 8))) return err(errc::mac_mismatch);
  return sqn_from_bytes(sqn_ms);
}

Result<std::uint64_t> verify_auts(const SubscriberKeys& keys, ByteView rand, ByteView auts) {
  auto m = keys.milenage();
  if (!m) return fail(m.error());
  return verify_auts(*m, rand, auts);
}

Result<std::uint64_t> verify_auts(ByteView k, ByteView opc, ByteView rand, ByteView auts) {
  auto m = Milenage::create(k, opc);
  if (!m) return fail(m.error());
  return verify_auts(*m, rand, auts);
}

Result<std::uint64_t> SqnGenerator::next() {
  if (!profile_.valid()) return err(errc::invalid_argument);
  if (seq_he_ >= profile_.max_seq()) return err(errc::sqn_exhausted);
  ++seq_he_;
  const std::uint32_t ind = next_ind_ & static_cast<std::uint32_t>((std::uint64_t{1} << profile_.ind_bits) - 1);
  next_ind_ = static_cast<std::uint32_t>((std::uint64_t{ind} + 1) % (std::uint64_t{1} << profile_.ind_bits));
  return profile_.make_sqn(seq_he_, ind);
}

bool SqnGenerator::resync(std::uint64_t sqn_ms) noexcept {
  const std::uint64_t seq_ms = profile_.seq_of(sqn_ms);
  const std::uint64_t candidate = seq_he_ + 1;
  // TS 33.102 §6.3.5 / Annex C.2: the USIM would accept SEQ if SEQ > SEQ_MS and SEQ - SEQ_MS <= Δ.
  const bool acceptable = candidate > seq_ms && candidate - seq_ms <= profile_.delta;
  if (acceptable) return false;
  seq_he_ = seq_ms;
  return true;
}

}  // namespace m2mdm::mo
