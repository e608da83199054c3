// `m2mdm demo`: the initial provisioning of one device, every step against the real parts
// (TR 33.812 §5.1.3.7.1, seed 003 steps 1-21; see docs/demo.md for the mapping).
#include "demo_support.hpp"
#include "rest_cli.hpp"

#include "m2mdm/client/mcim_registry.hpp"
#include "m2mdm/client/software_tre.hpp"
#include "m2mdm/client/usim.hpp"
#include "m2mdm/mo/aka.hpp"
#include "m2mdm/mo/change_token.hpp"
#include "m2mdm/mo/luhn.hpp"
#include "m2mdm/mo/mcim_profile.hpp"
#include "m2mdm/mo/pki.hpp"
#include "m2mdm/mo/seal.hpp"

#include <algorithm>
#include <ctime>
#include <functional>
#include <random>
#include <fstream>
#include <iostream>
#include <sstream>
#include <thread>
#include <variant>

namespace m2mdm::cli::demo {
namespace {

using namespace std::chrono_literals;
using json = nlohmann::json;
using Ev = client::DeviceEventKind;

/// A step that failed: its name and why.
struct StepError {
  std::string step;
  std::string reason;
};

class Run {
 public:
  Run(const DemoEnv& env, const DeviceSpec& spec) : env_(env), spec_(spec) {
    agent_.log = env.work / ("device-" + std::to_string(spec.index) + ".log");
  }
  ~Run() { agent_.kill_now(); }

  DeviceOutcome go() {
    const auto t0 = Clock::now();
    DeviceOutcome out;
    std::optional<StepError> e = steps();
    out.seconds = std::chrono::duration<double>(Clock::now() - t0).count();
    out.steps = done_;
    out.imsi = imsi_;
    if (e) {
      out.failed_step = e->step;
      out.reason = e->reason;
      agent_.kill_now();
      out.log_tail = agent_.log_tail(8);
      say("FAILED at '" + e->step + "': " + e->reason);
    } else {
      out.ok = true;
    }
    return out;
  }

 private:
  void say(const std::string& what) {
    std::lock_guard lock(*env_.print_mutex);
    std::cout << "[dev " << spec_.index << "] " << what << std::endl;
  }
  void done(const std::string& step, const std::string& detail = {}) {
    done_.push_back(step);
    say(detail.empty() ? step : step + " (" + detail + ")");
  }
  bool timed_out() const { return Clock::now() >= env_.deadline; }
  std::string dev_path() const { return "/api/v1/devices/" + url_escape(spec_.dev_id, ":"); }

  /// Waits for @p cond, failing on the deadline or when the agent died.
  std::optional<StepError> wait(const std::string& step, const std::function<bool()>& cond,
                                std::chrono::milliseconds every = 100ms) {
    for (;;) {
      if (cond()) return std::nullopt;
      if (agent_.ended())
        return StepError{step, "the agent died (exit status " + std::to_string(agent_.exit_status.value_or(-1)) + ")"};
      if (timed_out()) return StepError{step, "timed out (--timeout)"};
      std::this_thread::sleep_for(every);
    }
  }

  std::optional<StepError> steps() {
    if (auto e = start_agent()) return e;
    if (auto e = import_device()) return e;
    if (auto e = attach_with_pcid()) return e;
    if (auto e = bootstrap()) return e;
    if (auto e = registration()) return e;
    if (auto e = fetch_and_validate_pfc()) return e;
    if (auto e = seal_and_submit()) return e;
    if (auto e = await_install()) return e;
    if (env_.operator_change) {
      if (auto e = change_operator()) return e;
    }
    if (auto e = stop_agent()) return e;
    if (env_.power_cuts > 0) {
      if (auto e = one_mcim_after_power_cuts()) return e;
    }
    if (auto e = attach_with_mcim()) return e;
    return std::nullopt;
  }

  // The M2ME is switched on and waits for WAP pushes (before TR 33.812 step 1).
  std::optional<StepError> start_agent() {
    const std::string step = "agent start";
    auto port = free_udp_port();
    if (!port) return StepError{step, "no free UDP port on 127.0.0.1"};
    push_address_ = "udp:127.0.0.1:" + std::to_string(*port);
    const auto state = env_.work / ("device-" + std::to_string(spec_.index) + "-state");
    std::vector<std::string> argv{env_.device_bin.string(), "--listen", "127.0.0.1:" + std::to_string(*port),
                                  "--state-dir", state.string(), "--tre-dir", spec_.tre_dir.string(),
                                  "--trust-anchors", env_.pki.at("sho-ca").string(), "--sec", "USERPIN",
                                  "--pin", spec_.pin, "--ca-file", env_.pki.at("tls-ca").string(),
                                  "--log-format", "json"};
    if (env_.subscriber) {  // a device with an owner: only its subscriber's tokens move it
      for (const std::string& a : {std::string("--owner-anchors"), env_.subscriber_ca.string(), std::string("--owner"),
                                   env_.subscriber_name})
        argv.push_back(a);
    }
    std::string why;
    if (!agent_.spawn(argv, why)) return StepError{step, why};
    agent_argv_ = argv;
    if (auto e = wait(step, [&] { return agent_.has_event(Ev::listening); })) return e;
    done("agent listening", push_address_ + ", pid " + std::to_string(agent_.pid));
    return std::nullopt;
  }

