// `m2mdm load`: imports N virtual devices over the REST API, runs DM sessions against the
// server's /dm with C in flight for a duration, prints progress once a second (stderr) and the
// figures at the end (stdout; one JSON object with --json).
#include "load_command.hpp"

#include "cli_support.hpp"
#include "load_devices.hpp"
#include "load_runner.hpp"
#include "load_stats.hpp"
#include "rest_cli.hpp"

#include "m2mdm/syncml/encoding.hpp"

#include <nlohmann/json.hpp>
#include <openssl/rand.h>

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <ctime>
#include <fstream>
#include <iostream>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

namespace m2mdm::cli {
namespace {

// Set by SIGINT/SIGTERM: no new session starts; the run ends with its figures.
std::atomic<bool> g_stop{false};
void on_stop_signal(int) { g_stop.store(true); }

struct LoadFlags : RestTargetFlags {
  std::size_t devices = 100;
  unsigned concurrency = 4;
  double duration_s = 10;
  std::string mode = "session";
  bool json = false;
  bool no_tls_resume = false;
  int server_pid = 0;
  int run_id = -1;
  std::size_t batch = 500;
  std::size_t install_size = 0;
  unsigned timeout_ms = 10'000;
  std::string import_out;  ///< write the run's import NDJSON here and stop
  bool no_import = false;  ///< the run's devices are registered already
};

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// utime + stime of @p pid in seconds; nullopt when /proc does not show it.
std::optional<double> cpu_seconds(int pid) {
  const auto ticks = load::cpu_ticks_from_proc_stat(slurp("/proc/" + std::to_string(pid) + "/stat"));
  if (!ticks) return std::nullopt;
  return static_cast<double>(*ticks) / static_cast<double>(::sysconf(_SC_CLK_TCK));
}

void import_devices(const LoadFlags& f, const std::vector<load::LoadIdentity>& ids) {
  RestTarget server = f.target();
  for (std::size_t start = 0; start < ids.size(); start += f.batch) {
    const std::size_t end = std::min(ids.size(), start + f.batch);
    std::string body;
    for (std::size_t i = start; i < end; ++i) body += load::import_line(ids[i]) + "\n";
    const auto r = server.call("POST", "/api/v1/devices:import", "application/x-ndjson", std::move(body));
    if (!r.error.empty()) fail("import: " + r.error);
    if (r.status != 200) fail("import: HTTP " + std::to_string(r.status) + ": " + error_text(r));
  }
}

// One install job per device (POST /api/v1/devices/{devId}/jobs), its object @p size random
// bytes standing for a sealed MCIM: the server treats the package as opaque and the virtual
// devices' TRE is simulated, so no real sealing is needed to exercise the delivery.
void submit_install_jobs(const LoadFlags& f, const std::vector<load::LoadIdentity>& ids) {
  RestTarget server = f.target();
  Bytes package(f.install_size);
  if (RAND_bytes(package.data(), static_cast<int>(package.size())) != 1) fail("no random bytes");
  const std::string body =
      nlohmann::json{{"kind", "install"}, {"object", base64_encode(package)}, {"authorisation", "m2mdm-load"}}
          .dump();
  for (const auto& id : ids) {
    const auto r = server.call("POST", "/api/v1/devices/" + id.dev_id + "/jobs", "application/json", body);
    if (!r.error.empty()) fail("job for " + id.dev_id + ": " + r.error);
    if (r.status != 202) fail("job for " + id.dev_id + ": HTTP " + std::to_string(r.status) + ": " + error_text(r));
  }
}

void run(const LoadFlags& f) {
  std::string base = f.url;
  while (!base.empty() && base.back() == '/') base.pop_back();
  const auto run_id = static_cast<std::uint32_t>(f.run_id >= 0 ? f.run_id : std::time(nullptr) % 1000000);
  std::vector<load::LoadIdentity> ids;
  ids.reserve(f.devices);
  for (std::size_t i = 0; i < f.devices; ++i) ids.push_back(load::load_identity(run_id, static_cast<std::uint32_t>(i)));
  std::cerr << "load: run " << run_id << ", devices " << ids.front().dev_id << " .. " << ids.back().dev_id << "\n";
  if (!f.import_out.empty()) {
    // The lines hold the devices' DM secrets: the file is the caller's alone (0600).
    const int fd = ::open(f.import_out.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) fail("--import-out " + f.import_out + ": cannot create");
    std::string text;
    for (const auto& id : ids) text += load::import_line(id) + "\n";
    std::size_t done = 0;
    while (done < text.size()) {
      const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
      if (n <= 0) break;
      done += static_cast<std::size_t>(n);
    }
    if (::close(fd) != 0 || done != text.size()) fail("--import-out " + f.import_out + ": cannot write");
    std::cerr << "load: wrote " << ids.size() << " devices to " << f.import_out << "\n";
    return;
  }

  load::LoadSummary summary;
  if (!f.no_import) {
    const auto t0 = std::chrono::steady_clock::now();
    import_devices(f, ids);
    summary.import_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::cerr << "load: imported " << ids.size() << " devices in " << summary.import_s << " s\n";
  }
  if (f.install_size > 0) {
    submit_install_jobs(f, ids);
    std::cerr << "load: queued " << ids.size() << " install jobs of " << f.install_size << " bytes\n";
  }

  std::vector<std::unique_ptr<load::VirtualDevice>> devices;
  devices.reserve(ids.size());
  for (const auto& id : ids) {
    auto d = load::make_virtual_device(id, base + "/dm");
    if (!d) fail("virtual device " + id.dev_id + ": " + d.error());
    devices.push_back(std::move(*d));
  }

  load::RunOptions options;
  options.mode = f.mode == "message" ? load::LoadMode::message : load::LoadMode::session;
  options.concurrency = f.concurrency;
  options.duration = std::chrono::milliseconds(static_cast<std::int64_t>(f.duration_s * 1000));
  options.io_timeout = std::chrono::milliseconds(f.timeout_ms);
  options.tls_resume = !f.no_tls_resume;
  auto trust = load::TlsTrust::create(f.ca_files);
  if (!trust) fail(trust.error());
  options.trust = std::move(*trust);
  options.on_progress = [](const std::string& line) { std::cerr << line << "\n" << std::flush; };
  options.stop = &g_stop;
  struct sigaction sa {};
  sa.sa_handler = on_stop_signal;
  ::sigemptyset(&sa.sa_mask);
  ::sigaction(SIGINT, &sa, nullptr);
  ::sigaction(SIGTERM, &sa, nullptr);
  options.on_error = [](const std::string& line) { std::cerr << "load: error " << line << "\n" << std::flush; };

  std::optional<double> cpu_before;
  if (f.server_pid > 0) {
    cpu_before = cpu_seconds(f.server_pid);
    if (!cpu_before) fail("--server-pid " + std::to_string(f.server_pid) + ": no such process in /proc");
  }
  const double import_s = summary.import_s;
  summary = load::run_load(devices, options);
  summary.import_s = import_s;
  if (cpu_before) {
    load::ServerUsage usage;
    if (auto after = cpu_seconds(f.server_pid)) usage.cpu_seconds = *after - *cpu_before;
    usage.peak_rss_kb =
        load::vmhwm_kb_from_proc_status(slurp("/proc/" + std::to_string(f.server_pid) + "/status")).value_or(0);
    summary.server = usage;
  }
  if (f.json)
    std::cout << load::summary_json(summary).dump() << "\n";
  else
    std::cout << load::summary_text(summary);
  std::cout.flush();
  if (summary.sessions == 0) fail("no session succeeded");
}

}  // namespace

void add_load_command(CLI::App& app) {
  auto [cmd, f] = add_command<LoadFlags>(
      app, "load",
      "Load generator for a running m2mdm server: imports N virtual devices (DevIds IMEI:35<run><index>) over "
      "the REST API, then runs client-initiated DM sessions with them in-process, C at a time, for a duration. "
      "Progress once a second on stderr; the figures on stdout. SIGINT or SIGTERM ends the run early (the sessions "
      "in flight finish; the figures are printed). Exit 1 when no session succeeded.",
      run);
  add_url_flag(*cmd, *f, "base URL of the server (http(s)://HOST:PORT; DM at /dm)");
  add_ca_file_flag(*cmd, *f);
  add_token_file_flag(*cmd, *f, "file whose first line is the operator or SHO bearer token");
  cmd->add_option("--devices", f->devices, "virtual devices (default 100)")->check(CLI::Range(1, 9'999'999));
  cmd->add_option("--concurrency", f->concurrency, "sessions in flight (default 4)")->check(CLI::Range(1, 4096));
  cmd->add_option("--duration", f->duration_s, "seconds to start sessions for (default 10)")->check(CLI::Range(0.1, 86400.0));
  cmd->add_option("--mode", f->mode,
                  "session: a new connection (TLS handshake) per session; message: connections kept across "
                  "sessions (default session)")
      ->check(CLI::IsMember({"session", "message"}));
  cmd->add_flag("--json", f->json, "print the final figures as one JSON object");
  cmd->add_flag("--no-tls-resume", f->no_tls_resume,
                "a full TLS handshake on every connection (default: each device resumes its last TLS session, "
                "as the device agent does)");
  cmd->add_option("--server-pid", f->server_pid,
                  "the server's PID on this machine: report its CPU seconds during the run and its peak RSS")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--run-id", f->run_id, "0..999999: the DevId range of this run (default: from the clock)")
      ->check(CLI::Range(0, 999999));
  cmd->add_option("--install-size", f->install_size,
                  "queue one install job per device (needs an SHO token) with a package of this many bytes; the "
                  "devices answer as a device does (202, Generic Alert) with a simulated TRE (default 0: no jobs)")
      ->check(CLI::Range(0, 1024 * 1024));
  cmd->add_option("--batch", f->batch, "devices per import request (default 500)")->check(CLI::Range(1, 100000));
  cmd->add_option("--timeout-ms", f->timeout_ms, "bound on each connect, send and receive (default 10000)")
      ->check(CLI::Range(100, 600'000));
  cmd->add_option("--import-out", f->import_out,
                  "write this run's devices as NDJSON for POST /api/v1/devices:import (or `m2mdm devices import`; "
                  "they hold the devices' DM secrets: mode 0600) to this file and stop without a session")
      ->excludes("--json");
  cmd->add_flag("--no-import", f->no_import,
                "the run's devices are registered already (e.g. from --import-out): no import before the sessions");
}

}  // namespace m2mdm::cli
