// `m2mdm conformance`: one planned case after the other against a real device (remote_runner.hpp).
#include "remote_runner.hpp"

#include "m2mdm/server/store_types.hpp"
#include "m2mdm/syncml/codec.hpp"

#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>

#include <cstdio>
#include <spdlog/fmt/fmt.h>

extern char** environ;

namespace m2mdm::cli {

using conformance::Findings;
using nlohmann::json;

namespace {

// The SyncHdr of a device message, without judging it (the script does that).
std::optional<syncml::SyncHdr> header_of(const Bytes& body) {
  auto m = syncml::decode(body);
  if (!m) return std::nullopt;
  return std::move(m->hdr);
}

std::optional<unsigned long> hex_value(const std::string& text) {
  if (text.empty() || text.size() > 8) return std::nullopt;
  unsigned long v = 0;
  for (char c : text) {
    v <<= 4;
    if (c >= '0' && c <= '9') v |= static_cast<unsigned long>(c - '0');
    else if (c >= 'a' && c <= 'f') v |= static_cast<unsigned long>(c - 'a' + 10);
    else if (c >= 'A' && c <= 'F') v |= static_cast<unsigned long>(c - 'A' + 10);
    else return std::nullopt;
  }
  return v;
}

std::string ms(std::chrono::milliseconds d) { return fmt::format("{:.1f} s", static_cast<double>(d.count()) / 1000.0); }

}  // namespace

RemoteRunner::RemoteRunner(DutHttp& http, RunnerOptions options) : http_(http), o_(std::move(options)) {
  wire_.start(o_.server_nonce, o_.client_nonce);
}

RemoteRunner::~RemoteRunner() { reap(true); }

void RemoteRunner::reap(bool block) {
  std::erase_if(children_, [&](pid_t pid) {
    int status = 0;
    return ::waitpid(pid, &status, block ? 0 : WNOHANG) != 0;
  });
}

bool RemoteRunner::start_session(const conformance::PlannedSession& s, const std::string& what, bool reset_nonce,
                                 Findings& f) {
  // Whatever arrives before the session is asked for belongs to an earlier one.
  while (auto stray = http_.wait(std::chrono::milliseconds(0))) {
    f.fail("a message arrived before the session was started (SessionID " +
           [&] {
             auto h = header_of(stray->message.body);
             return h ? h->session_id : std::string("?");
           }() + "): the device went on after an earlier session ended");
    http_.refuse(400);
  }
  reap(false);
  if (s.start == conformance::SessionStart::package0) {
    // DM_Notification 1.2 §6.2: package 0 with the server's digest over the nonce the device
    // holds for the server.
    server::DmCredentials dm;
    dm.server_id = o_.account.server_id;
    dm.server_password = o_.account.server_secret;
    dm.server_nonce = wire_.server_nonce;
    auto push = server::make_package0_push(dm, s.notification_session_id, tid_++, reset_nonce);
    if (!push) {
      f.fail("cannot build package 0: " + push.error().message());
      return false;
    }
    if (auto sent = server::UdpPushSender{}.send(*o_.push, *push); !sent) {
      f.fail("cannot send package 0 to " + o_.push->host + ":" + std::to_string(o_.push->port) + ": " +
             sent.error().message());
      return false;
    }
    return true;
  }
  if (o_.trigger_command.empty()) {
    if (o_.note) o_.note("waiting up to " + ms(o_.session_timeout) + " for the device to open a client-initiated session (" + what + ")");
    return true;
  }
  const std::string cmd = o_.trigger_command;
  const char* argv[] = {"sh", "-c", cmd.c_str(), nullptr};
  pid_t pid = 0;
  if (::posix_spawn(&pid, "/bin/sh", nullptr, nullptr, const_cast<char* const*>(argv), environ) != 0) {
    f.fail("cannot run the trigger command");
    return false;
  }
  children_.push_back(pid);
  return true;
}

Findings RemoteRunner::run_session(const std::string& what, const conformance::PlannedSession& s,
                                   const std::map<std::string, std::string>& files) {
  conformance::SessionCtx ctx;
  Findings f = play(what, s, files, ctx);
  conformance::end_session(ctx, wire_);
  return f;
}

Findings RemoteRunner::play(const std::string& what, const conformance::PlannedSession& s,
                            const std::map<std::string, std::string>& files, conformance::SessionCtx& ctx) {
  Findings f;
  if (!start_session(s, what, s.reset_nonce, f)) return f;

  auto first = http_.wait(o_.session_timeout);
  if (!first && s.start == conformance::SessionStart::package0) {
    // DM_Notification 1.2 §6.1: a device that lost step with the server's nonce takes package 0
    // over the reset nonce. A failure of this session, but the run can go on.
    f.fail("the device did not answer package 0 within " + ms(o_.session_timeout) +
           " (digest over the nonce it gave the server last); package 0 sent again over the reset nonce");
    if (!s.reset_nonce && start_session(s, what, true, f)) first = http_.wait(o_.session_timeout);
  }
  if (!first) {
    f.fail(std::string("the device did not open the session within ") + ms(o_.session_timeout) +
           (s.start == conformance::SessionStart::package0 ? " of package 0" : ""));
    return f;
  }
  ctx.alert_alias = s.alert_alias;
  // One decode of the opening message for what the runner needs before the script judges it.
  const auto hdr = header_of(first->message.body);
  device_max_obj_size_ = hdr && hdr->meta ? hdr->meta->max_obj_size : std::nullopt;
  const auto sid = hdr ? std::optional<std::string>(hdr->session_id) : std::nullopt;
  ctx.session_id = sid.value_or("");
  if (sid && s.start == conformance::SessionStart::package0 && s.notification_session_id != 0 &&
      hex_value(*sid) != s.notification_session_id)
    f.fail("SessionID " + *sid + " is not package 0's " + fmt::format("{:X}", s.notification_session_id) +
           " (DM_Notification 1.2 §6.2.2.10)");
  if (s.session.contains("session_id") && sid != s.session.at("session_id").get<std::string>())
    f.fail("SessionID " + sid.value_or("?") + ", expected " + s.session.at("session_id").get<std::string>());
  if (o_.trace) std::fprintf(stderr, "device> %s\n", std::string(as_chars(first->message.body)).c_str());
  auto accepted = conformance::accept_device_message(ctx, wire_, o_.account, first->message);
  for (auto& x : accepted.failures) x = "package 1: " + x;
  f.append(accepted);
  if (accepted.fatal) {
    http_.refuse(400);
    return f;
  }
  auto p1 = conformance::check_reply(ctx, wire_, o_.account, s.session.value("package1", json::object()));
  for (auto& x : p1.failures) f.fail("package 1: " + x);

  std::size_t step_no = 0;
  for (const auto& step : s.session.value("steps", json::array())) {
    ++step_no;
    const std::string send = step.at("send").get<std::string>();
    const std::string where = "step " + std::to_string(step_no) + " (" + send + ")";
    const auto file = files.find(send);
    if (file == files.end()) {
      f.fail(where + ": no template " + send);
      http_.refuse(500);
      return f;
    }
    Findings built;
    const auto message = conformance::build_server_message(ctx, wire_, o_.account, step, file->second, built);
    for (const auto& x : built.failures) f.fail(where + ": " + x);
    if (o_.trace) std::fprintf(stderr, "server> %s\n", message.text.c_str());
    http_.respond(message);
    const json want = step.value("reply", json::object());
    if (want.value("none", false)) {
      if (auto extra = http_.wait(o_.quiet)) {
        if (o_.trace) std::fprintf(stderr, "device> %s\n", std::string(as_chars(extra->message.body)).c_str());
        f.fail(where + ": the device answered a message it must not answer (it should have ended or aborted the "
                       "session)");
        http_.refuse(400);
        return f;
      }
      continue;
    }
    auto next = http_.wait(o_.session_timeout);
    if (!next) {
      f.fail(where + ": the device sent nothing within " + ms(o_.session_timeout));
      return f;
    }
    if (o_.trace) std::fprintf(stderr, "device> %s\n", std::string(as_chars(next->message.body)).c_str());
    auto got = conformance::accept_device_message(ctx, wire_, o_.account, next->message);
    for (auto& x : got.failures) x = where + ": " + x;
    f.append(got);
    if (got.fatal) {
      http_.refuse(400);
      return f;
    }
    auto judged = conformance::check_reply(ctx, wire_, o_.account, want);
    for (const auto& x : judged.failures) f.fail(where + ": " + x);
  }
  auto end = conformance::check_assembled(ctx, s.session.value("expect", json::object()));
  for (const auto& x : end.failures) f.fail("session end: " + x);
  return f;
}

CaseResult RemoteRunner::run(const conformance::CaseFiles& c, conformance::CasePlan plan) {
  CaseResult r;
  r.plan = std::move(plan);
  if (!r.plan.runnable) return r;
  const auto t0 = std::chrono::steady_clock::now();
  wire_.nonces.clear();  // {{Nonce:<name>}} is "the same name in a case"
  for (const auto& s : r.plan.sessions) {
    auto f = run_session(r.plan.id + ", " + s.label, s, s.from_case ? c.files : r.plan.generated);
    for (const auto& x : f.failures) r.failures.push_back(s.label + ": " + x);
    // A case that needs a small MaxObjSize is judged on what the device announced in the
    // session before it (the reset); a device that announces a larger one cannot take it.
    if (const auto below = r.plan.device_max_obj_size_below; below && !s.from_case && r.failures.empty() &&
        !(device_max_obj_size_ && *device_max_obj_size_ < *below)) {
      r.plan.runnable = false;
      r.plan.not_run_reason =
          "needs a device whose MaxObjSize is below " + std::to_string(*below) + " (it announced " +
          (device_max_obj_size_ ? std::to_string(*device_max_obj_size_) : std::string("none")) +
          "; m2mdm-device --max-obj-size)";
      r.outcome = Outcome::not_run;
      return r;
    }
  }
  r.outcome = r.failures.empty() ? Outcome::passed : Outcome::failed;
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return r;
}

}  // namespace m2mdm::cli