  /// The device's TRE and MCIM registry, opened from its directory (the agent is not running).
  struct OpenedTre {
    std::unique_ptr<client::SoftwareTre> tre;
    std::optional<client::McimRegistry> registry;
  };
  std::optional<StepError> open_tre(const std::string& step, OpenedTre& out) const {
    auto tre = client::SoftwareTre::open(spec_.tre_dir);
    if (!tre) return StepError{step, "TRE: " + tre.error().message()};
    out.tre = std::move(*tre);
    auto registry = client::McimRegistry::open(*out.tre);
    if (!registry) return StepError{step, "registry: " + registry.error().message()};
    out.registry.emplace(std::move(*registry));
    return std::nullopt;
  }

  /// With --kill-agent-at @p point: waits until @p reached, then cuts the power — SIGKILL, no
  /// chance to finish a write or a session — and switches the device on again (same state and
  /// TRE); the change must still end with the old or the new MCIM, then complete.
  std::optional<StepError> power_loss_at(const std::string& point, const std::function<bool()>& reached) {
    if (env_.kill_agent_at != point) return std::nullopt;
    const std::string step = "power loss at " + point;
    if (auto e = wait(step, reached, 10ms)) return e;
    agent_.kill_now();
    // Powered off: the TRE holds exactly one usable MCIM, the old SHO's or the new one's.
    std::string active_sho;
    if (auto e = one_usable_mcim(step, {env_.sho_id, env_.new_sho_id}, active_sho)) return e;
    const std::string which = active_sho == env_.sho_id ? "the old" : "the new";
    const std::size_t listening = agent_.count_events(Ev::listening);
    std::string why;
    if (!agent_.spawn(agent_argv_, why, true)) return StepError{step, why};
    if (auto e = wait(step, [&] { return agent_.count_events(Ev::listening) > listening; })) return e;
    done("power lost at " + point, which + " MCIM alone usable; agent restarted, pid " + std::to_string(agent_.pid));
    return std::nullopt;
  }

  // The RO's DRF registry learns the device (DevId, PCID, PIN, push address, PCID credentials).
  std::optional<StepError> import_device() {
    const std::string step = "import";
    json d = {{"devId", spec_.dev_id},       {"pcid", spec_.pcid},
              {"devicePin", spec_.pin},      {"pushAddress", push_address_},
              {"k", hex_encode(spec_.k)},    {"opc", hex_encode(spec_.opc)},
              {"sqn", 32}};  // SEQ 1, IND 0: the USIM starts at SEQ 0 (TS 33.102 Annex C)
    auto r = env_.rest.call("POST", "/api/v1/devices:import", env_.sho_token, env_.deadline, "application/x-ndjson",
                            d.dump() + "\n");
    if (r.status != 200) return StepError{step, r.describe()};
    done("imported", "PCID " + spec_.pcid);
    return std::nullopt;
  }

  // Attach with the PCID (TR 33.812 steps 1-6): the VNO asks the ICF for a vector, the
  // device's provisional USIM answers; RES must equal XRES (TS 33.102 §6.3).
  std::optional<StepError> attach_with_pcid() {
    const std::string step = "attach (PCID AKA)";
    auto keys = mo::SubscriberKeys::from_opc(spec_.k, spec_.opc);
    if (!keys) return StepError{step, "provisional keys: " + keys.error().message()};
    auto usim = client::Usim::create({spec_.pcid, std::move(*keys), 0}, std::make_unique<client::MemorySqnStateStore>());
    if (!usim) return StepError{step, "provisional USIM: " + usim.error().message()};
    for (int attempt = 0; attempt < 2; ++attempt) {
      auto r = env_.rest.call("POST", "/api/v1/icf/vectors", env_.admin_token, env_.deadline, "application/json",
                              json{{"pcid", spec_.pcid}, {"count", 1}}.dump());
      if (r.status != 200) return StepError{step, "ICF vectors: " + r.describe()};
      const auto& v = r.json["vectors"][0];
      auto rand = hex_decode(v.value("rand", ""));
      auto autn = hex_decode(v.value("autn", ""));
      auto xres = hex_decode(v.value("xres", ""));
      if (!rand || !autn || !xres) return StepError{step, "ICF vector not hex: " + r.body};
      auto outcome = usim->authenticate(*rand, *autn);
      if (!outcome) return StepError{step, "USIM: " + outcome.error().message()};
      if (auto* ok = std::get_if<client::AkaSuccess>(&*outcome)) {
        if (!constant_time_equal(ok->res.view(), *xres)) return StepError{step, "RES != XRES"};
        done("attached with PCID", "AKA RES == XRES");
        return std::nullopt;
      }
      if (auto* sync = std::get_if<client::AkaSyncFailure>(&*outcome)) {  // TS 33.102 §6.3.5
        auto rr = env_.rest.call("POST", "/api/v1/icf/resync", env_.admin_token, env_.deadline, "application/json",
                                 json{{"pcid", spec_.pcid}, {"rand", hex_encode(*rand)}, {"auts", hex_encode(sync->auts)}}.dump());
        if (rr.status != 200) return StepError{step, "ICF resync: " + rr.describe()};
        say("SQN resynchronised with AUTS");
        continue;
      }
      return StepError{step, std::holds_alternative<client::AkaMacFailure>(*outcome) ? "USIM: MAC failure"
                                                                                     : "USIM: AMF refused"};
    }
    return StepError{step, "still not fresh after resynchronisation"};
  }

  // Steps 7-11: the DRF bootstrap pushed over UDP, verified with the PIN and applied.
  std::optional<StepError> bootstrap() {
    const std::string step = "bootstrap";
    auto r = env_.rest.call("POST", dev_path() + "/bootstrap", env_.sho_token, env_.deadline, "application/json", "{}");
    if (r.status != 202) return StepError{step, r.describe()};
    done("bootstrap pushed", std::to_string(r.json.value("pushBytes", 0)) + " bytes to " + push_address_);
    if (auto e = wait("bootstrap apply", [&] { return agent_.has_event(Ev::bootstrap_applied); })) return e;
    done("bootstrap applied");
    return std::nullopt;
  }

