#include "m2mdm/bootstrap/error.hpp"
#include "m2mdm/syncml/error_category.hpp"

namespace m2mdm::bootstrap {
namespace {

const char* describe(errc v) noexcept {
  switch (v) {
    M2MDM_COMMON_ERRC_CASES(errc): return syncml::common_error_text(v);
    case errc::wsp_truncated: return "WSP/SMS data truncated";
    case errc::wsp_bad_uintvar: return "malformed WSP uintvar";
    case errc::wsp_bad_pdu_type: return "not a WSP push PDU";
    case errc::wsp_bad_content_type: return "malformed WSP content type";
    case errc::wsp_bad_header: return "malformed WSP header";
    case errc::sms_bad_udh: return "malformed SMS user-data header";
    case errc::sms_segment_conflict: return "conflicting duplicate SMS segment";
    case errc::sms_reassembly_limit: return "SMS reassembly limit exceeded";
    case errc::push_too_large: return "push PDU too large for its framing";
    case errc::cp_bad_xml: return "malformed or forbidden CP XML";
    case errc::cp_bad_wbxml: return "malformed CP WBXML";
    case errc::cp_too_large: return "CP document too large";
    case errc::cp_too_deep: return "CP document nested too deeply";
    case errc::cp_encode_failed: return "CP WBXML encoding failed";
    case errc::sec_unknown_method: return "unknown SEC method";
    case errc::sec_missing_mac: return "MAC missing";
    case errc::sec_malformed_mac: return "MAC malformed (expected 40 hex characters)";
    case errc::sec_mac_mismatch: return "MAC does not verify (wrong PIN/IMSI or altered document)";
    case errc::sec_missing_pin: return "PIN missing for this SEC method";
    case errc::sec_missing_imsi: return "IMSI missing for this SEC method";
    case errc::sec_bad_imsi: return "IMSI must be 6 to 15 decimal digits";
    case errc::cp_missing_w7: return "no w7 (DM account) APPLICATION in the document";
    case errc::cp_invalid_w7: return "invalid or incomplete w7/NAPDEF/VENDORCONFIG";
    case errc::already_bootstrapped: return "context already bootstrapped (re-bootstrap not armed)";
    case errc::rebootstrap_denied: return "re-bootstrap token wrong, expired or used";
    case errc::store_failed: return "account store refused the change; nothing applied";
    case errc::dm_bad_tnds: return "malformed or unsupported DM-profile bootstrap";
    case errc::bad_config: return "invalid bootstrap configuration";
  }
  return nullptr;  // "unknown m2mdm.bootstrap error"
}

}  // namespace

M2MDM_DEFINE_ERROR_CATEGORY("m2mdm.bootstrap", describe)

}  // namespace m2mdm::bootstrap
