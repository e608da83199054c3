#include "m2mdm/mo/pki.hpp"

#include "crypto_raii.hpp"
#include "id_text.hpp"
#include "m2mdm/mo/error.hpp"
#include "m2mdm/mo/fd.hpp"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <ctime>
#include <fstream>
#include <iterator>
#include <sstream>

namespace m2mdm::mo {

using namespace detail;
namespace fs = std::filesystem;

namespace {

std::unexpected<std::error_code> openssl_fail(errc e) {
  ERR_clear_error();
  return fail(e);
}

constexpr std::int64_t kDay = 86400;
constexpr std::int64_t kYear = 365 * kDay;

std::int64_t now_or(std::int64_t now) { return now != 0 ? now : static_cast<std::int64_t>(std::time(nullptr)); }

bool add_ext(X509* cert, X509V3_CTX* ctx, int nid, const std::string& value) {
  if (value.empty()) return true;
  ExtPtr ext(X509V3_EXT_conf_nid(nullptr, ctx, nid, value.c_str()));
  return ext && X509_add_ext(cert, ext.get(), -1) == 1;
}

Result<std::string> read_text(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  if (!in) return fail(errc::not_found);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

Result<Certificate> read_cert(const fs::path& p) {
  auto t = read_text(p);
  if (!t) return fail(t.error());
  return Certificate::from_pem(*t);
}

Result<PrivateKey> read_key(const fs::path& p) {
  auto t = read_text(p);
  if (!t) return fail(t.error());
  return PrivateKey::from_pem(*t);
}

// The CAs of the test PKI: 20 years, no intermediate below them.
CertSpec test_ca_spec(const std::string& cn, std::int64_t now) {
  CertSpec s;
  s.common_name = cn;
  s.is_ca = true;
  s.path_len = 0;
  s.key_usage = "critical,keyCertSign,cRLSign";
  s.not_before = now - 3600;
  s.not_after = now + 20 * kYear;
  return s;
}

// The end-entity certificates of the test PKI: 5 years.
CertSpec test_leaf_spec(const std::string& cn, const std::string& key_usage, const std::string& ext_key_usage,
                        std::int64_t now) {
  CertSpec s;
  s.common_name = cn;
  s.key_usage = key_usage;
  s.ext_key_usage = ext_key_usage;
  s.not_before = now - 3600;
  s.not_after = now + 5 * kYear;
  return s;
}

// A CA of an existing test PKI: <name>.pem and <name>.key in its folder.
struct Issuer {
  Certificate cert;
  PrivateKey key;
};

Result<Issuer> read_issuer(const fs::path& dir, std::string_view name) {
  auto cert = read_cert(dir / (std::string(name) + ".pem"));
  if (!cert) return fail(cert.error());
  auto key = read_key(dir / (std::string(name) + ".key"));
  if (!key) return fail(key.error());
  return Issuer{std::move(*cert), std::move(*key)};
}

Result<void> make_dirs(const fs::path& dir) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return fail(errc::io_error);
  return {};
}

bool valid_device_id(std::string_view id) {
  if (id.empty() || id.size() > 128) return false;
  for (char c : id) {
    const bool ok = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '.' || c == '_' ||
                    c == ':' || c == '-';
    if (!ok) return false;
  }
  return id != "." && id != "..";
}

}  // namespace

Result<void> write_file_atomically(const fs::path& path, ByteView data, unsigned mode) {
  const fs::path dir = path.has_parent_path() ? path.parent_path() : fs::path(".");
  const fs::path tmp = path.string() + ".tmp";
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, static_cast<mode_t>(mode));
  if (fd < 0) return fail(errc::io_error);
  bool ok = ::fchmod(fd, static_cast<mode_t>(mode)) == 0;
  std::size_t off = 0;
  while (ok && off < data.size()) {
    const ssize_t n = ::write(fd, data.data() + off, data.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) ok = false;
    else off += static_cast<std::size_t>(n);
  }
  ok = ok && ::fsync(fd) == 0;
  ok = (::close(fd) == 0) && ok;
  if (!ok || ::rename(tmp.c_str(), path.c_str()) != 0) {
    ::unlink(tmp.c_str());
    return fail(errc::io_error);
  }
  if (const Fd dfd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC)); dfd.valid()) ::fsync(dfd.get());
  return {};
}

