// libFuzzer: the DM client session engine fed arbitrary server messages. The input is split on
// "\n#next#\n" into up to 8 messages, answered in turn by a device in a server-initiated session
// (SessionID 1234, so the fuzzer can hit it) on a small fixture tree (DevInfo, DMAcc with MD5
// both ways over fixed nonces, a few test nodes, a pending Generic Alert).
//
// Checked, besides ASan/UBSan/LeakSanitizer: while the server has not authenticated, the tree
// (nonces included) and the outbox do not change; every message the device produces decodes;
// the engine never answers once the session is over.
#include "m2mdm/client/alert_outbox.hpp"
#include "m2mdm/client/session.hpp"
#include "m2mdm/mo/m2msim_object.hpp"
#include "m2mdm/mo/standard_objects.hpp"
#include "m2mdm/syncml/codec.hpp"
#include "m2mdm/test/device_fixture.hpp"

#include <cstdint>
#include <cstdlib>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace {

using namespace m2mdm;

constexpr std::string_view kServerId = "ro-dpf";
constexpr std::string_view kSeparator = "\n#next#\n";
constexpr std::size_t kMaxMessages = 8;

void build_fixture(mo::Tree& tree) {
  const std::string client_nonce = "fuzz-client-nonce";
  const std::string server_nonce = "fuzz-server-nonce";
  m2mdm::test::DeviceTreeSpec spec;
  spec.dev_id = "IMEI:490154203237518";
  spec.model = "fuzz-1";
  spec.server_id = std::string(kServerId);
  spec.client_nonce = Bytes(client_nonce.begin(), client_nonce.end());
  spec.server_nonce = Bytes(server_nonce.begin(), server_nonce.end());
  spec.pfc_der = Bytes{0x30, 0x03, 0x02, 0x01, 0x01};
  (void)m2mdm::test::install_device_tree(tree, spec);
  (void)tree.ensure_interior("./Test");
  (void)tree.set_text("./Test/Big", std::string(3000, 'x'));
  (void)tree.set_acl("./Test", mo::Acl::parse("Add=*&Get=*&Replace=*&Delete=*").value());
}

// Everything about the tree that a server command could change.
std::map<std::string, std::string> image(const mo::Tree& tree) {
  std::map<std::string, std::string> out;
  for (const auto& [uri, node] : tree.nodes()) {
    std::string v = std::string(mo::format_name(node.format)) + "|" + node.type + "|" + node.acl.format() + "|";
    if (node.value) v += std::string(as_chars(*node.value));
    out[uri] = std::move(v);
  }
  return out;
}

std::vector<std::string_view> split(std::string_view in) {
  std::vector<std::string_view> parts;
  while (parts.size() + 1 < kMaxMessages) {
    const auto at = in.find(kSeparator);
    if (at == std::string_view::npos) break;
    parts.push_back(in.substr(0, at));
    in.remove_prefix(at + kSeparator.size());
  }
  parts.push_back(in);
  return parts;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size > 64 * 1024) return 0;
  mo::Tree tree;
  build_fixture(tree);
  client::MemoryAlertOutbox outbox;
  (void)outbox.add(kServerId, mo::make_m2msim_alert(mo::kAlertInstall, "./M2MSIMMobj/Download/j1/Operations/Install",
                                                    "corr-1", mo::M2msimResult::Success, "installed"));
  client::SessionConfig config;
  config.max_msg_size = 8 * 1024;
  config.max_obj_size = 4 * 1024;
  config.decode_limits.max_bytes = 64 * 1024;
  client::ClientSession session(tree, outbox, std::string(kServerId), config);
  syncml::Notification n;
  n.server_id = std::string(kServerId);
  n.session_id = 0x1234;
  auto first = session.start_server_initiated(n);
  if (!first) std::abort();

  const std::string_view input(reinterpret_cast<const char*>(data), size);
  for (const auto part : split(input)) {
    if (session.state() != client::SessionState::AwaitingResponse) break;
    const auto before = image(tree);
    const auto pending_before = outbox.all().size();
    const ByteView body(reinterpret_cast<const std::uint8_t*>(part.data()), part.size());
    const bool looks_xml = !part.empty() && part.front() == '<';
    auto reply = session.on_response(body, looks_xml ? syncml::kContentTypeXml : syncml::kContentTypeWbxml);
    if (!session.report().server_authenticated) {
      // Not authenticated (now or before): nothing the message asked for may have happened.
      if (image(tree) != before) std::abort();
      if (outbox.all().size() != pending_before) std::abort();
    }
    if (!reply) {
      if (session.state() == client::SessionState::AwaitingResponse) std::abort();  // errors end the session
      break;
    }
    if (!*reply) {
      if (session.state() == client::SessionState::AwaitingResponse) std::abort();
      break;
    }
    if (!syncml::decode((*reply)->body)) std::abort();  // what we send must be SyncML
  }
  return 0;
}
