/// @file aka.hpp
/// @brief UMTS AKA, network side (3GPP TS 33.102 §6.3): authentication vector generation in
///        the HE/AuC (what the ICF serves to a VNO), sequence number management (Annex C) and
///        verification of a resynchronisation token AUTS. Also the AUTN/AUTS layouts the USIM
///        side (client/usim.hpp) shares.
///
/// All functions are I/O-free; randomness comes through the RandomSource interface so tests are
/// deterministic.
#pragma once

#include "m2mdm/mo/milenage.hpp"
#include "m2mdm/syncml/encoding.hpp"
#include "m2mdm/syncml/result.hpp"

#include <array>
#include <cstdint>
#include <span>

namespace m2mdm::mo {

inline constexpr std::size_t kRandSize = 16;
inline constexpr std::size_t kAutnSize = 16;  ///< SQN xor AK (6) || AMF (2) || MAC-A (8)
inline constexpr std::size_t kAutsSize = 14;  ///< SQN_MS xor AK* (6) || MAC-S (8)

using Rand = std::array<std::uint8_t, kRandSize>;
using Autn = std::array<std::uint8_t, kAutnSize>;
using Auts = std::array<std::uint8_t, kAutsSize>;

/// What the HE/AuC holds for one subscriber (or one PCID's temporary credentials).
struct SubscriberKeys {
  Key128 k;
  Key128 opc;
  MilenageConstants constants = MilenageConstants::defaults();

  /// From K and OPc (16 bytes each); mo::errc::invalid_argument on wrong lengths / constants.
  static Result<SubscriberKeys> from_opc(ByteView k, ByteView opc,
                                         const MilenageConstants& constants = MilenageConstants::defaults());
  /// From K and OP: OPc = OP xor E_K(OP) (TS 35.206 §4.1).
  static Result<SubscriberKeys> from_op(ByteView k, ByteView op,
                                        const MilenageConstants& constants = MilenageConstants::defaults());
  /// A Milenage instance for these keys (one AES key schedule; reuse it for many vectors).
  Result<Milenage> milenage() const;
};

/// An authentication vector ("quintet", TS 33.102 §6.3.2): RAND, XRES, CK, IK, AUTN.
struct AuthVector {
  Rand rand{};
  SecretArray<kResSize> xres;  ///< f2(RAND), 8 bytes
  Key128 ck;                   ///< f3(RAND)
  Key128 ik;                   ///< f4(RAND)
  Autn autn{};                 ///< SQN xor AK || AMF || MAC-A
  std::uint64_t sqn = 0;       ///< the SQN it carries (for the HE's records; not sent)
};

/// Source of random bytes (RAND). Implementations must be safe to call repeatedly.
class RandomSource {
 public:
  virtual ~RandomSource() = default;
  /// Fills @p out completely or fails (mo::errc::crypto_error).
  virtual Result<void> fill(std::span<std::uint8_t> out) = 0;
};

/// RAND_bytes from OpenSSL's default DRBG. Thread-safe.
class OpenSslRandom final : public RandomSource {
 public:
  Result<void> fill(std::span<std::uint8_t> out) override;
};

/// Generates one vector for @p rand (16 bytes), @p sqn (48 bits) and @p amf (2 bytes)
/// (TS 33.102 §6.3.2): MAC-A = f1(K; SQN, RAND, AMF), XRES = f2, CK = f3, IK = f4, AK = f5,
/// AUTN = SQN xor AK || AMF || MAC-A. Errors: mo::errc::invalid_argument (lengths, SQN above
/// 48 bits), mo::errc::crypto_error.
Result<AuthVector> generate_vector(const Milenage& m, ByteView rand, std::uint64_t sqn, ByteView amf);
/// Same, building the Milenage instance from @p keys.
Result<AuthVector> generate_vector(const SubscriberKeys& keys, ByteView rand, std::uint64_t sqn, ByteView amf);
/// Same, with a fresh RAND drawn from @p rng.
Result<AuthVector> generate_vector(const SubscriberKeys& keys, RandomSource& rng, std::uint64_t sqn, ByteView amf);
/// Convenience for callers holding raw bytes (the ICF): K, OPc (16 each), default constants.
Result<AuthVector> generate_vector(ByteView k, ByteView opc, std::uint64_t sqn, ByteView amf, ByteView rand);

/// The three fields of an AUTN.
struct AutnFields {
  Sqn sqn_xor_ak{};
  Amf amf{};
  Mac mac_a{};
};
/// Splits a 16-byte AUTN (mo::errc::malformed on any other length).
Result<AutnFields> parse_autn(ByteView autn);

/// Builds AUTS = SQN_MS xor AK* || MAC-S (TS 33.102 §6.3.3), where AK* = f5*(RAND) and
/// MAC-S = f1*(K; SQN_MS, RAND, AMF) with the dummy AMF 0x0000 (§6.3.3: "the AMF used to
/// calculate MAC-S assumes a dummy value of all zeros"). This is the USIM's side of resync.
Result<Auts> make_auts(const Milenage& m, ByteView rand, std::uint64_t sqn_ms);

/// Verifies an AUTS received for @p rand (TS 33.102 §6.3.5): recovers SQN_MS with f5*, checks
/// MAC-S (constant time) and returns SQN_MS. Errors: mo::errc::malformed (length),
/// mo::errc::invalid_argument (RAND length), mo::errc::mac_mismatch (MAC-S wrong).
Result<std::uint64_t> verify_auts(const Milenage& m, ByteView rand, ByteView auts);
Result<std::uint64_t> verify_auts(const SubscriberKeys& keys, ByteView rand, ByteView auts);
/// Convenience for callers holding raw bytes (the ICF): K, OPc (16 each), default constants.
Result<std::uint64_t> verify_auts(ByteView k, ByteView opc, ByteView rand, ByteView auts);

/// Sequence number management parameters (TS 33.102 Annex C: SQN = SEQ || IND, an array of
/// a = 2^ind_bits entries in the USIM). Defaults are the values of the Annex C.3 profile:
/// IND of 5 bits (a = 32), Δ = 2^28 (the maximum forward jump the USIM accepts, protecting
/// against wrap-around), L = 2^5 (how far below the highest accepted SEQ a SEQ may be and still
/// be accepted in its own IND slot; 0 disables the L check).
struct SqnProfile {
  unsigned ind_bits = 5;
  std::uint64_t delta = std::uint64_t{1} << 28;
  std::uint64_t limit_l = 32;

