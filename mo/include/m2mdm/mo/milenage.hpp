/// @file milenage.hpp
/// @brief The MILENAGE algorithm set (3GPP TS 35.206): the authentication and key generation
///        functions f1, f1*, f2, f3, f4, f5 and f5* built on AES-128, with OP -> OPc derivation
///        and operator-configurable constants c1..c5 / r1..r5.
///
/// The kernel is AES-128 (TS 35.206 §3: Rijndael with 128-bit blocks and keys), computed with an
/// OpenSSL EVP cipher context (ECB, one block at a time) that a `Milenage` object creates once
/// for its K and keeps. Secrets (K inside the EVP context, OPc, every output that is key
/// material) are wiped with OPENSSL_cleanse when they are destroyed.
#pragma once

#include "m2mdm/mo/mcim_profile.hpp"
#include "m2mdm/syncml/encoding.hpp"
#include "m2mdm/syncml/result.hpp"

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>

struct evp_cipher_ctx_st;  // OpenSSL's EVP_CIPHER_CTX (kept out of this header)

namespace m2mdm::mo {

/// Fixed-size byte array that wipes itself (OPENSSL_cleanse) when destroyed or overwritten by a
/// move. Use for K, OPc, CK, IK, AK and anything derived from them.
template <std::size_t N>
struct SecretArray {
  std::array<std::uint8_t, N> bytes{};

  SecretArray() = default;
  explicit SecretArray(const std::array<std::uint8_t, N>& b) : bytes(b) {}
  SecretArray(const SecretArray&) = default;
  SecretArray& operator=(const SecretArray&) = default;
  ~SecretArray() { wipe(); }

  /// Zeroes the bytes in a way the optimiser cannot remove.
  void wipe() noexcept;

  std::uint8_t* data() noexcept { return bytes.data(); }
  const std::uint8_t* data() const noexcept { return bytes.data(); }
  static constexpr std::size_t size() noexcept { return N; }
  ByteView view() const noexcept { return {bytes.data(), N}; }
  friend bool operator==(const SecretArray&, const SecretArray&) = default;
};

/// Calls OPENSSL_cleanse (kept out of the header so that it does not pull in OpenSSL).
void secure_wipe(void* p, std::size_t n) noexcept;

template <std::size_t N>
void SecretArray<N>::wipe() noexcept {
  secure_wipe(bytes.data(), N);
}

using Block = std::array<std::uint8_t, 16>;   ///< one 128-bit AES block
using Key128 = SecretArray<16>;               ///< K, OPc, CK, IK
using Sqn = std::array<std::uint8_t, 6>;      ///< 48-bit sequence number, big-endian
using Amf = std::array<std::uint8_t, 2>;      ///< 16-bit authentication management field
using Mac = std::array<std::uint8_t, 8>;      ///< MAC-A / MAC-S (64 bits)

inline constexpr std::size_t kMilenageKeySize = 16;  ///< K, OP, OPc, RAND, CK, IK
inline constexpr std::size_t kSqnSize = 6;
inline constexpr std::size_t kAmfSize = 2;
inline constexpr std::size_t kResSize = 8;  ///< f2 output used as RES (TS 35.206 §4.1: 64 bits)
inline constexpr std::size_t kAkSize = 6;
inline constexpr std::uint64_t kSqnMax = (std::uint64_t{1} << 48) - 1;

// MilenageConstants (c1..c5, r1..r5 of TS 35.206 §4.1, with defaults()) is declared in
// mcim_profile.hpp, since the MCIM profile carries them.

/// True when every rotation r1..r5 is below 128 (the only structural requirement on the
/// operator-chosen constants, TS 35.206 §4.1).
bool milenage_constants_valid(const MilenageConstants& k) noexcept;

/// Output of f1 and f1* for one (RAND, SQN, AMF).
struct F1Output {
  Mac mac_a{};  ///< f1: network authentication code
  Mac mac_s{};  ///< f1*: resynchronisation authentication code
};

/// Output of f2..f5 for one RAND (all derived from OUT2..OUT4 of TS 35.206 §4.1).
struct F2345Output {
  SecretArray<kResSize> res;  ///< f2 (RES / XRES)
  Key128 ck;                  ///< f3
  Key128 ik;                  ///< f4
  SecretArray<kAkSize> ak;    ///< f5 (anonymity key)
};

namespace detail {
/// Deleter for the cached EVP_CIPHER_CTX (defined in milenage.cpp).
struct CipherCtxDeleter {
  void operator()(evp_cipher_ctx_st* ctx) const noexcept;
};
}  // namespace detail

/// One subscriber's MILENAGE instance: K (held only inside the AES key schedule), OPc and the
/// constants. Creating it sets up the AES-128 context once; every function then costs one to
/// three AES block encryptions. Not safe for concurrent use by several threads (each thread
/// needs its own instance); movable, not copyable.
class Milenage {
 public:
  /// Builds from K and OPc (16 bytes each). Fails with mo::errc::invalid_argument on wrong
  /// lengths or invalid constants, mo::errc::crypto_error if OpenSSL fails.
  static Result<Milenage> create(ByteView k, ByteView opc,
                                 const MilenageConstants& constants = MilenageConstants::defaults());
  /// Builds from K and OP: OPc = OP xor E_K(OP) (TS 35.206 §4.1).
  static Result<Milenage> create_from_op(ByteView k, ByteView op,
                                         const MilenageConstants& constants = MilenageConstants::defaults());
  /// OPc = OP xor E_K(OP) (TS 35.206 §4.1), for provisioning OPc instead of OP.
  static Result<Key128> derive_opc(ByteView k, ByteView op);

