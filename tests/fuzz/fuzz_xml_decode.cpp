// libFuzzer: XML decode; whatever decodes must re-encode (XML and WBXML) and decode again to the
// same model.
#include "m2mdm/syncml/codec.hpp"
#include "syncml_round_trip.hpp"

#include <cstddef>
#include <cstdint>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace m2mdm::syncml;
  return m2mdm::fuzz::decode_and_round_trip(data, size, [](m2mdm::ByteView in, const DecodeLimits& limits,
                                                           DecodeError* err) { return decode_xml(in, limits, err); });
}
