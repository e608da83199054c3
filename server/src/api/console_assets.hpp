// The web console's static assets (server/console/), built into the binary: CMake generates
// console_assets.cpp with each file's bytes, media type and ETag (docs/console.md).
#pragma once

#include <span>
#include <string_view>

namespace m2mdm::server {

/// One file of server/console/.
struct ConsoleAsset {
  std::string_view name;          ///< file name ("index.html", "console.js", ...)
  std::string_view content_type;  ///< its media type (with charset for text)
  std::string_view etag;          ///< quoted strong validator: a prefix of the file's SHA-256
  std::string_view bytes;         ///< the file as it is in the source tree
};

/// Every asset, ordered by name.
std::span<const ConsoleAsset> console_assets();

}  // namespace m2mdm::server