Result<Certificate> issue_certificate(const CertSpec& spec, const PrivateKey& subject_key, const Certificate* issuer,
                                      const PrivateKey& issuer_key) {
  if (!subject_key.valid() || !issuer_key.valid()) return fail(errc::bad_key);
  X509Ptr cert(X509_new());
  if (!cert || X509_set_version(cert.get(), X509_VERSION_3) != 1) return openssl_fail(errc::crypto_failure);

  // RFC 5280 §4.1.2.2: positive serial, at most 20 octets; 127 random bits.
  auto rnd = random_bytes(16);
  if (!rnd) return fail(rnd.error());
  (*rnd)[0] &= 0x7f;
  (*rnd)[0] |= 0x40;
  BnPtr bn(BN_bin2bn(rnd->data(), static_cast<int>(rnd->size()), nullptr));
  if (!bn || BN_to_ASN1_INTEGER(bn.get(), X509_get_serialNumber(cert.get())) == nullptr)
    return openssl_fail(errc::crypto_failure);

  NamePtr name(X509_NAME_new());
  auto add_entry = [&](const char* field, const std::string& v) {
    return v.empty() || X509_NAME_add_entry_by_txt(name.get(), field, MBSTRING_UTF8,
                                                   reinterpret_cast<const unsigned char*>(v.c_str()), -1, -1, 0) == 1;
  };
  if (!name || !add_entry("O", spec.organization) || !add_entry("CN", spec.common_name))
    return openssl_fail(errc::invalid_argument);
  if (X509_set_subject_name(cert.get(), name.get()) != 1 ||
      X509_set_issuer_name(cert.get(), issuer != nullptr ? X509_get_subject_name(issuer->native()) : name.get()) != 1)
    return openssl_fail(errc::crypto_failure);

  Asn1TimePtr nb(ASN1_TIME_set(nullptr, static_cast<time_t>(spec.not_before)));
  Asn1TimePtr na(ASN1_TIME_set(nullptr, static_cast<time_t>(spec.not_after)));
  if (!nb || !na || X509_set1_notBefore(cert.get(), nb.get()) != 1 || X509_set1_notAfter(cert.get(), na.get()) != 1)
    return openssl_fail(errc::crypto_failure);
  if (X509_set_pubkey(cert.get(), subject_key.native()) != 1) return openssl_fail(errc::bad_key);

  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer != nullptr ? issuer->native() : cert.get(), cert.get(), nullptr, nullptr, 0);
  std::string bc = spec.is_ca ? "critical,CA:TRUE" : "critical,CA:FALSE";
  if (spec.is_ca && spec.path_len) bc += ",pathlen:" + std::to_string(*spec.path_len);
  std::string san;
  for (const auto& s : spec.subject_alt_names) san += (san.empty() ? "" : ",") + s;
  if (!add_ext(cert.get(), &ctx, NID_basic_constraints, bc) ||
      !add_ext(cert.get(), &ctx, NID_key_usage, spec.key_usage) ||
      !add_ext(cert.get(), &ctx, NID_ext_key_usage, spec.ext_key_usage) ||
      !add_ext(cert.get(), &ctx, NID_subject_key_identifier, "hash") ||
      !add_ext(cert.get(), &ctx, NID_authority_key_identifier, issuer != nullptr ? "keyid:always" : "") ||
      !add_ext(cert.get(), &ctx, NID_subject_alt_name, san))
    return openssl_fail(errc::invalid_argument);
  if (spec.test_policy) {
    // certificatePolicies { kTestPolicyOid } (RFC 5280 §4.2.1.4), built directly.
    CERTIFICATEPOLICIES* pols = sk_POLICYINFO_new_null();
    POLICYINFO* info = POLICYINFO_new();
    const std::string oid(kTestPolicyOid);
    bool ok = pols != nullptr && info != nullptr;
    if (ok) {
      info->policyid = OBJ_txt2obj(oid.c_str(), 1);
      ok = info->policyid != nullptr && sk_POLICYINFO_push(pols, info) > 0;
      if (ok) info = nullptr;  // owned by the stack
    }
    ok = ok && X509_add1_ext_i2d(cert.get(), NID_certificate_policies, pols, 0, 0) == 1;
    POLICYINFO_free(info);
    CERTIFICATEPOLICIES_free(pols);
    if (!ok) return openssl_fail(errc::crypto_failure);
  }

  if (X509_sign(cert.get(), issuer_key.native(), EVP_sha256()) <= 0) return openssl_fail(errc::crypto_failure);
  return Certificate(cert.release());
}

