// Logging of m2mdm-device: spdlog's default logger on stderr, as text lines or one JSON object
// per line ({"ts","level","msg"}), flushed after every line.
#pragma once

#include <string>

namespace m2mdm::agent {

/// @p format "text" or "json"; @p level "trace".."error".
void setup_logging(const std::string& format, const std::string& level);

}  // namespace m2mdm::agent
