// libFuzzer: WBXML decode (pre-scan + libwbxml); whatever decodes must re-encode as WBXML and
// decode again to the same model (and, when representable, survive XML too).
#include "m2mdm/syncml/codec.hpp"
#include "syncml_round_trip.hpp"

#include <cstddef>
#include <cstdint>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace m2mdm::syncml;
  return m2mdm::fuzz::decode_and_round_trip(data, size, [](m2mdm::ByteView in, const DecodeLimits& limits,
                                                           DecodeError* err) { return decode_wbxml(in, limits, err); });
}
