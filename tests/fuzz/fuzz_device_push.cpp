// libFuzzer target: what the device agent does with network bytes before any authentication —
// client::Device::handle_push() on an arbitrary UDP push payload (WSP decode, dispatch, CP/DM
// bootstrap MAC check, package 0 decode and digest check) on a bootstrapped device, and
// client::parse_http_url() on the DMAcc address text. Invariants: never crashes; an input
// that does not carry a valid MAC or digest never changes the stored tree (compared byte for
// byte); a parsed URL has a non-empty host and a target starting with '/'.
// The first byte selects: even = push, odd = URL.
#include "m2mdm/bootstrap/builder.hpp"
#include "m2mdm/bootstrap/security.hpp"
#include "m2mdm/bootstrap/wsp.hpp"
#include "m2mdm/client/device.hpp"
#include "m2mdm/client/error.hpp"
#include "m2mdm/client/http_transport.hpp"
#include "m2mdm/client/log.hpp"
#include "m2mdm/mo/pki.hpp"
#include "m2mdm/test/device_fixture.hpp"
#include "m2mdm/test/files.hpp"


#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <memory>

namespace {

using namespace m2mdm;
namespace fs = std::filesystem;

// Sessions never reach a network here: every post fails.
class NoTransport final : public client::Transport {
 public:
  Result<client::HttpReply> post(const client::Outgoing&) override { return fail(client::errc::transport_failed); }
};

using m2mdm::test::slurp;

struct World {
  fs::path dir;
  std::unique_ptr<client::Device> device;
  std::string tree_bytes;
};

World* world() {
  static World* w = [] {
    auto* x = new World;
    // The device reports through events; its diagnostics go to the client log sink: silenced.
    client::set_log_sink([](client::EventSeverity, std::string_view) noexcept {});
    x->dir = fs::temp_directory_path() / ("m2mdm-fuzz-device-" + std::to_string(::getpid()));
    fs::remove_all(x->dir);
    auto pki = m2mdm::test::make_test_pki(x->dir / "pki", "IMEI:490154203237518");
    if (!pki) std::abort();
    const auto& files = *pki;
    client::DeviceOptions o;
    o.state_dir = x->dir / "state";
    o.tre_dir = files.at("tre-dir");
    o.anchors = *mo::TrustAnchors::from_pem(slurp(files.at("sho-ca")), mo::AnchorKind::test);
    o.sec = bootstrap::SecMethod::userpin;
    o.sec_credentials.pin = "8372";
    o.transport = [](const client::TransportParams&) -> Result<std::unique_ptr<client::Transport>> {
      return std::unique_ptr<client::Transport>(std::make_unique<NoTransport>());
    };
    auto d = client::Device::open(std::move(o));
    if (!d) std::abort();
    x->device = std::move(*d);
    // Bootstrapped, so that package 0 reaches the digest check.
    bootstrap::BootstrapSpec spec;
    spec.provurl = "https://drf.example/prov";
    bootstrap::ContextSpec c;
    c.nap.napid = "NAP";
    c.nap.apn = "apn.example";
    c.server.server_id = "dpf.ro.example";
    c.server.addr = "https://127.0.0.1:1/dm";
    c.server.auths.push_back({"APPSRV", "DIGEST", "IMEI:490154203237518", "client-secret", {1, 2, 3, 4}});
    c.server.auths.push_back({"CLIENT", "DIGEST", "dpf.ro.example", "server-secret", {9, 8, 7}});
    c.server.spki_sha256 = Bytes(32, 0x11);
    spec.contexts.push_back(c);
    auto doc = bootstrap::build_bootstrap_doc(spec);
    auto wbxml = bootstrap::encode_cp_wbxml(*doc);
    bootstrap::SecCredentials creds;
    creds.pin = "8372";
    auto mac = bootstrap::compute_mac(bootstrap::SecMethod::userpin, creds, *wbxml);
    auto pdu = bootstrap::wsp::encode_push(bootstrap::wsp::make_cp_push(1, *wbxml, 1, *mac));
    if (!pdu || !x->device->apply_bootstrap_push(*pdu)) std::abort();
    x->tree_bytes = slurp(x->device->tree_file());
    return x;
  }();
  return w;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const ByteView rest(data + 1, size - 1);
  if ((data[0] & 1) != 0) {
    auto url = client::parse_http_url(as_chars(rest));
    if (url && (url->host.empty() || url->target.empty() || url->target.front() != '/')) std::abort();
    return 0;
  }
  World* w = world();
  (void)w->device->handle_push(rest);
  if (slurp(w->device->tree_file()) != w->tree_bytes) std::abort();  // unauthenticated input changed state
  return 0;
}
