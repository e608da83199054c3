// `m2mdm server`: the RO endpoint (DPF /dm, REST API, /metrics, /healthz) over HTTP(S).
#include "server_commands.hpp"

#include "cli_support.hpp"
#include "m2mdm/server/api.hpp"
#include "m2mdm/server/config.hpp"
#include "m2mdm/server/dpf_service.hpp"
#include "m2mdm/server/http_server.hpp"
#include "m2mdm/server/pva.hpp"
#include "m2mdm/server/store.hpp"

#include <openssl/rand.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <csignal>
#include <ctime>
#include <fstream>
#include <iostream>
#include <memory>
#include <pthread.h>
#include <sys/stat.h>

namespace m2mdm::cli {
namespace {

namespace srv = m2mdm::server;

struct ServerFlags {
  std::string config;
  std::string listen;
  std::string state_dir;
  std::string tls_cert, tls_key;
  unsigned threads = 0;
  std::size_t body_limit = 0;
  std::size_t max_connections = 0;
  unsigned header_timeout_ms = 0, read_timeout_ms = 0, idle_timeout_ms = 0;
  std::string admin_token_file;
  std::vector<std::string> vno_token_files;
  std::vector<std::string> manufacturer_cas;
  std::vector<std::string> manufacturer_crls;
  std::string dpf_address;
  std::string log_level;
  std::int64_t job_ttl = 0;
};

std::int64_t unix_now() { return static_cast<std::int64_t>(std::time(nullptr)); }

/// The admin token: from --admin-token-file, else <state-dir>/admin.token (created, 0600).
std::string admin_token(const srv::ServerConfig& c) {
  std::filesystem::path file = c.admin_token_file ? *c.admin_token_file : c.state_dir / "admin.token";
  if (!c.admin_token_file && !std::filesystem::exists(file)) {
    std::uint8_t raw[32];
    if (RAND_bytes(raw, sizeof raw) != 1) fail("no randomness for the admin token");
    const std::string token = hex_encode(ByteView(raw, sizeof raw));
    const mode_t old = ::umask(077);
    std::ofstream out(file);
    out << token << '\n';
    out.close();
    ::umask(old);
    if (!out) fail("cannot write " + file.string());
    spdlog::info("created operator token file {}", file.string());
  }
  auto t = srv::read_token_file(file);
  if (!t) fail("cannot read admin token " + file.string() + " (need one line of at least 16 characters)");
  return *t;
}

void run_server(const ServerFlags& f, CLI::App& cmd) {
  srv::ServerConfig c;
  std::string why;
  if (!f.config.empty() && !srv::load_config_file(f.config, c, why)) fail("config: " + why, 2);
  auto given = [&](const char* name) { return cmd.get_option(name)->count() > 0; };
  if (given("--listen") && !srv::parse_listen(f.listen, c)) fail("--listen must be ADDR:PORT", 2);
  if (given("--state-dir")) c.state_dir = f.state_dir;
  if (given("--tls-cert")) c.tls_cert = f.tls_cert;
  if (given("--tls-key")) c.tls_key = f.tls_key;
  if (given("--threads")) c.threads = f.threads;
  if (given("--body-limit")) c.body_limit = f.body_limit;
  if (given("--max-connections")) c.max_connections = f.max_connections;
  if (given("--header-timeout-ms")) c.header_timeout_ms = f.header_timeout_ms;
  if (given("--read-timeout-ms")) c.read_timeout_ms = f.read_timeout_ms;
  if (given("--idle-timeout-ms")) c.idle_timeout_ms = f.idle_timeout_ms;
  if (given("--admin-token-file")) c.admin_token_file = f.admin_token_file;
  if (given("--vno-token-file")) c.vno_token_files.assign(f.vno_token_files.begin(), f.vno_token_files.end());
  if (given("--manufacturer-ca")) c.manufacturer_cas.assign(f.manufacturer_cas.begin(), f.manufacturer_cas.end());
  if (given("--manufacturer-crl")) c.manufacturer_crls.assign(f.manufacturer_crls.begin(), f.manufacturer_crls.end());
  if (given("--dpf-address")) c.dpf_address = f.dpf_address;
  if (given("--log-level")) c.log_level = f.log_level;
  if (given("--job-ttl")) c.job_ttl_seconds = f.job_ttl;
  if (!srv::validate_config(c, why)) fail(why, 2);

  // Logs go to stderr; stdout carries only the "listening:" line that scripts parse.
  auto logger = spdlog::stderr_color_mt("m2mdm");
  spdlog::set_default_logger(logger);
  spdlog::set_level(spdlog::level::from_str(c.log_level));
  spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%e%z %^%l%$ %v");

  std::error_code ec;
  const bool created = std::filesystem::create_directories(c.state_dir, ec);
  if (ec) fail("cannot create state directory " + c.state_dir.string() + ": " + ec.message());
  if (created) std::filesystem::permissions(c.state_dir, std::filesystem::perms::owner_all, ec);

  auto box = srv::SecretBox::load_or_create(c.key_path());
  if (!box) fail("store key " + c.key_path().string() + ": " + box.error().message() + " (must be 32 bytes, mode 0600)");
  auto store = srv::SqliteStore::open(c.db_path(), std::move(*box));
  if (!store) fail("store " + c.db_path().string() + ": " + store.error().message());

  auto pva = srv::Pva::load(c.manufacturer_cas, c.manufacturer_crls);
  if (!pva) fail("PVA trust configuration: " + pva.error().message() + " (see log)");

  srv::ApiOptions api;
  api.admin_token_hash = srv::hash_token(admin_token(c));
  for (const auto& v : c.vno_token_files) {
    auto t = srv::read_token_file(v);
    if (!t) fail("cannot read VNO token " + v.string());
    api.vno_token_hashes.push_back(srv::hash_token(*t));
  }
  api.default_job_ttl = c.job_ttl_seconds;

  srv::HttpServerOptions http;
  http.address = c.listen_address;
  http.port = c.port();
  http.threads = c.threads;
  http.body_limit = c.body_limit;
  http.max_connections = c.max_connections;
  http.header_timeout = std::chrono::milliseconds(c.header_timeout_ms);
  http.read_timeout = std::chrono::milliseconds(c.read_timeout_ms);
  http.idle_timeout = std::chrono::milliseconds(c.idle_timeout_ms);
  if (c.tls_cert) http.tls = srv::TlsFiles{*c.tls_cert, *c.tls_key};

  // Block SIGINT/SIGTERM in every thread (the I/O threads inherit the mask); main waits for them.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  api.default_dpf_address = c.dpf_address;
  srv::ApiRouter router(**store, *pva, api);
  auto server = srv::HttpServer::start(http, router);
  if (!server) fail("cannot start the server on " + c.listen_address + ":" + std::to_string(http.port) + ": " +
                    server.error().message());
  const std::string url = (*server)->url();
  if (c.dpf_address.empty()) router.set_default_dpf_address(url + "/dm");
  srv::DpfOptions dpf_opts;
  dpf_opts.public_base = c.dpf_address.empty() ? url : c.dpf_address.substr(0, c.dpf_address.rfind("/dm"));
  auto dpf = std::make_shared<srv::DpfService>(**store, dpf_opts);
  router.set_dm_endpoint(dpf);
  router.set_http_stats([s = server->get()] { return s->stats(); });
  std::cout << "listening: " << url << std::endl;
  spdlog::info("m2mdm server listening on {} (state {}, {} manufacturer CA(s))", url, c.state_dir.string(),
               pva->ca_count());

  // Main thread: wait for a signal, doing periodic housekeeping every second.
  std::int64_t last_sweep = 0;
  for (;;) {
    timespec timeout{1, 0};
    int sig = sigtimedwait(&signals, nullptr, &timeout);
    if (sig == SIGINT || sig == SIGTERM) {
      spdlog::info("signal {}: shutting down", sig);
      break;
    }
    const std::int64_t t = unix_now();
    if (t - last_sweep >= 30) {
      last_sweep = t;
      if (auto n = (*store)->expire_jobs(t); n && *n > 0) spdlog::info("expired {} job(s)", *n);
      dpf->expire_idle();
    }
  }
  (*server)->stop();  // drains in-flight requests, joins the I/O threads
  server->reset();
  spdlog::info("stopped");
}

}  // namespace

void add_server_commands(CLI::App& app) {
  auto flags = std::make_shared<ServerFlags>();
  CLI::App* cmd = app.add_subcommand(
      "server",
      "Run the RO endpoint: DM sessions on /dm, REST API on /api/v1/, /metrics, /healthz. Prints "
      "'listening: http(s)://ADDR:PORT' on stdout when ready. Every setting can also come from a TOML "
      "--config file; flags override it. Defaults: 127.0.0.1:8080 (8443 with TLS), state dir ./m2mdm-state.");
  cmd->add_option("--config", flags->config, "TOML configuration file (see docs/server.md)")->check(CLI::ExistingFile);
  cmd->add_option("--listen", flags->listen, "ADDR:PORT to listen on (port 0 = ephemeral); default 127.0.0.1:8080, :8443 with TLS");
  cmd->add_option("--state-dir", flags->state_dir, "directory for the SQLite store (m2mdm.sqlite), its key (store.key) and admin.token; default ./m2mdm-state");
  cmd->add_option("--tls-cert", flags->tls_cert, "PEM certificate chain: serve HTTPS (TLS 1.2+ only)");
  cmd->add_option("--tls-key", flags->tls_key, "PEM private key of --tls-cert");
  cmd->add_option("--threads", flags->threads, "I/O threads (default: hardware concurrency)");
  cmd->add_option("--body-limit", flags->body_limit, "largest request body in bytes (default 1048576); larger gets 413");
  cmd->add_option("--max-connections", flags->max_connections, "concurrent connection cap (default 1024); beyond it 503 + close");
  cmd->add_option("--header-timeout-ms", flags->header_timeout_ms, "time to receive request headers (default 10000)");
  cmd->add_option("--read-timeout-ms", flags->read_timeout_ms, "time to receive a request body (default 30000)");
  cmd->add_option("--idle-timeout-ms", flags->idle_timeout_ms, "keep-alive idle time between requests (default 60000)");
  cmd->add_option("--admin-token-file", flags->admin_token_file, "file whose first line is the operator bearer token (default <state-dir>/admin.token, created if missing)");
  cmd->add_option("--vno-token-file", flags->vno_token_files, "file with a VNO bearer token for the ICF endpoints (repeatable)");
  cmd->add_option("--manufacturer-ca", flags->manufacturer_cas, "PEM file of manufacturer CA certificates the PVA trusts (repeatable)");
  cmd->add_option("--manufacturer-crl", flags->manufacturer_crls, "CRL file (PEM or DER) the PVA checks; enables revocation checking (repeatable)");
  cmd->add_option("--dpf-address", flags->dpf_address, "public DPF URL given to devices (default: the listen URL + /dm)");
  cmd->add_option("--log-level", flags->log_level, "trace, debug, info (default), warn, error, critical, off");
  cmd->add_option("--job-ttl", flags->job_ttl, "seconds before an undelivered job expires (default 604800)");
  cmd->callback([flags, cmd] { run_server(*flags, *cmd); });
}

}  // namespace m2mdm::cli
