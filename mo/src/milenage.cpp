// MILENAGE (3GPP TS 35.206 §4.1) on an OpenSSL AES-128-ECB context.
#include "m2mdm/mo/milenage.hpp"

#include "m2mdm/mo/error.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <algorithm>
#include <utility>

namespace m2mdm::mo {

void secure_wipe(void* p, std::size_t n) noexcept {
  if (p != nullptr && n != 0) OPENSSL_cleanse(p, n);
}

namespace detail {
void CipherCtxDeleter::operator()(evp_cipher_ctx_st* ctx) const noexcept {
  EVP_CIPHER_CTX_free(ctx);  // EVP_CIPHER_CTX_reset cleanses the key schedule
}
}  // namespace detail

namespace {

std::unexpected<std::error_code> err(errc e) { return fail(make_error_code(e)); }

/// XORs two 16-byte buffers into @p out.
void xor16(std::uint8_t* out, const std::uint8_t* a, const std::uint8_t* b) noexcept {
  for (std::size_t i = 0; i < 16; ++i) out[i] = static_cast<std::uint8_t>(a[i] ^ b[i]);
}

}  // namespace

// MilenageConstants::defaults() (TS 35.206 §4.1 values) lives in mcim_profile.cpp.

bool milenage_constants_valid(const MilenageConstants& k) noexcept {
  for (const auto v : k.r)
    if (v >= 128) return false;
  return true;
}

Block rotate_left(const Block& x, unsigned bits) noexcept {
  bits %= 128;
  const unsigned bytes = bits / 8;
  const unsigned rem = bits % 8;
  Block out{};
  for (unsigned i = 0; i < 16; ++i) {
    const unsigned hi = x[(i + bytes) % 16];
    const unsigned lo = x[(i + bytes + 1) % 16];
    out[i] = rem == 0 ? static_cast<std::uint8_t>(hi)
                      : static_cast<std::uint8_t>(((hi << rem) | (lo >> (8 - rem))) & 0xFFu);
  }
  return out;
}

Sqn sqn_to_bytes(std::uint64_t sqn) noexcept {
  sqn &= kSqnMax;
  Sqn out{};
  for (std::size_t i = 0; i < kSqnSize; ++i) out[kSqnSize - 1 - i] = static_cast<std::uint8_t>(sqn >> (8 * i));
  return out;
}

std::uint64_t sqn_from_bytes(ByteView b) noexcept {
  std::uint64_t v = 0;
  for (std::size_t i = 0; i < kSqnSize && i < b.size(); ++i) v = (v << 8) | b[i];
  return v;
}

Result<Milenage> Milenage::create(ByteView k, ByteView opc, const MilenageConstants& constants) {
  if (k.size() != kMilenageKeySize || opc.size() != kMilenageKeySize || !milenage_constants_valid(constants))
    return err(errc::invalid_argument);
  Milenage m;
  m.ctx_.reset(EVP_CIPHER_CTX_new());
  if (!m.ctx_) return err(errc::crypto_error);
  // TS 35.206 §3: the kernel function E_K is Rijndael with a 128-bit key and block (AES-128).
  if (EVP_EncryptInit_ex(m.ctx_.get(), EVP_aes_128_ecb(), nullptr, k.data(), nullptr) != 1 ||
      EVP_CIPHER_CTX_set_padding(m.ctx_.get(), 0) != 1)
    return err(errc::crypto_error);
  std::copy(opc.begin(), opc.end(), m.opc_.bytes.begin());
  m.constants_ = constants;
  return m;
}

Result<Milenage> Milenage::create_from_op(ByteView k, ByteView op, const MilenageConstants& constants) {
  auto opc = derive_opc(k, op);
  if (!opc) return fail(opc.error());
  return create(k, opc->view(), constants);
}

Result<Key128> Milenage::derive_opc(ByteView k, ByteView op) {
  if (k.size() != kMilenageKeySize || op.size() != kMilenageKeySize) return err(errc::invalid_argument);
  // Any OPc works as a placeholder: encrypt() uses only K.
  auto m = create(k, op);
  if (!m) return fail(m.error());
  Block in{};
  std::copy(op.begin(), op.end(), in.begin());
  auto e = m->encrypt(in);
  if (!e) return fail(e.error());
  Key128 out;
  xor16(out.data(), e->data(), in.data());  // OPc = OP xor E_K(OP)
  secure_wipe(e->data(), e->size());
  return out;
}

Milenage::Milenage(Milenage&& o) noexcept
    : ctx_(std::move(o.ctx_)), opc_(o.opc_), constants_(o.constants_) {
  o.opc_.wipe();
}

Milenage& Milenage::operator=(Milenage&& o) noexcept {
  if (this != &o) {
    ctx_ = std::move(o.ctx_);
    opc_ = o.opc_;
    constants_ = o.constants_;
    o.opc_.wipe();
  }
  return *this;
}

Milenage::~Milenage() = default;

Result<Block> Milenage::encrypt(const Block& in) const {
  if (!ctx_) return err(errc::invalid_argument);  // moved-from
  Block out{};
  int len = 0;
  if (EVP_EncryptUpdate(ctx_.get(), out.data(), &len, in.data(), static_cast<int>(in.size())) != 1 || len != 16)
    return err(errc::crypto_error);
  return out;
}

Result<SecretArray<16>> Milenage::temp(ByteView rand) const {
  if (rand.size() != kMilenageKeySize) return err(errc::invalid_argument);
  Block in{};
  xor16(in.data(), rand.data(), opc_.data());  // TEMP = E_K(RAND xor OPc)
  auto e = encrypt(in);
  secure_wipe(in.data(), in.size());
  if (!e) return fail(e.error());
  SecretArray<16> t(*e);
  secure_wipe(e->data(), e->size());
  return t;
}

Result<SecretArray<16>> Milenage::out_k(const SecretArray<16>& t, std::size_t index) const {
  // OUTk = E_K(rot(TEMP xor OPc, rk) xor ck) xor OPc, k = 2..5 (TS 35.206 §4.1).
  Block x{};
  xor16(x.data(), t.data(), opc_.data());
  Block in = rotate_left(x, constants_.r[index]);
  xor16(in.data(), in.data(), constants_.c[index].data());
  auto e = encrypt(in);
  secure_wipe(x.data(), x.size());
  secure_wipe(in.data(), in.size());
  if (!e) return fail(e.error());
  SecretArray<16> out;
  xor16(out.data(), e->data(), opc_.data());
  secure_wipe(e->data(), e->size());
  return out;
}

Result<F1Output> Milenage::f1(ByteView rand, ByteView sqn, ByteView amf) const {
  if (sqn.size() != kSqnSize || amf.size() != kAmfSize) return err(errc::invalid_argument);
  auto t = temp(rand);
  if (!t) return fail(t.error());
  // IN1 = SQN || AMF || SQN || AMF.
  Block in1{};
  std::copy(sqn.begin(), sqn.end(), in1.begin());
  std::copy(amf.begin(), amf.end(), in1.begin() + 6);
  std::copy(in1.begin(), in1.begin() + 8, in1.begin() + 8);
  // OUT1 = E_K(TEMP xor rot(IN1 xor OPc, r1) xor c1) xor OPc.
  Block x{};
  xor16(x.data(), in1.data(), opc_.data());
  Block in = rotate_left(x, constants_.r[0]);
  xor16(in.data(), in.data(), t->data());
  xor16(in.data(), in.data(), constants_.c[0].data());
  auto e = encrypt(in);
  secure_wipe(x.data(), x.size());
  secure_wipe(in.data(), in.size());
  if (!e) return fail(e.error());
  Block out1{};
  xor16(out1.data(), e->data(), opc_.data());
  F1Output r;
  std::copy(out1.begin(), out1.begin() + 8, r.mac_a.begin());   // f1  = OUT1[0..63]
  std::copy(out1.begin() + 8, out1.end(), r.mac_s.begin());     // f1* = OUT1[64..127]
  secure_wipe(out1.data(), out1.size());
  return r;
}

Result<F2345Output> Milenage::f2345(ByteView rand) const {
  auto t = temp(rand);
  if (!t) return fail(t.error());
  F2345Output r;
  auto out2 = out_k(*t, 1);
  if (!out2) return fail(out2.error());
  std::copy(out2->bytes.begin() + 8, out2->bytes.end(), r.res.bytes.begin());  // f2 = OUT2[64..127]
  std::copy(out2->bytes.begin(), out2->bytes.begin() + 6, r.ak.bytes.begin());  // f5 = OUT2[0..47]
  auto out3 = out_k(*t, 2);
  if (!out3) return fail(out3.error());
  r.ck = *out3;  // f3 = OUT3
  auto out4 = out_k(*t, 3);
  if (!out4) return fail(out4.error());
  r.ik = *out4;  // f4 = OUT4
  return r;
}

Result<SecretArray<kAkSize>> Milenage::f5_star(ByteView rand) const {
  auto t = temp(rand);
  if (!t) return fail(t.error());
  auto out5 = out_k(*t, 4);
  if (!out5) return fail(out5.error());
  SecretArray<kAkSize> ak;
  std::copy(out5->bytes.begin(), out5->bytes.begin() + 6, ak.bytes.begin());  // f5* = OUT5[0..47]
  return ak;
}

}  // namespace m2mdm::mo
