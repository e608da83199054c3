#include "m2mdm/mo/crypto_handles.hpp"

#include "crypto_raii.hpp"

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>
#include <openssl/sha.h>

#include <array>

namespace m2mdm::mo {

using namespace detail;

// ---- SecretBytes ----------------------------------------------------------------------------

void SecretBytes::wipe() noexcept {
  if (!bytes_.empty()) OPENSSL_cleanse(bytes_.data(), bytes_.size());
  bytes_.clear();
}

SecretBytes& SecretBytes::operator=(const SecretBytes& other) {
  if (this != &other) {
    wipe();
    bytes_ = other.bytes_;
  }
  return *this;
}

SecretBytes& SecretBytes::operator=(SecretBytes&& other) noexcept {
  if (this != &other) {
    wipe();
    bytes_ = std::move(other.bytes_);
    other.bytes_.clear();
  }
  return *this;
}

SecretBytes::~SecretBytes() { wipe(); }

// ---- helpers --------------------------------------------------------------------------------

std::string drain_openssl_errors() {
  std::string out;
  unsigned long e = 0;
  while ((e = ERR_get_error()) != 0) {
    std::array<char, 256> buf{};
    ERR_error_string_n(e, buf.data(), buf.size());
    if (!out.empty()) out += "; ";
    out += buf.data();
  }
  return out;
}

Result<Bytes> random_bytes(std::size_t n) {
  Bytes out(n);
  if (n > 0 && RAND_bytes(out.data(), static_cast<int>(n)) != 1) {
    ERR_clear_error();
    return fail(errc::crypto_failure);
  }
  return out;
}

// ---- Certificate ----------------------------------------------------------------------------

Certificate::Certificate(X509* x) : x_(x, X509_free) {}

Result<Certificate> Certificate::from_der(ByteView der) {
  const unsigned char* p = der.data();
  X509* x = d2i_X509(nullptr, &p, static_cast<long>(der.size()));
  if (x == nullptr || p != der.data() + der.size()) {
    X509_free(x);
    ERR_clear_error();
    return fail(errc::bad_key);
  }
  return Certificate(x);
}

Result<Certificate> Certificate::from_pem(std::string_view pem) {
  auto all = all_from_pem(pem);
  if (!all) return fail(all.error());
  return all->front();
}

Result<std::vector<Certificate>> Certificate::all_from_pem(std::string_view pem) {
  BioPtr bio = mem_bio(as_bytes(pem));
  std::vector<Certificate> out;
  while (X509* x = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr)) out.emplace_back(x);
  ERR_clear_error();  // the final read always fails with "no start line"
  if (out.empty()) return fail(errc::bad_key);
  return out;
}

Bytes Certificate::to_der() const {
  if (!x_) return {};
  unsigned char* buf = nullptr;
  const int n = i2d_X509(x_.get(), &buf);
  if (n <= 0) return {};
  Bytes out(buf, buf + n);
  OPENSSL_free(buf);
  return out;
}

std::string Certificate::to_pem() const {
  if (!x_) return {};
  BioPtr bio(BIO_new(BIO_s_mem()));
  PEM_write_bio_X509(bio.get(), x_.get());
  return bio_string(bio.get());
}

std::string Certificate::subject_cn() const {
  if (!x_) return {};
  X509_NAME* name = X509_get_subject_name(x_.get());
  const int idx = X509_NAME_get_index_by_NID(name, NID_commonName, -1);
  if (idx < 0) return {};
  ASN1_STRING* data = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, idx));
  unsigned char* utf8 = nullptr;
  const int n = ASN1_STRING_to_UTF8(&utf8, data);
  if (n < 0) return {};
  std::string out(reinterpret_cast<char*>(utf8), static_cast<std::size_t>(n));
  OPENSSL_free(utf8);
  return out;
}

std::string Certificate::subject() const {
  if (!x_) return {};
  BioPtr bio(BIO_new(BIO_s_mem()));
  X509_NAME_print_ex(bio.get(), X509_get_subject_name(x_.get()), 0, XN_FLAG_RFC2253);
  return bio_string(bio.get());
}

Bytes Certificate::spki_sha256() const {
  if (!x_) return {};
  unsigned char* buf = nullptr;
  const int n = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(x_.get()), &buf);
  if (n <= 0) return {};
  Bytes out(SHA256_DIGEST_LENGTH);
  SHA256(buf, static_cast<std::size_t>(n), out.data());
  OPENSSL_free(buf);
  return out;
}

std::vector<std::string> Certificate::san_uris() const {
  std::vector<std::string> out;
  if (!x_) return out;
  auto* names =
      static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(x_.get(), NID_subject_alt_name, nullptr, nullptr));
  if (names == nullptr) return out;
  for (int i = 0; i < sk_GENERAL_NAME_num(names); ++i) {
    const GENERAL_NAME* gn = sk_GENERAL_NAME_value(names, i);
    if (gn->type == GEN_URI) {
      const ASN1_IA5STRING* s = gn->d.uniformResourceIdentifier;
      out.emplace_back(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)),
                       static_cast<std::size_t>(ASN1_STRING_length(s)));
    }
  }
  GENERAL_NAMES_free(names);
  return out;
}