Result<std::string> make_crl(const Certificate& ca, const PrivateKey& ca_key, std::span<const std::string> revoked_serials,
                             std::int64_t now, std::uint64_t crl_number) {
  X509CrlPtr crl(X509_CRL_new());
  if (!crl || X509_CRL_set_version(crl.get(), 1) != 1 ||
      X509_CRL_set_issuer_name(crl.get(), X509_get_subject_name(ca.native())) != 1)
    return openssl_fail(errc::crypto_failure);
  Asn1TimePtr last(ASN1_TIME_set(nullptr, static_cast<time_t>(now)));
  Asn1TimePtr next(ASN1_TIME_set(nullptr, static_cast<time_t>(now + 30 * kDay)));
  if (!last || !next || X509_CRL_set1_lastUpdate(crl.get(), last.get()) != 1 ||
      X509_CRL_set1_nextUpdate(crl.get(), next.get()) != 1)
    return openssl_fail(errc::crypto_failure);
  for (const auto& serial : revoked_serials) {
    BIGNUM* raw = nullptr;
    if (BN_hex2bn(&raw, serial.c_str()) == 0) return openssl_fail(errc::invalid_argument);
    BnPtr bn(raw);
    RevokedPtr rev(X509_REVOKED_new());
    Asn1IntPtr num(BN_to_ASN1_INTEGER(bn.get(), nullptr));
    if (!rev || !num || X509_REVOKED_set_serialNumber(rev.get(), num.get()) != 1 ||
        X509_REVOKED_set_revocationDate(rev.get(), last.get()) != 1 || X509_CRL_add0_revoked(crl.get(), rev.get()) != 1)
      return openssl_fail(errc::crypto_failure);
    rev.release();  // owned by the CRL now
  }
  // RFC 5280 §5.2.3 CRL number and §5.2.1 authority key identifier.
  Asn1IntPtr number(ASN1_INTEGER_new());
  if (!number || ASN1_INTEGER_set_uint64(number.get(), crl_number) != 1 ||
      X509_CRL_add1_ext_i2d(crl.get(), NID_crl_number, number.get(), 0, 0) != 1)
    return openssl_fail(errc::crypto_failure);
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, ca.native(), nullptr, nullptr, crl.get(), 0);
  ExtPtr aki(X509V3_EXT_conf_nid(nullptr, &ctx, NID_authority_key_identifier, "keyid:always"));
  if (!aki || X509_CRL_add_ext(crl.get(), aki.get(), -1) != 1) return openssl_fail(errc::crypto_failure);
  X509_CRL_sort(crl.get());
  if (X509_CRL_sign(crl.get(), ca_key.native(), EVP_sha256()) <= 0) return openssl_fail(errc::crypto_failure);
  BioPtr out(BIO_new(BIO_s_mem()));
  if (!out || PEM_write_bio_X509_CRL(out.get(), crl.get()) != 1) return openssl_fail(errc::crypto_failure);
  return bio_string(out.get());
}

std::string device_uri(std::string_view device_id) { return "urn:m2mdm:dev:" + std::string(device_id); }

std::string device_id_of(const Certificate& pfc) {
  constexpr std::string_view prefix = "urn:m2mdm:dev:";
  for (const auto& uri : pfc.san_uris()) {
    if (uri.starts_with(prefix)) return uri.substr(prefix.size());
  }
  return pfc.subject_cn();
}

namespace {

struct Writer {
  std::vector<PkiFile> files;
  Result<void> put(const std::string& name, const fs::path& path, std::string_view text, unsigned mode) {
    if (auto r = write_file_atomically(path, as_bytes(text), mode); !r) return r;
    files.push_back({name, path});
    return {};
  }
};

Result<void> issue_pair(Writer& w, const fs::path& dir, const std::string& base, const std::string& cert_name,
                        const std::string& key_name, const CertSpec& spec, const Certificate* issuer,
                        const PrivateKey* issuer_key, Certificate* cert_out, PrivateKey* key_out,
                        const std::string& cert_file, const std::string& key_file) {
  (void)base;
  auto key = PrivateKey::generate(KeyType::ec_p256);
  if (!key) return fail(key.error());
  auto cert = issue_certificate(spec, *key, issuer, issuer_key != nullptr ? *issuer_key : *key);
  if (!cert) return fail(cert.error());
  if (auto r = w.put(cert_name, dir / cert_file, cert->to_pem(), 0644); !r) return r;
  if (auto r = w.put(key_name, dir / key_file, key->to_pem(), 0600); !r) return r;
  if (cert_out != nullptr) *cert_out = *cert;
  if (key_out != nullptr) *key_out = *key;
  return {};
}

}  // namespace

