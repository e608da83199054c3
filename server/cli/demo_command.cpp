// `m2mdm demo`: the README's main job. A fresh test PKI, the RO server in-process on
// 127.0.0.1 over HTTPS, a simulated SHO (REST + HTTPS callback receiver) and N real
// `m2mdm-device` agents, each provisioned end to end concurrently (docs/demo.md).
#include "demo_command.hpp"

#include "cli_support.hpp"
#include "demo_support.hpp"
#include "m2mdm/mo/pki.hpp"
#include "m2mdm/server/config.hpp"
#include "m2mdm/server/http_server.hpp"
#include "m2mdm/server/ro_server.hpp"

#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <cstdlib>
#include <iomanip>
#include <iostream>
#include <memory>
#include <sstream>
#include <thread>

namespace m2mdm::cli {
namespace {

namespace fs = std::filesystem;
namespace srv = m2mdm::server;
using demo::Clock;

struct DemoFlags {
  unsigned devices = 3;
  std::string work_dir;
  std::string device_bin;
  unsigned timeout = 120;
  bool keep = false;
  std::string operator_change;  ///< "", "A", "B" or "C"
  std::string kill_agent_at;    ///< "", "package0", "discarded" or "installed"
  bool no_ack = false;          ///< the old SHO never acknowledges
  bool subscriber = false;      ///< the devices have a subscriber, who authorises the change
  unsigned power_cuts = 0;      ///< SIGKILLs of each agent inside its install session(s)
};

bool executable(const fs::path& p) {
  std::error_code ec;
  return fs::is_regular_file(p, ec) && ::access(p.c_str(), X_OK) == 0;
}

/// --device-bin, else m2mdm-device next to this executable, then ../client/ (the build tree),
/// then $PATH.
std::optional<fs::path> find_device_bin(const std::string& given) {
  if (!given.empty()) return executable(given) ? std::optional<fs::path>(fs::absolute(given)) : std::nullopt;
  std::error_code ec;
  const fs::path self = fs::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    for (const fs::path& c : {self.parent_path() / "m2mdm-device", self.parent_path() / ".." / "client" / "m2mdm-device"})
      if (executable(c)) return fs::weakly_canonical(c);
  }
  if (const char* path = std::getenv("PATH")) {
    std::stringstream ss(path);
    std::string dir;
    while (std::getline(ss, dir, ':'))
      if (!dir.empty() && executable(fs::path(dir) / "m2mdm-device")) return fs::path(dir) / "m2mdm-device";
  }
  return std::nullopt;
}

/// Removes the work directory at scope exit unless kept.
struct WorkDir {
  fs::path path;
  bool remove = false;
  ~WorkDir() {
    std::error_code ec;
    if (remove && !path.empty()) fs::remove_all(path, ec);
  }
};

/// An SHO account the demo created: its id and bearer token.
struct DemoSho {
  int id = 0;
  std::string token;
};

/// What a failure of create_sho() says before the server's answer.
struct DemoShoSteps {
  std::string create;    ///< POST /api/v1/shos
  std::string callback;  ///< PUT /api/v1/callback
};

/// Creates the SHO @p name signing as @p signer (as the operator), then registers @p callback_url
/// as its callback; fails the command naming the step of @p steps that went wrong.
DemoSho create_sho(const demo::DemoEnv& env, const std::string& name, const std::string& signer,
                   const std::string& callback_url, const DemoShoSteps& steps) {
  auto sho = env.rest.call("POST", "/api/v1/shos", env.admin_token, env.deadline, "application/json",
                           nlohmann::json{{"name", name}, {"signer", signer}}.dump());
  if (sho.status != 201) fail(steps.create + ": " + sho.describe());
  const DemoSho created{sho.json.value("id", 0), sho.json.value("token", "")};
  auto cb = env.rest.call("PUT", "/api/v1/callback", created.token, env.deadline, "application/json",
                          nlohmann::json{{"url", callback_url}}.dump());
  if (cb.status != 200) fail(steps.callback + ": " + cb.describe());
  return created;
}

int run_demo(const DemoFlags& f) {
  const auto started = Clock::now();
  const auto deadline = started + std::chrono::seconds(f.timeout);
  if (f.devices < 1 || f.devices > 50) fail("--devices must be 1..50", 2);
  if (f.no_ack && f.operator_change.empty()) fail("--no-ack needs --operator-change", 2);
  if (f.subscriber && f.operator_change.empty()) fail("--subscriber needs --operator-change", 2);
  if (!f.kill_agent_at.empty() && f.operator_change != "A" && f.operator_change != "C")
    fail("--kill-agent-at needs --operator-change A or C", 2);
  auto device_bin = find_device_bin(f.device_bin);
  if (!device_bin)
    fail(f.device_bin.empty() ? "m2mdm-device not found next to m2mdm, in ../client/ or on PATH (use --device-bin)"
                              : "--device-bin " + f.device_bin + " is not an executable file",
         2);

  WorkDir work;
  if (f.work_dir.empty()) {
    std::string tmpl = (fs::temp_directory_path() / "m2mdm-demo-XXXXXX").string();
    if (!::mkdtemp(tmpl.data())) fail("cannot create a temporary work directory");
    work.path = tmpl;
  } else {
    work.path = fs::absolute(f.work_dir);
    std::error_code ec;
    fs::create_directories(work.path, ec);
    if (ec) fail("cannot create " + work.path.string() + ": " + ec.message());
  }
  work.remove = f.work_dir.empty() && !f.keep;  // a directory the user named is never removed

  // Everything the server (and the libraries) log goes to a file: stdout is the demo's.
  try {
    auto logger = spdlog::basic_logger_mt("m2mdm", (work.path / "server.log").string(), true);
    logger->flush_on(spdlog::level::info);
    spdlog::set_default_logger(logger);
    spdlog::set_level(spdlog::level::info);
  } catch (const spdlog::spdlog_ex& e) {
    fail(std::string("server log: ") + e.what());
  }
  std::cout << "m2mdm demo: " << f.devices << " device(s), work dir " << work.path.string()
            << (work.remove ? " (removed at the end; --keep keeps it)" : "") << "\n  agent: " << device_bin->string() << std::endl;

  // 1. A fresh test PKI: manufacturer CA (PfCs), SHO CA + signer, TLS CA + server cert, PVA.
  const fs::path pki_dir = work.path / "pki";
  mo::PkiInitOptions po;
  auto files = mo::init_test_pki(pki_dir, po);
  if (!files) fail("pki init: " + files.error().message());
  demo::DemoEnv env;
  env.work = work.path;
  env.device_bin = *device_bin;
  env.deadline = deadline;
  env.sho_id = po.sho_id;
  for (const auto& file : *files) env.pki[file.name] = file.path;
  auto text = [](const fs::path& p) {
    auto b = read_file_or_fail(p.string());
    return std::string(b.begin(), b.end());
  };
  auto sho_cert = mo::Certificate::from_pem(text(env.pki.at("sho-cert")));
  auto sho_key = mo::PrivateKey::from_pem(text(env.pki.at("sho-key")));
  if (!sho_cert || !sho_key) fail("cannot read the SHO signer of the test PKI");
  env.sho_cert = *sho_cert;
  env.sho_key = *sho_key;
  std::cout << "[pki] test PKI created (manufacturer CA, SHO CA, TLS CA, PVA)" << std::endl;

  // Device identities: TRE dir + PfC, PCID credentials, PIN.
  std::vector<demo::DeviceSpec> specs;
  for (unsigned i = 1; i <= f.devices; ++i) {
    demo::DeviceSpec s;
    s.index = static_cast<int>(i);
    s.dev_id = "IMEI:35" + demo::random_digits(13);
    s.pcid = "00101" + demo::random_digits(10);
    auto len = demo::random_digits(1);
    s.pin = demo::random_digits(4 + static_cast<std::size_t>(len.empty() ? 0 : (len[0] - '0') % 5));
    auto k = mo::random_bytes(16), opc = mo::random_bytes(16);
    if (!k || !opc || s.pin.empty() || s.pcid.size() != 15) fail("no randomness");
    s.k = *k;
    s.opc = *opc;
    auto dev = mo::issue_test_device(pki_dir, s.dev_id);
    if (!dev) fail("pki device " + s.dev_id + ": " + dev.error().message());
    for (const auto& file : *dev) {
      if (file.name == "tre-dir") s.tre_dir = file.path;
      if (file.name == "pfc") s.pfc = file.path;
    }
    specs.push_back(std::move(s));
  }
  std::cout << "[pki] " << f.devices << " device identities (TRE + PfC, PCID K/OPc, device PIN)" << std::endl;

  // 2. The SHO's callback receiver (HTTPS with the test TLS certificate).
  demo::CallbackInbox inbox;
  srv::HttpServerOptions ho;
  ho.address = "127.0.0.1";
  ho.port = 0;
  ho.threads = 1;
  ho.tls = srv::TlsFiles{env.pki.at("tls-cert"), env.pki.at("tls-key")};
  auto receiver = srv::HttpServer::start(ho, inbox);
  if (!receiver) fail("SHO callback receiver: " + receiver.error().message());

  // 3. The RO server in-process.
  srv::ServerConfig c;
  c.listen_address = "127.0.0.1";
  c.listen_port = 0;
  c.state_dir = work.path / "ro-state";
  c.tls_cert = env.pki.at("tls-cert");
  c.tls_key = env.pki.at("tls-key");
  c.threads = 2;
  c.manufacturer_cas = {env.pki.at("manufacturer-ca")};
  c.manufacturer_crls = {env.pki.at("manufacturer-crl")};
  c.callback_ca_files = {env.pki.at("tls-ca")};
  c.callback_retry_seconds = 1;
  c.callback_max_retry_seconds = 2;
  c.notify_retry_seconds = 5;
  // A device that lost its power inside a session is pushed package 0 again after this long.
  if (!f.kill_agent_at.empty() || f.power_cuts > 0) c.notify_stall_seconds = 3;
  c.sho_trust_anchors = {env.pki.at("sho-ca")};  // operator-change tokens
  if (f.subscriber) {
    // The subscriber (the devices' owner) and its CA, which the RO and the devices trust for its tokens.
    env.subscriber = true;
    env.subscriber_name = "owner.example";
    auto issued = mo::issue_test_subscriber(pki_dir, env.subscriber_name);
    if (!issued) fail("pki subscriber " + env.subscriber_name + ": " + issued.error().message());
    const auto signer_dir = pki_dir / "subscribers" / env.subscriber_name;
    auto cert = mo::Certificate::from_pem(text(signer_dir / "subscriber-cert.pem"));
    auto key = mo::PrivateKey::from_pem(text(signer_dir / "subscriber-key.pem"));
    if (!cert || !key) fail("cannot read the subscriber's signer");
    env.subscriber_cert = *cert;
    env.subscriber_key = *key;
    env.subscriber_ca = pki_dir / "subscriber-ca.pem";
    c.subscriber_trust_anchors = {env.subscriber_ca};
  }
  std::string why;
  if (!srv::validate_config(c, why)) fail("server config: " + why);
  auto server = srv::RoServer::start(c, why);
  if (!server) fail("server: " + why);
  env.rest = {(*server)->url(), env.pki.at("tls-ca")};
  env.admin_token = (*server)->admin_token();
  env.inbox = &inbox;
  std::cout << "[ro] server listening on " << (*server)->url() << " (state " << c.state_dir.string() << ")" << std::endl;

  // 4. The simulated SHO: created by the operator, registers its callback URL.
  const std::string cb_url = (*receiver)->url() + "/sho/callback";
  const DemoSho sho = create_sho(env, "demo-sho", env.sho_id, cb_url, {"create SHO", "register callback"});
  env.sho_token = sho.token;
  std::cout << "[sho] SHO " << sho.id << " created, callback " << cb_url << std::endl;
  env.power_cuts = f.power_cuts;
  if (!f.operator_change.empty()) {
    // The second SHO the devices move to: its own signing certificate under the SHO CA (which the
    // devices already trust), its own account and callback.
    env.operator_change = f.operator_change[0];
    env.kill_agent_at = f.kill_agent_at;
    env.no_ack = f.no_ack;
    env.new_sho_id = "sho-b.example";
    auto issued = mo::issue_test_sho(pki_dir, env.new_sho_id);
    if (!issued) fail("pki sho " + env.new_sho_id + ": " + issued.error().message());
    auto cert = mo::Certificate::from_pem(text(pki_dir / "shos" / env.new_sho_id / "sho-cert.pem"));
    auto key = mo::PrivateKey::from_pem(text(pki_dir / "shos" / env.new_sho_id / "sho-key.pem"));
    if (!cert || !key) fail("cannot read the second SHO's signer");
    env.new_sho_cert = *cert;
    env.new_sho_key = *key;
    const std::string b_url = (*receiver)->url() + "/sho-b/callback";
    const DemoSho b = create_sho(env, "demo-sho-b", env.new_sho_id, b_url,
                                 {"create the second SHO", "register the second SHO's callback"});
    env.new_sho_token = b.token;
    std::cout << "[sho] second SHO " << b.id << " (" << env.new_sho_id << ") created, callback "
              << b_url << "; operator change variant " << f.operator_change << std::endl;
  }
  if (env.subscriber) {
    auto s = env.rest.call("POST", "/api/v1/subscribers", env.admin_token, deadline, "application/json",
                           nlohmann::json{{"name", env.subscriber_name}}.dump());
    if (s.status != 201) fail("create the subscriber: " + s.describe());
    env.subscriber_id = s.json.value("id", std::int64_t{0});
    env.subscriber_token = s.json.value("token", "");
    std::cout << "[ro] subscriber " << env.subscriber_id << " (" << env.subscriber_name
              << ") created: it owns the devices and alone authorises their change" << std::endl;
  }

  // 5. The devices, concurrently.
  std::mutex print_mutex;
  env.print_mutex = &print_mutex;
  std::vector<demo::DeviceOutcome> outcomes(specs.size());
  {
    std::vector<std::jthread> threads;
    for (std::size_t i = 0; i < specs.size(); ++i)
      threads.emplace_back([&, i] { outcomes[i] = demo::run_device(env, specs[i]); });
  }
  (*server)->stop();
  (*receiver)->stop();

  // 6. Summary.
  std::size_t ok = 0;
  std::cout << "\n"
            << std::left << std::setw(6) << "dev" << std::setw(22) << "DevId" << std::setw(17) << "PCID" << std::setw(17)
            << "IMSI (MCIM)" << std::setw(7) << "steps" << std::setw(9) << "seconds" << "result\n";
  for (std::size_t i = 0; i < specs.size(); ++i) {
    const auto& o = outcomes[i];
    if (o.ok) ++ok;
    std::ostringstream secs;
    secs << std::fixed << std::setprecision(1) << o.seconds;
    std::cout << std::left << std::setw(6) << specs[i].index << std::setw(22) << specs[i].dev_id << std::setw(17)
              << specs[i].pcid << std::setw(17) << (o.imsi.empty() ? "-" : o.imsi) << std::setw(7) << o.steps.size()
              << std::setw(9) << secs.str()
              << (o.ok ? (env.operator_change ? "moved to " + env.new_sho_id : std::string("provisioned"))
                       : "FAILED at " + o.failed_step + ": " + o.reason)
              << "\n";
  }
  for (std::size_t i = 0; i < specs.size(); ++i)
    if (!outcomes[i].ok && !outcomes[i].log_tail.empty())
      std::cout << "\n[dev " << specs[i].index << "] agent log device-" << specs[i].index << ".log, last lines:\n"
                << outcomes[i].log_tail;
  const double total = std::chrono::duration<double>(Clock::now() - started).count();
  std::ostringstream t;
  t << std::fixed << std::setprecision(1) << total;
  std::cout << "\n" << ok << "/" << specs.size() << " devices provisioned"
            << (env.operator_change ? " and moved to " + env.new_sho_id + " (operator change " + f.operator_change + ")"
                                    : std::string())
            << " in " << t.str() << " s; "
            << inbox.received() << " SHO callback(s) received" << std::endl;
  server->reset();
  receiver->reset();
  spdlog::shutdown();
  return ok == specs.size() ? 0 : 1;
}

}  // namespace

