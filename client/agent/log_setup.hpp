// Logging of m2mdm-device: spdlog's default logger on stderr, as text lines or one JSON object
// per line ({"level","msg","ts"}), flushed after every line; and the device's typed events
// (m2mdm/client/events.hpp) on the same stream: in text format as their human line, in JSON
// format as that line's object extended with "event" (the kind's wire name) and the event's
// typed fields (docs/client-integration.md).
#pragma once

#include "m2mdm/client/events.hpp"

#include <string>

namespace m2mdm::agent {

/// @p format "text" or "json"; @p level "trace".."error".
void setup_logging(const std::string& format, const std::string& level);

/// Writes @p event as set up by setup_logging() (dropped below the configured level).
void log_event(const client::DeviceEvent& event);

}  // namespace m2mdm::agent
