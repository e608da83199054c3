// The virtual devices of `m2mdm load` (load_devices.hpp).
#include "load_devices.hpp"

#include "m2mdm/mo/m2msim_object.hpp"
#include "m2mdm/mo/standard_objects.hpp"
#include "m2mdm/syncml/status.hpp"

#include <nlohmann/json.hpp>

#include <cstdio>

namespace m2mdm::cli::load {
namespace {

// The simulated TRE's answer to Exec ./M2MSIMMobj/Download/<x>/Operations/Install.
mo::ExecOutcome simulated_install(VirtualDevice& device, mo::ExecRequest& request) {
  const auto& segments = request.uri.segments();
  const std::string slot = segments.size() >= 3 ? segments[2] : std::string{};
  auto download = mo::read_download(device.tree, slot);
  if (!download || download->package.empty()) return {syncml::StatusCode::NotFound};
  (void)mo::set_download_state(device.tree, slot, mo::DownloadState::Installed);
  (void)device.outbox.add(request.server_id,
                          mo::make_m2msim_alert(mo::kAlertInstall, request.uri.str(), request.correlator,
                                                mo::M2msimResult::Success, "installed (simulated TRE)"));
  ++device.installs;
  return {syncml::StatusCode::AcceptedForProcessing};
}

}  // namespace

LoadIdentity load_identity(std::uint32_t run, std::uint32_t index) {
  char digits[32];
  std::snprintf(digits, sizeof digits, "%06u%07u", run % 1000000u, index % 10000000u);
  LoadIdentity id;
  id.dev_id = std::string("IMEI:35") + digits;
  id.pcid = std::string("99901") + digits;
  id.client_password = std::string("load-c-") + digits;
  id.server_password = std::string("load-s-") + digits;
  return id;
}

std::string import_line(const LoadIdentity& id) {
  const nlohmann::json j{{"devId", id.dev_id},
                         {"pcid", id.pcid},
                         {"dm",
                          {{"serverId", kLoadServerId},
                           {"serverUsername", kLoadServerId},
                           {"serverPassword", id.server_password},
                           {"clientUsername", id.dev_id},
                           {"clientPassword", id.client_password}}}};
  return j.dump();
}

std::expected<std::unique_ptr<VirtualDevice>, std::string> make_virtual_device(const LoadIdentity& id,
                                                                               const std::string& dm_url) {
  auto device = std::make_unique<VirtualDevice>();
  device->id = id;
  auto failed = [](const char* step, syncml::StatusCode s) {
    return std::unexpected(std::string(step) + ": " + std::to_string(syncml::code(s)));
  };
  mo::DevInfo info;
  info.dev_id = id.dev_id;
  info.man = "m2mdm";
  info.mod = "m2mdm-load";
  if (auto s = mo::install_devinfo(device->tree, info); !syncml::is_success(s)) return failed("DevInfo", s);
  if (auto s = mo::install_dmacc(device->tree); !syncml::is_success(s)) return failed("DMAcc", s);
  mo::DmAccountView acc;
  acc.node_name = "RO";
  acc.server_id = kLoadServerId;
  acc.app_addr.push_back(mo::DmAppAddr{"1", dm_url, "URI", {}});
  acc.aauth_pref = "DIGEST";
  acc.app_auth.push_back(mo::DmAppAuth{"CLCRED", "CLCRED", "DIGEST", id.dev_id, id.client_password, {}});
  acc.app_auth.push_back(mo::DmAppAuth{"SRVCRED", "SRVCRED", "DIGEST", kLoadServerId, id.server_password, {}});
  if (auto s = mo::write_dm_account(device->tree, acc); !syncml::is_success(s)) return failed("DM account", s);
  mo::M2msimConfig m2msim;
  m2msim.dev_id = id.dev_id;
  m2msim.servers = {kLoadServerId};
  if (auto s = mo::install_m2msim_object(device->tree, m2msim); !syncml::is_success(s)) return failed("M2MSIMMobj", s);
  VirtualDevice* self = device.get();  // the handler lives in self->tree: never outlives self
  device->tree.on_exec(mo::m2msim_uri("Download/*/Operations/Install"),
                       [self](mo::ExecRequest& r) { return simulated_install(*self, r); });
  return device;
}

}  // namespace m2mdm::cli::load