  // Steps 11-12: the session with the DPF over TLS pinned by the bootstrap registers the device.
  std::optional<StepError> registration() {
    const std::string step = "registration";
    std::string last;
    auto registered = [&] {
      // The DPF marks the device registered once it authenticated; the PfC is read later in
      // that session, so the INIT session must have completed too.
      if (!agent_.has_event(Ev::session_completed)) return false;
      auto r = env_.rest.call("GET", dev_path(), env_.sho_token, env_.deadline);
      last = r.describe();
      return r.status == 200 && r.json.value("state", "") == "registered";
    };
    if (auto e = wait(step, registered, 200ms)) {
      e->reason += "; last: " + last;
      return e;
    }
    done("registered", "DM session over pinned TLS");
    return std::nullopt;
  }

  // Steps 13-15: the SHO fetches the PfC and has the PVA validate it.
  std::optional<StepError> fetch_and_validate_pfc() {
    std::string step = "PfC fetch";
    Rest::Reply r;
    auto fetched = [&] {
      r = env_.rest.call("GET", dev_path() + "/pfc", env_.sho_token, env_.deadline);
      return r.status != 404;  // 404 = not reported yet
    };
    if (auto e = wait(step, fetched, 200ms)) {
      e->reason += "; last: " + r.describe();
      return e;
    }
    if (r.status != 200) return StepError{step, r.describe()};
    auto pfc = mo::Certificate::from_pem(r.body);
    if (!pfc) return StepError{step, "not a PEM certificate"};
    std::ifstream in(spec_.pfc);
    std::stringstream local;
    local << in.rdbuf();
    auto issued = mo::Certificate::from_pem(local.str());
    if (!issued || issued->to_der() != pfc->to_der()) return StepError{step, "the reported PfC is not the device's"};
    pfc_ = std::move(*pfc);
    done("PfC fetched", mo::device_id_of(pfc_));
    step = "PVA";
    auto v = env_.rest.call("POST", "/api/v1/pva/validate", env_.sho_token, env_.deadline, "application/json",
                            json{{"pfc", r.body}, {"devId", spec_.dev_id}}.dump());
    if (v.status != 200) return StepError{step, v.describe()};
    if (!v.json.value("valid", false)) return StepError{step, "PfC not valid: " + v.json.value("reason", v.body)};
    done("PVA: PfC valid", v.json.value("issuer", ""));
    return std::nullopt;
  }

  /// A fresh MCIM of SHO @p sho_id, bound to this device and sealed to its PfC by @p cert/@p key;
  /// remembers the network side's copy of its keys (for the AKA check at the end).
  std::optional<StepError> seal_mcim(const std::string& step, const std::string& sho_id, const mo::Certificate& cert,
                                     const mo::PrivateKey& key, std::uint64_t counter, Bytes& sealed_out,
                                     std::string& tx_out, const std::string& keep_iccid = {}) {
    auto k = mo::random_bytes(16), opc = mo::random_bytes(16), kic = mo::random_bytes(16), kid = mo::random_bytes(16),
         tx = mo::random_bytes(8);
    if (!k || !opc || !kic || !kid || !tx) return StepError{step, "no randomness"};
    mo::McimProfile p;
    p.sho_id = sho_id;
    p.plmn_id = "00101";
    p.imsi = "00101" + random_digits(10);
    const std::string iccid = "8900101" + random_digits(11);
    p.iccid = keep_iccid.empty() ? iccid + mo::detail::luhn_check_digit(iccid) : keep_iccid;
    mcim_iccid_ = p.iccid;
    p.k = mo::SecretBytes(*k);
    p.opc = mo::SecretBytes(*opc);
    p.amf = {0x80, 0x00};
    p.sqn = 0;
    p.ota = {mo::SecretBytes(*kic), "aes-cbc", mo::SecretBytes(*kid), "aes-cmac", 1};
    mo::McimBinding b;
    b.device_id = spec_.dev_id;
    b.pfc_spki_sha256 = pfc_.spki_sha256();
    b.transaction_id = "demo-" + hex_encode(*tx);
    b.issued = static_cast<std::int64_t>(std::time(nullptr));
    b.expires = b.issued + 86400;
    b.counter = counter;
    p.binding = b;
    std::string where;
    if (auto ok = mo::validate_profile(p, &where); !ok) return StepError{step, ok.error().message() + " at " + where};
    auto sealed = mo::seal_profile(p, cert, key, pfc_);
    if (!sealed) return StepError{step, sealed.error().message()};
    mcim_imsi_ = p.imsi;
    mcim_k_ = *k;
    mcim_opc_ = *opc;
    mcim_sqn_ = p.sqn;
    sealed_out = std::move(*sealed);
    tx_out = hex_encode(*tx);
    done("MCIM sealed", "IMSI " + p.imsi + ", " + std::to_string(sealed_out.size()) + " bytes" +
                            (sho_id == env_.sho_id ? "" : ", by " + sho_id));
    return std::nullopt;
  }