Result<std::vector<PkiFile>> init_test_pki(const fs::path& dir, const PkiInitOptions& options) {
  if (auto r = make_dirs(dir); !r) return fail(r.error());
  if (!options.force && fs::exists(dir / "manufacturer-ca.pem")) return fail(errc::invalid_argument);
  const std::int64_t now = now_or(options.now);
  Writer w;

  Certificate mca, sca, tca;
  PrivateKey mkey, skey, tkey;
  if (auto r = issue_pair(w, dir, "", "manufacturer-ca", "manufacturer-ca-key",
                          test_ca_spec("m2mdm test manufacturer CA", now), nullptr, nullptr, &mca, &mkey,
                          "manufacturer-ca.pem", "manufacturer-ca.key");
      !r)
    return fail(r.error());
  auto crl = make_crl(mca, mkey, {}, now, 1);
  if (!crl) return fail(crl.error());
  if (auto r = w.put("manufacturer-crl", dir / "manufacturer-crl.pem", *crl, 0644); !r) return fail(r.error());
  if (auto r = write_file_atomically(dir / "manufacturer-crl.state", as_bytes("1\n"), 0644); !r) return fail(r.error());

  if (auto r = issue_pair(w, dir, "", "sho-ca", "sho-ca-key", test_ca_spec("m2mdm test SHO CA", now), nullptr, nullptr,
                          &sca, &skey, "sho-ca.pem", "sho-ca.key");
      !r)
    return fail(r.error());
  // The SHO signing certificate: CN = the SHO id (OpenPolicy::require_signer_is_sho), key usage
  // as S/MIME signing expects it (RFC 8550 §4.4.2), no EKU.
  if (auto r = issue_pair(w, dir, "", "sho-cert", "sho-key",
                          test_leaf_spec(options.sho_id, "critical,digitalSignature", "", now), &sca, &skey, nullptr,
                          nullptr, "sho-cert.pem", "sho-key.pem");
      !r)
    return fail(r.error());

  if (auto r = issue_pair(w, dir, "", "tls-ca", "tls-ca-key", test_ca_spec("m2mdm test TLS CA", now), nullptr, nullptr,
                          &tca, &tkey, "tls-ca.pem", "tls-ca.key");
      !r)
    return fail(r.error());
  CertSpec tls = test_leaf_spec("localhost", "critical,digitalSignature", "serverAuth", now);
  tls.subject_alt_names = {"DNS:localhost", "IP:127.0.0.1"};
  if (auto r = issue_pair(w, dir, "", "tls-cert", "tls-key", tls, &tca, &tkey, nullptr, nullptr, "tls-cert.pem",
                          "tls-key.pem");
      !r)
    return fail(r.error());

  // The PVA answers for the manufacturer CA (an OCSP-style delegated responder, RFC 6960 §4.2.2.2).
  if (auto r = issue_pair(w, dir, "", "pva-cert", "pva-key",
                          test_leaf_spec("m2mdm test PVA", "critical,digitalSignature", "OCSPSigning", now), &mca,
                          &mkey, nullptr, nullptr, "pva-cert.pem", "pva-key.pem");
      !r)
    return fail(r.error());
  return std::move(w.files);
}

Result<std::vector<PkiFile>> issue_test_device(const fs::path& dir, std::string_view device_id, KeyType key_type,
                                               std::int64_t now_in) {
  if (!valid_device_id(device_id)) return fail(errc::invalid_argument);
  auto mca = read_issuer(dir, "manufacturer-ca");
  if (!mca) return fail(mca.error());
  const std::int64_t now = now_or(now_in);
  const fs::path tre = dir / "devices" / std::string(device_id);
  if (auto r = make_dirs(tre); !r) return fail(r.error());
  std::error_code ec;
  fs::permissions(tre, fs::perms::owner_all, ec);

  auto key = PrivateKey::generate(key_type);
  if (!key) return fail(key.error());
  CertSpec spec;
  spec.common_name = std::string(device_id);
  spec.organization = "m2mdm test M2ME";
  spec.subject_alt_names = {"URI:" + device_uri(device_id)};
  // EC: key agreement (ECDH for the sealed MCIM) + signatures; RSA: key transport + signatures.
  spec.key_usage = key_type == KeyType::ec_p256 ? "critical,digitalSignature,keyAgreement"
                                                : "critical,digitalSignature,keyEncipherment";
  spec.not_before = now - 3600;
  spec.not_after = now + 15 * kYear;
  auto pfc = issue_certificate(spec, *key, &mca->cert, mca->key);
  if (!pfc) return fail(pfc.error());

  Writer w;
  if (auto r = w.put("pfc", tre / "pfc.pem", pfc->to_pem(), 0644); !r) return fail(r.error());
  if (auto r = w.put("platform-key", tre / "platform-key.pem", key->to_pem(), 0600); !r) return fail(r.error());
  if (auto r = w.put("manufacturer-ca", tre / "manufacturer-ca.pem", mca->cert.to_pem(), 0644); !r) return fail(r.error());
  w.files.push_back({"tre-dir", tre});
  return std::move(w.files);
}

