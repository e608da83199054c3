// `m2mdm load`'s pure parts: percentiles, the summary JSON, /proc parsing, device identities.
#include "load_devices.hpp"
#include "load_stats.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace m2mdm::cli::load {
namespace {

TEST(LoadStats, NearestRankPercentiles) {
  std::vector<double> samples;
  for (int i = 100; i >= 1; --i) samples.push_back(i);  // unsorted on purpose
  const auto f = latency_figures(samples);
  EXPECT_EQ(f.count, 100u);
  EXPECT_DOUBLE_EQ(f.p50_ms, 50);
  EXPECT_DOUBLE_EQ(f.p95_ms, 95);
  EXPECT_DOUBLE_EQ(f.p99_ms, 99);
  EXPECT_DOUBLE_EQ(f.max_ms, 100);
}

TEST(LoadStats, PercentilesOfFewSamples) {
  EXPECT_EQ(latency_figures({}).count, 0u);
  EXPECT_DOUBLE_EQ(latency_figures({}).p99_ms, 0);
  const auto one = latency_figures({7.5});
  EXPECT_DOUBLE_EQ(one.p50_ms, 7.5);
  EXPECT_DOUBLE_EQ(one.p99_ms, 7.5);
  const auto three = latency_figures({3, 1, 2});
  EXPECT_DOUBLE_EQ(three.p50_ms, 2);
  EXPECT_DOUBLE_EQ(three.p95_ms, 3);
  EXPECT_DOUBLE_EQ(percentile({1, 2, 3, 4}, 25), 1);
  EXPECT_DOUBLE_EQ(percentile({1, 2, 3, 4}, 100), 4);
}

TEST(LoadStats, SummaryJsonHasEveryFigure) {
  LoadSummary s;
  s.mode = "session";
  s.devices = 20;
  s.concurrency = 4;
  s.elapsed_s = 2;
  s.sessions = 10;
  s.messages = 30;
  s.errors = {{"io", 1}, {"http_503", 2}};
  s.server = ServerUsage{1.5, 12345};
  const auto j = summary_json(s);
  EXPECT_EQ(j["sessions"], 10);
  EXPECT_DOUBLE_EQ(j["sessions_per_s"].get<double>(), 5);
  EXPECT_DOUBLE_EQ(j["messages_per_s"].get<double>(), 15);
  EXPECT_EQ(j["errors"], 3);
  EXPECT_EQ(j["errors_by_kind"]["http_503"], 2);
  for (const char* key : {"message_latency_ms", "session_latency_ms"})
    for (const char* p : {"p50", "p95", "p99", "count"}) EXPECT_TRUE(j[key].contains(p)) << key << " " << p;
  EXPECT_EQ(j["server_peak_rss_kb"], 12345);
  EXPECT_DOUBLE_EQ(j["server_cpu_s"].get<double>(), 1.5);
  s.server.reset();
  EXPECT_FALSE(summary_json(s).contains("server_cpu_s"));
  EXPECT_NE(summary_text(s).find("io=1"), std::string::npos);
}

TEST(LoadStats, ProgressLine) {
  EXPECT_EQ(progress_line(3.2, 120, 480, 0, 41), "t=3s sessions=120 messages=480 errors=0 rate=41.0 sessions/s");
}

TEST(LoadStats, ProcStatCpuTicks) {
  // proc(5): utime and stime are fields 14 and 15; the command name may hold spaces and ')'.
  const std::string stat = "4242 (m2mdm (x) y) S 1 4242 4242 0 -1 4194560 1000 0 0 0 150 27 0 0 20 0 5 0 100 0";
  EXPECT_EQ(cpu_ticks_from_proc_stat(stat), 177u);
  EXPECT_FALSE(cpu_ticks_from_proc_stat("garbage"));
  EXPECT_FALSE(cpu_ticks_from_proc_stat("1 (a) S 1 2"));
}

TEST(LoadStats, ProcStatusVmHwm) {
  EXPECT_EQ(vmhwm_kb_from_proc_status("Name:\tm2mdm\nVmPeak:\t  99 kB\nVmHWM:\t   23456 kB\nVmRSS:\t 1 kB\n"), 23456u);
  EXPECT_FALSE(vmhwm_kb_from_proc_status("Name:\tm2mdm\n"));
}

TEST(LoadDevices, IdentitiesAreARecognisableRangePerRun) {
  const auto a = load_identity(123, 7);
  EXPECT_EQ(a.dev_id, "IMEI:35000123" "0000007");
  EXPECT_EQ(a.pcid, "99901000123" "0000007");
  EXPECT_NE(load_identity(124, 7).dev_id, a.dev_id);
  EXPECT_NE(load_identity(123, 8).client_password, a.client_password);
  const auto j = nlohmann::json::parse(import_line(a));
  EXPECT_EQ(j["devId"], a.dev_id);
  EXPECT_EQ(j["dm"]["clientUsername"], a.dev_id);
  EXPECT_EQ(j["dm"]["serverUsername"], kLoadServerId);
}

TEST(LoadDevices, VirtualDeviceHasDevInfoAndAccount) {
  auto d = make_virtual_device(load_identity(1, 2), "https://127.0.0.1:8443/dm");
  ASSERT_TRUE(d) << d.error();
  EXPECT_EQ((*d)->id.dev_id, "IMEI:350000010000002");
}

}  // namespace
}  // namespace m2mdm::cli::load