std::string Certificate::serial_hex() const {
  if (!x_) return {};
  BnPtr bn(ASN1_INTEGER_to_BN(X509_get0_serialNumber(x_.get()), nullptr));
  if (!bn) return {};
  char* hex = BN_bn2hex(bn.get());
  std::string out(hex);
  OPENSSL_free(hex);
  return out;
}

Result<PrivateKey> Certificate::public_key() const {
  if (!x_) return fail(errc::bad_key);
  EVP_PKEY* k = X509_get_pubkey(x_.get());
  if (k == nullptr) {
    ERR_clear_error();
    return fail(errc::bad_key);
  }
  return PrivateKey(k);
}

bool Certificate::is_test_certificate() const {
  if (!x_) return false;
  auto* policies =
      static_cast<CERTIFICATEPOLICIES*>(X509_get_ext_d2i(x_.get(), NID_certificate_policies, nullptr, nullptr));
  ERR_clear_error();
  if (policies == nullptr) return false;
  bool found = false;
  for (int i = 0; i < sk_POLICYINFO_num(policies); ++i) {
    std::array<char, 80> buf{};
    OBJ_obj2txt(buf.data(), static_cast<int>(buf.size()), sk_POLICYINFO_value(policies, i)->policyid, 1);
    if (std::string_view(buf.data()) == kTestPolicyOid) found = true;
  }
  CERTIFICATEPOLICIES_free(policies);
  return found;
}

// ---- PrivateKey -----------------------------------------------------------------------------

PrivateKey::PrivateKey(EVP_PKEY* k) : k_(k, EVP_PKEY_free) {}

Result<PrivateKey> PrivateKey::generate(KeyType type, int rsa_bits) {
  EVP_PKEY* k = nullptr;
  if (type == KeyType::ec_p256) {
    k = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256");
  } else {
    k = EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", static_cast<std::size_t>(rsa_bits));
  }
  if (k == nullptr) {
    ERR_clear_error();
    return fail(errc::crypto_failure);
  }
  return PrivateKey(k);
}

Result<PrivateKey> PrivateKey::from_pem(std::string_view pem) {
  BioPtr bio = mem_bio(as_bytes(pem));
  EVP_PKEY* k = PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr);
  if (k == nullptr) {
    ERR_clear_error();
    return fail(errc::bad_key);
  }
  return PrivateKey(k);
}

std::string PrivateKey::to_pem() const {
  if (!k_) return {};
  BioPtr bio(BIO_new(BIO_s_mem()));
  PEM_write_bio_PrivateKey(bio.get(), k_.get(), nullptr, nullptr, 0, nullptr, nullptr);
  return bio_string(bio.get());
}

std::string PrivateKey::public_pem() const {
  if (!k_) return {};
  BioPtr bio(BIO_new(BIO_s_mem()));
  PEM_write_bio_PUBKEY(bio.get(), k_.get());
  return bio_string(bio.get());
}

std::optional<KeyType> PrivateKey::type() const noexcept {
  if (!k_) return std::nullopt;
  if (EVP_PKEY_is_a(k_.get(), "EC")) return KeyType::ec_p256;
  if (EVP_PKEY_is_a(k_.get(), "RSA")) return KeyType::rsa;
  return std::nullopt;
}

bool PrivateKey::matches(const Certificate& cert) const {
  if (!k_ || !cert.valid()) return false;
  const bool ok = X509_check_private_key(cert.native(), k_.get()) == 1;
  ERR_clear_error();
  return ok;
}

namespace {
bool setup_pss(EVP_PKEY_CTX* pctx, EVP_PKEY* k) {
  if (!EVP_PKEY_is_a(k, "RSA")) return true;
  return EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) > 0 &&
         EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST) > 0;
}
}  // namespace

Result<Bytes> PrivateKey::sign(ByteView data) const {
  if (!k_) return fail(errc::bad_key);
  MdCtxPtr ctx(EVP_MD_CTX_new());
  EVP_PKEY_CTX* pctx = nullptr;
  // One EVP_DigestSign call per init (a size query first would consume the context in 3.0).
  std::size_t len = static_cast<std::size_t>(EVP_PKEY_get_size(k_.get()));
  if (!ctx || len == 0 || EVP_DigestSignInit(ctx.get(), &pctx, EVP_sha256(), nullptr, k_.get()) != 1 ||
      !setup_pss(pctx, k_.get())) {
    ERR_clear_error();
    return fail(errc::crypto_failure);
  }
  Bytes sig(len);
  if (EVP_DigestSign(ctx.get(), sig.data(), &len, data.data(), data.size()) != 1) {
    ERR_clear_error();
    return fail(errc::crypto_failure);
  }
  sig.resize(len);
  return sig;
}

Result<bool> PrivateKey::verify(ByteView data, ByteView signature) const {
  if (!k_) return fail(errc::bad_key);
  MdCtxPtr ctx(EVP_MD_CTX_new());
  EVP_PKEY_CTX* pctx = nullptr;
  if (!ctx || EVP_DigestVerifyInit(ctx.get(), &pctx, EVP_sha256(), nullptr, k_.get()) != 1 ||
      !setup_pss(pctx, k_.get())) {
    ERR_clear_error();
    return fail(errc::crypto_failure);
  }
  const int r = EVP_DigestVerify(ctx.get(), signature.data(), signature.size(), data.data(), data.size());
  ERR_clear_error();
  return r == 1;
}

}  // namespace m2mdm::mo