  Milenage(Milenage&&) noexcept;
  Milenage& operator=(Milenage&&) noexcept;
  Milenage(const Milenage&) = delete;
  Milenage& operator=(const Milenage&) = delete;
  ~Milenage();

  /// f1 and f1* (TS 35.206 §4.1, OUT1): MAC-A = OUT1[0..63], MAC-S = OUT1[64..127].
  /// @p rand 16 bytes, @p sqn 6 bytes, @p amf 2 bytes (else mo::errc::invalid_argument).
  Result<F1Output> f1(ByteView rand, ByteView sqn, ByteView amf) const;
  /// f2, f3, f4 and f5 for @p rand (16 bytes).
  Result<F2345Output> f2345(ByteView rand) const;
  /// f5* (resynchronisation anonymity key, OUT5[0..47]) for @p rand (16 bytes).
  Result<SecretArray<kAkSize>> f5_star(ByteView rand) const;

  /// The OPc this instance uses (secret; for callers that must persist it).
  const Key128& opc() const noexcept { return opc_; }
  const MilenageConstants& constants() const noexcept { return constants_; }

 private:
  Milenage() = default;
  /// AES-128 of one block with K.
  Result<Block> encrypt(const Block& in) const;
  /// TEMP = E_K(RAND xor OPc).
  Result<SecretArray<16>> temp(ByteView rand) const;
  /// OUTk = E_K(rot(TEMP xor OPc, rk) xor ck) xor OPc for k = 2..5 (index 1..4).
  Result<SecretArray<16>> out_k(const SecretArray<16>& temp, std::size_t index) const;

  std::unique_ptr<evp_cipher_ctx_st, detail::CipherCtxDeleter> ctx_;
  Key128 opc_;
  MilenageConstants constants_;
};

/// Cyclic left rotation of a 128-bit block by @p bits (TS 35.206 §4.1 rot(x, r)); bits mod 128.
Block rotate_left(const Block& x, unsigned bits) noexcept;

/// Packs a 48-bit SQN (value above kSqnMax is masked) into 6 big-endian bytes.
Sqn sqn_to_bytes(std::uint64_t sqn) noexcept;
/// Reads 6 big-endian bytes as a 48-bit SQN (@p b must hold 6 bytes).
std::uint64_t sqn_from_bytes(ByteView b) noexcept;

}  // namespace m2mdm::mo