void add_demo_command(CLI::App& app) {
  auto [cmd, flags] = add_command<DemoFlags>(
      app, "demo",
      "Provision a fleet of m2mdm-device agents end to end on 127.0.0.1: fresh test PKI, the RO server "
      "in-process over HTTPS, a simulated SHO; per device: attach with AKA on the PCID, bootstrap push, DM "
      "registration, PVA, seal, deliver, install, SHO callback, AKA with the installed MCIM. Exit 0 only if "
      "every device was provisioned.",
      [](const DemoFlags& f) {
        const int rc = run_demo(f);
        if (rc != 0) throw CLI::RuntimeError(rc);
      });
  cmd->add_option("--devices", flags->devices, "number of devices")->capture_default_str()->check(CLI::Range(1, 50));
  cmd->add_option("--work-dir", flags->work_dir, "work directory (default: a fresh temporary one, removed unless --keep)");
  cmd->add_option("--device-bin", flags->device_bin,
                  "m2mdm-device to run (default: next to m2mdm, then ../client/m2mdm-device, then PATH)");
  cmd->add_option("--timeout", flags->timeout, "seconds before the whole run gives up")
      ->capture_default_str()
      ->check(CLI::Range(5, 3600));
  cmd->add_flag("--keep", flags->keep, "keep the work directory (PKI, server state, device logs)");
  cmd->add_option("--operator-change", flags->operator_change,
                  "after the initial provisioning, move every device to a second SHO by this variant "
                  "(A: via the old SHO's connectivity; B: back to the pristine state and re-bootstrapped; "
                  "C: new IMSI, K and OTA keys on the same USIM application; docs/operator-change.md)")
      ->check(CLI::IsMember({"A", "B", "C"}));
  cmd->add_option("--kill-agent-at", flags->kill_agent_at,
                  "with --operator-change A or C: cut each agent's power (SIGKILL) at this point of the change and "
                  "switch it on again; the change must still complete (package0: package 0 verified; discarded: "
                  "the old MCIM discarded; installed: the new one installed)")
      ->check(CLI::IsMember({"package0", "discarded", "installed"}));
  cmd->add_option("--power-cuts", flags->power_cuts,
                  "cut each agent's power (SIGKILL) this many times inside the DM session(s) of its install, each a "
                  "random 0-200 ms after it verified a package 0, and switch it on again on the same state and TRE; "
                  "the install must still complete: at every cut the TRE holds at most one usable MCIM, at the end "
                  "exactly one, and the job's result and SHO callback arrive once")
      ->check(CLI::Range(0, 10));
  cmd->add_flag("--no-ack", flags->no_ack,
                "with --operator-change: the old SHO never acknowledges the discard; the change must complete "
                "anyway and show \"acknowledged\": false");
  cmd->add_flag("--subscriber", flags->subscriber,
                "with --operator-change: the devices belong to a subscriber (their owner; seed 004 \"M2ME U/S\"), "
                "who alone authorises the change: the old SHO's token is shown refused, the subscriber's accepted");
}

}  // namespace m2mdm::cli
