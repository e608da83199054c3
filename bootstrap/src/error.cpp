#include "m2mdm/bootstrap/error.hpp"

namespace m2mdm::bootstrap {
namespace {

class Category final : public std::error_category {
 public:
  const char* name() const noexcept override { return "m2mdm.bootstrap"; }
  std::string message(int v) const override {
    switch (static_cast<errc>(v)) {
      case errc::ok: return "success";
      case errc::invalid_argument: return "invalid argument";
      case errc::malformed: return "malformed input";
      case errc::not_found: return "not found";
      case errc::io_error: return "I/O error";
      case errc::wsp_truncated: return "WSP/SMS data truncated";
      case errc::wsp_bad_uintvar: return "malformed WSP uintvar";
      case errc::wsp_bad_pdu_type: return "not a WSP push PDU";
      case errc::wsp_bad_content_type: return "malformed WSP content type";
      case errc::wsp_bad_header: return "malformed WSP header";
      case errc::sms_bad_udh: return "malformed SMS user-data header";
      case errc::sms_segment_conflict: return "conflicting duplicate SMS segment";
      case errc::sms_reassembly_limit: return "SMS reassembly limit exceeded";
      case errc::push_too_large: return "push PDU too large for its framing";
    }
    return "unknown m2mdm.bootstrap error";
  }
};

}  // namespace

const std::error_category& category() noexcept {
  static const Category c;
  return c;
}

}  // namespace m2mdm::bootstrap