  std::uint64_t seq_of(std::uint64_t sqn) const noexcept { return (sqn & kSqnMax) >> ind_bits; }
  std::uint32_t ind_of(std::uint64_t sqn) const noexcept {
    return static_cast<std::uint32_t>(sqn & ((std::uint64_t{1} << ind_bits) - 1));
  }
  std::uint64_t make_sqn(std::uint64_t seq, std::uint32_t ind) const noexcept {
    return ((seq << ind_bits) | ind) & kSqnMax;
  }
  std::uint64_t max_seq() const noexcept { return kSqnMax >> ind_bits; }
  /// ind_bits in 0..16 and delta >= 1.
  bool valid() const noexcept { return ind_bits <= 16 && delta >= 1; }
};

/// The HE/AuC's SQN generator for one subscriber (TS 33.102 Annex C.1, non-time-based SEQ):
/// every new vector takes SEQ_HE + 1 and the next IND value in cyclic order, so up to 2^ind_bits
/// vectors handed to different serving nodes can be used in any order. The caller persists
/// (seq(), next_ind()) after each call, before the vector leaves the ICF.
class SqnGenerator {
 public:
  explicit SqnGenerator(SqnProfile profile = {}, std::uint64_t seq_he = 0, std::uint32_t next_ind = 0) noexcept
      : profile_(profile), seq_he_(seq_he), next_ind_(next_ind) {}

  /// The next SQN (mo::errc::sqn_exhausted when SEQ would pass its maximum).
  Result<std::uint64_t> next();
  /// Applies a verified SQN_MS from AUTS (TS 33.102 §6.3.5): if a vector from SEQ_HE + 1 would
  /// not be accepted by a USIM whose highest SEQ is SEQ(SQN_MS) (not above it, or more than Δ
  /// above it), SEQ_HE := SEQ(SQN_MS). Returns true when SEQ_HE changed.
  bool resync(std::uint64_t sqn_ms) noexcept;

  std::uint64_t seq() const noexcept { return seq_he_; }
  std::uint32_t next_ind() const noexcept { return next_ind_; }
  const SqnProfile& profile() const noexcept { return profile_; }

 private:
  SqnProfile profile_;
  std::uint64_t seq_he_;
  std::uint32_t next_ind_;
};

}  // namespace m2mdm::mo
