// Logging of m2mdm-device, with no logging library (issue 13: the agent's memory): lines on stderr
// as text ("<ISO-8601 UTC> <level> <message>") or one JSON object per line ({"level","msg","ts"}),
// flushed after every line; and the device's typed events (m2mdm/client/events.hpp) on the same
// stream: in text format as their human line, in JSON format as that line's object extended with
// "event" (the kind's wire name) and the event's typed fields (docs/client-integration.md). The
// client library's diagnostics (m2mdm/client/log.hpp) are routed into the same lines.
#pragma once

#include "m2mdm/client/events.hpp"

#include <string>
#include <string_view>

namespace m2mdm::agent {

/// Severity of a log line; the names written are "trace", "debug", "info", "warning", "error".
enum class Level { trace, debug, info, warn, error };

/// @p format "text" or "json"; @p level "trace".."error" (lines below it are dropped).
void setup_logging(const std::string& format, const std::string& level);

/// Writes one line at @p level as set up by setup_logging().
void log(Level level, std::string_view message);

/// Writes @p event as set up by setup_logging() (dropped below the configured level).
void log_event(const client::DeviceEvent& event);

}  // namespace m2mdm::agent
