// The client library's diagnostic sink (m2mdm/client/log.hpp).
#include "m2mdm/client/log.hpp"

#include <atomic>
#include <cstdio>

namespace m2mdm::client {
namespace {

void stderr_sink(EventSeverity severity, std::string_view message) noexcept {
  const std::string_view level = to_string(severity);
  std::fprintf(stderr, "m2mdm-client %.*s: %.*s\n", static_cast<int>(level.size()), level.data(),
               static_cast<int>(message.size()), message.data());
}

std::atomic<LogSink> g_sink{nullptr};

}  // namespace

void set_log_sink(LogSink sink) noexcept { g_sink.store(sink, std::memory_order_release); }

void log(EventSeverity severity, std::string_view message) noexcept {
  const LogSink sink = g_sink.load(std::memory_order_acquire);
  (sink ? sink : stderr_sink)(severity, message);
}

}  // namespace m2mdm::client
