/// @file device_bootstrap.hpp
/// @brief The test device as a client::Device sees it (header-only; m2mdm::client): its options
/// over the test PKI, the RO's DM server context for it, and a USERPIN bootstrap as the WAP push
/// PDU that carries it.
#pragma once

#include "m2mdm/bootstrap/builder.hpp"
#include "m2mdm/bootstrap/security.hpp"
#include "m2mdm/bootstrap/wsp.hpp"
#include "m2mdm/client/device.hpp"
#include "m2mdm/test/device_fixture.hpp"
#include "m2mdm/test/files.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

namespace m2mdm::test {

/// The PIN of the test device's USERPIN bootstraps.
inline constexpr std::string_view kTestPin = "8372";

/// The options of a Device over the test PKI @p pki (make_test_pki): its state in @p state_dir,
/// the PKI's TRE and its SHO CA as the (test) trust anchors, no session when it opens. The caller
/// adds the bootstrap security, the transport and the rest.
inline client::DeviceOptions device_options(const std::filesystem::path& state_dir, const PkiFiles& pki) {
  client::DeviceOptions o;
  o.state_dir = state_dir;
  o.tre_dir = pki.at("tre-dir");
  auto anchors = mo::TrustAnchors::from_pem(slurp(pki.at("sho-ca")), mo::AnchorKind::test);
  EXPECT_TRUE(anchors);
  if (anchors) o.anchors = std::move(*anchors);
  o.session_on_init = false;
  return o;
}

/// The RO's MCIM provisioning context for the test device @p dev_id: DM server @p server_id at
/// @p addr, DIGEST both ways ("client-secret" with @p client_nonce, "server-secret" with
/// @p server_nonce), NAP "NAP-MCIM" on APN m2m.ro.example. The caller sets the server's key pin.
inline bootstrap::ContextSpec dm_context(std::string_view dev_id, std::string_view server_id, std::string addr,
                                         Bytes client_nonce, Bytes server_nonce) {
  bootstrap::ContextSpec c;
  c.role = bootstrap::ContextRole::mcim_provisioning;
  c.nap.napid = "NAP-MCIM";
  c.nap.apn = "m2m.ro.example";
  c.server.server_id = std::string(server_id);
  c.server.addr = std::move(addr);
  c.server.auths.push_back(
      bootstrap::AppAuthSpec{"APPSRV", "DIGEST", std::string(dev_id), "client-secret", std::move(client_nonce)});
  c.server.auths.push_back(
      bootstrap::AppAuthSpec{"CLIENT", "DIGEST", std::string(server_id), "server-secret", std::move(server_nonce)});
  return c;
}

/// The RO's bootstrap ("RO bootstrap", its provisioning URL) with the one context @p c.
inline bootstrap::BootstrapSpec ro_bootstrap(bootstrap::ContextSpec c) {
  bootstrap::BootstrapSpec spec;
  spec.name = "RO bootstrap";
  spec.provurl = "https://drf.ro.example/prov";
  spec.contexts.push_back(std::move(c));
  return spec;
}

/// @p spec as the WAP push PDU a USERPIN bootstrap arrives in: CP WBXML with its MAC under
/// @p pin, announced with SEC @p sec; @p tamper flips a bit of the document after the MAC.
inline Bytes userpin_push(const bootstrap::BootstrapSpec& spec, std::string_view pin = kTestPin,
                          std::uint32_t sec = bootstrap::wsp::kSecUserpin, bool tamper = false) {
  auto doc = bootstrap::build_bootstrap_doc(spec);
  EXPECT_TRUE(doc) << (doc ? "" : doc.error().message());
  if (!doc) return {};
  auto wbxml = bootstrap::encode_cp_wbxml(*doc);
  EXPECT_TRUE(wbxml);
  if (!wbxml) return {};
  bootstrap::SecCredentials creds;
  creds.pin = std::string(pin);
  auto mac = bootstrap::compute_mac(bootstrap::SecMethod::userpin, creds, *wbxml);
  EXPECT_TRUE(mac);
  if (!mac) return {};
  Bytes body = *wbxml;
  if (tamper) body[body.size() / 2] ^= 0x01;
  auto pdu = bootstrap::wsp::encode_push(bootstrap::wsp::make_cp_push(1, body, sec, *mac));
  EXPECT_TRUE(pdu);
  return pdu ? *pdu : Bytes{};
}

}  // namespace m2mdm::test
