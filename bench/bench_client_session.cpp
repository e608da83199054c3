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

std::string read_text(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

std::int64_t now_s() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

// The DPF's side of the session, in memory.
class Backend final : public server::DmBackend {
 public:
  server::DmCredentials creds;
  server::Job job;
  bool delivered = false;
  bool pfc_seen = false;
  int alerts = 0;

  Result<server::DmCredentials> credentials(std::string_view) override { return creds; }
  void save_nonces(std::string_view, ByteView server_nonce, ByteView client_nonce) override {
    creds.server_nonce.assign(server_nonce.begin(), server_nonce.end());
    creds.client_nonce.assign(client_nonce.begin(), client_nonce.end());
  }
  void on_device_info(std::string_view, const std::map<std::string, std::string>&) override {}
  bool wants_pfc(std::string_view) override { return !pfc_seen; }
  void on_pfc(std::string_view, ByteView) override { pfc_seen = true; }
  std::optional<server::Job> next_job(std::string_view) override {
    if (delivered) return std::nullopt;
    delivered = true;
    return job;
  }
  void on_job_state(const server::Job&, server::JobState) override {}
  void on_job_failed(const server::Job&, int, std::string_view) override {}
  bool on_generic_alert(std::string_view, const server::DeviceAlert&) override {
    ++alerts;
    return true;
  }
};

struct Fixture {
  fs::path dir;
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
    std::map<std::string, fs::path> files;
    auto pki = mo::init_test_pki(dir / "pki");
    if (!pki) throw std::runtime_error("test pki: " + pki.error().message());
    for (const auto& f : *pki) files[f.name] = f.path;
    auto device = mo::issue_test_device(dir / "pki", kDevId);
    if (!device) throw std::runtime_error("test device: " + device.error().message());
    for (const auto& f : *device) files[f.name] = f.path;
    tre_template = files.at("tre-dir");
    sho_ca = read_text(files.at("sho-ca"));

    auto profile = mo::parse_profile(as_bytes(read_text(fs::path(M2MDM_SOURCE_DIR) / "docs/examples/mcim-profile.json")));
    if (!profile) throw std::runtime_error("profile");
    profile->binding = mo::McimBinding{std::string(kDevId), std::nullopt, "tx-bench", now_s() - 10, now_s() + 86400, 1};
    auto signer = mo::Certificate::from_pem(read_text(files.at("sho-cert")));
    auto key = mo::PrivateKey::from_pem(read_text(files.at("sho-key")));
    auto tre = client::SoftwareTre::open(tre_template);
    if (!signer || !key || !tre) throw std::runtime_error("keys");
    auto pfc = mo::Certificate::from_der((*tre)->platform_certificate());
    if (!pfc) throw std::runtime_error("pfc");
    auto s = mo::seal_profile(*profile, *signer, *key, *pfc);
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
    mo::DevInfo info;
    info.dev_id = std::string(kDevId);
    info.man = "m2mdm";
    info.mod = "bench-1";
    (void)mo::install_devinfo(tree, info);
    (void)mo::install_dmacc(tree);
    mo::DmAccountView acc;
    acc.node_name = "RO";
    acc.server_id = std::string(kServerId);
    acc.app_addr.push_back(mo::DmAppAddr{"1", "http://127.0.0.1/dm", "URI", {}});
    acc.aauth_pref = "DIGEST";
    acc.app_auth.push_back(mo::DmAppAuth{"CLCRED", "CLCRED", "DIGEST", std::string(kDevId), "client-secret", {}});
    acc.app_auth.push_back(mo::DmAppAuth{"SRVCRED", "SRVCRED", "DIGEST", std::string(kServerId), "server-secret", {}});
    (void)mo::write_dm_account(tree, acc);
    mo::M2msimConfig m2msim;
    m2msim.pfc_der = tre->platform_certificate();
    m2msim.dev_id = std::string(kDevId);
    m2msim.servers = {std::string(kServerId)};
    (void)mo::install_m2msim_object(tree, m2msim);
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
    Backend backend;
    backend.creds.server_id = std::string(kServerId);
    backend.creds.server_username = std::string(kServerId);
    backend.creds.server_password = "server-secret";
    backend.creds.client_username = std::string(kDevId);
    backend.creds.client_password = "client-secret";
    backend.job.id = 1;
    backend.job.dev_id = std::string(kDevId);
    backend.job.correlator = "bench-1";
    backend.job.payload = fx.sealed;
    server::DmServerSession dpf(backend, {});
    client::SessionConfig cfg;
    cfg.max_msg_size = 4096;  // a small device: the ~2 KB package arrives in chunks
    state.ResumeTiming();

    client::ClientSession session(device->tree, device->outbox, std::string(kServerId), cfg);
    auto out = session.start_client_initiated();
    if (!out) {
      state.SkipWithError("start failed");
      break;
    }
    std::optional<client::Outgoing> next = std::move(*out);
    while (next) {
      ++msgs;
      bytes_out += static_cast<double>(next->body.size());
      auto reply = dpf.handle(next->body, next->content_type, next->hmac_header);
      if (!reply) break;
      bytes_in += static_cast<double>(reply->body.size());
      auto resp = session.on_response(reply->body, reply->content_type, reply->hmac_header);
      if (!resp) break;
      next = std::move(*resp);
      if (reply->session_over) break;
    }

    state.PauseTiming();
    const bool ok = session.state() == client::SessionState::Completed && backend.alerts == 1 &&
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