  // Steps 16-17: the SHO makes a fresh MCIM, seals it to the PfC and submits the install job.
  std::optional<StepError> seal_and_submit() {
    std::string step = "seal";
    Bytes sealed;
    std::string tx;
    if (auto e = seal_mcim(step, env_.sho_id, env_.sho_cert, env_.sho_key, 1, sealed, tx)) return e;
    step = "job submit";
    auto r = env_.rest.call("POST", dev_path() + "/jobs", env_.sho_token, env_.deadline, "application/json",
                            json{{"kind", "install"},
                                 {"object", base64_encode(sealed)},
                                 {"authorisation", "demo-sho-authorisation"},
                                 {"correlator", "demo-" + std::to_string(spec_.index) + "-" + tx}}
                                .dump());
    if (r.status != 202) return StepError{step, r.describe()};
    job_id_ = r.json.value("id", std::int64_t{0});
    done("install job submitted", "job " + std::to_string(job_id_));
    return std::nullopt;
  }

  // Steps 18-21: package 0, delivery, install in the TRE, report (1200), SHO callback.
  std::optional<StepError> await_install() {
    std::string step = "package 0";
    // With power cuts the session is watched closely (it lasts about 200 ms): a cut should land in it.
    const auto every = env_.power_cuts > 0 ? 5ms : 100ms;
    if (auto e = wait(step, [&] { return agent_.has_event(Ev::package0_verified); }, every)) return e;
    done("package 0 verified");
    for (unsigned cut = 1; cut <= env_.power_cuts; ++cut) {
      bool over = false;
      if (auto e = power_cut_in_session(cut, over)) return e;
      if (over) break;
    }
    if (auto e = await_job_success("install", job_id_, env_.sho_token)) return e;
    done("MCIM installed", "job succeeded, code 1200");
    imsi_of_old_ = mcim_imsi_;
    step = "SHO callback";
    std::string body;
    if (!env_.inbox->wait_for(job_id_, env_.deadline, body)) return StepError{step, "no callback before the deadline"};
    if (env_.power_cuts > 0) {
      std::this_thread::sleep_for(1500ms);  // a second delivery would come within the retry delay
      if (const auto n = env_.inbox->received_for(job_id_); n != 1)
        return StepError{step, std::to_string(n) + " callbacks for job " + std::to_string(job_id_)};
    }
    done("SHO callback received");
    return std::nullopt;
  }

  /// True when job @p job_id has ended (succeeded, failed or expired).
  bool job_ended(std::int64_t job_id) {
    auto r = env_.rest.call("GET", "/api/v1/jobs/" + std::to_string(job_id), env_.sho_token, env_.deadline);
    if (r.status != 200) return false;
    const std::string state = r.json.value("state", "");
    return state == "succeeded" || state == "failed" || state == "expired";
  }

  /// --power-cuts, cut @p cut: waits for a DM session of the install (cut 1: the one of the
  /// package 0 just verified; later cuts: the next package 0 the server pushes after the restart),
  /// then a random 0-200 ms into it (an install session takes about 200 ms on loopback) cuts the power (SIGKILL), checks that the TRE holds at most
  /// one active MCIM and switches the agent on again. @p over is set (and nothing cut) when the
  /// job ended first.
  std::optional<StepError> power_cut_in_session(unsigned cut, bool& over) {
    const std::string step = "power cut " + std::to_string(cut);
    if (cut > 1) {
      unsigned polls = 0;  // the job is asked for every 100 ms, the agent's events read every 5 ms
      if (auto e = wait(step, [&] {
            if (agent_.count_events(Ev::package0_verified) > package0_seen_) return true;
            if (++polls % 20 == 0) over = job_ended(job_id_);
            return over;
          }, 5ms))
        return e;
      if (over) return std::nullopt;
    }
    thread_local std::mt19937 rng{std::random_device{}()};
    const auto delay = std::chrono::milliseconds(std::uniform_int_distribution<int>(0, 200)(rng));
    std::this_thread::sleep_for(delay);
    agent_.kill_now();
    std::size_t active = 0;
    {
      OpenedTre opened;
      if (auto e = open_tre(step, opened)) return e;
      for (const auto& entry : opened.registry->entries())
        if (entry.state == client::McimState::active) ++active;
    }
    if (active > 1) return StepError{step, std::to_string(active) + " active MCIMs after the power cut"};
    package0_seen_ = agent_.count_events(Ev::package0_verified);
    const std::size_t listening = agent_.count_events(Ev::listening);
    std::string why;
    if (!agent_.spawn(agent_argv_, why, true)) return StepError{step, why};
    if (auto e = wait(step, [&] { return agent_.count_events(Ev::listening) > listening; })) return e;
    done("power cut " + std::to_string(cut), std::to_string(delay.count()) + " ms into the session, " +
                                                 std::to_string(active) + " active MCIM; agent restarted, pid " +
                                                 std::to_string(agent_.pid));
    return std::nullopt;
  }

  /// With the agent off: exactly one usable MCIM in the TRE — active, readable, of one of
  /// @p shos (its SHO in @p active_sho) — and no other active or readable one.
  std::optional<StepError> one_usable_mcim(const std::string& step, const std::vector<std::string>& shos,
                                           std::string& active_sho) const {
    OpenedTre opened;
    if (auto e = open_tre(step, opened)) return e;
    auto& registry = opened.registry;
    auto active = registry->active();
    if (!active) return StepError{step, "no MCIM active"};
    if (!registry->profile(active->id)) return StepError{step, "the active MCIM is not readable"};
    if (std::find(shos.begin(), shos.end(), active->sho_id) == shos.end())
      return StepError{step, "the active MCIM is " + active->sho_id + "'s"};
    for (const auto& e : registry->entries()) {
      if (e.id == active->id) continue;
      if (e.state == client::McimState::active) return StepError{step, "a second active MCIM: " + e.id};
      if (e.state != client::McimState::deleted && registry->profile(e.id))
        return StepError{step, "a second usable MCIM: " + e.id};
    }
    active_sho = active->sho_id;
    return std::nullopt;
  }

