// The DRF's bootstrap issuer: credentials, CP document, MAC, WSP push, SMS segments. No I/O.
#include "m2mdm/server/drf.hpp"

#include "m2mdm/bootstrap/builder.hpp"
#include "m2mdm/bootstrap/cp_document.hpp"
#include "m2mdm/bootstrap/sms.hpp"
#include "m2mdm/bootstrap/wsp.hpp"
#include "m2mdm/server/error.hpp"

#include <openssl/rand.h>

namespace m2mdm::server {
namespace {

namespace bs = m2mdm::bootstrap;

std::error_code err(errc e) { return make_error_code(e); }

Result<Bytes> random_bytes(std::size_t n) {
  Bytes b(n);
  if (RAND_bytes(b.data(), static_cast<int>(n)) != 1) return fail(err(errc::io_error));
  return b;
}

/// Fresh credentials of one DM account: each side its own secret and nonce (DM_Security 1.2 §5.3).
Result<DmCredentials> fresh_credentials(std::string_view server_id, std::string_view client_name) {
  auto sp = random_bytes(16);
  auto cp = random_bytes(16);
  auto sn = random_bytes(16);
  auto cn = random_bytes(16);
  if (!sp || !cp || !sn || !cn) return fail(err(errc::io_error));
  DmCredentials dm;
  dm.server_id = std::string(server_id);
  dm.server_username = std::string(server_id);
  dm.server_password = hex_encode(*sp);
  dm.server_nonce = std::move(*sn);
  dm.client_username = std::string(client_name);
  dm.client_password = hex_encode(*cp);
  dm.client_nonce = std::move(*cn);
  return dm;
}

/// APPAUTH pair of a w7: APPSRV = the client's credentials towards the server (the nonce the
/// server challenges it with), CLIENT = the server's credentials towards the client.
std::vector<bs::AppAuthSpec> app_auths(const DmCredentials& dm, const std::string& type) {
  return {bs::AppAuthSpec{"APPSRV", type, dm.client_username, dm.client_password, dm.client_nonce},
          bs::AppAuthSpec{"CLIENT", type, dm.server_username, dm.server_password, dm.server_nonce}};
}

}  // namespace

Result<bs::SecMethod> parse_drf_sec_method(std::string_view name) {
  auto m = bs::parse_sec_method(name);
  if (!m || *m == bs::SecMethod::userpinmac) return fail(err(errc::invalid_argument));
  return *m;
}

Result<IssuedBootstrap> issue_bootstrap(const Device& device, const DrfSettings& settings, bs::SecMethod sec,
                                        std::uint8_t tid, std::uint8_t sms_reference,
                                        std::string_view rebootstrap_token) {
  if (sec == bs::SecMethod::userpinmac) return fail(err(errc::invalid_argument));
  if (device.dpf_address.empty() || device.dev_id.empty()) return fail(err(errc::invalid_argument));
  if (settings.dpf_spki_sha256.size() != 32) return fail(err(errc::invalid_argument));
  if (!settings.app_spki_sha256.empty() && settings.app_spki_sha256.size() != 32)
    return fail(err(errc::invalid_argument));

  bs::SecCredentials creds;
  if (sec == bs::SecMethod::userpin || sec == bs::SecMethod::usernetwpin) {
    if (device.device_pin.empty()) return fail(err(errc::invalid_argument));
    creds.pin = std::string(as_chars(device.device_pin));
  }
  if (sec == bs::SecMethod::netwpin || sec == bs::SecMethod::usernetwpin) {
    // The PCID is the provisional IMSI (TR 33.812 §5.1.3.4): NETWPIN keys on it.
    if (!bs::imsi_key(device.pcid)) return fail(err(errc::invalid_argument));
    creds.imsi = device.pcid;
  }

  IssuedBootstrap out;
  out.sec = sec;
  auto dm = fresh_credentials(settings.dpf_server_id, device.dev_id);
  auto app = fresh_credentials(settings.app_server_id, device.dev_id);
  if (!dm || !app) return fail(err(errc::io_error));
  out.dm = std::move(*dm);
  out.app = std::move(*app);

  bs::BootstrapSpec spec;
  spec.name = settings.name;
  spec.provurl = settings.provurl.empty() ? device.dpf_address : settings.provurl;
  // Context 1: MCIM provisioning at the DPF (seed 003 step 11: the DPF address and credentials).
  bs::ContextSpec mcim;
  mcim.role = bs::ContextRole::mcim_provisioning;
  mcim.nap.napid = "NAP-MCIM";
  mcim.nap.name = "RO provisioning";
  mcim.nap.apn = settings.dpf_apn;
  mcim.server.server_id = settings.dpf_server_id;
  mcim.server.name = settings.dpf_name;
  mcim.server.addr = device.dpf_address;
  mcim.server.auths = app_auths(out.dm, settings.auth_type);
  mcim.server.init = true;  // start the DM session at once (TR 33.812 step 12)
  mcim.server.spki_sha256 = settings.dpf_spki_sha256;
  mcim.server.rebootstrap_token = std::string(rebootstrap_token);
  // Context 2: M2M applications.
  bs::ContextSpec appctx;
  appctx.role = bs::ContextRole::m2m_application;
  appctx.nap.napid = "NAP-APP";
  appctx.nap.name = "M2M application";
  appctx.nap.apn = settings.app_apn;
  appctx.server.server_id = settings.app_server_id;
  appctx.server.name = settings.app_name;
  appctx.server.addr = settings.app_address.empty() ? device.dpf_address : settings.app_address;
  appctx.server.auths = app_auths(out.app, settings.auth_type);
  appctx.server.init = false;
  appctx.server.spki_sha256 = settings.app_spki_sha256.empty() ? settings.dpf_spki_sha256 : settings.app_spki_sha256;
  appctx.server.rebootstrap_token = std::string(rebootstrap_token);
  spec.contexts = {std::move(mcim), std::move(appctx)};

  auto doc = bs::build_bootstrap_doc(spec);
  if (!doc) return fail(doc.error());
  auto wbxml = bs::encode_cp_wbxml(*doc);
  if (!wbxml) return fail(wbxml.error());
  out.wbxml = std::move(*wbxml);
  // ProvBoot 1.1 §5.4: HMAC-SHA1 over the exact WBXML bytes.
  auto mac = bs::compute_mac(sec, creds, out.wbxml, bs::SecProfile::cp);
  if (!mac) return fail(mac.error());
  out.mac = std::move(*mac);
  auto pdu = bs::wsp::encode_push(
      bs::wsp::make_cp_push(tid, out.wbxml, static_cast<std::uint32_t>(sec), out.mac));
  if (!pdu) return fail(pdu.error());
  out.push_pdu = std::move(*pdu);
  bs::sms::SegmentOptions opt;
  opt.reference = sms_reference;
  auto segs = bs::sms::segment_push(out.push_pdu, opt);
  if (!segs) return fail(segs.error());
  out.sms = std::move(*segs);
  return out;
}

}  // namespace m2mdm::server
