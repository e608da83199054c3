/// @file standard_objects.hpp
/// @brief The OMA DM 1.2 standard objects (DM_StdObj 1.2): ./DevInfo, ./DevDetail and the DMAcc
/// MO (`urn:oma:mo:oma-dm-dmacc:1.0`), with helpers to read/write a DM account as a struct.
#pragma once

#include "m2mdm/mo/tree.hpp"
#include "m2mdm/syncml/result.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace m2mdm::mo {

inline constexpr std::string_view kDevInfoUrn = "urn:oma:mo:oma-dm-devinfo:1.0";
inline constexpr std::string_view kDevDetailUrn = "urn:oma:mo:oma-dm-devdetail:1.0";
inline constexpr std::string_view kDmAccUrn = "urn:oma:mo:oma-dm-dmacc:1.0";

/// ./DevInfo (DM_StdObj 1.2 §5.1): all leaves Get-only, permanent.
struct DevInfo {
  std::string dev_id;     ///< DevId, e.g. "IMEI:490154203237518"
  std::string man;        ///< Man
  std::string mod;        ///< Mod
  std::string dm_v = "1.2";
  std::string lang = "en-US";
};

/// ./DevDetail (DM_StdObj 1.2 §5.3).
struct DevDetail {
  std::string dev_typ = "M2M";
  std::string oem;
  std::string fw_v;
  std::string sw_v;
  std::string hw_v;
  bool lrg_obj = true;
  UriLimits uri{};  ///< published as URI/MaxDepth, MaxTotLen, MaxSegLen
};

/// Creates ./DevInfo (with an empty Ext) and registers its DDF rules.
StatusCode install_devinfo(Tree& tree, const DevInfo& info);
/// Creates ./DevDetail and registers its DDF rules.
StatusCode install_devdetail(Tree& tree, const DevDetail& detail);
/// Creates the permanent ./DMAcc interior node (ACL "Get=*", Add only by the device through
/// write_dm_account) and registers the DMAcc MO rules (DM_StdObj 1.2 §5.2 / Appendix).
StatusCode install_dmacc(Tree& tree);

/// ./DMAcc/<x>/AppAddr/<x>: one address of the server.
struct DmAppAddr {
  std::string name = "1";       ///< the <x> node name
  std::string addr;             ///< Addr (URL)
  std::string addr_type = "URI";///< AddrType
  std::vector<std::string> ports;///< Port/<x>/PortNbr values (node names "1", "2", ...)
};

/// ./DMAcc/<x>/AppAuth/<x>: one credential.
struct DmAppAuth {
  std::string name;             ///< the <x> node name (e.g. "SRVCRED", "CLCRED")
  std::string level;            ///< AAuthLevel: "SRVCRED" | "CLCRED" | "OBEX" | "HTTP"
  std::string type;             ///< AAuthType: "BASIC" | "DIGEST" | "HMAC" | ...
  std::string auth_name;        ///< AAuthName
  std::string secret;           ///< AAuthSecret (never readable by Get: AccessType Replace only)
  Bytes data;                   ///< AAuthData (nonce), stored binary (b64 Format)
};

/// One DM account (DM_StdObj 1.2 DMAcc), as the bootstrap engineer maps w7 into it.
struct DmAccountView {
  std::string node_name;        ///< the ./DMAcc/<x> name
  std::string app_id = "w7";    ///< AppID
  std::string server_id;        ///< ServerID
  std::string name;             ///< Name
  std::string pref_con_ref;     ///< PrefConRef
  std::vector<DmAppAddr> app_addr;
  std::string aauth_pref;       ///< AAuthPref
  std::vector<DmAppAuth> app_auth;
};

/// Writes (creates or replaces) ./DMAcc/<node_name> from @p account as the device, and sets its
/// ACL to `Delete=<ServerID>&Get=<ServerID>&Replace=<ServerID>` (DM_StdObj 1.2 / bootstrap).
/// 400 when node_name or server_id is empty or invalid.
StatusCode write_dm_account(Tree& tree, const DmAccountView& account);
/// Reads ./DMAcc/<node_name>; not_found when absent.
Result<DmAccountView> read_dm_account(const Tree& tree, std::string_view node_name);
/// All accounts under ./DMAcc.
std::vector<DmAccountView> list_dm_accounts(const Tree& tree);
/// The account whose ServerID is @p server_id.
std::optional<DmAccountView> find_dm_account(const Tree& tree, std::string_view server_id);

}  // namespace m2mdm::mo
