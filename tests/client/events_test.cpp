// The wire names of the device events (m2mdm/client/events.hpp): the `event` field of
// m2mdm-device's JSON lines, which `m2mdm demo` and supervisors wait on. They must stay unique,
// snake_case, round-trip through parse_device_event_kind, and never change.
#include "m2mdm/client/events.hpp"

#include <gtest/gtest.h>

#include <set>

namespace m2mdm::client {
namespace {

TEST(DeviceEventNames, AreUniqueSnakeCaseAndRoundTrip) {
  std::set<std::string_view> seen;
  ASSERT_FALSE(all_device_event_kinds().empty());
  for (const auto kind : all_device_event_kinds()) {
    const auto name = to_string(kind);
    EXPECT_TRUE(seen.insert(name).second) << "duplicate name " << name;
    ASSERT_FALSE(name.empty());
    EXPECT_NE(name, "unknown");
    for (const char c : name) EXPECT_TRUE((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_') << name;
    EXPECT_EQ(parse_device_event_kind(name), kind) << name;
  }
  EXPECT_EQ(parse_device_event_kind("Bootstrap_Applied"), std::nullopt);
  EXPECT_EQ(parse_device_event_kind(""), std::nullopt);
}

TEST(DeviceEventNames, TheNamesOthersWaitOnAreStable) {
  // m2mdm demo waits on these four (server/cli/demo_device.cpp); docs/client-integration.md lists them.
  EXPECT_EQ(to_string(DeviceEventKind::listening), "listening");
  EXPECT_EQ(to_string(DeviceEventKind::bootstrap_applied), "bootstrap_applied");
  EXPECT_EQ(to_string(DeviceEventKind::session_completed), "session_completed");
  EXPECT_EQ(to_string(DeviceEventKind::package0_verified), "package0_verified");
  EXPECT_EQ(to_string(DeviceEventKind::mcim_installed), "mcim_installed");
  EXPECT_EQ(to_string(EventSeverity::warning), "warning");
}

}  // namespace
}  // namespace m2mdm::client
