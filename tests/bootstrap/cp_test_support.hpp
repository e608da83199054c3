// Shared helpers for the CP bootstrap tests.
#pragma once

#include "m2mdm/bootstrap/builder.hpp"
#include "m2mdm/syncml/encoding.hpp"
#include "m2mdm/test/files.hpp"

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

namespace m2mdm::bootstrap::testing {

using m2mdm::test::slurp;
using m2mdm::test::slurp_bytes;
using m2mdm::test::write_file;

/// The CP vectors kept in the repository (conformance/vectors/cp/README.md says where they come from).
inline std::filesystem::path vectors_dir() { return m2mdm::test::cp_vectors_dir(); }

/// A two-context bootstrap like the DRF sends (TR 33.812 §5.2.2.6.3.2).
inline BootstrapSpec sample_spec() {
  BootstrapSpec s;
  s.name = "RO bootstrap";
  s.provurl = "https://drf.ro.example/prov";
  ContextSpec mcim;
  mcim.role = ContextRole::mcim_provisioning;
  mcim.nap = NapSpec{"NAP-MCIM", "RO provisioning APN", "GSM-GPRS", "m2m.ro.example", NapAuthSpec{"PAP", "m2m", "apnpw"}};
  mcim.server.server_id = "dpf.ro.example";
  mcim.server.name = "RO DPF";
  mcim.server.addr = "https://dpf.ro.example:8443/dm";
  mcim.server.port = 8443;
  mcim.server.auths = {AppAuthSpec{"APPSRV", "DIGEST", "IMEI:490154203237518", "client-secret", {1, 2, 3, 4}},
                       AppAuthSpec{"CLIENT", "DIGEST", "dpf.ro.example", "server-secret", {9, 8, 7}}};
  mcim.server.spki_sha256 = Bytes(32, 0xA5);
  ContextSpec app;
  app.role = ContextRole::m2m_application;
  app.nap = NapSpec{"NAP-APP", "SHO APN", "GSM-GPRS", "iot.sho.example", std::nullopt};
  app.server.server_id = "dm.sho.example";
  app.server.name = "SHO DM";
  app.server.addr = "https://dm.sho.example/dm";
  app.server.auths = {AppAuthSpec{"APPSRV", "HMAC", "dev1", "s1", {}}};
  app.server.init = false;
  app.server.spki_sha256 = Bytes(32, 0x5A);
  s.contexts = {mcim, app};
  return s;
}

/// Runs a shell command; returns its exit status (-1 when it could not run).
inline int run(const std::string& cmd) {
  const int rc = std::system(cmd.c_str());
  return rc == -1 ? -1 : WEXITSTATUS(rc);
}

inline bool have_tool(const std::string& tool) { return run("command -v " + tool + " >/dev/null 2>&1") == 0; }

}  // namespace m2mdm::bootstrap::testing
