// Plays planned client vectors (m2mdm/conformance/remote_plan.hpp) to a device under test: starts
// each session (package 0 over UDP to the device's push address, or a client-initiated session
// the lab's trigger command or the lab itself starts), serves the script's messages over HTTP and
// judges every message the device sends with the shared script (m2mdm/conformance/script.hpp).
#pragma once

#include "dut_http.hpp"

#include "m2mdm/conformance/remote_plan.hpp"
#include "m2mdm/conformance/script.hpp"
#include "m2mdm/server/push.hpp"

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace m2mdm::cli {

struct RunnerOptions {
  conformance::Account account;
  std::optional<server::PushAddress> push;  ///< the device's WAP push address (package 0)
  std::string trigger_command;              ///< `sh -c` this to make the device open a session
  std::chrono::milliseconds session_timeout{30000};  ///< wait for each device message at most this
  std::chrono::milliseconds quiet{500};     ///< after the script's last message, nothing may come
  Bytes client_nonce;                       ///< the nonce the device holds for its credential at the start
  Bytes server_nonce;                       ///< the nonce it expects from the server at the start
  bool trace = false;                       ///< every message to stderr
  std::function<void(const std::string&)> note;  ///< progress text (waiting for the device...)
};

enum class Outcome : std::uint8_t { passed, failed, not_run };

struct CaseResult {
  conformance::CasePlan plan;
  Outcome outcome = Outcome::not_run;
  std::vector<std::string> failures;  ///< "<session>: <step>: <what>"
  double seconds = 0;
};

class RemoteRunner {
 public:
  RemoteRunner(DutHttp& http, RunnerOptions options);
  ~RemoteRunner();
  RemoteRunner(const RemoteRunner&) = delete;
  RemoteRunner& operator=(const RemoteRunner&) = delete;

  /// Runs one planned case (not at all when the plan says it cannot run).
  CaseResult run(const conformance::CaseFiles& c, conformance::CasePlan plan);

  /// Runs one session outside any case (the nonce sync a run starts with) with these templates.
  conformance::Findings run_session(const std::string& what, const conformance::PlannedSession& s,
                                    const std::map<std::string, std::string>& files);

 private:
  conformance::Findings play(const std::string& what, const conformance::PlannedSession& s,
                             const std::map<std::string, std::string>& files, conformance::SessionCtx& ctx);
  bool start_session(const conformance::PlannedSession& s, const std::string& what, bool reset_nonce,
                     conformance::Findings& f);
  void reap(bool block);

  DutHttp& http_;
  RunnerOptions o_;
  conformance::Wire wire_;
  std::uint8_t tid_ = 0;
  std::vector<pid_t> children_;
  std::optional<std::uint64_t> device_max_obj_size_;  ///< the MaxObjSize the device announced last
};

}  // namespace m2mdm::cli
