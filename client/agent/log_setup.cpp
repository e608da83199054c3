#include "log_setup.hpp"

#include "event_json.hpp"
#include "m2mdm/client/log.hpp"

#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdio>
#include <ctime>
#include <mutex>

namespace m2mdm::agent {
namespace {

struct Setup {
  bool json = false;
  Level min = Level::info;
};
Setup g_setup;
std::mutex g_write;  // one line at a time: lines never interleave

std::string iso_utc(std::chrono::system_clock::time_point tp) {
  const auto t = std::chrono::system_clock::to_time_t(tp);
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(tp.time_since_epoch()).count() % 1000;
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[96];  // room for any int the fields can hold (-Wformat-truncation)
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(ms));
  return buf;
}

const char* level_name(Level level) {
  switch (level) {
    case Level::trace: return "trace";
    case Level::debug: return "debug";
    case Level::info: return "info";
    case Level::warn: return "warning";
    case Level::error: return "error";
  }
  return "info";
}

Level level_of(client::EventSeverity s) {
  switch (s) {
    case client::EventSeverity::debug: return Level::debug;
    case client::EventSeverity::info: return Level::info;
    case client::EventSeverity::warning: return Level::warn;
    case client::EventSeverity::error: return Level::error;
  }
  return Level::info;
}

bool enabled(Level level) { return level >= g_setup.min; }

void write_line(const std::string& line) {
  std::lock_guard lock(g_write);
  std::fwrite(line.data(), 1, line.size(), stderr);
  std::fflush(stderr);
}

// Text: "<ts> <level> <message>"; JSON: one object, the message escaped by nlohmann::json
// (invalid UTF-8 replaced).
template <typename Json>
std::string json_line(const Json& j) {
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

std::string text_line(std::chrono::system_clock::time_point tp, Level level, std::string_view message) {
  std::string line = iso_utc(tp);
  line += ' ';
  line += level_name(level);
  line += ' ';
  line += message;
  line += '\n';
  return line;
}

// The client library's diagnostics, into the agent's lines.
void client_sink(client::EventSeverity severity, std::string_view message) noexcept {
  try {
    log(level_of(severity), message);
  } catch (...) {
  }
}

}  // namespace

void setup_logging(const std::string& format, const std::string& level) {
  g_setup.json = format == "json";
  if (level == "trace") g_setup.min = Level::trace;
  else if (level == "debug") g_setup.min = Level::debug;
  else if (level == "warn") g_setup.min = Level::warn;
  else if (level == "error") g_setup.min = Level::error;
  else g_setup.min = Level::info;
  client::set_log_sink(client_sink);
}

void log(Level level, std::string_view message) {
  if (!enabled(level)) return;
  const auto now = std::chrono::system_clock::now();
  if (!g_setup.json) return write_line(text_line(now, level, message));
  nlohmann::json j;
  j["ts"] = iso_utc(now);
  j["level"] = level_name(level);
  j["msg"] = std::string(message);
  write_line(json_line(j));
}

void log_event(const client::DeviceEvent& event) {
  const Level level = level_of(event.severity);
  if (!enabled(level)) return;
  const auto tp = std::chrono::time_point_cast<std::chrono::system_clock::duration>(event.time);
  if (!g_setup.json) return write_line(text_line(tp, level, event.message));
  // {"level","msg","ts"} as for a log line, then "event" and the event's fields.
  nlohmann::ordered_json j;
  j["level"] = level_name(level);
  j["msg"] = event.message;
  j["ts"] = iso_utc(tp);
  add_event_fields(event, j);
  write_line(json_line(j));
}

}  // namespace m2mdm::agent
