// docs/client-integration.md, complete: a device maker embeds the m2mdm client library.
// Built as the target m2mdm-embed-example (client/CMakeLists.txt) so that it keeps compiling.
//
//   m2mdm-embed-example STATE_DIR TRE_DIR SHO_CA_PEM PIN [PUSH_FILE]
//
// Opens (or creates) the device state, applies the WAP push in PUSH_FILE if given (a bootstrap
// or a package 0, as the device's SMS/UDP stack would hand it over), then runs one
// client-initiated DM session with the bootstrapped server. Every POST goes through the
// integrator's own Transport (here: a wrapper that logs, around the library's HttpTransport).
#include "m2mdm/client/device.hpp"
#include "m2mdm/client/error.hpp"
#include "m2mdm/client/http_transport.hpp"

#include <cstdio>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>

namespace {

using namespace m2mdm;

// The integrator's transport. A product could send through its modem's HTTP client instead;
// it must then enforce TLS 1.2+, the CA chain, the host name and the SPKI pin it is given.
class LoggingTransport final : public client::Transport {
 public:
  explicit LoggingTransport(std::unique_ptr<client::Transport> inner) : inner_(std::move(inner)) {}
  Result<client::HttpReply> post(const client::Outgoing& message) override {
    std::fprintf(stderr, "POST %s %s (%zu bytes)\n", message.uri.c_str(), message.content_type.c_str(),
                 message.body.size());
    auto reply = inner_->post(message);
    if (reply) std::fprintf(stderr, "  -> %u %s (%zu bytes)\n", reply->status, reply->content_type.c_str(),
                            reply->body.size());
    return reply;
  }

 private:
  std::unique_ptr<client::Transport> inner_;
};

Result<Bytes> read_all(const char* path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return fail(make_error_code(client::errc::io_error));
  return Bytes(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 5) {
    std::fprintf(stderr, "usage: %s STATE_DIR TRE_DIR SHO_CA_PEM PIN [PUSH_FILE]\n", argv[0]);
    return 1;
  }
  client::DeviceOptions options;
  options.state_dir = argv[1];
  options.tre_dir = argv[2];  // platform key + PfC from the factory (`m2mdm pki device` for tests)
  auto ca_pem = read_all(argv[3]);
  if (!ca_pem) return 1;
  auto anchors = mo::TrustAnchors::from_pem(as_chars(*ca_pem), mo::AnchorKind::test);
  if (!anchors) {
    std::fprintf(stderr, "trust anchors: %s\n", anchors.error().message().c_str());
    return 1;
  }
  options.anchors = std::move(*anchors);
  options.sec = bootstrap::SecMethod::userpin;  // the bootstrap is MAC'd with the device PIN
  options.sec_credentials.pin = argv[4];
  options.transport = [](const client::TransportParams& p) -> Result<std::unique_ptr<client::Transport>> {
    client::HttpTransportOptions http;
    http.ca_file = p.ca_file;
    http.spki_sha256 = p.spki_sha256;  // the DM server's key pin from the bootstrap
    auto t = client::HttpTransport::create(std::move(http));
    if (!t) return fail(t.error());
    return std::unique_ptr<client::Transport>(std::make_unique<LoggingTransport>(std::move(*t)));
  };

  auto device = client::Device::open(std::move(options));
  if (!device) {
    std::fprintf(stderr, "device: %s\n", device.error().message().c_str());
    return 1;
  }
  if (argc > 5) {
    auto push = read_all(argv[5]);
    if (!push) return 1;
    if (auto r = (*device)->handle_push(*push); !r) {
      std::fprintf(stderr, "push refused: %s\n", r.error().message().c_str());
      return 2;
    }
  }
  auto report = (*device)->run_client_session();
  if (!report) {
    std::fprintf(stderr, "session: %s\n", report.error().message().c_str());
    return 3;
  }
  std::printf("session completed: %u messages, %u commands, %u alerts acknowledged\n", report->messages_sent,
              report->commands_executed, report->alerts_acknowledged);
  return 0;
}
