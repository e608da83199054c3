/// @file load_devices.hpp
/// @brief The virtual devices of `m2mdm load`: their identities (a recognisable, per-run range of
///        DevIds and PCIDs), their DM accounts as the REST import wants them, and the small DM tree
///        (./DevInfo, ./DMAcc) each one runs its sessions on.
#pragma once

#include "load_connection.hpp"
#include "m2mdm/client/alert_outbox.hpp"
#include "m2mdm/mo/tree.hpp"

#include <cstdint>
#include <expected>
#include <memory>
#include <string>

namespace m2mdm::cli::load {

/// The ServerID (and server credential name) of the load devices' DM account.
inline constexpr const char* kLoadServerId = "m2mdm-load";

/// Who virtual device @p index of run @p run is, and its DM secrets.
struct LoadIdentity {
  std::string dev_id;           ///< "IMEI:35" + 6-digit run + 7-digit index (15 digits)
  std::string pcid;             ///< "99901" + run + index (MCC 999: a test range)
  std::string client_password;  ///< the device's secret (CLCRED)
  std::string server_password;  ///< the server's secret (SRVCRED)
};

/// The identity of device @p index (< 10,000,000) of run @p run (< 1,000,000). The secrets are
/// derived from the run and the index: load devices are not real devices.
LoadIdentity load_identity(std::uint32_t run, std::uint32_t index);

/// One line of NDJSON for POST /api/v1/devices:import (devId, pcid, dm credentials, MD5 digest).
std::string import_line(const LoadIdentity& id);

/// One simulated device: its DM tree and Generic Alert outbox (kept in memory).
struct VirtualDevice {
  LoadIdentity id;
  mo::Tree tree;
  client::MemoryAlertOutbox outbox;
  unsigned installs = 0;  ///< install Execs answered (simulated TRE)
  TlsTicket tls_ticket;   ///< the device's last TLS session, resumed by its next connection
};

/// Builds the device: ./DevInfo (Man m2mdm, Mod m2mdm-load), ./DMAcc/RO (ServerID
/// kLoadServerId, AppAddr @p dm_url, MD5 digest both ways) and ./M2MSIMMobj (no PfC) whose
/// Download/<x>/Operations/Install is answered by a SIMULATED TRE: the package the server Added
/// is not opened (load devices hold no platform key); the Exec gets 202 and a Generic Alert 1226
/// (install, Success, the Exec's Correlator) is queued, which the next client message carries
/// until the server acknowledges it — the exchange a real device has, without the crypto.
/// The error names the step that failed.
std::expected<std::unique_ptr<VirtualDevice>, std::string> make_virtual_device(const LoadIdentity& id,
                                                                               const std::string& dm_url);

}  // namespace m2mdm::cli::load
