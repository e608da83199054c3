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

/// What differs between the two contexts beyond their server: the NAPDEF's id and name, and
/// whether the device starts a DM session at once.
struct ContextKind {
  bs::ContextRole role;
  std::string_view napid;
  std::string_view nap_name;
  bool init;
};
// Context 1: MCIM provisioning at the DPF (seed 003 step 11: the DPF address and credentials);
// the device starts the DM session at once (TR 33.812 step 12).
constexpr ContextKind kMcimContext{bs::ContextRole::mcim_provisioning, "NAP-MCIM", "RO provisioning", true};
// Context 2: M2M applications.
constexpr ContextKind kAppContext{bs::ContextRole::m2m_application, "NAP-APP", "M2M application", false};

/// One context of the bootstrap: the NAPDEF of its bearer and the w7 of the device's account
/// @p account at @p server, reached at @p address and pinned to @p spki_sha256.
bs::ContextSpec context_spec(const ContextKind& kind, const DrfServerSettings& server, const std::string& address,
                             const Bytes& spki_sha256, const DmCredentials& account, const std::string& auth_type,
                             std::string_view rebootstrap_token) {
  bs::ContextSpec c;
  c.role = kind.role;
  c.nap.napid = kind.napid;
  c.nap.name = kind.nap_name;
  c.nap.apn = server.apn;
  c.server.server_id = server.server_id;
  c.server.name = server.name;
  c.server.addr = address;
  c.server.auths = app_auths(account, auth_type);
  c.server.init = kind.init;
  c.server.spki_sha256 = spki_sha256;
  c.server.rebootstrap_token = std::string(rebootstrap_token);
  return c;
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
  if (settings.dpf.spki_sha256.size() != 32) return fail(err(errc::invalid_argument));
  if (!settings.app.spki_sha256.empty() && settings.app.spki_sha256.size() != 32)
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
  auto dm = fresh_credentials(settings.dpf.server_id, device.dev_id);
  auto app = fresh_credentials(settings.app.server_id, device.dev_id);
  if (!dm || !app) return fail(err(errc::io_error));
  out.dm = std::move(*dm);
  out.app = std::move(*app);

  bs::BootstrapSpec spec;
  spec.name = settings.name;
  spec.provurl = settings.provurl.empty() ? device.dpf_address : settings.provurl;
  const std::string& app_address = settings.app_address.empty() ? device.dpf_address : settings.app_address;
  const Bytes& app_pin = settings.app.spki_sha256.empty() ? settings.dpf.spki_sha256 : settings.app.spki_sha256;
  spec.contexts = {context_spec(kMcimContext, settings.dpf, device.dpf_address, settings.dpf.spki_sha256, out.dm,
                                settings.auth_type, rebootstrap_token),
                   context_spec(kAppContext, settings.app, app_address, app_pin, out.app, settings.auth_type,
                                rebootstrap_token)};

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