  /// --power-cuts, at the end: exactly one usable MCIM, this SHO's.
  std::optional<StepError> one_mcim_after_power_cuts() {
    const std::string step = "one MCIM after the power cuts";
    std::string sho;
    if (auto e = one_usable_mcim(step, {env_.sho_id}, sho)) return e;
    done("exactly one MCIM after the power cuts", "active, " + sho + "'s");
    return std::nullopt;
  }

  // Operator change (docs/operator-change.md). Variant A (seed 004 §5.2.5.8.3.1 steps 1-14): the
  // old SHO authorises, the new SHO requests the change with its own sealed MCIM, the device
  // discards the old MCIM and installs the new one in one TRE transaction, the old SHO is told
  // and acknowledges, the new SHO gets the acknowledgement (filtered) and the result, and the
  // DRF registry names the new SHO. Variant B (§5.2.5.8.3.2 steps 1-15): the same authorisation
  // resets the device to the pristine state instead; it attaches with its PCID again, the DRF
  // re-bootstraps it for the new SHO, and the new SHO's MCIM is provisioned as at first.
  // Variant C (seed 001 §5.4.4 steps 3-12): the new SHO's bulk request (here, of this device)
  // carries new IMSI, K and OTA keys for the same USIM application (the ICCID the subscriber
  // gave it), with the old SHO's token as its consent; the TRE replaces them in place.
  std::optional<StepError> change_operator() {
    const bool pristine = *env_.operator_change == 'B';
    const bool in_place = *env_.operator_change == 'C';
    std::string step = "authorise change";
    auto nonce = mo::new_change_nonce();
    if (!nonce) return StepError{step, "no randomness"};
    mo::ChangeToken t;
    t.device_id = spec_.dev_id;
    t.variant = pristine ? mo::ChangeVariant::pristine
                         : in_place ? mo::ChangeVariant::usim_update
                                    : mo::ChangeVariant::via_old_sho;
    t.from_sho = env_.sho_id;
    t.to_sho = env_.new_sho_id;
    t.issued = static_cast<std::int64_t>(std::time(nullptr));
    t.not_after = t.issued + 3600;
    t.nonce = *nonce;
    // The old SHO's token; with a subscriber it is only shown refused (below), and the
    // subscriber's token (its own nonce) is the authorisation.
    auto old_sho_token = mo::sign_change_token(t, env_.sho_cert, env_.sho_key);
    if (!old_sho_token) return StepError{step, old_sho_token.error().message()};
    auto token = old_sho_token;
    if (env_.subscriber) {
      step = "subscriber owns the device";
      auto a = env_.rest.call("POST", "/api/v1/subscribers/" + std::to_string(env_.subscriber_id) + "/devices",
                              env_.admin_token, env_.deadline, "application/json",
                              json{{"devIds", json::array({spec_.dev_id})}}.dump());
      if (a.status != 200) return StepError{step, a.describe()};
      done("device assigned to the subscriber", env_.subscriber_name);
      step = "authorise change";
      auto own_nonce = mo::new_change_nonce();
      if (!own_nonce) return StepError{step, "no randomness"};
      t.nonce = *own_nonce;
      t.by = mo::ChangeAuthoriser::subscriber;
      t.subscriber = env_.subscriber_name;
      token = mo::sign_change_token(t, env_.subscriber_cert, env_.subscriber_key);
      if (!token) return StepError{step, token.error().message()};
      done("change authorised by the subscriber", std::string("variant ") + *env_.operator_change + ", " +
                                                      std::to_string(token->size()) + " bytes, CMS SignedData");
    } else {
      done("change authorised by the old SHO", std::string("variant ") + *env_.operator_change + ", " +
                                                   std::to_string(token->size()) + " bytes, CMS SignedData");
    }

    // A step 2 / B steps 9-11: the new SHO has the PVA validate the PfC the subscriber gave it.
    step = "PVA (new SHO)";
    auto v = env_.rest.call("POST", "/api/v1/pva/validate", env_.new_sho_token, env_.deadline, "application/json",
                            json{{"pfc", pfc_.to_pem()}}.dump());
    if (v.status != 200 || !v.json.value("valid", false)) return StepError{step, v.describe()};
    done("PVA: PfC valid for the new SHO");
    Bytes sealed;
    std::string tx;
    if (auto e = seal_mcim("seal (new SHO)", env_.new_sho_id, env_.new_sho_cert, env_.new_sho_key, 1, sealed, tx,
                           in_place ? mcim_iccid_ : std::string{}))
      return e;
    if (env_.subscriber) {
      // The subscriber alone decides: the old SHO's token is refused (403, 1412) and creates nothing.
      step = "old SHO's token refused";
      json refused_body = {{"variant", std::string(1, *env_.operator_change)},
                           {"authorisation", base64_encode(*old_sho_token)},
                           {"object", base64_encode(sealed)}};
      auto r = env_.rest.call("POST", dev_path() + "/operator-change", env_.new_sho_token, env_.deadline,
                              "application/json", refused_body.dump());
      if (r.status != 403 || r.json.value("resultCode", 0) != 1412)
        return StepError{step, "expected 403 with resultCode 1412, got " + r.describe()};
      done("old SHO's token refused: the subscriber authorises", "403, resultCode 1412");
    }
    step = "change request";
    const std::size_t notified_before = agent_.count_events(Ev::package0_verified);
    const std::size_t bootstraps_before = agent_.count_events(Ev::bootstrap_applied);
    const json change_body = {{"authorisation", base64_encode(*token)}, {"object", base64_encode(sealed)}};
    std::int64_t change_id = 0, first_job = 0;
    if (in_place) {
      // Step 3: the bulk request (POST /api/v1/operator-changes); each device's result in it.
      json one = change_body;
      one["devId"] = spec_.dev_id;
      auto r = env_.rest.call("POST", "/api/v1/operator-changes", env_.new_sho_token, env_.deadline, "application/json",
                              json{{"variant", "C"}, {"changes", json::array({one})}}.dump());
      if (r.status != 202) return StepError{step, r.describe()};
      const json& result = r.json["results"][0];
      if (result.value("status", 0) != 202) return StepError{step, "refused in the batch: " + result.dump()};
      change_id = result.value("id", std::int64_t{0});
      first_job = result.value("jobId", std::int64_t{0});
      done("bulk operator change requested", "batch " + std::to_string(r.json.value("batchId", 0)) + ", change " +
                                                 std::to_string(change_id) + ", job " + std::to_string(first_job));
    } else {
      json body = change_body;
      body["variant"] = std::string(1, *env_.operator_change);
      auto r = env_.rest.call("POST", dev_path() + "/operator-change", env_.new_sho_token, env_.deadline,
                              "application/json", body.dump());
      if (r.status != 202) return StepError{step, r.describe()};
      change_id = r.json.value("id", std::int64_t{0});
      first_job = r.json.value("jobId", std::int64_t{0});
      done("operator change requested",
           "change " + std::to_string(change_id) + ", " + (pristine ? "reset job " : "job ") + std::to_string(first_job));
    }
    {
      // The token works once: the same request again is refused (403, 1412) and creates nothing.
      step = "replayed token refused";
      json again = change_body;
      again["variant"] = std::string(1, *env_.operator_change);
      auto r = env_.rest.call("POST", dev_path() + "/operator-change", env_.new_sho_token, env_.deadline,
                              "application/json", again.dump());
      if (r.status != 403 || r.json.value("resultCode", 0) != 1412)
        return StepError{step, "expected 403 with resultCode 1412, got " + r.describe()};
      done("replayed token refused", "403, resultCode 1412: " + r.json.value("message", std::string()));
    }

    // Where a power loss may cut the change (--kill-agent-at), as the agent reports it.
    const std::size_t discards_before = agent_.count_events(Ev::mcim_operation, "operation", mo::kAlertDiscarded);
    const std::size_t installs_before = agent_.count_events(Ev::mcim_installed);
    if (auto e = power_loss_at("package0", [&] { return agent_.count_events(Ev::package0_verified) > notified_before; }))
      return e;
    if (auto e = power_loss_at("discarded", [&] {
          return agent_.count_events(Ev::mcim_operation, "operation", mo::kAlertDiscarded) > discards_before;
        }))
      return e;
    if (auto e = power_loss_at("installed", [&] {
          return agent_.count_events(Ev::mcim_installed) > installs_before;
        }))
      return e;
    step = "package 0 (new SHO)";
    if (auto e = wait(step, [&] { return agent_.count_events(Ev::package0_verified) > notified_before; })) return e;
    done("package 0 verified");
    if (auto e = discard_confirmed(change_id)) return e;

    std::int64_t install_job = first_job;
    if (pristine) {
      // B step 3: the device is pristine; step 8: the DRF registry names the new SHO.
      if (auto e = await_job_success("reset to pristine", first_job, env_.new_sho_token)) return e;
      done("device back to the pristine state", "reset job succeeded, code 1200");
      // Steps 4-6: it attaches with its PCID again (AKA vectors from the ICF).
      if (auto e = attach_with_pcid()) return e;
      // Steps 7-8: the DRF re-bootstraps it with the new SHO as its SHO.
      step = "re-bootstrap";
      if (auto e = wait(step, [&] { return agent_.count_events(Ev::bootstrap_applied) > bootstraps_before; }))
        return e;
      done("re-bootstrap applied", "the DRF names " + env_.new_sho_id);
      // Steps 12-13: once the device used its new DM credentials, the RO queues the new MCIM.
      step = "re-provisioning";
      json change;
      auto queued = [](const std::string& state) {
        return state == "reprovisioning" || state == "completed" || state == "failed";
      };
      if (auto e = await_change(step, change_id, env_.new_sho_token, queued, change)) return e;
      if (change.value("state", "") == "failed") return StepError{step, "the change failed: " + change.dump()};
      install_job = change.value("jobId", std::int64_t{0});
      done("new SHO's MCIM queued", "job " + std::to_string(install_job) + ", after the new DM credentials were used");
    }

    // A steps 12-14 / B steps 13-15: the result reaches the new SHO; the registry names it.
    step = "install (new SHO)";
    if (auto e = await_job_success(step, install_job, env_.new_sho_token)) return e;
    std::string body;
    if (!env_.inbox->wait_for(install_job, env_.deadline, body))
      return StepError{step, "no result callback for the new SHO"};
    if (in_place) {
      // Step 12: the result reaches both SHOs (the old one: that the device left).
      std::string path, old_body;
      if (!env_.inbox->wait_for_event("operator_change.completed", change_id, env_.deadline, path, old_body) ||
          path != "/sho/callback")
        return StepError{step, "the old SHO was not told the result"};
      done("USIM updated in place", "same ICCID " + mcim_iccid_ + ", new IMSI; both SHOs told");
    } else {
      done("new MCIM installed", "job succeeded, code 1200, new SHO told");
    }
    step = "registry";
    auto mine = env_.rest.call("GET", dev_path(), env_.new_sho_token, env_.deadline);
    if (mine.status != 200) return StepError{step, "the new SHO cannot see the device: " + mine.describe()};
    auto theirs = env_.rest.call("GET", dev_path(), env_.sho_token, env_.deadline);
    if (theirs.status != 404) return StepError{step, "the old SHO still sees the device: " + theirs.describe()};
    done("registry names the new SHO", "old SHO refused (404)");
    {
      // Seed 004 step 11: the new SHO never reads the old SHO's data — its job, or the old SHO
      // side of the change.
      step = "old SHO's data hidden";
      auto job = env_.rest.call("GET", "/api/v1/jobs/" + std::to_string(job_id_), env_.new_sho_token, env_.deadline);
      if (job.status != 404) return StepError{step, "the new SHO reads the old SHO's job: " + job.describe()};
      auto jobs = env_.rest.call("GET", dev_path() + "/jobs", env_.new_sho_token, env_.deadline);
      if (jobs.status != 200) return StepError{step, jobs.describe()};
      for (const auto& j : jobs.json.value("jobs", json::array()))
        if (j.value("id", std::int64_t{0}) == job_id_) return StepError{step, "the old SHO's job is listed: " + j.dump()};
      auto changes = env_.rest.call("GET", dev_path() + "/operator-changes", env_.new_sho_token, env_.deadline);
      if (changes.status != 200) return StepError{step, changes.describe()};
      for (const auto& c : changes.json.value("operatorChanges", json::array()))
        if (c.contains("fromSho") || c.contains("discardDetail"))
          return StepError{step, "the new SHO sees the old SHO in the change: " + c.dump()};
      done("old SHO's data hidden from the new SHO", "its job 404, not listed; change without fromSho");
    }
    if (env_.subscriber) {
      // The owner follows the change it authorised: both SHOs and the outcome.
      step = "subscriber sees the change";
      json seen;
      auto completed = [](const std::string& state) { return state == "completed"; };
      if (auto e = await_change(step, change_id, env_.subscriber_token, completed, seen)) return e;
      if (!seen.contains("toSho") || seen.contains("discardDetail"))
        return StepError{step, "the subscriber's view is not the owner's: " + seen.dump()};
      done("subscriber sees the change completed", "to SHO " + seen["toSho"].dump());
    }
    if (env_.no_ack) {
      // The change completed without the old SHO's acknowledgement, and says so.
      step = "unacknowledged change";
      auto c = env_.rest.call("GET", "/api/v1/operator-changes/" + std::to_string(change_id), env_.new_sho_token,
                              env_.deadline);
      if (c.status != 200 || c.json.value("state", "") != "completed" || c.json.value("acknowledged", true))
        return StepError{step, "expected completed and not acknowledged: " + c.describe()};
      std::string path, relayed;
      if (env_.inbox->wait_for_event("operator_change.acknowledged", change_id, Clock::now() + 500ms, path, relayed))
        return StepError{step, "the new SHO was told of an acknowledgement nobody gave"};
      done("completed without the old SHO's acknowledgement", "acknowledged: false");
    }
    changed_ = true;
    return std::nullopt;
  }

