/// @file device_fixture.hpp
/// @brief The device the tests provision: the test PKI with one device (software TRE, PfC),
/// the device tree as the bootstrap leaves it (DevInfo, one DM account, the M2MSIMMobj), and an
/// MCIM (docs/examples/mcim-profile.json) bound to the device and sealed by the test SHO.
#pragma once

#include "m2mdm/mo/crypto_handles.hpp"
#include "m2mdm/mo/pki.hpp"
#include "m2mdm/mo/tree.hpp"
#include "m2mdm/syncml/encoding.hpp"
#include "m2mdm/syncml/result.hpp"

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace m2mdm::test {

/// The DevId of the test device in the fixtures.
inline constexpr std::string_view kTestDevId = "IMEI:490154203237518";

/// The files of a test PKI, by name: those of mo::init_test_pki ("sho-ca", "sho-cert",
/// "sho-key", "tls-ca", ...) and of mo::issue_test_device ("tre-dir", "pfc", ...).
using PkiFiles = std::map<std::string, std::filesystem::path>;

/// The path of the file named @p name among @p files (mo::init_test_pki, mo::issue_test_device),
/// empty when there is none.
inline std::filesystem::path pki_file(const std::vector<mo::PkiFile>& files, std::string_view name) {
  for (const auto& f : files)
    if (f.name == name) return f.path;
  return {};
}

/// `m2mdm pki init` and `m2mdm pki device --id @p dev_id` into @p dir (mo::init_test_pki +
/// mo::issue_test_device).
Result<PkiFiles> make_test_pki(const std::filesystem::path& dir, std::string_view dev_id = kTestDevId);

/// What install_device_tree() writes.
struct DeviceTreeSpec {
  std::string dev_id{kTestDevId};        ///< ./DevInfo/DevId, the CLCRED name, M2MSIMMobj DevId
  std::string model = "sim-1";           ///< ./DevInfo/Mod (Man is "m2mdm")
  std::string server_id;                 ///< the account's ServerID, allowed on the M2MSIMMobj
  std::string server_name;               ///< the account's Name ("" = none)
  std::string server_uri = "http://127.0.0.1/dm";  ///< AppAddr 1
  std::string client_auth = "DIGEST";    ///< AAuthPref and the CLCRED AAuthType
  std::string client_secret = "client-secret";
  Bytes client_nonce;                    ///< CLCRED AAuthData
  std::string server_auth = "DIGEST";    ///< the SRVCRED AAuthType
  std::string server_secret = "server-secret";
  Bytes server_nonce;                    ///< SRVCRED AAuthData
  Bytes pfc_der;                         ///< the M2MSIMMobj PfC
};

/// Installs ./DevInfo, ./DMAcc with the account "RO" (DM_StdObj 1.2) and ./M2MSIMMobj in
/// @p tree. Returns "" on success, else the step that failed and its status code.
std::string install_device_tree(mo::Tree& tree, const DeviceTreeSpec& spec);

/// The binding of a sealed MCIM (mo::McimBinding) and the profile fields a test may change.
struct SealSpec {
  std::string dev_id{kTestDevId};
  std::uint64_t counter = 1;
  std::string transaction_id;   ///< "" = "tx-<counter>"
  std::int64_t issued = 0;      ///< 0 = now - 10 s
  std::int64_t expires = 0;     ///< 0 = now + 1 h
  std::string iccid;            ///< "" = the example's
  std::string imsi;             ///< "" = the example's
};

/// docs/examples/mcim-profile.json bound by @p spec, signed with the PKI's "sho-cert"/"sho-key"
/// and sealed to @p pfc (mo::seal_profile).
Result<Bytes> seal_example_mcim(const PkiFiles& pki, const mo::Certificate& pfc, const SealSpec& spec);

}  // namespace m2mdm::test
