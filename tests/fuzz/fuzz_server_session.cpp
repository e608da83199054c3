// libFuzzer: the DPF's DM server session engine (DmServerSession) fed arbitrary device packages.
// Input: byte 0 = mode (bit 0: WBXML content type, bit 1: send an x-syncml-hmac header built
// from the rest of the mode byte), then one or more device messages separated by the marker
// "\n#next#\n". The backend is in memory: one device with fixed credentials and a fixed client
// nonce (so that seeds carrying a precomputed MD5 credential authenticate and the fuzzer reaches
// DevInfo, the PfC, job delivery and Generic Alerts), one pending job.
// Properties: no crash/UB/leak; every reply is non-empty with a DM content type; after Completed
// or Aborted the engine refuses to continue; counters stay consistent.
#include "m2mdm/server/dm_session.hpp"
#include "m2mdm/test/memory_backend.hpp"

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

// One device with fixed credentials and nonces, one pending job; Generic Alerts whose data has
// an even length are recorded, the others answered with 500.
void set_up(m2mdm::test::MemoryDmBackend& backend) {
  backend.creds = m2mdm::test::test_credentials("m2mdm-dpf", kDevId);
  backend.creds.server_nonce = {0x53, 0x4e, 0x4f, 0x4e, 0x43, 0x45};  // "SNONCE"
  backend.creds.client_nonce = {0x43, 0x4e, 0x4f, 0x4e, 0x43, 0x45};  // "CNONCE"
  Job j;
  j.id = 1;
  j.dev_id = std::string(kDevId);
  j.sho_id = 1;
  j.payload = Bytes(3000, 0x5A);  // more than one chunk at small MaxObjSize/MaxMsgSize
  j.authorisation = "auth";
  j.correlator = "job-1-fuzz";
  backend.jobs = {j};
  backend.accept_alert = [](const DeviceAlert& a) { return a.data.size() % 2 == 0; };
}

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

  m2mdm::test::MemoryDmBackend backend;
  set_up(backend);
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