  // A steps 8-11 / B step 3: the device discarded the old MCIM; the old SHO hears of it and
  // acknowledges; the new SHO gets the acknowledgement without anything of the old SHO.
  std::optional<StepError> discard_confirmed(std::int64_t change_id) {
    std::string step = "discard confirmation";
    std::string path, body;
    if (!env_.inbox->wait_for_event("operator_change.discarded", change_id, env_.deadline, path, body))
      return StepError{step, "the old SHO got no discard confirmation before the deadline"};
    if (path != "/sho/callback") return StepError{step, "the discard confirmation went to " + path};
    done("old SHO told: old MCIM discarded");
    if (env_.no_ack) {
      done("old SHO does not acknowledge (--no-ack): nothing waits for it");
      return std::nullopt;
    }
    step = "old SHO acknowledgement";
    auto ack = env_.rest.call("POST", "/api/v1/operator-changes/" + std::to_string(change_id) + "/ack", env_.sho_token,
                              env_.deadline, "application/json", "{}");
    if (ack.status != 200) return StepError{step, ack.describe()};
    if (!env_.inbox->wait_for_event("operator_change.acknowledged", change_id, env_.deadline, path, body))
      return StepError{step, "the new SHO got no acknowledgement before the deadline"};
    if (path != "/sho-b/callback") return StepError{step, "the acknowledgement went to " + path};
    // Step 11: filtered of everything of the old SHO.
    auto relayed = json::parse(body, nullptr, false);
    if (relayed.contains("detail") || relayed.contains("fromSho") || body.find(imsi_of_old_) != std::string::npos)
      return StepError{step, "the relayed acknowledgement carries old SHO details: " + body};
    done("old SHO acknowledged; relayed to the new SHO without old SHO details");
    return std::nullopt;
  }

