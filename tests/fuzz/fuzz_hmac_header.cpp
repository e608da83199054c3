// libFuzzer target: the x-syncml-hmac header parser (DM_Security 1.2 §5.1.4.3) and verifier.
// Must never crash; a parsed header must carry a non-empty username and mac, and a header we
// build for the parsed username must parse back to the same username.
#include "m2mdm/syncml/auth.hpp"

#include <cstddef>
#include <cstdint>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  namespace sm = m2mdm::syncml;
  const std::string_view text{reinterpret_cast<const char*>(data), size};
  auto h = sm::parse_hmac_header(text);
  if (!h) return 0;
  if (h->username.empty() || h->mac.empty()) __builtin_trap();
  (void)sm::verify_hmac(*h, "password", m2mdm::as_bytes("nonce"), m2mdm::ByteView{data, size});
  auto built = sm::hmac_header_value(h->username, "password", m2mdm::as_bytes("nonce"), m2mdm::ByteView{data, size});
  if (built) {
    auto back = sm::parse_hmac_header(*built);
    if (!back || back->username != h->username || !sm::verify_hmac(*back, "password", m2mdm::as_bytes("nonce"),
                                                                    m2mdm::ByteView{data, size})) {
      __builtin_trap();
    }
  }
  return 0;
}
