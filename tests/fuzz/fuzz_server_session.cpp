// libFuzzer: the DPF's DM server session engine (DmServerSession) fed arbitrary device packages.
// Input: byte 0 = mode (bit 0: WBXML content type, bit 1: send an x-syncml-hmac header built
// from the rest of the mode byte), then one or more device messages separated by the marker
// "\n#next#\n". The backend is in memory: one device with fixed credentials and a fixed client
// nonce (so that seeds carrying a precomputed MD5 credential authenticate and the fuzzer reaches
// DevInfo, the PfC, job delivery and Generic Alerts), one pending job.
// Properties: no crash/UB/leak; every reply is non-empty with a DM content type; after Completed
// or Aborted the engine refuses to continue; counters stay consistent.
#include "m2mdm/server/dm_session.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>
#include <vector>

using namespace m2mdm;
using namespace m2mdm::server;

namespace {

constexpr std::string_view kDevId = "IMEI:490154203237518";
constexpr std::string_view kSeparator = "\n#next#\n";

class MemoryBackend final : public DmBackend {
 public:
  MemoryBackend() {
    creds.server_id = "m2mdm-dpf";
    creds.server_username = "m2mdm-dpf";
    creds.server_password = "server-secret";
    creds.server_nonce = {0x53, 0x4e, 0x4f, 0x4e, 0x43, 0x45};  // "SNONCE"
    creds.client_username = std::string(kDevId);
    creds.client_password = "client-secret";
    creds.client_nonce = {0x43, 0x4e, 0x4f, 0x4e, 0x43, 0x45};  // "CNONCE"
    Job j;
    j.id = 1;
    j.dev_id = std::string(kDevId);
    j.sho_id = 1;
    j.payload = Bytes(3000, 0x5A);  // more than one chunk at small MaxObjSize/MaxMsgSize
    j.authorisation = "auth";
    j.correlator = "job-1-fuzz";
    job = j;
  }
  Result<DmCredentials> credentials(std::string_view dev_id) override {
    if (dev_id != kDevId) return fail(std::make_error_code(std::errc::no_such_device));
    return creds;
  }
  void save_nonces(std::string_view, ByteView server_nonce, ByteView client_nonce) override {
    creds.server_nonce.assign(server_nonce.begin(), server_nonce.end());
    creds.client_nonce.assign(client_nonce.begin(), client_nonce.end());
  }
  void on_device_info(std::string_view, const std::map<std::string, std::string>&) override {}
  bool wants_pfc(std::string_view) override { return pfc.empty(); }
  void on_pfc(std::string_view, ByteView der) override { pfc.assign(der.begin(), der.end()); }
  std::optional<Job> next_job(std::string_view) override {
    if (claimed) return std::nullopt;
    claimed = true;
    return job;
  }
  void on_job_state(const Job&, JobState) override {}
  void on_job_failed(const Job&, int, std::string_view) override {}
  bool on_generic_alert(std::string_view, const DeviceAlert& a) override { return a.data.size() % 2 == 0; }

  DmCredentials creds;
  Job job;
  Bytes pfc;
  bool claimed = false;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  const std::uint8_t mode = data[0];
  std::string_view rest(reinterpret_cast<const char*>(data + 1), size - 1);
  std::vector<std::string_view> messages;
  while (messages.size() < 16) {
    const auto at = rest.find(kSeparator);
    messages.push_back(rest.substr(0, at));
    if (at == std::string_view::npos) break;
    rest.remove_prefix(at + kSeparator.size());
  }
  const std::string_view content_type =
      (mode & 1) ? "application/vnd.syncml.dm+wbxml" : "application/vnd.syncml.dm+xml";
  const std::string hmac = "algorithm=MD5, username=\"" + std::string(kDevId) + "\", mac=" +
                           std::string(1, static_cast<char>('A' + (mode >> 2) % 26)) + "AAAAAAAAAAAAAAAAAAAAA==";

  MemoryBackend backend;
  DmServerConfig config;
  config.server_uri = "https://ro.example/dm";
  config.resp_uri = "https://ro.example/dm?s=fuzz";
  config.max_messages = 20;
  DmServerSession session(backend, config);
  for (auto m : messages) {
    const auto before = session.state();
    auto reply = session.handle(as_bytes(m), content_type,
                                (mode & 2) ? std::optional<std::string_view>(hmac) : std::nullopt);
    if (before == DmServerState::Completed || before == DmServerState::Aborted) {
      if (reply) std::abort();  // a finished session must not answer again
      break;
    }
    if (reply) {
      if (reply->body.empty()) std::abort();
      if (reply->content_type != "application/vnd.syncml.dm+xml" &&
          reply->content_type != "application/vnd.syncml.dm+wbxml")
        std::abort();
    }
    const auto& r = session.report();
    if (r.jobs_delivered > 1 || r.messages > 20 + 1) std::abort();
    if (!reply) break;
  }
  return 0;
}
