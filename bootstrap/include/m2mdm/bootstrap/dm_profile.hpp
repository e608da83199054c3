/// @file dm_profile.hpp
/// @brief The OMA DM-profile bootstrap (DM Bootstrap 1.2 §3.1.4; DM_Security 1.2 §5.1.7.2): a
///        SyncML DM 1.2 message in WBXML (application/vnd.syncml.dm+wbxml) whose Add/Replace
///        commands create a DMAcc, directly (Item Target LocURI + Data) or as embedded TNDS
///        objects (DM_TND 1.2 §9, MgmtTree/Node/NodeName/Path/Value), secured by the textual
///        SEC methods NETWORKID / USERPIN / USERPIN_NETWORKID ("IMSI-key:PIN").
///
/// Supported subset (client side): SyncML 1.2 WBXML via libwbxml2 (TNDS embedded as WBXML or
/// XML); Add and Replace of leaf values under ./DMAcc/<x>/ (AppID, ServerID, Name, PrefConRef,
/// AppAddr/<y>/Addr, AddrType, Port/<z>/PortNbr, AppAuth/<y>/AAuthLevel, AAuthType, AAuthName,
/// AAuthSecret, AAuthData (b64)) and our extension ./DMAcc/<x>/Ext/m2mdm/ (M2M-CONTEXT,
/// SPKI-SHA256, REBOOTSTRAP-TOKEN, NAP/NAPID, NAP/Name, NAP/Bearer, NAP/APN, NAP/AuthType,
/// NAP/AuthName, NAP/AuthSecret). Not supported: Atomic/Sequence wrappers, Exec, Delete,
/// standardized connectivity MOs, TNDS ACL properties (the ACL is set as for the CP profile).
#pragma once

#include "m2mdm/bootstrap/apply.hpp"

#include <map>
#include <string>

namespace m2mdm::bootstrap {

/// The SyncML WBXML as XML text (libwbxml2, language SyncML 1.2 forced). Errors: dm_bad_tnds,
/// cp_too_large.
Result<std::string> dm_bootstrap_to_xml(ByteView wbxml, const CpLimits& limits = {});

/// Every leaf the message adds or replaces: absolute URI ("./DMAcc/x/ServerID") -> value.
Result<std::map<std::string, std::string>> dm_bootstrap_leaves(ByteView wbxml, const CpLimits& limits = {});

/// Interprets the leaves as DM accounts (no MAC check: use verify_dm_bootstrap).
/// Errors: dm_bad_tnds, cp_missing_w7 (no DMAcc), cp_invalid_w7.
Result<BootstrapResult> interpret_dm_bootstrap(ByteView wbxml, const CpLimits& limits = {});

/// MAC first (SecProfile::dm), then decode and interpret.
Result<VerifiedBootstrap> verify_dm_bootstrap(ByteView wbxml, SecMethod method, const SecCredentials& creds,
                                              std::optional<std::string_view> mac, const CpLimits& limits = {});

/// Server side: the same contexts as build_bootstrap_doc, as a DM-profile bootstrap message
/// (one Add per context holding a TNDS MgmtTree for ./DMAcc/<n>), WBXML-encoded.
Result<Bytes> build_dm_bootstrap(const BootstrapSpec& spec);

}  // namespace m2mdm::bootstrap
