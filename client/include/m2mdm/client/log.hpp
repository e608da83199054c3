/// @file log.hpp
/// @brief Where the client library's diagnostics go: one process-wide sink, no logging library.
///
/// The steps of the job are DeviceEvent values (events.hpp). What is not a step — a state file
/// that did not verify, an I/O error while opening the device, and the events of a Device that
/// has no DeviceOptions::on_event — is written as one line through this sink. The default sink
/// writes `m2mdm-client <severity>: <message>` to stderr; an integrator (the `m2mdm-device`
/// agent does) installs its own to route the lines into its log. Kept to a function pointer so
/// that the library, and an agent built on it, need no logging library (issue 13: the agent's
/// memory).
#pragma once

#include "m2mdm/client/events.hpp"

#include <string_view>

namespace m2mdm::client {

/// Receives one diagnostic line (no trailing newline). Called from the thread that logs; must
/// not throw and should not block for long.
using LogSink = void (*)(EventSeverity severity, std::string_view message) noexcept;

/// Installs @p sink for the whole process; nullptr restores the default (stderr). Thread-safe.
void set_log_sink(LogSink sink) noexcept;

/// Writes @p message through the installed sink.
void log(EventSeverity severity, std::string_view message) noexcept;

}  // namespace m2mdm::client