  /// Polls GET @p path (as the holder of @p token) every 200 ms until it answers 200 with a "state"
  /// that @p reached accepts; @p body is left with the last answer's body, and a timeout names
  /// the last answer.
  std::optional<StepError> await_state(const std::string& step, const std::string& path, const std::string& token,
                                       const std::function<bool(const std::string& state)>& reached, json& body) {
    std::string last;
    auto polled = [&] {
      auto r = env_.rest.call("GET", path, token, env_.deadline);
      last = r.describe();
      body = r.json;
      return r.status == 200 && reached(body.value("state", ""));
    };
    if (auto e = wait(step, polled, 200ms)) {
      e->reason += "; last: " + last;
      return e;
    }
    return std::nullopt;
  }

  /// Polls operator change @p change_id (as the holder of @p token) until @p reached holds for
  /// its state (await_state).
  std::optional<StepError> await_change(const std::string& step, std::int64_t change_id, const std::string& token,
                                        const std::function<bool(const std::string& state)>& reached, json& change) {
    return await_state(step, "/api/v1/operator-changes/" + std::to_string(change_id), token, reached, change);
  }

  /// Polls job @p job_id (as the SHO of @p token) until it is terminal; an error unless it
  /// succeeded with the M2MSIMMobj result 1200.
  std::optional<StepError> await_job_success(const std::string& step, std::int64_t job_id, const std::string& token) {
    json job;
    auto terminal = [](const std::string& state) {
      return state == "succeeded" || state == "failed" || state == "expired";
    };
    if (auto e = await_state(step, "/api/v1/jobs/" + std::to_string(job_id), token, terminal, job)) return e;
    const std::string state = job.value("state", "");
    const int code = job.contains("result") ? job["result"].value("code", 0) : 0;
    if (state != "succeeded" || code != 1200)
      return StepError{step, "job " + state + " with code " + std::to_string(code) + ": " + job.dump()};
    return std::nullopt;
  }

