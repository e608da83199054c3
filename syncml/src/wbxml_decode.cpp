// WBXML codec: placeholder until the libwbxml-based implementation lands (next commit).
#include "codec_internal.hpp"

namespace m2mdm::syncml {

Result<Message> decode_wbxml(ByteView, const DecodeLimits&, DecodeError* error) {
  return detail::decode_fail(error, errc::malformed_wbxml, "WBXML decoding not implemented yet", "byte 0");
}

Result<Bytes> encode_wbxml(const Message&) { return fail(make_error_code(errc::encode_failed)); }

}  // namespace m2mdm::syncml
