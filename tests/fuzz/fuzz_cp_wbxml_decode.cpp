// libFuzzer target: the CP WBXML decoder (our token walker, libwbxml2 PROV 1.0, libxml2 reader)
// and, on success, the w7 interpretation and a re-encode/decode round trip.
#include "m2mdm/bootstrap/apply.hpp"
#include "m2mdm/bootstrap/cp_document.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdlib>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace m2mdm::bootstrap;
  const m2mdm::ByteView in(data, size);
  auto doc = decode_cp_wbxml(in);
  if (!doc) return 0;
  (void)interpret_cp_document(*doc);
  auto again = encode_cp_wbxml(*doc);
  if (again) {
    auto back = decode_cp_wbxml(*again);
    // Whatever we decode, we must be able to encode and read back identically.
    if (!back || !(*back == *doc)) std::abort();
  }
  return 0;
}
