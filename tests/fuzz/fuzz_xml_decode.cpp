// libFuzzer: XML decode; whatever decodes must re-encode (XML and WBXML) and decode again to the
// same model.
#include "m2mdm/syncml/codec.hpp"

#include <cstdint>
#include <cstdlib>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace m2mdm::syncml;
  DecodeLimits limits;
  limits.max_bytes = 256 * 1024;
  DecodeError err;
  auto m = decode_xml(m2mdm::ByteView(data, size), limits, &err);
  if (!m) return 0;
  if (auto x = encode_xml(*m)) {
    auto again = decode_xml(*x);
    if (!again || !(*again == *m)) std::abort();
  }
  auto w = encode_wbxml(*m);
  if (!w) return 0;  // e.g. a NextNonce that is not text
  auto again = decode_wbxml(*w);
  if (!again || !(*again == *m)) std::abort();
  return 0;
}
