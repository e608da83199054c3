// Sealing and opening the MCIM per second (EC P-256 and RSA-2048 PfCs), next to the raw
// primitives they are built on, measured in the same binary with EVP (what `openssl speed
// ecdhp256 ecdsap256` measures). The counter `x_raw` is the time of one seal/open divided by the
// time of the public-key operations it needs: seal = 1 ECDH derive (+ ephemeral keygen, counted
// as one derive) + 1 ECDSA sign; open = 1 ECDH derive + 2 ECDSA verify (content signature and
// signer certificate). It is the overhead of m2mdm (CMS, ASN.1, AES-GCM, X.509 path building,
// JSON profile) over raw crypto.
#include "m2mdm/mo/crypto_handles.hpp"
#include "m2mdm/mo/mcim_profile.hpp"
#include "m2mdm/mo/pki.hpp"
#include "m2mdm/mo/seal.hpp"
#include "m2mdm/test/files.hpp"

#include <benchmark/benchmark.h>
#include <openssl/evp.h>

#include <chrono>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <stdexcept>

namespace {

namespace fs = std::filesystem;
using namespace m2mdm;

using test::slurp;

struct Fixture {
  fs::path dir;
  mo::Certificate sho_cert, sho_ca;
  mo::PrivateKey sho_key;
  mo::Certificate pfc_ec, pfc_rsa;
  mo::PrivateKey key_ec, key_rsa;
  std::int64_t now = static_cast<std::int64_t>(std::time(nullptr));

  static Fixture& get() {
    static Fixture f;
    return f;
  }
  mo::McimProfile profile(const std::string& dev) const {
    const std::string text = slurp(fs::path(M2MDM_SOURCE_DIR) / "docs/examples/mcim-profile.json");
    auto p = mo::parse_profile(as_bytes(text));
    if (!p) throw std::runtime_error("profile");
    p->binding = mo::McimBinding{dev, std::nullopt, "tx-bench", now - 10, now + 86400, 1};
    return std::move(*p);
  }
  mo::TrustAnchors anchors() const {
    mo::TrustAnchors a(mo::AnchorKind::test);
    (void)a.add(sho_ca);
    return a;
  }

