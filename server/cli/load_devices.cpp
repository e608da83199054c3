// The virtual devices of `m2mdm load` (load_devices.hpp).
#include "load_devices.hpp"

#include "m2mdm/mo/standard_objects.hpp"
#include "m2mdm/syncml/status.hpp"

#include <nlohmann/json.hpp>

#include <cstdio>

namespace m2mdm::cli::load {

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
  return device;
}

}  // namespace m2mdm::cli::load
