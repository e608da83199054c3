// One full provisioning session on the device side, per iteration: a fresh device (tree with
// DevInfo + DMAcc + M2MSIMMobj, a software TRE copied from a template, the MCIM registry, the
// M2MSIMMobj agent) runs a client-initiated session against the DPF's session engine in memory:
// MD5 auth both ways, package 1 with DevInfo, Get of the PfC, the sealed MCIM delivered as a large
// object in chunks, Exec Install (open in the TRE, verify, store, activate), Generic Alert 1226
// acknowledged. Sealing (the SHO's work) happens once, outside the timed loop.
//
// Counters: peak_rss_kB = the process's peak resident set (getrusage ru_maxrss) after the run —
// it includes the server engine, the benchmark framework and the test PKI made at start, so it
// is an upper bound of the device's own; rss_before_kB = the same peak before the first session
// (process, libraries, OpenSSL, test PKI, sealing), so the difference is what sessions added; msgs = device messages per session; the device's
// bytes_out / bytes_in per session. Goal (issue 5): peak RSS <= 8 MB.
#include "m2mdm/client/alert_outbox.hpp"
#include "m2mdm/client/m2msim_agent.hpp"
#include "m2mdm/client/mcim_registry.hpp"
#include "m2mdm/client/session.hpp"
#include "m2mdm/client/software_tre.hpp"
#include "m2mdm/mo/m2msim_object.hpp"
#include "m2mdm/mo/mcim_profile.hpp"
#include "m2mdm/mo/pki.hpp"
#include "m2mdm/mo/seal.hpp"
#include "m2mdm/mo/standard_objects.hpp"
#include "m2mdm/mo/trust.hpp"
#include "m2mdm/server/dm_session.hpp"
#include "m2mdm/test/device_fixture.hpp"
#include "m2mdm/test/files.hpp"
#include "m2mdm/test/in_process.hpp"
#include "m2mdm/test/memory_backend.hpp"
#include "m2mdm/test/mock_clock.hpp"

#include <benchmark/benchmark.h>
#include <sys/resource.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <stdexcept>

namespace {

namespace fs = std::filesystem;
using namespace m2mdm;

constexpr std::string_view kDevId = "IMEI:490154203237518";
constexpr std::string_view kServerId = "ro-dpf";

using test::slurp;

struct Fixture {
  fs::path dir;
  test::PkiFiles pki;
  fs::path tre_template;
  std::string sho_ca;
  Bytes sealed;

  static Fixture& get() {
    static Fixture f;
    return f;
  }

  Fixture() {
    dir = fs::temp_directory_path() / ("m2mdm-bench-client-" + std::to_string(::getpid()));
    fs::remove_all(dir);
    auto files = test::make_test_pki(dir / "pki", kDevId);
    if (!files) throw std::runtime_error("test pki: " + files.error().message());
    pki = std::move(*files);
    tre_template = pki.at("tre-dir");
    sho_ca = slurp(pki.at("sho-ca"));

    auto tre = client::SoftwareTre::open(tre_template);
    if (!tre) throw std::runtime_error("keys");
    auto pfc = mo::Certificate::from_der((*tre)->platform_certificate());
    if (!pfc) throw std::runtime_error("pfc");
    test::SealSpec spec;
    spec.dev_id = std::string(kDevId);
    spec.transaction_id = "tx-bench";
    spec.expires = test::system_now() + 86400;
    auto s = test::seal_example_mcim(pki, *pfc, spec);
    if (!s) throw std::runtime_error("seal: " + s.error().message());
    sealed = std::move(*s);
  }
  ~Fixture() {
    std::error_code ec;
    fs::remove_all(dir, ec);
  }
};

// One device, fresh, as it comes out of the bootstrap.
struct Device {
  std::unique_ptr<client::SoftwareTre> tre;
  std::optional<client::McimRegistry> registry;
  mo::Tree tree;
  client::MemoryAlertOutbox outbox;
  std::optional<client::M2msimAgent> agent;

  explicit Device(const fs::path& tre_dir) {
    auto& fx = Fixture::get();
    fs::remove_all(tre_dir);
    fs::copy(fx.tre_template, tre_dir, fs::copy_options::recursive);
    auto t = client::SoftwareTre::open(tre_dir);
    if (!t) throw std::runtime_error("tre");
    tre = std::move(*t);
    auto r = client::McimRegistry::open(*tre);
    if (!r) throw std::runtime_error("registry");
    registry.emplace(std::move(*r));
    test::DeviceTreeSpec spec;
    spec.dev_id = std::string(kDevId);
    spec.model = "bench-1";
    spec.server_id = std::string(kServerId);
    spec.pfc_der = tre->platform_certificate();
    (void)test::install_device_tree(tree, spec);
    auto anchors = mo::TrustAnchors::from_pem(fx.sho_ca, mo::AnchorKind::test);
    if (!anchors) throw std::runtime_error("anchors");
    agent.emplace(tree, *tre, *registry, outbox, std::move(*anchors));
    agent->attach();
  }
};

void BM_ProvisioningSession(benchmark::State& state) {
  auto& fx = Fixture::get();
  const fs::path tre_dir = fx.dir / "device-tre";
  struct rusage before {};
  ::getrusage(RUSAGE_SELF, &before);  // after the test PKI and the sealing, before any session
  double msgs = 0;
  double bytes_out = 0;
  double bytes_in = 0;
  std::int64_t sessions = 0;
  for (auto _ : state) {
    state.PauseTiming();
    auto device = std::make_unique<Device>(tre_dir);
    test::MemoryDmBackend backend;
    backend.creds = test::test_credentials(kServerId, kDevId);
    backend.add_job(1, "bench-1", fx.sealed);
    server::DmServerSession dpf(backend, {});
    client::SessionConfig cfg;
    cfg.max_msg_size = 4096;  // a small device: the ~2 KB package arrives in chunks
    state.ResumeTiming();

    client::ClientSession session(device->tree, device->outbox, std::string(kServerId), cfg);
    const auto x = test::run_client_initiated(session, dpf, 1000);
    if (!x.started) {
      state.SkipWithError("start failed");
      break;
    }
    msgs += x.trips;
    bytes_out += static_cast<double>(x.bytes_out);
    bytes_in += static_cast<double>(x.bytes_in);

    state.PauseTiming();
    const bool ok = session.state() == client::SessionState::Completed && backend.alerts.size() == 1 &&
                    device->registry->active().has_value();
    device.reset();
    state.ResumeTiming();
    if (!ok) {
      state.SkipWithError("the session did not install and report the MCIM");
      break;
    }
    ++sessions;
  }
  struct rusage ru {};
  ::getrusage(RUSAGE_SELF, &ru);
  state.counters["peak_rss_kB"] = static_cast<double>(ru.ru_maxrss);
  state.counters["rss_before_kB"] = static_cast<double>(before.ru_maxrss);
  if (sessions > 0) {
    state.counters["msgs"] = msgs / static_cast<double>(sessions);
    state.counters["bytes_out"] = bytes_out / static_cast<double>(sessions);
    state.counters["bytes_in"] = bytes_in / static_cast<double>(sessions);
  }
}
BENCHMARK(BM_ProvisioningSession)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
