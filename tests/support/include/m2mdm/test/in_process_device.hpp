/// @file in_process_device.hpp
/// @brief A client::Device of the test PKI against the real DPF session engine in this process
/// (header-only; m2mdm_test_support, GoogleTest): the RO's DM server the device tests provision,
/// the in-memory DPF that knows the device's account, the device's options and its bootstrap.
#pragma once

#include "m2mdm/client/device.hpp"
#include "m2mdm/test/device_bootstrap.hpp"
#include "m2mdm/test/in_process.hpp"
#include "m2mdm/test/memory_backend.hpp"
#include "m2mdm/test/pki_test.hpp"

#include <memory>
#include <string>
#include <string_view>
#include <utility>

namespace m2mdm::test {

/// The ServerID of the RO's DM server in the device tests.
inline constexpr std::string_view kTestServerId = "dpf.ro.example";
/// The DIGEST nonces of the device's account with it (AAuthData of CLCRED and SRVCRED).
inline const Bytes kTestClientNonce{1, 2, 3, 4};
inline const Bytes kTestServerNonce{9, 8, 7};

/// PkiTest plus backend_, an in-memory DPF that knows the test device's account with
/// kTestServerId (test_credentials with the test nonces).
class InProcessDeviceTest : public PkiTest {
 protected:
  explicit InProcessDeviceTest(std::string tag) : PkiTest(std::move(tag)) {}

  void SetUp() override {
    PkiTest::SetUp();
    if (HasFatalFailure()) return;
    backend_.creds = test_credentials(kTestServerId, kTestDevId);
    backend_.creds.server_nonce = kTestServerNonce;
    backend_.creds.client_nonce = kTestClientNonce;
  }

  /// device_options with SEC USERPIN and @p pin; each session goes to a DmServerSession over
  /// backend_ in this process.
  client::DeviceOptions in_process_options(std::string_view pin = kTestPin) {
    client::DeviceOptions o = device_options(dir_ / "state", pki_);
    o.sec = bootstrap::SecMethod::userpin;
    o.sec_credentials.pin = std::string(pin);
    o.transport = [this](const client::TransportParams&) -> Result<std::unique_ptr<client::Transport>> {
      return std::unique_ptr<client::Transport>(std::make_unique<InProcessTransport>(backend_));
    };
    return o;
  }

  /// The RO's USERPIN bootstrap (PIN kTestPin) of the account backend_ knows, as its WAP push PDU:
  /// server https://127.0.0.1/dm and a dummy key pin (a DM server context needs one).
  Bytes bootstrap_push() const {
    bootstrap::ContextSpec c =
        dm_context(kTestDevId, kTestServerId, "https://127.0.0.1/dm", kTestClientNonce, kTestServerNonce);
    c.server.spki_sha256 = Bytes(32, 0x5A);
    return userpin_push(ro_bootstrap(c), kTestPin);
  }

  MemoryDmBackend backend_;  ///< the DPF's store in memory
};

}  // namespace m2mdm::test
