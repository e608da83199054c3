// The RO's bootstrap document (TR 33.812 §5.2.2.6.3.2). Characteristic and parm names:
// OMA-WAP-ProvCont 1.1 §5 (BOOTSTRAP, NAPDEF, APPLICATION), AC w7 (DM account).
#include "m2mdm/bootstrap/builder.hpp"

#include <openssl/evp.h>
#include <openssl/sha.h>

#include <set>

namespace m2mdm::bootstrap {

std::string_view context_role_name(ContextRole r) noexcept {
  switch (r) {
    case ContextRole::mcim_provisioning: return "mcim-provisioning";
    case ContextRole::m2m_application: return "m2m-application";
  }
  return "";
}

std::optional<ContextRole> parse_context_role(std::string_view s) noexcept {
  if (s == "mcim-provisioning") return ContextRole::mcim_provisioning;
  if (s == "m2m-application") return ContextRole::m2m_application;
  return std::nullopt;
}

Bytes spki_sha256(ByteView spki_der) {
  Bytes md(SHA256_DIGEST_LENGTH);
  SHA256(spki_der.data(), spki_der.size(), md.data());
  return md;
}

Result<ProvisioningDoc> build_bootstrap_doc(const BootstrapSpec& spec) {
  if (spec.contexts.empty() || spec.provurl.empty()) return fail(errc::bad_config);
  std::set<std::string> server_ids, napids;
  std::set<ContextRole> roles;
  for (const auto& c : spec.contexts) {
    if (c.server.server_id.empty() || c.server.addr.empty() || c.nap.napid.empty() || c.nap.apn.empty())
      return fail(errc::bad_config);
    if (c.server.spki_sha256.size() != SHA256_DIGEST_LENGTH) return fail(errc::bad_config);
    if (!server_ids.insert(c.server.server_id).second || !napids.insert(c.nap.napid).second ||
        !roles.insert(c.role).second)
      return fail(errc::bad_config);
    for (const auto& a : c.server.auths)
      if (a.level != "APPSRV" && a.level != "CLIENT") return fail(errc::bad_config);
  }

  ProvisioningDoc doc;
  doc.version = "1.0";
  Characteristic boot{"BOOTSTRAP", {}, {}};
  if (!spec.name.empty()) boot.add("NAME", spec.name);
  boot.add("PROVURL", spec.provurl);
  boot.add("CONTEXT-ALLOW", std::to_string(spec.contexts.size()));
  doc.characteristics.push_back(std::move(boot));

  for (const auto& c : spec.contexts) {
    // NAPDEF (ProvCont §5.3.2)
    Characteristic nap{"NAPDEF", {}, {}};
    nap.add("NAPID", c.nap.napid);
    if (!c.nap.name.empty()) nap.add("NAME", c.nap.name);
    nap.add("BEARER", c.nap.bearer.empty() ? std::string("GSM-GPRS") : c.nap.bearer);
    nap.add("NAP-ADDRESS", c.nap.apn);
    nap.add("NAP-ADDRTYPE", "APN");
    if (c.nap.auth) {
      Characteristic ai{"NAPAUTHINFO", {}, {}};
      ai.add("AUTHTYPE", c.nap.auth->type);
      if (!c.nap.auth->name.empty()) ai.add("AUTHNAME", c.nap.auth->name);
      if (!c.nap.auth->secret.empty()) ai.add("AUTHSECRET", c.nap.auth->secret);
      nap.children.push_back(std::move(ai));
    }
    doc.characteristics.push_back(std::move(nap));

    // APPLICATION w7 (AC w7; DM Bootstrap §3.1.3)
    const auto& s = c.server;
    Characteristic app{"APPLICATION", {}, {}};
    app.add("APPID", "w7");
    app.add("PROVIDER-ID", s.server_id);
    if (!s.name.empty()) app.add("NAME", s.name);
    app.add("TO-NAPID", c.nap.napid);
    Characteristic addr{"APPADDR", {}, {}};
    addr.add("ADDR", s.addr);
    if (!s.addr_type.empty()) addr.add("ADDRTYPE", s.addr_type);
    if (s.port) {
      Characteristic port{"PORT", {}, {}};
      port.add("PORTNBR", std::to_string(*s.port));
      addr.children.push_back(std::move(port));
    }
    app.children.push_back(std::move(addr));
    for (const auto& a : s.auths) {
      Characteristic auth{"APPAUTH", {}, {}};
      auth.add("AAUTHLEVEL", a.level);
      if (!a.type.empty()) auth.add("AAUTHTYPE", a.type);
      if (!a.name.empty()) auth.add("AAUTHNAME", a.name);
      if (!a.secret.empty()) auth.add("AAUTHSECRET", a.secret);
      if (!a.data.empty()) auth.add("AAUTHDATA", base64_encode(a.data));
      app.children.push_back(std::move(auth));
    }
    if (s.init) app.add("INIT");
    doc.characteristics.push_back(std::move(app));

    // VENDORCONFIG: context role + public-key pin (TR 33.812 §5.2.2.6.3.2 option 2).
    Characteristic vc{"VENDORCONFIG", {}, {}};
    vc.add("NAME", "m2mdm");
    vc.add("SERVER-ID", s.server_id);
    vc.add("M2M-CONTEXT", std::string(context_role_name(c.role)));
    vc.add("SPKI-SHA256", base64_encode(s.spki_sha256));
    if (!s.rebootstrap_token.empty()) vc.add("REBOOTSTRAP-TOKEN", s.rebootstrap_token);
    doc.characteristics.push_back(std::move(vc));
  }
  return doc;
}

}  // namespace m2mdm::bootstrap
