// `m2mdm server`: the RO endpoint (DPF /dm, REST API, /metrics, /healthz) over HTTP(S).
#include "server_commands.hpp"

#include "cli_support.hpp"
#include "demo_command.hpp"
#include "devices_command.hpp"
#include "jobs_command.hpp"
#include "load_command.hpp"
#include "operator_change_command.hpp"
#include "subscriber_command.hpp"
#include "m2mdm/server/api.hpp"
#include "m2mdm/server/config.hpp"
#include "m2mdm/server/dpf_service.hpp"
#include "m2mdm/server/http_server.hpp"
#include "m2mdm/server/pva.hpp"
#include "m2mdm/server/ro_server.hpp"
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
  unsigned handler_threads = 0;
  std::size_t body_limit = 0;
  std::size_t max_connections = 0;
  unsigned header_timeout_ms = 0, read_timeout_ms = 0, idle_timeout_ms = 0;
  std::string admin_token_file;
  std::vector<std::string> vno_token_files;
  std::vector<std::string> manufacturer_cas;
  std::vector<std::string> sho_trust_anchors;
  std::vector<std::string> subscriber_trust_anchors;
  std::vector<std::string> manufacturer_crls;
  std::string dpf_address;
  std::string log_level;
  std::int64_t job_ttl = 0;
  std::string drf_provurl, drf_server_id, drf_apn, drf_spki_pem;
  std::string drf_app_server_id, drf_app_address, drf_app_apn, drf_app_spki_pem, drf_auth_type;
  int notify_max_attempts = 0;
  std::int64_t notify_retry_seconds = 0;
  int claim_max_failures = 0;
  std::int64_t claim_window_seconds = 0;
  std::vector<std::string> callback_cas;
  std::int64_t callback_retry_seconds = 0, callback_max_retry_seconds = 0;
  unsigned callback_timeout_ms = 0;
};

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
  if (given("--handler-threads")) c.handler_threads = f.handler_threads;
  if (given("--body-limit")) c.body_limit = f.body_limit;
  if (given("--max-connections")) c.max_connections = f.max_connections;
  if (given("--header-timeout-ms")) c.header_timeout_ms = f.header_timeout_ms;
  if (given("--read-timeout-ms")) c.read_timeout_ms = f.read_timeout_ms;
  if (given("--idle-timeout-ms")) c.idle_timeout_ms = f.idle_timeout_ms;
  if (given("--admin-token-file")) c.admin_token_file = f.admin_token_file;
  if (given("--vno-token-file")) c.vno_token_files.assign(f.vno_token_files.begin(), f.vno_token_files.end());
  if (given("--manufacturer-ca")) c.manufacturer_cas.assign(f.manufacturer_cas.begin(), f.manufacturer_cas.end());
  if (given("--sho-trust-anchors"))
    c.sho_trust_anchors.assign(f.sho_trust_anchors.begin(), f.sho_trust_anchors.end());
  if (given("--subscriber-trust-anchors"))
    c.subscriber_trust_anchors.assign(f.subscriber_trust_anchors.begin(), f.subscriber_trust_anchors.end());
  if (given("--manufacturer-crl")) c.manufacturer_crls.assign(f.manufacturer_crls.begin(), f.manufacturer_crls.end());
  if (given("--dpf-address")) c.dpf_address = f.dpf_address;
  if (given("--log-level")) c.log_level = f.log_level;
  if (given("--job-ttl")) c.job_ttl_seconds = f.job_ttl;
  if (given("--drf-provurl")) c.drf.provurl = f.drf_provurl;
  if (given("--drf-server-id")) c.drf.dpf.server_id = f.drf_server_id;
  if (given("--drf-apn")) c.drf.dpf.apn = f.drf_apn;
  if (given("--drf-spki-pem")) c.drf_spki_pem = f.drf_spki_pem;
  if (given("--drf-app-server-id")) c.drf.app.server_id = f.drf_app_server_id;
  if (given("--drf-app-address")) c.drf.app_address = f.drf_app_address;
  if (given("--drf-app-apn")) c.drf.app.apn = f.drf_app_apn;
  if (given("--drf-app-spki-pem")) c.drf_app_spki_pem = f.drf_app_spki_pem;
  if (given("--drf-auth-type")) c.drf.auth_type = f.drf_auth_type;
  if (given("--notify-max-attempts")) c.notify_max_attempts = f.notify_max_attempts;
  if (given("--notify-retry-seconds")) c.notify_retry_seconds = f.notify_retry_seconds;
  if (given("--claim-max-failures")) c.claim_max_failures = f.claim_max_failures;
  if (given("--claim-window-seconds")) c.claim_window_seconds = f.claim_window_seconds;
  if (given("--callback-ca")) c.callback_ca_files.assign(f.callback_cas.begin(), f.callback_cas.end());
  if (given("--callback-retry-seconds")) c.callback_retry_seconds = f.callback_retry_seconds;
  if (given("--callback-max-retry-seconds")) c.callback_max_retry_seconds = f.callback_max_retry_seconds;
  if (given("--callback-timeout-ms")) c.callback_timeout_ms = f.callback_timeout_ms;
  if (!srv::validate_config(c, why)) fail(why, 2);

  // Logs go to stderr; stdout carries only the "listening:" line that scripts parse.
  auto logger = spdlog::stderr_color_mt("m2mdm");
  spdlog::set_default_logger(logger);
  spdlog::set_level(spdlog::level::from_str(c.log_level));
  spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%e%z %^%l%$ %v");

  // Block SIGINT/SIGTERM in every thread (the server's threads inherit the mask); main waits.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  auto server = srv::RoServer::start(c, why);
  if (!server) fail(why);
  std::cout << "listening: " << (*server)->url() << std::endl;
  spdlog::info("m2mdm server listening on {} (state {})", (*server)->url(), c.state_dir.string());
  for (;;) {
    const int sig = sigwaitinfo(&signals, nullptr);
    if (sig == SIGINT || sig == SIGTERM) {
      spdlog::info("signal {}: shutting down", sig);
      break;
    }
  }
  (*server)->stop();
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
  cmd->add_option("--threads", flags->threads, "I/O threads: TLS and HTTP framing (default: hardware concurrency)");
  cmd->add_option("--handler-threads", flags->handler_threads,
                  "threads that handle requests and wait on the store's fsyncs (default: 8 per I/O thread)")
      ->check(CLI::Range(1u, 1024u));
  cmd->add_option("--body-limit", flags->body_limit, "largest request body in bytes (default 1048576); larger gets 413");
  cmd->add_option("--max-connections", flags->max_connections, "concurrent connection cap (default 1024); beyond it 503 + close");
  cmd->add_option("--header-timeout-ms", flags->header_timeout_ms, "time to receive request headers (default 10000)");
  cmd->add_option("--read-timeout-ms", flags->read_timeout_ms, "time to receive a request body (default 30000)");
  cmd->add_option("--idle-timeout-ms", flags->idle_timeout_ms, "keep-alive idle time between requests (default 60000)");
  cmd->add_option("--admin-token-file", flags->admin_token_file, "file whose first line is the operator bearer token (default <state-dir>/admin.token, created if missing)");
  cmd->add_option("--vno-token-file", flags->vno_token_files, "file with a VNO bearer token for the ICF endpoints (repeatable)");
  cmd->add_option("--manufacturer-ca", flags->manufacturer_cas, "PEM file of manufacturer CA certificates the PVA trusts (repeatable)");
  cmd->add_option("--sho-trust-anchors", flags->sho_trust_anchors,
                  "PEM file of the CAs of the SHOs' signing certificates; operator-change tokens are verified "
                  "against them (repeatable; [operator_change] sho_trust_anchors)");
  cmd->add_option("--subscriber-trust-anchors", flags->subscriber_trust_anchors,
                  "PEM file of the CAs of the subscribers' (device owners') signing certificates; a device assigned "
                  "to a subscriber changes SHO only on a token its subscriber signed (repeatable; "
                  "[operator_change] subscriber_trust_anchors)");
  cmd->add_option("--manufacturer-crl", flags->manufacturer_crls, "CRL file (PEM or DER) the PVA checks; enables revocation checking (repeatable)");
  cmd->add_option("--dpf-address", flags->dpf_address, "public DPF URL given to devices (default: the listen URL + /dm)");
  cmd->add_option("--log-level", flags->log_level, "trace, debug, info (default), warn, error, critical, off");
  cmd->add_option("--job-ttl", flags->job_ttl, "seconds before an undelivered job expires (default 604800)");
  cmd->add_option("--drf-provurl", flags->drf_provurl, "BOOTSTRAP PROVURL written into bootstraps (default: the listen URL + /drf)");
  cmd->add_option("--drf-server-id", flags->drf_server_id, "ServerID of the DPF's DM account in bootstraps (default m2mdm-dpf)");
  cmd->add_option("--drf-apn", flags->drf_apn, "APN of the MCIM provisioning context's NAPDEF (default m2m.ro.example)");
  cmd->add_option("--drf-spki-pem", flags->drf_spki_pem, "PEM certificate or public key whose SPKI SHA-256 is the DPF pin in bootstraps (default: --tls-cert)");
  cmd->add_option("--drf-app-server-id", flags->drf_app_server_id, "ServerID of the M2M application context (default m2m-app)");
  cmd->add_option("--drf-app-address", flags->drf_app_address, "DM server URL of the M2M application context (default: the DPF address)");
  cmd->add_option("--drf-app-apn", flags->drf_app_apn, "APN of the M2M application context (default iot.sho.example)");
  cmd->add_option("--drf-app-spki-pem", flags->drf_app_spki_pem, "PEM whose SPKI SHA-256 pins the application context's server (default: the DPF pin)");
  cmd->add_option("--drf-auth-type", flags->drf_auth_type, "AAUTHTYPE of the issued DM accounts: DIGEST (default) or HMAC");
  cmd->add_option("--notify-max-attempts", flags->notify_max_attempts, "package 0 pushes per job before waiting for the device (default 5)");
  cmd->add_option("--notify-retry-seconds", flags->notify_retry_seconds, "first package 0 retry delay, doubled per attempt (default 30)");
  cmd->add_option("--claim-max-failures", flags->claim_max_failures, "failed device claims per SHO per window before 429 (default 10)")
      ->check(CLI::Range(1, 1'000'000));
  cmd->add_option("--claim-window-seconds", flags->claim_window_seconds, "window of --claim-max-failures, from the first failure (default 3600)")
      ->check(CLI::Range(std::int64_t{1}, std::int64_t{30} * 86400));
  cmd->add_option("--callback-ca", flags->callback_cas, "PEM CA file trusted for https SHO callback URLs (repeatable; default: system store)");
  cmd->add_option("--callback-retry-seconds", flags->callback_retry_seconds, "first SHO callback retry delay, doubled per failure (default 1)");
  cmd->add_option("--callback-max-retry-seconds", flags->callback_max_retry_seconds, "cap of the callback back-off (default 300)");
  cmd->add_option("--callback-timeout-ms", flags->callback_timeout_ms, "time limit of one callback POST (default 5000)");
  cmd->callback([flags, cmd] { run_server(*flags, *cmd); });
  add_devices_command(app);  // `m2mdm devices import` (devices_command.cpp): bulk import with progress
  add_operator_change_command(app);  // `m2mdm operator-change request|status|list|show` (operator_change_command.cpp)
  add_jobs_command(app);  // `m2mdm jobs list|show|cancel` (jobs_command.cpp)
  add_subscriber_command(app);  // `m2mdm subscriber ...` (subscriber_command.cpp)
  add_load_command(app);  // `m2mdm load` (load_command.cpp): load generator with in-process virtual devices
  add_demo_command(app);  // `m2mdm demo` (demo_command.cpp): the server in-process with a device fleet
}

}  // namespace m2mdm::cli