  std::optional<StepError> stop_agent() {
    const std::string step = "agent stop";
    auto st = agent_.stop(std::min(env_.deadline, Clock::now() + 15s));
    if (!st) return StepError{step, "no exit within 15 s of SIGTERM (killed)"};
    if (*st != 0) return StepError{step, "exit status " + std::to_string(*st) + " after SIGTERM"};
    done("agent stopped", "SIGTERM, exit 0");
    return std::nullopt;
  }

  // After provisioning: the TRE's active MCIM drives the USIM (Alt 3d USIM reset); the SHO's
  // network computes a vector from the K/OPc it sealed; RES must equal XRES.
  std::optional<StepError> attach_with_mcim() {
    const std::string step = "attach (MCIM AKA)";
    OpenedTre opened;
    if (auto e = open_tre(step, opened)) return e;
    auto& registry = opened.registry;
    auto active = registry->active();
    if (!active) return StepError{step, "no active MCIM in the TRE"};
    if (active->imsi != mcim_imsi_) return StepError{step, "active MCIM has IMSI " + active->imsi};
    if (changed_) {
      // The old SHO's MCIM is gone from the TRE: no entry left holds its credentials.
      for (const auto& e : registry->entries())
        if (e.sho_id == env_.sho_id && registry->profile(e.id).has_value())
          return StepError{step, "the old SHO's MCIM " + e.id + " is still usable"};
      if (active->sho_id != env_.new_sho_id) return StepError{step, "the active MCIM is " + active->sho_id + "'s"};
    }
    auto profile = registry->profile(active->id);
    if (!profile) return StepError{step, "profile: " + profile.error().message()};
    const auto constants = profile->milenage.value_or(mo::MilenageConstants::defaults());
    auto dev_keys = mo::SubscriberKeys::from_opc(profile->k.view(), profile->opc.view(), constants);
    if (!dev_keys) return StepError{step, "installed keys: " + dev_keys.error().message()};
    auto usim = client::Usim::create({profile->imsi, std::move(*dev_keys), profile->sqn},
                                     std::make_unique<client::MemorySqnStateStore>());
    if (!usim) return StepError{step, "USIM: " + usim.error().message()};
    // The SHO's HE/AuC: its own copy of K/OPc, SQN from the profile's start (TS 33.102 Annex C).
    auto net_keys = mo::SubscriberKeys::from_opc(mcim_k_, mcim_opc_);
    if (!net_keys) return StepError{step, net_keys.error().message()};
    const mo::SqnProfile sp;
    mo::SqnGenerator gen(sp, sp.seq_of(mcim_sqn_));
    auto sqn = gen.next();
    if (!sqn) return StepError{step, sqn.error().message()};
    mo::OpenSslRandom rng;
    const Bytes amf{0x80, 0x00};
    auto av = mo::generate_vector(*net_keys, rng, *sqn, amf);
    if (!av) return StepError{step, av.error().message()};
    auto outcome = usim->authenticate(av->rand, av->autn);
    if (!outcome) return StepError{step, outcome.error().message()};
    auto* ok = std::get_if<client::AkaSuccess>(&*outcome);
    if (!ok) return StepError{step, "the USIM did not accept the SHO's AUTN"};
    if (ok->res != av->xres || ok->ck != av->ck || ok->ik != av->ik) return StepError{step, "RES != XRES"};
    imsi_ = profile->imsi;
    done("attached with MCIM", "IMSI " + imsi_ + ", AKA RES == XRES");
    return std::nullopt;
  }

  const DemoEnv& env_;
  const DeviceSpec& spec_;
  Agent agent_;
  std::vector<std::string> done_;
  std::string push_address_;
  mo::Certificate pfc_;
  std::int64_t job_id_ = 0;
  std::string mcim_imsi_, imsi_;
  Bytes mcim_k_, mcim_opc_;
  std::uint64_t mcim_sqn_ = 0;
  std::string imsi_of_old_;  ///< the first SHO's IMSI (must never reach the new SHO)
  std::string mcim_iccid_;   ///< the ICCID of the last sealed MCIM (C keeps the USIM application's)
  std::size_t package0_seen_ = 0;  ///< package 0s verified before the last power cut
  std::vector<std::string> agent_argv_;  ///< how the agent was started (a restart after a power loss)
  bool changed_ = false;     ///< the operator change completed
};

}  // namespace

DeviceOutcome run_device(const DemoEnv& env, const DeviceSpec& spec) {
  try {
    return Run(env, spec).go();
  } catch (const std::exception& e) {  // nothing escapes a device thread
    DeviceOutcome out;
    out.failed_step = "internal";
    out.reason = e.what();
    return out;
  }
}

}  // namespace m2mdm::cli::demo
