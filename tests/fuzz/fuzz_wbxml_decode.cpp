// libFuzzer: WBXML decode (pre-scan + libwbxml); whatever decodes must re-encode as WBXML and
// decode again to the same model (and, when representable, survive XML too).
#include "m2mdm/syncml/codec.hpp"

#include <cstdint>
#include <cstdlib>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace m2mdm::syncml;
  DecodeLimits limits;
  limits.max_bytes = 256 * 1024;
  DecodeError err;
  auto m = decode_wbxml(m2mdm::ByteView(data, size), limits, &err);
  if (!m) return 0;
  auto w = encode_wbxml(*m);
  if (w) {
    auto again = decode_wbxml(*w);
    if (!again || !(*again == *m)) std::abort();
  }
  if (auto x = encode_xml(*m)) {  // fails cleanly for binary Data
    auto again = decode_xml(*x);
    if (!again || !(*again == *m)) std::abort();
  }
  return 0;
}
