// `m2mdm conformance`: plays the client conformance vectors (embedded at build time) to a device
// under test over real HTTP, one case after the other, and reports (docs/conformance.md).
#include "conformance_commands.hpp"

#include "conformance_report.hpp"
#include "dut_http.hpp"
#include "remote_runner.hpp"

#include "m2mdm/conformance/remote_plan.hpp"
#include "m2mdm/conformance/vectors.hpp"
#include "m2mdm/server/push.hpp"
#include "m2mdm/syncml/encoding.hpp"

#include <fnmatch.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>

namespace m2mdm::cli {
namespace {

// The fixed test account (docs/conformance.md "The test account"); every value has a flag.
struct ConformanceOptions {
  bool list = false;
  std::string listen = "127.0.0.1:8580";
  std::string url;
  std::string push;
  std::string tls_cert;
  std::string tls_key;
  std::string trigger_command;
  std::string dev_id;
  std::string server_id = "m2mdm-conformance";
  std::string auth = "DIGEST";
  std::string client_secret = "conformance-client-secret";
  std::string server_secret = "conformance-server-secret";
  std::string client_nonce = "Y29uZm9ybWFuY2UtYw==";  // "conformance-c"
  std::string server_nonce = "Y29uZm9ybWFuY2Utcw==";  // "conformance-s"
  std::string man = "m2mdm";
  std::string mod = "m2mdm-device";
  std::string lang = "en-US";
  bool no_m2msimmobj = false;
  std::string cases;
  std::string report;
  std::string vectors;
  double session_timeout = 30;
  unsigned quiet_ms = 500;
  bool trace = false;
};

[[noreturn]] void usage_error(const std::string& what) {
  std::cerr << "m2mdm conformance: " << what << '\n';
  throw CLI::RuntimeError(2);
}

bool selected(const std::string& id, const std::string& patterns) {
  if (patterns.empty()) return true;
  std::stringstream ss(patterns);
  std::string p;
  while (std::getline(ss, p, ','))
    if (!p.empty() && ::fnmatch(p.c_str(), id.c_str(), 0) == 0) return true;
  return false;
}

Bytes nonce_flag(const std::string& name, const std::string& b64) {
  auto n = base64_decode(b64);
  if (!n) usage_error(name + ": not base64: " + b64);
  return *n;
}

// "--report FILE": FILE.txt and FILE.xml (a .txt or .xml extension of FILE is dropped first).
std::filesystem::path report_base(const std::string& file) {
  std::filesystem::path p(file);
  if (p.extension() == ".txt" || p.extension() == ".xml") p.replace_extension();
  return p;
}

void write_file(const std::filesystem::path& p, const std::string& text) {
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out << text;
  if (!out) usage_error("cannot write " + p.string());
}

int run(const ConformanceOptions& o) {
  auto cases = o.vectors.empty() ? conformance::embedded_client_cases() : conformance::load_cases(o.vectors);
  if (!cases) usage_error("cannot read the vectors: " + cases.error().message());

  conformance::RemoteOptions ro;
  ro.package0 = !o.push.empty();
  ro.auth = o.auth;
  ro.m2msimmobj = !o.no_m2msimmobj;
  std::uint16_t sid = 0x1000;
  std::vector<std::pair<const conformance::CaseFiles*, conformance::CasePlan>> plans;
  for (const auto& c : *cases)
    if (selected(c.name, o.cases)) plans.emplace_back(&c, conformance::plan_remote_case(c, ro, sid));
  if (plans.empty()) usage_error("--cases " + o.cases + " selects no case");

  if (o.list) {
    for (const auto& [c, plan] : plans) {
      std::cout << plan.id << "  " << plan.clause << '\n';
      if (!plan.runnable) std::cout << "    not run with these options: " << plan.not_run_reason << '\n';
      std::size_t p0 = 0, client = 0;
      for (const auto& s : plan.sessions) (s.start == conformance::SessionStart::package0 ? p0 : client)++;
      std::cout << "    sessions: " << plan.sessions.size() << " (" << p0 << " by package 0, " << client
                << " client-initiated)";
      if (!plan.not_on_wire.empty()) {
        std::cout << "; not checked on the wire:";
        for (const auto& w : plan.not_on_wire) std::cout << ' ' << w;
      }
      std::cout << '\n';
    }
    return 0;
  }
  if (o.dev_id.empty()) usage_error("--dev-id is required to run the suite (the device's ./DevInfo/DevId)");

  RunnerOptions opts;
  if (!o.push.empty()) {
    auto p = server::parse_push_address(o.push);
    if (!p) usage_error("--push: expected ADDR:PORT, got " + o.push);
    opts.push = *p;
  }
  if (o.listen.rfind(':') == std::string::npos) usage_error("--listen: expected ADDR:PORT, got " + o.listen);
  std::string host = o.listen.substr(0, o.listen.rfind(':'));
  if (host.size() > 2 && host.front() == '[') host = host.substr(1, host.size() - 2);
  unsigned long port = 0;
  try {
    port = std::stoul(o.listen.substr(o.listen.rfind(':') + 1));
  } catch (const std::exception&) {
    usage_error("--listen: bad port in " + o.listen);
  }
  if (port > 65535) usage_error("--listen: bad port in " + o.listen);
  if (o.tls_cert.empty() != o.tls_key.empty()) usage_error("--tls-cert and --tls-key go together");
  auto http = DutHttp::listen(host, static_cast<std::uint16_t>(port), o.tls_cert, o.tls_key);
  if (!http) usage_error("cannot listen on " + o.listen + ": " + http.error().message());
  const std::string shown_host = host.find(':') != std::string::npos ? "[" + host + "]" : host;
  const std::string scheme = o.tls_cert.empty() ? "http://" : "https://";
  const std::string url = o.url.empty() ? scheme + shown_host + ":" + std::to_string((*http)->port()) + "/dm" : o.url;
  std::cout << "listening: " << url << std::endl;

  opts.account.dev_id = o.dev_id;
  opts.account.server_id = o.server_id;
  opts.account.server_uri = url;
  opts.account.client_auth = o.auth;
  opts.account.server_auth = o.auth;
  opts.account.client_secret = o.client_secret;
  opts.account.server_secret = o.server_secret;
  opts.account.man = o.man;
  opts.account.mod = o.mod;
  opts.account.lang = o.lang;
  opts.client_nonce = nonce_flag("--client-nonce", o.client_nonce);
  opts.server_nonce = nonce_flag("--server-nonce", o.server_nonce);
  opts.trigger_command = o.trigger_command;
  opts.session_timeout = std::chrono::milliseconds(static_cast<long>(o.session_timeout * 1000));
  opts.quiet = std::chrono::milliseconds(o.quiet_ms);
  opts.trace = o.trace;
  opts.note = [](const std::string& text) { std::cout << "  " << text << std::endl; };

  const auto t0 = std::chrono::steady_clock::now();
  std::vector<CaseResult> results;
  std::vector<std::string> setup_failures;
  {
    RemoteRunner runner(**http, std::move(opts));
    if (ro.auth != "BASIC") {
      // The device may hold nonces from an earlier run: both sides challenge once first.
      std::map<std::string, std::string> files;
      const auto sync = conformance::plan_sync_session(ro, files, sid);
      const auto f = runner.run_session("nonce sync", sync, files);
      std::cout << "[setup] nonce sync: " << (f.ok() ? "ok" : "FAILED (the cases below will likely fail too)")
                << std::endl;
      for (const auto& x : f.failures) std::cout << "      " << x << std::endl;
      setup_failures = f.failures;
    }
    for (std::size_t i = 0; i < plans.size(); ++i) {
      results.push_back(runner.run(*plans[i].first, std::move(plans[i].second)));
      std::cout << progress_line(results.back(), i + 1, plans.size()) << std::endl;
    }
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const std::string summary = text_summary(results, seconds);
  std::size_t failed = 0, passed = 0, not_run = 0;
  for (const auto& r : results) {
    if (r.outcome == Outcome::failed) ++failed;
    if (r.outcome == Outcome::passed) ++passed;
    if (r.outcome == Outcome::not_run) ++not_run;
  }
  std::cout << passed << " passed, " << failed << " failed, " << not_run << " not run, of " << results.size()
            << " cases in " << static_cast<long>(seconds * 10) / 10.0 << " s" << std::endl;
  if (!o.report.empty()) {
    const auto base = report_base(o.report);
    write_file(base.string() + ".txt", summary);
    write_file(base.string() + ".xml", junit_xml(results, seconds));
    std::cout << "report: " << base.string() << ".txt, " << base.string() << ".xml" << std::endl;
  }
  return failed == 0 && passed > 0 && setup_failures.empty() ? 0 : 1;
}

}  // namespace

void add_conformance_commands(CLI::App& app) {
  auto o = std::make_shared<ConformanceOptions>();
  auto* cmd = app.add_subcommand(
      "conformance",
      "Test a DM client (the device under test) against the client conformance vectors: serve OMA DM 1.2 over "
      "HTTP with a fixed test account, play one scripted case after the other (each a DM session or a few, "
      "started by package 0 to --push or by the device), judge every message the device sends, print a "
      "progress line per case and write a report. Exit 0 only if every case that ran passed (1 otherwise, 2 "
      "for a usage or setup error). docs/conformance.md describes the account and the cases.");
  cmd->add_flag("--list", o->list, "List the cases (id, spec clause, sessions, what is not checked on the wire) and exit");
  cmd->add_option("--listen", o->listen, "Serve DM over HTTP on this ADDR:PORT (port 0: any free port)")
      ->capture_default_str();
  cmd->add_option("--tls-cert", o->tls_cert, "Serve HTTPS with this PEM certificate chain (with --tls-key)");
  cmd->add_option("--tls-key", o->tls_key, "The PEM private key of --tls-cert");
  cmd->add_option("--url", o->url,
                  "The server URI the device is configured with (its DMAcc AppAddr); default http(s)://LISTEN/dm");
  cmd->add_option("--push", o->push,
                  "The device's WAP push address ADDR:PORT (UDP): sessions are asked for with package 0 "
                  "(DM_Notification 1.2). Without it every session must be opened by the device");
  cmd->add_option("--trigger-command", o->trigger_command,
                  "Shell command that makes the device open a client-initiated session (Alert 1201); without it "
                  "the run waits --session-timeout for the device (or the lab) to do so");
  cmd->add_option("--dev-id", o->dev_id, "The device's DevId (./DevInfo/DevId, its CLCRED user name)");
  cmd->add_option("--server-id", o->server_id, "ServerID of the test account (SRVCRED user name)")->capture_default_str();
  cmd->add_option("--auth", o->auth, "AAuthType of the test account, both directions")
      ->capture_default_str()
      ->check(CLI::IsMember({"BASIC", "DIGEST", "HMAC"}));
  cmd->add_option("--client-secret", o->client_secret, "CLCRED AAuthSecret (the device's password)")
      ->capture_default_str();
  cmd->add_option("--server-secret", o->server_secret, "SRVCRED AAuthSecret (the server's password)")
      ->capture_default_str();
  cmd->add_option("--client-nonce", o->client_nonce, "CLCRED AAuthData at the start (base64)")->capture_default_str();
  cmd->add_option("--server-nonce", o->server_nonce, "SRVCRED AAuthData at the start (base64)")->capture_default_str();
  cmd->add_option("--man", o->man, "./DevInfo/Man the device must report")->capture_default_str();
  cmd->add_option("--mod", o->mod, "./DevInfo/Mod the device must report")->capture_default_str();
  cmd->add_option("--lang", o->lang, "./DevInfo/Lang the device must report")->capture_default_str();
  cmd->add_flag("--no-m2msimmobj", o->no_m2msimmobj, "The device has no ./M2MSIMMobj: do not run the cases that use it");
  cmd->add_option("--cases", o->cases, "Comma-separated case ids or shell patterns (default: all)");
  cmd->add_option("--report", o->report, "Write the text summary to FILE.txt and JUnit XML to FILE.xml");
  cmd->add_option("--session-timeout", o->session_timeout, "Seconds to wait for each message of the device")
      ->capture_default_str()
      ->check(CLI::Range(0.1, 3600.0));
  cmd->add_option("--quiet-ms", o->quiet_ms,
                  "After the script's last message of a session, milliseconds during which the device must send "
                  "nothing")
      ->capture_default_str()
      ->check(CLI::Range(0u, 60000u));
  cmd->add_option("--vectors", o->vectors, "Read the vectors from this directory instead of the embedded copy");
  cmd->add_flag("--trace", o->trace, "Print every message both ways on stderr");
  cmd->callback([o] {
    const int rc = run(*o);
    if (rc != 0) throw CLI::RuntimeError(rc);
  });
}

}  // namespace m2mdm::cli
