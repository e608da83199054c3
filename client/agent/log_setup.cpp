#include "log_setup.hpp"

#include "event_json.hpp"

#include <nlohmann/json.hpp>
#include <spdlog/sinks/base_sink.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <cstdio>
#include <ctime>
#include <memory>
#include <mutex>

namespace m2mdm::agent {
namespace {

std::string iso_utc(spdlog::log_clock::time_point tp) {
  const auto t = spdlog::log_clock::to_time_t(tp);
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(tp.time_since_epoch()).count() % 1000;
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[40];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(ms));
  return buf;
}

std::string level_name(spdlog::level::level_enum level) {
  const auto name = spdlog::level::to_string_view(level);
  return std::string(name.data(), name.size());
}

template <typename Json>
void write_line(const Json& j) {
  const std::string line = j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
  std::fwrite(line.data(), 1, line.size(), stderr);
  std::fflush(stderr);
}

// One JSON object per line; the message is escaped by nlohmann::json (invalid UTF-8 replaced).
// Events are written through the same sink (same lock), so that lines never interleave.
class JsonSink final : public spdlog::sinks::base_sink<std::mutex> {
 public:
  // {"level","msg","ts"} as for a log line, then "event" and the event's fields.
  void write_event(const client::DeviceEvent& e, spdlog::level::level_enum level) {
    nlohmann::ordered_json j;
    j["level"] = level_name(level);
    j["msg"] = e.message;
    j["ts"] = iso_utc(std::chrono::time_point_cast<spdlog::log_clock::duration>(e.time));
    add_event_fields(e, j);
    std::lock_guard lock(mutex_);
    write_line(j);
  }

 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    nlohmann::json j;
    j["ts"] = iso_utc(msg.time);
    j["level"] = level_name(msg.level);
    j["msg"] = std::string(msg.payload.data(), msg.payload.size());
    write_line(j);
  }
  void flush_() override { std::fflush(stderr); }
};

std::shared_ptr<JsonSink> g_json_sink;  // set in JSON format

spdlog::level::level_enum level_of(client::EventSeverity s) {
  switch (s) {
    case client::EventSeverity::debug: return spdlog::level::debug;
    case client::EventSeverity::info: return spdlog::level::info;
    case client::EventSeverity::warning: return spdlog::level::warn;
    case client::EventSeverity::error: return spdlog::level::err;
  }
  return spdlog::level::info;
}

}  // namespace

void setup_logging(const std::string& format, const std::string& level) {
  std::shared_ptr<spdlog::logger> logger;
  if (format == "json") {
    g_json_sink = std::make_shared<JsonSink>();
    logger = std::make_shared<spdlog::logger>("m2mdm-device", g_json_sink);
  } else {
    logger = std::make_shared<spdlog::logger>("m2mdm-device", std::make_shared<spdlog::sinks::stderr_sink_mt>());
    logger->set_pattern("%Y-%m-%dT%H:%M:%S.%eZ %l %v", spdlog::pattern_time_type::utc);
  }
  logger->set_level(spdlog::level::from_str(level));
  logger->flush_on(spdlog::level::trace);
  spdlog::set_default_logger(logger);
}

}  // namespace m2mdm::agent

namespace m2mdm::agent {

void log_event(const client::DeviceEvent& event) {
  const auto level = level_of(event.severity);
  if (!spdlog::default_logger()->should_log(level)) return;
  if (g_json_sink)
    g_json_sink->write_event(event, level);
  else
    spdlog::log(level, "{}", event.message);
}

}  // namespace m2mdm::agent
