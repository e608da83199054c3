// The client library's log sink (m2mdm/client/log.hpp, issue 13): a Device's diagnostics and the
// events of a Device without DeviceOptions::on_event reach the installed sink with their
// placeholders filled; nullptr restores the default stderr line.
#include "m2mdm/client/device.hpp"
#include "m2mdm/client/log.hpp"
#include "m2mdm/test/device_bootstrap.hpp"
#include "m2mdm/test/pki_test.hpp"

#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace {

using namespace m2mdm;
using client::EventSeverity;

// A sink is a plain function pointer: what it receives is kept here.
std::vector<std::pair<EventSeverity, std::string>> g_lines;
void capture(EventSeverity severity, std::string_view message) noexcept {
  g_lines.emplace_back(severity, std::string(message));
}

class LogSinkTest : public test::PkiTest {
 protected:
  LogSinkTest() : PkiTest("log-sink") {}
  void SetUp() override {
    PkiTest::SetUp();
    g_lines.clear();
    client::set_log_sink(capture);
  }
  void TearDown() override {
    client::set_log_sink(nullptr);
    PkiTest::TearDown();
  }
};

TEST_F(LogSinkTest, AnUnopenableTreIsReportedThroughTheSink) {
  client::DeviceOptions o = test::device_options(dir_ / "state", pki_);
  o.tre_dir = dir_ / "no-tre";
  auto device = client::Device::open(std::move(o));
  ASSERT_FALSE(device);
  ASSERT_EQ(g_lines.size(), 1u);
  EXPECT_EQ(g_lines[0].first, EventSeverity::error);
  const std::string prefix = "TRE " + (dir_ / "no-tre").string() + ": ";
  EXPECT_EQ(g_lines[0].second.substr(0, prefix.size()), prefix) << g_lines[0].second;
}

TEST_F(LogSinkTest, EventsOfADeviceWithoutOnEventGoToTheSinkFilledIn) {
  client::DeviceOptions o = test::device_options(dir_ / "state", pki_);
  ASSERT_FALSE(o.on_event);
  auto device = client::Device::open(std::move(o));
  ASSERT_TRUE(device) << device.error().message();
  ASSERT_FALSE(g_lines.empty());
  // device_ready, the last thing open() says: every "{}" of its pattern filled, in order.
  EXPECT_EQ(g_lines.back().first, EventSeverity::info);
  EXPECT_EQ(g_lines.back().second, "device " + std::string(test::kTestDevId) + " ready: state " +
                                       (dir_ / "state").string() + ", 0 context(s), 0 MCIM(s)");
}

TEST_F(LogSinkTest, NullRestoresTheDefaultStderrLine) {
  client::set_log_sink(nullptr);
  testing::internal::CaptureStderr();
  client::log(EventSeverity::warning, "state: one line");
  EXPECT_EQ(testing::internal::GetCapturedStderr(), "m2mdm-client warning: state: one line\n");
  EXPECT_TRUE(g_lines.empty());
}

}  // namespace