 private:
  Fixture() {
    char templ[] = "/tmp/m2mdm-bench-XXXXXX";
    dir = ::mkdtemp(templ);
    if (!mo::init_test_pki(dir) || !mo::issue_test_device(dir, "bench-ec") ||
        !mo::issue_test_device(dir, "bench-rsa", mo::KeyType::rsa))
      throw std::runtime_error("pki");
    sho_cert = *mo::Certificate::from_pem(slurp(dir / "sho-cert.pem"));
    sho_ca = *mo::Certificate::from_pem(slurp(dir / "sho-ca.pem"));
    sho_key = *mo::PrivateKey::from_pem(slurp(dir / "sho-key.pem"));
    pfc_ec = *mo::Certificate::from_pem(slurp(dir / "devices/bench-ec/pfc.pem"));
    key_ec = *mo::PrivateKey::from_pem(slurp(dir / "devices/bench-ec/platform-key.pem"));
    pfc_rsa = *mo::Certificate::from_pem(slurp(dir / "devices/bench-rsa/pfc.pem"));
    key_rsa = *mo::PrivateKey::from_pem(slurp(dir / "devices/bench-rsa/platform-key.pem"));
  }
  ~Fixture() {
    std::error_code ec;
    fs::remove_all(dir, ec);
  }
};

// ---- raw primitives (EVP, as `openssl speed ecdhp256 ecdsap256`) ------------------------------

struct Raw {
  EVP_PKEY* a = nullptr;
  EVP_PKEY* b = nullptr;
  Raw() {
    a = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256");
    b = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256");
  }
  ~Raw() {
    EVP_PKEY_free(a);
    EVP_PKEY_free(b);
  }
  void derive() const {
    EVP_PKEY_CTX* ctx = EVP_PKEY_CTX_new(a, nullptr);
    unsigned char secret[32];
    std::size_t len = sizeof secret;
    if (EVP_PKEY_derive_init(ctx) != 1 || EVP_PKEY_derive_set_peer(ctx, b) != 1 || EVP_PKEY_derive(ctx, secret, &len) != 1)
      std::abort();
    EVP_PKEY_CTX_free(ctx);
    benchmark::DoNotOptimize(secret);
  }
  // Signs/verifies a SHA-256 digest, as openssl speed does (no hashing of a message).
  std::size_t sign(unsigned char* sig, std::size_t cap) const {
    unsigned char dgst[32] = {1, 2, 3};
    EVP_PKEY_CTX* ctx = EVP_PKEY_CTX_new(a, nullptr);
    std::size_t len = cap;
    if (EVP_PKEY_sign_init(ctx) != 1 || EVP_PKEY_sign(ctx, sig, &len, dgst, sizeof dgst) != 1) std::abort();
    EVP_PKEY_CTX_free(ctx);
    return len;
  }
  bool verify(const unsigned char* sig, std::size_t len) const {
    unsigned char dgst[32] = {1, 2, 3};
    EVP_PKEY_CTX* ctx = EVP_PKEY_CTX_new(a, nullptr);
    const bool ok = EVP_PKEY_verify_init(ctx) == 1 && EVP_PKEY_verify(ctx, sig, len, dgst, sizeof dgst) == 1;
    EVP_PKEY_CTX_free(ctx);
    return ok;
  }
  static Raw& get() {
    static Raw r;
    return r;
  }
};

// Seconds per raw operation, measured once (a short timed loop) for the ratio counters.
struct RawCost {
  double derive = 0, sign = 0, verify = 0;
  static const RawCost& get() {
    static RawCost c = [] {
      RawCost r;
      auto& raw = Raw::get();
      auto time = [](auto&& fn) {
        constexpr int n = 2000;
        const auto t0 = std::chrono::steady_clock::now();
        for (int i = 0; i < n; ++i) fn();
        return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() / n;
      };
      unsigned char sig[80];
      const std::size_t len = raw.sign(sig, sizeof sig);
      r.derive = time([&] { raw.derive(); });
      r.sign = time([&] { benchmark::DoNotOptimize(raw.sign(sig, sizeof sig)); });
      r.verify = time([&] { benchmark::DoNotOptimize(raw.verify(sig, len)); });
      return r;
    }();
    return c;
  }
};

// The counter ops_per_s: iterations per second.
void set_rate(benchmark::State& state) {
  state.counters["ops_per_s"] = benchmark::Counter(static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
}

void BM_RawEcdhP256Derive(benchmark::State& state) {
  auto& raw = Raw::get();
  for (auto _ : state) raw.derive();
  set_rate(state);
}

void BM_RawEcdsaP256Sign(benchmark::State& state) {
  auto& raw = Raw::get();
  unsigned char sig[80];
  for (auto _ : state) benchmark::DoNotOptimize(raw.sign(sig, sizeof sig));
  set_rate(state);
}

void BM_RawEcdsaP256Verify(benchmark::State& state) {
  auto& raw = Raw::get();
  unsigned char sig[80];
  const std::size_t len = raw.sign(sig, sizeof sig);
  for (auto _ : state) {
    if (!raw.verify(sig, len)) std::abort();
  }
  set_rate(state);
}

// ---- m2mdm seal / open ---------------------------------------------------------------------------

void set_counters(benchmark::State& state, double raw_seconds) {
  set_rate(state);
  // x_raw = (seconds per op) / raw_seconds = 1 / (ops_per_s * raw_seconds).
  state.counters["x_raw"] = benchmark::Counter(static_cast<double>(state.iterations()) * raw_seconds,
                                               benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}

// Seals the bench profile of device @p dev to @p pfc once per iteration.
void seal_each_iteration(benchmark::State& state, const std::string& dev, const mo::Certificate& pfc) {
  auto& f = Fixture::get();
  const auto p = f.profile(dev);
  for (auto _ : state) {
    auto s = mo::seal_profile(p, f.sho_cert, f.sho_key, pfc);
    if (!s) std::abort();
    benchmark::DoNotOptimize(s->data());
  }
}

// Opens the bench profile of device @p dev, sealed once to @p pfc, once per iteration.
void open_each_iteration(benchmark::State& state, const std::string& dev, const mo::PrivateKey& key,
                         const mo::Certificate& pfc) {
  auto& f = Fixture::get();
  const auto sealed = *mo::seal_profile(f.profile(dev), f.sho_cert, f.sho_key, pfc);
  const auto anchors = f.anchors();
  mo::OpenPolicy pol;
  pol.device_id = dev;
  pol.now = f.now;
  for (auto _ : state) {
    auto o = mo::open_sealed(sealed, key, pfc, anchors, pol);
    if (!o) std::abort();
    benchmark::DoNotOptimize(o->profile.imsi.data());
  }
}

void BM_SealEcP256(benchmark::State& state) {
  seal_each_iteration(state, "bench-ec", Fixture::get().pfc_ec);
  const auto& c = RawCost::get();
  set_counters(state, 2 * c.derive + c.sign);
}

void BM_OpenEcP256(benchmark::State& state) {
  auto& f = Fixture::get();
  open_each_iteration(state, "bench-ec", f.key_ec, f.pfc_ec);
  const auto& c = RawCost::get();
  set_counters(state, c.derive + 2 * c.verify);
}

void BM_SealRsa2048(benchmark::State& state) {
  seal_each_iteration(state, "bench-rsa", Fixture::get().pfc_rsa);
  set_rate(state);
}

void BM_OpenRsa2048(benchmark::State& state) {
  auto& f = Fixture::get();
  open_each_iteration(state, "bench-rsa", f.key_rsa, f.pfc_rsa);
  set_rate(state);
}

BENCHMARK(BM_RawEcdhP256Derive);
BENCHMARK(BM_RawEcdsaP256Sign);
BENCHMARK(BM_RawEcdsaP256Verify);
BENCHMARK(BM_SealEcP256);
BENCHMARK(BM_OpenEcP256);
BENCHMARK(BM_SealRsa2048);
BENCHMARK(BM_OpenRsa2048);

}  // namespace

BENCHMARK_MAIN();
