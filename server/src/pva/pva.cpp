// PVA: X.509 path validation of a PfC against the manufacturer CAs (RFC 5280 §6 via OpenSSL's
// X509_verify_cert), with the validation time set explicitly and CRL checking (RFC 5280 §6.3)
// on the whole chain when CRLs are configured.
#include "m2mdm/server/error.hpp"
#include "m2mdm/server/pva.hpp"
#include "m2mdm/syncml/openssl_handles.hpp"

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <spdlog/spdlog.h>

#include <ctime>
#include <fstream>
#include <iterator>

namespace m2mdm::server {
namespace {

using syncml::openssl::BioPtr;
using syncml::openssl::StoreCtxPtr;
using syncml::openssl::StorePtr;
using syncml::openssl::X509Ptr;
using CrlPtr = syncml::openssl::X509CrlPtr;
using StackPtr = syncml::openssl::X509StackPtr;

BioPtr mem_bio(ByteView b) { return BioPtr(BIO_new_mem_buf(b.data(), static_cast<int>(b.size()))); }

bool is_pem(ByteView b) { return as_chars(b).find("-----BEGIN") != std::string_view::npos; }

// Every object in @p data: any number of PEM blocks, or one DER encoding (with @p whole_der,
// only when nothing follows it: certificates are read so; a DER CRL has always been taken with
// bytes after it, e.g. a trailing newline).
template <class Ptr, class T>
std::vector<Ptr> read_objects(ByteView data, T* (*from_pem)(BIO*, T**, pem_password_cb*, void*),
                              T* (*from_der)(T**, const unsigned char**, long), bool whole_der) {
  std::vector<Ptr> out;
  if (is_pem(data)) {
    auto bio = mem_bio(data);
    while (T* x = from_pem(bio.get(), nullptr, nullptr, nullptr)) out.emplace_back(x);
  } else {
    const unsigned char* p = data.data();
    Ptr x(from_der(nullptr, &p, static_cast<long>(data.size())));
    if (x && (!whole_der || p == data.data() + data.size())) out.push_back(std::move(x));
  }
  return out;
}

std::vector<X509Ptr> read_certs(ByteView data) {
  return read_objects<X509Ptr>(data, PEM_read_bio_X509, d2i_X509, true);
}
std::vector<CrlPtr> read_crls(ByteView data) {
  return read_objects<CrlPtr>(data, PEM_read_bio_X509_CRL, d2i_X509_CRL, false);
}

std::string name_of(const X509_NAME* n) {
  BioPtr b(BIO_new(BIO_s_mem()));
  if (!b || X509_NAME_print_ex(b.get(), n, 0, XN_FLAG_RFC2253) < 0) return {};
  char* p = nullptr;
  long len = BIO_get_mem_data(b.get(), &p);
  return std::string(p, static_cast<std::size_t>(len));
}

std::string iso_time(const ASN1_TIME* t) {
  struct tm tm {};
  if (ASN1_TIME_to_tm(t, &tm) != 1) return {};
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

Result<Bytes> slurp(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  if (!in) return fail(make_error_code(errc::config_error));
  return Bytes{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// Appends what @p read finds in each of @p files to @p out; false (and a log line) for a file
// that cannot be read or holds no @p what.
template <class T>
bool read_all(const std::vector<std::filesystem::path>& files, std::vector<T> (*read)(ByteView), const char* what,
              std::vector<T>& out) {
  for (const auto& f : files) {
    auto data = slurp(f);
    auto items = data ? read(*data) : std::vector<T>{};
    if (items.empty()) {
      spdlog::error("pva: {} holds no {}", f.string(), what);
      return false;
    }
    for (auto& i : items) out.push_back(std::move(i));
  }
  return true;
}

}  // namespace

struct Pva::Impl {
  std::vector<X509Ptr> cas;
  std::vector<CrlPtr> crls;
};

Pva::Pva() : impl_(std::make_unique<Impl>()) {}
Pva::~Pva() = default;
Pva::Pva(Pva&&) noexcept = default;
Pva& Pva::operator=(Pva&&) noexcept = default;

Result<Pva> Pva::load(const std::vector<std::filesystem::path>& ca_files,
                      const std::vector<std::filesystem::path>& crl_files) {
  Pva pva;
  if (!read_all(ca_files, read_certs, "certificate", pva.impl_->cas) ||
      !read_all(crl_files, read_crls, "CRL", pva.impl_->crls))
    return fail(make_error_code(errc::config_error));
  return pva;
}

std::size_t Pva::ca_count() const noexcept { return impl_->cas.size(); }

PvaVerdict Pva::validate(ByteView pfc, std::int64_t now, ByteView intermediates_pem) const {
  PvaVerdict v;
  auto certs = read_certs(pfc);
  if (certs.empty()) {
    v.reason = "unparseable certificate";
    return v;
  }
  X509* leaf = certs.front().get();
  v.subject = name_of(X509_get_subject_name(leaf));
  v.issuer = name_of(X509_get_issuer_name(leaf));
  v.not_after = iso_time(X509_get0_notAfter(leaf));
  int len = i2d_X509(leaf, nullptr);
  if (len > 0) {
    v.der.resize(static_cast<std::size_t>(len));
    unsigned char* p = v.der.data();
    i2d_X509(leaf, &p);
  }
  if (impl_->cas.empty()) {
    v.reason = "no manufacturer CA configured";
    return v;
  }
  StorePtr store(X509_STORE_new());
  for (const auto& c : impl_->cas) X509_STORE_add_cert(store.get(), c.get());
  for (const auto& c : impl_->crls) X509_STORE_add_crl(store.get(), c.get());
  StackPtr chain(sk_X509_new_null());
  for (std::size_t i = 1; i < certs.size(); ++i) {  // a PEM PfC may carry its intermediates
    X509_up_ref(certs[i].get());
    sk_X509_push(chain.get(), certs[i].get());
  }
  if (!intermediates_pem.empty())
    for (auto& c : read_certs(intermediates_pem)) sk_X509_push(chain.get(), c.release());
  StoreCtxPtr ctx(X509_STORE_CTX_new());
  if (!ctx || X509_STORE_CTX_init(ctx.get(), store.get(), leaf, chain.get()) != 1) {
    v.reason = "internal error";
    return v;
  }
  X509_VERIFY_PARAM* param = X509_STORE_CTX_get0_param(ctx.get());
  X509_VERIFY_PARAM_set_time(param, static_cast<time_t>(now));
  if (!impl_->crls.empty()) X509_VERIFY_PARAM_set_flags(param, X509_V_FLAG_CRL_CHECK | X509_V_FLAG_CRL_CHECK_ALL);
  if (X509_verify_cert(ctx.get()) == 1) {
    v.valid = true;
    v.reason = "ok";
  } else {
    v.reason = X509_verify_cert_error_string(X509_STORE_CTX_get_error(ctx.get()));
  }
  return v;
}

}  // namespace m2mdm::server
