// Google Benchmark: SyncML DM authentication helpers and package 0 (syncml/auth.hpp,
// syncml/notification.hpp). Run: build/bench/bench/bench_auth
#include "m2mdm/syncml/auth.hpp"
#include "m2mdm/syncml/notification.hpp"

#include <benchmark/benchmark.h>

#include <cstdlib>

namespace {

namespace sm = m2mdm::syncml;

void BM_Md5Credential(benchmark::State& state) {
  const auto nonce = m2mdm::as_bytes("Nonce");
  for (auto _ : state) {
    auto c = sm::md5_digest_credential("Bruce2", "OhBehave", nonce);
    benchmark::DoNotOptimize(c);
  }
}
BENCHMARK(BM_Md5Credential);

void BM_Md5VerifyFromKey(benchmark::State& state) {
  const auto key = sm::md5_user_key("Bruce2", "OhBehave").value();
  const auto nonce = m2mdm::as_bytes("Nonce");
  for (auto _ : state) {
    bool ok = sm::verify_md5_digest_credential_from_key("Zz6EivR3yeaaENcRN6lpAQ==", key, nonce);
    if (!ok) std::abort();
    benchmark::DoNotOptimize(ok);
  }
}
BENCHMARK(BM_Md5VerifyFromKey);

void BM_HmacVerify(benchmark::State& state) {
  const m2mdm::Bytes body(static_cast<std::size_t>(state.range(0)), 0x5a);
  const auto nonce = m2mdm::as_bytes("0123456789abcdef");
  const auto header = sm::hmac_header_value("device-1", "secret", nonce, body).value();
  for (auto _ : state) {
    auto h = sm::parse_hmac_header(header);
    bool ok = h && sm::verify_hmac(*h, "secret", nonce, body);
    if (!ok) std::abort();
    benchmark::DoNotOptimize(ok);
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) * state.range(0));
}
BENCHMARK(BM_HmacVerify)->Arg(1024)->Arg(64 * 1024);

void BM_Pkg0DecodeVerifyWithReset(benchmark::State& state) {
  sm::Notification n;
  n.server_id = "m2mdm.example.org";
  n.session_id = 0x1234;
  const auto pkg = sm::encode_notification(n, "secret", sm::kNotificationResetNonce).value();
  const m2mdm::Bytes stale = {1, 2, 3, 4};
  for (auto _ : state) {
    auto d = sm::decode_notification(pkg);
    auto used = sm::verify_notification_with_reset(*d, n.server_id, "secret", m2mdm::ByteView(stale));
    if (!used) std::abort();
    benchmark::DoNotOptimize(used);
  }
}
BENCHMARK(BM_Pkg0DecodeVerifyWithReset);

void BM_GenerateNonce(benchmark::State& state) {
  for (auto _ : state) {
    auto n = sm::generate_nonce();
    benchmark::DoNotOptimize(n);
  }
}
BENCHMARK(BM_GenerateNonce);

}  // namespace

BENCHMARK_MAIN();
