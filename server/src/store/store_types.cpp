// Enum names, token hashing and crash-injection points shared by every Store implementation.
#include "m2mdm/server/store_types.hpp"

#include "store/crash_point.hpp"

#include "m2mdm/syncml/encoding.hpp"

#include <openssl/rand.h>
#include <openssl/sha.h>

#include <array>
#include <cstdlib>
#include <unistd.h>

namespace m2mdm::server {
namespace {
constexpr std::array<std::string_view, 6> kDeviceStates{"imported",     "bootstrapped", "registered",
                                                        "provisioning", "provisioned",  "failed"};
constexpr std::array<std::string_view, 9> kJobStates{"queued",          "notified",  "delivering",
                                                     "delivered",       "awaiting_result", "succeeded",
                                                     "failed",          "expired",   "cancelled"};
constexpr std::array<std::string_view, 7> kJobKinds{"install", "activate", "deactivate",     "delete",
                                                    "reset",   "operator_change", "arm_rebootstrap"};
constexpr std::array<std::string_view, 6> kChangeStates{"requested",      "discarded", "pristine",
                                                        "reprovisioning", "completed", "failed"};

template <class E, std::size_t N>
std::optional<E> lookup(const std::array<std::string_view, N>& names, std::string_view s) noexcept {
  for (std::size_t i = 0; i < N; ++i)
    if (names[i] == s) return static_cast<E>(i);
  return std::nullopt;
}
}  // namespace

std::string_view to_string(ChangeState s) noexcept { return kChangeStates.at(static_cast<std::size_t>(s)); }
std::optional<ChangeState> change_state_from_string(std::string_view s) noexcept {
  return lookup<ChangeState>(kChangeStates, s);
}

std::string_view to_string(DeviceState s) noexcept { return kDeviceStates.at(static_cast<std::size_t>(s)); }
std::optional<DeviceState> device_state_from_string(std::string_view s) noexcept {
  return lookup<DeviceState>(kDeviceStates, s);
}
std::string_view to_string(JobState s) noexcept { return kJobStates.at(static_cast<std::size_t>(s)); }
std::optional<JobState> job_state_from_string(std::string_view s) noexcept { return lookup<JobState>(kJobStates, s); }
bool is_terminal(JobState s) noexcept {
  return s == JobState::succeeded || s == JobState::failed || s == JobState::expired || s == JobState::cancelled;
}
std::string_view to_string(JobKind k) noexcept { return kJobKinds.at(static_cast<std::size_t>(k)); }
std::optional<JobKind> job_kind_from_string(std::string_view s) noexcept { return lookup<JobKind>(kJobKinds, s); }

Bytes hash_token(std::string_view token) {
  Bytes out(SHA256_DIGEST_LENGTH);
  SHA256(reinterpret_cast<const unsigned char*>(token.data()), token.size(), out.data());
  return out;
}

std::string new_bearer_token() {
  Bytes b(32);
  if (RAND_bytes(b.data(), static_cast<int>(b.size())) != 1) return {};
  return hex_encode(b);
}

void crash_point(std::string_view name) noexcept {
  const char* at = std::getenv("M2MDM_STORE_CRASH_AT");
  if (at != nullptr && name == at) ::_exit(77);
}

}  // namespace m2mdm::server
