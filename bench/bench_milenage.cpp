// Milenage and AKA throughput: f2345 (three AES blocks + TEMP), f1, a whole authentication
// vector with a cached Milenage instance (what an ICF serving one PCID repeatedly does), and
// with a fresh instance per vector (AES key schedule each time), plus the USIM's side.
#include "m2mdm/client/usim.hpp"
#include "m2mdm/mo/aka.hpp"
#include "m2mdm/mo/milenage.hpp"

#include <benchmark/benchmark.h>

namespace {

using namespace m2mdm;

Bytes unhex(std::string_view s) { return hex_decode(s).value(); }

// TS 35.208 §4.3.1 test set 1.
const Bytes kK = unhex("465b5ce8b199b49faa5f0a2ee238a6bc");
const Bytes kOpc = unhex("cd63cb71954a9f4e48a5994e37a02baf");
const Bytes kRand = unhex("23553cbe9637a89d218ae64dae47bf35");
const Bytes kSqn = unhex("ff9bb4d0b607");
const Bytes kAmf = unhex("b9b9");

// Runs @p op once per iteration, one item per iteration.
template <typename Op>
void per_item(benchmark::State& state, Op op) {
  for (auto _ : state) benchmark::DoNotOptimize(op());
  state.SetItemsProcessed(state.iterations());
}

void BM_MilenageF2345(benchmark::State& state) {
  auto m = mo::Milenage::create(kK, kOpc).value();
  per_item(state, [&] { return m.f2345(kRand); });
}
BENCHMARK(BM_MilenageF2345);

void BM_MilenageF1(benchmark::State& state) {
  auto m = mo::Milenage::create(kK, kOpc).value();
  per_item(state, [&] { return m.f1(kRand, kSqn, kAmf); });
}
BENCHMARK(BM_MilenageF1);

void BM_GenerateVectorCached(benchmark::State& state) {
  auto m = mo::Milenage::create(kK, kOpc).value();
  std::uint64_t sqn = 1;
  per_item(state, [&] { return mo::generate_vector(m, kRand, sqn++, kAmf); });
}
BENCHMARK(BM_GenerateVectorCached);

void BM_GenerateVectorFromKeys(benchmark::State& state) {
  auto keys = mo::SubscriberKeys::from_opc(kK, kOpc).value();
  mo::OpenSslRandom rng;
  std::uint64_t sqn = 1;
  per_item(state, [&] { return mo::generate_vector(keys, rng, sqn++, kAmf); });
}
BENCHMARK(BM_GenerateVectorFromKeys);

void BM_UsimAuthenticate(benchmark::State& state) {
  auto keys = mo::SubscriberKeys::from_opc(kK, kOpc).value();
  auto usim = client::Usim::create(client::UsimProfile{"001010000000001", keys, 0}).value();
  auto m = keys.milenage().value();
  mo::SqnGenerator gen;
  for (auto _ : state) {
    state.PauseTiming();
    auto v = mo::generate_vector(m, kRand, gen.next().value(), kAmf).value();
    state.ResumeTiming();
    auto r = usim.authenticate(v.rand, v.autn);
    benchmark::DoNotOptimize(r);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_UsimAuthenticate);

}  // namespace

BENCHMARK_MAIN();