Result<std::vector<PkiFile>> issue_test_sho(const fs::path& dir, std::string_view sho_id, std::int64_t now_in) {
  // A profile/token SHO id that is also a file name (no ':').
  if (sho_id.empty() || sho_id.size() > 64 || !detail::is_id_text(sho_id) || sho_id.find(':') != std::string_view::npos)
    return fail(errc::invalid_argument);
  auto sca = read_issuer(dir, "sho-ca");
  if (!sca) return fail(sca.error());
  const fs::path out = dir / "shos" / std::string(sho_id);
  if (auto r = make_dirs(out); !r) return fail(r.error());
  // As the SHO signing certificate of init_test_pki.
  const CertSpec spec = test_leaf_spec(std::string(sho_id), "critical,digitalSignature", "", now_or(now_in));
  Writer w;
  if (auto r = issue_pair(w, out, "", "sho-cert", "sho-key", spec, &sca->cert, &sca->key, nullptr, nullptr,
                          "sho-cert.pem", "sho-key.pem");
      !r)
    return fail(r.error());
  return std::move(w.files);
}

Result<std::vector<PkiFile>> issue_test_subscriber(const fs::path& dir, std::string_view subscriber_id,
                                                   std::int64_t now_in) {
  if (subscriber_id.empty() || subscriber_id.size() > 64 || !detail::is_id_text(subscriber_id) ||
      subscriber_id.find(':') != std::string_view::npos)
    return fail(errc::invalid_argument);
  if (!fs::exists(dir / "manufacturer-ca.pem")) return fail(errc::io_error);  // not a PKI from init_test_pki
  const std::int64_t now = now_or(now_in);
  Writer w;
  Issuer ca;
  if (fs::exists(dir / "subscriber-ca.pem")) {
    auto existing = read_issuer(dir, "subscriber-ca");
    if (!existing) return fail(existing.error());
    ca = std::move(*existing);
  } else if (auto r = issue_pair(w, dir, "", "subscriber-ca", "subscriber-ca-key",
                                 test_ca_spec("m2mdm test subscriber CA", now), nullptr, nullptr, &ca.cert, &ca.key,
                                 "subscriber-ca.pem", "subscriber-ca.key");
             !r) {
    return fail(r.error());
  }
  const fs::path out = dir / "subscribers" / std::string(subscriber_id);
  if (auto r = make_dirs(out); !r) return fail(r.error());
  const CertSpec spec = test_leaf_spec(std::string(subscriber_id), "critical,digitalSignature", "", now);
  if (auto r = issue_pair(w, out, "", "subscriber-cert", "subscriber-key", spec, &ca.cert, &ca.key, nullptr, nullptr,
                          "subscriber-cert.pem", "subscriber-key.pem");
      !r)
    return fail(r.error());
  return std::move(w.files);
}

Result<std::vector<PkiFile>> revoke_test_device(const fs::path& dir, std::string_view device_id, std::int64_t now_in) {
  if (!valid_device_id(device_id)) return fail(errc::invalid_argument);
  auto mca = read_issuer(dir, "manufacturer-ca");
  if (!mca) return fail(mca.error());
  auto pfc = read_cert(dir / "devices" / std::string(device_id) / "pfc.pem");
  if (!pfc) return fail(pfc.error());

  // State: first line = last CRL number, then one revoked serial (hex) per line.
  std::vector<std::string> serials;
  std::uint64_t number = 1;
  if (auto state = read_text(dir / "manufacturer-crl.state")) {
    std::istringstream in(*state);
    std::string line;
    if (std::getline(in, line)) number = std::strtoull(line.c_str(), nullptr, 10);
    while (std::getline(in, line))
      if (!line.empty()) serials.push_back(line);
  }
  const std::string serial = pfc->serial_hex();
  if (std::find(serials.begin(), serials.end(), serial) == serials.end()) serials.push_back(serial);
  ++number;
  auto crl = make_crl(mca->cert, mca->key, serials, now_or(now_in), number);
  if (!crl) return fail(crl.error());
  std::string state = std::to_string(number) + "\n";
  for (const auto& s : serials) state += s + "\n";
  Writer w;
  if (auto r = w.put("manufacturer-crl", dir / "manufacturer-crl.pem", *crl, 0644); !r) return fail(r.error());
  if (auto r = write_file_atomically(dir / "manufacturer-crl.state", as_bytes(state), 0644); !r) return fail(r.error());
  return std::move(w.files);
}

}  // namespace m2mdm::mo
