// m2mdm-device: the M2ME agent (issue 5). A state directory (DM tree, outbox, TRE), a UDP push
// listener for bootstraps and package 0, one-shot sessions, structured logs, clean shutdown.
#include "log_setup.hpp"

#include "m2mdm/bootstrap/security.hpp"
#include "m2mdm/client/device.hpp"
#include "m2mdm/client/error.hpp"
#include "m2mdm/client/push_listener.hpp"
#include "m2mdm/mo/trust.hpp"

#include <CLI/CLI.hpp>

#include <atomic>
#include <cstdint>
#include <optional>
#include <csignal>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>

namespace {

using namespace m2mdm;

// Exit codes (documented in --help).
constexpr int kExitOk = 0;
constexpr int kExitUsage = 1;
constexpr int kExitBootstrapRefused = 2;
constexpr int kExitSessionFailed = 3;
constexpr int kExitSetup = 4;

volatile std::sig_atomic_t g_stop = 0;
volatile std::sig_atomic_t g_session_requested = 0;
extern "C" void on_signal(int) { g_stop = 1; }
extern "C" void on_session_request(int) { g_session_requested = 1; }

struct Options {
  std::string state_dir;
  std::string tre_dir;
  std::string trust_anchors;
  std::string owner_anchors;
  std::string owner;
  bool production = false;
  std::string listen;
  std::string bootstrap_file;
  std::string mac;
  std::string sec = "USERPIN";
  std::string pin;
  std::string imsi;
  bool once = false;
  std::string server_id;
  std::string ca_file;
  std::string log_format = "text";
  std::string log_level = "info";
  std::size_t max_datagram = 8192;
  std::optional<std::uint64_t> max_obj_size;
  std::optional<std::uint64_t> max_msg_size;
  std::string manufacturer = "m2mdm";
  std::string model = "m2mdm-device";
};

[[noreturn]] void die(int code, const std::string& reason) {
  agent::log(agent::Level::error, reason);
  std::fprintf(stderr, "m2mdm-device: %s\n", reason.c_str());
  std::exit(code);
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) die(kExitUsage, "cannot read " + path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string error_text(const std::error_code& ec) { return std::string(ec.category().name()) + ": " + ec.message(); }

// "ADDR:PORT", "[v6]:PORT" or ":PORT"/"PORT" (address 127.0.0.1).
client::PushListenerOptions parse_listen(const std::string& text, std::size_t max_datagram) {
  client::PushListenerOptions o;
  o.max_datagram = max_datagram;
  std::string port = text;
  if (!text.empty() && text.front() == '[') {
    const auto close = text.find(']');
    if (close == std::string::npos || close + 1 >= text.size() || text[close + 1] != ':')
      die(kExitUsage, "--listen: expected [ADDR]:PORT, got " + text);
    o.address = text.substr(1, close - 1);
    port = text.substr(close + 2);
  } else if (const auto colon = text.rfind(':'); colon != std::string::npos) {
    if (colon > 0) o.address = text.substr(0, colon);
    port = text.substr(colon + 1);
  }
  try {
    const unsigned long v = std::stoul(port);
    if (v > 65535) throw std::out_of_range("port");
    o.port = static_cast<std::uint16_t>(v);
  } catch (const std::exception&) {
    die(kExitUsage, "--listen: bad port in " + text);
  }
  return o;
}

bool is_bootstrapped(const client::Device& device) { return !device.contexts().empty(); }

int run_once(client::Device& device, const Options& o) {
  std::optional<std::string> sid;
  if (!o.server_id.empty()) sid = o.server_id;
  auto report = device.run_client_session(sid);
  if (!report) die(kExitSessionFailed, "session failed: " + error_text(report.error()));
  return kExitOk;
}

int run(const Options& o) {
  auto sec = bootstrap::parse_sec_method(o.sec);
  if (!sec) die(kExitUsage, "--sec: unknown method " + o.sec);

  client::DeviceOptions dopt;
  dopt.state_dir = o.state_dir;
  dopt.tre_dir = o.tre_dir;
  dopt.sec = *sec;
  if (!o.pin.empty()) dopt.sec_credentials.pin = o.pin;
  if (!o.imsi.empty()) dopt.sec_credentials.imsi = o.imsi;
  dopt.ca_file = o.ca_file;
  dopt.manufacturer = o.manufacturer;
  dopt.model = o.model;
  if (o.max_obj_size) dopt.session.max_obj_size = *o.max_obj_size;
  if (o.max_msg_size) dopt.session.max_msg_size = *o.max_msg_size;
  dopt.session_on_init = !o.once;  // --once runs its own session after the bootstrap
  dopt.on_event = agent::log_event;
  const auto kind = o.production ? mo::AnchorKind::production : mo::AnchorKind::test;
  if (!o.trust_anchors.empty()) {
    auto anchors = mo::TrustAnchors::from_pem(read_file(o.trust_anchors), kind);
    if (!anchors)
      die(kExitUsage, "--trust-anchors " + o.trust_anchors + ": " + error_text(anchors.error()) +
                          (o.production ? "" : " (test anchors expected; use --production for production anchors)"));
    dopt.anchors = std::move(*anchors);
  } else {
    dopt.anchors = mo::TrustAnchors(kind);
    agent::log(agent::Level::warn, "no --trust-anchors: every sealed MCIM will be refused (untrusted signer)");
  }
  if (!o.owner_anchors.empty()) {
    auto owner = mo::TrustAnchors::from_pem(read_file(o.owner_anchors), kind);
    if (!owner) die(kExitUsage, "--owner-anchors " + o.owner_anchors + ": " + error_text(owner.error()));
    dopt.owner_anchors = std::move(*owner);
    dopt.owner_name = o.owner;
  } else if (!o.owner.empty()) {
    die(kExitUsage, "--owner needs --owner-anchors (the owner's CA)");
  }

  auto device = client::Device::open(std::move(dopt));
  if (!device) die(kExitSetup, "cannot open the device state: " + error_text(device.error()));

  if (!o.bootstrap_file.empty()) {
    const std::string bytes = read_file(o.bootstrap_file);
    const auto view = as_bytes(bytes);
    // A push PDU (m2mdm bootstrap build --format push) or a bare CP WBXML document (--mac).
    Result<client::BootstrapOutcome> r = (*device)->apply_bootstrap_push(view);
    if (!r && r.error().category() == bootstrap::category() &&
        (r.error() == bootstrap::errc::wsp_bad_pdu_type || r.error() == bootstrap::errc::wsp_truncated)) {
      std::optional<std::string_view> mac;
      if (!o.mac.empty()) mac = o.mac;
      r = (*device)->apply_bootstrap_wbxml(view, mac);
    }
    if (!r) die(kExitBootstrapRefused, "bootstrap refused: " + error_text(r.error()));
  }

  const bool listen = !o.listen.empty() || (o.bootstrap_file.empty() && !o.once);
  if (!listen) return o.once ? run_once(**device, o) : kExitOk;

  auto lopt = parse_listen(o.listen.empty() ? "127.0.0.1:2948" : o.listen, o.max_datagram);
  auto listener = client::PushListener::open(lopt);
  if (!listener) die(kExitSetup, "cannot listen on " + lopt.address + ":" + std::to_string(lopt.port) + ": " +
                                     error_text(listener.error()));
  client::DeviceEvent listening;
  listening.kind = client::DeviceEventKind::listening;
  listening.address = lopt.address;
  listening.port = (*listener)->port();
  listening.message = "listening for WAP push on udp " + lopt.address + ":" + std::to_string(listening.port);
  agent::log_event(listening);
  while (!g_stop) {
    if (o.once && is_bootstrapped(**device)) return run_once(**device, o);
    if (g_session_requested) {
      // SIGUSR1: one client-initiated session now (what a timer or a user action would do; a
      // test lab uses it to drive client-initiated sessions). Its outcome is reported as events.
      g_session_requested = 0;
      if (is_bootstrapped(**device)) {
        std::optional<std::string> sid;
        if (!o.server_id.empty()) sid = o.server_id;
        (void)(*device)->run_client_session(sid);
      } else {
        agent::log(agent::Level::warn, "SIGUSR1: not bootstrapped yet, no session");
      }
    }
    auto got = (*listener)->receive(std::chrono::milliseconds(250));
    if (!got) {
      agent::log(agent::Level::warn, "push dropped: " + error_text(got.error()));
      continue;
    }
    if (!*got) continue;
    client::DeviceEvent received;
    received.kind = client::DeviceEventKind::push_received;
    received.address = (*got)->peer;
    received.bytes = (*got)->payload.size();
    received.message = "push received from " + received.address + " (" + std::to_string(received.bytes) + " bytes)";
    agent::log_event(received);
    (void)(*device)->handle_push((*got)->payload);  // reports its own outcome as an event
  }
  client::DeviceEvent stopping;
  stopping.kind = client::DeviceEventKind::stopping;
  stopping.message = "shutting down (signal)";
  agent::log_event(stopping);
  return kExitOk;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  CLI::App app{
      "m2mdm-device: the M2M equipment's DM agent (3GPP TR 33.812). Keeps its state (DM tree, Generic Alert "
      "outbox) in --state-dir and its platform key and MCIMs in a software TRE; applies OMA CP bootstraps and "
      "answers package 0 notifications received as WAP push over UDP, and runs OMA DM 1.2 sessions over "
      "HTTP(S) with the bootstrapped DM server.\n"
      "Modes: with --bootstrap, apply that file first; with --once, run one client-initiated session (after "
      "waiting for a bootstrap push when --listen is given and the device is not bootstrapped) and exit; "
      "otherwise listen for pushes until SIGTERM/SIGINT; SIGUSR1 then runs one client-initiated session.\n"
      "Exit status: 0 success, 1 usage, 2 bootstrap refused, 3 session failed, 4 state/TRE/socket setup failed."};
  app.add_option("--state-dir", o.state_dir, "Directory of the device state (tree.m2mt, outbox.json); created 0700")
      ->required();
  app.add_option("--tre-dir", o.tre_dir,
                 "Software TRE directory (platform-key.pem, pfc.pem as made by `m2mdm pki device`); default "
                 "STATE-DIR/tre");
  app.add_option("--trust-anchors", o.trust_anchors, "PEM file of the SHO CA(s) whose signed MCIMs the TRE accepts");
  app.add_option("--owner-anchors", o.owner_anchors,
                 "PEM file of the CA(s) of this device's owner (its subscriber): only operator-change tokens the "
                 "subscriber signed then move or reset it (default: the old SHO's token)");
  app.add_option("--owner", o.owner,
                 "with --owner-anchors: the subscriber (its signing certificate's CN) the tokens must name");
  app.add_flag("--production", o.production, "The trust anchors are production anchors (test-PKI signers refused)");
  app.add_option("--listen", o.listen,
                 "Receive WAP push (bootstrap, package 0) on this UDP ADDR:PORT; default 127.0.0.1:2948 when "
                 "neither --bootstrap nor --once is given");
  app.add_option("--max-datagram", o.max_datagram, "Largest push datagram accepted, bytes")
      ->capture_default_str()
      ->check(CLI::Range(64, 65507));
  app.add_option("--max-obj-size", o.max_obj_size,
                 "MaxObjSize announced to DM servers: the largest object this device takes, bytes "
                 "(DM_RepPro 1.2 §7.1; default 2097152)")
      ->check(CLI::Range(std::uint64_t{64}, std::uint64_t{1} << 30));
  app.add_option("--max-msg-size", o.max_msg_size,
                 "MaxMsgSize announced to DM servers: the largest message this device takes, bytes "
                 "(DM_RepPro 1.2 §7.1; default 16384)")
      ->check(CLI::Range(std::uint64_t{512}, std::uint64_t{1} << 30));
  app.add_option("--bootstrap", o.bootstrap_file,
                 "Apply this bootstrap first: a WSP push PDU (`m2mdm bootstrap build --format push`) or a bare CP "
                 "WBXML document (then give --mac)");
  app.add_option("--mac", o.mac, "MAC (40 hex) of a bare WBXML --bootstrap file (not for USERPINMAC)");
  app.add_option("--sec", o.sec,
                 "Bootstrap SEC method this device accepts: NETWPIN, USERPIN, USERNETWPIN or USERPINMAC; a push "
                 "with another method is refused")
      ->capture_default_str();
  app.add_option("--pin", o.pin, "Device PIN for USERPIN/USERNETWPIN (USERPINMAC: the K||m code)");
  app.add_option("--imsi", o.imsi, "IMSI for NETWPIN/USERNETWPIN");
  app.add_flag("--once", o.once, "Run one client-initiated DM session and exit 0 on success, 3 with a reason otherwise");
  app.add_option("--server-id", o.server_id,
                 "ServerID of the DM account for --once and SIGUSR1 (default: the MCIM provisioning context's server)");
  app.add_option("--ca-file", o.ca_file, "PEM file of the CAs trusted for https DM servers (default: system store)");
  app.add_option("--log-format", o.log_format, "Log lines as text or json (one JSON object per line) on stderr")
      ->capture_default_str()
      ->check(CLI::IsMember({"text", "json"}));
  app.add_option("--log-level", o.log_level, "trace, debug, info, warn, error")
      ->capture_default_str()
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error"}));
  app.add_option("--manufacturer", o.manufacturer, "./DevInfo/Man on a new state directory")->capture_default_str();
  app.add_option("--model", o.model, "./DevInfo/Mod on a new state directory")->capture_default_str();
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : kExitUsage;
  }
  m2mdm::agent::setup_logging(o.log_format, o.log_level);
  struct sigaction sa {};
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGTERM, &sa, nullptr);
  sigaction(SIGINT, &sa, nullptr);
  struct sigaction usr {};
  usr.sa_handler = on_session_request;
  sigemptyset(&usr.sa_mask);
  sigaction(SIGUSR1, &usr, nullptr);
  return run(o);
}
