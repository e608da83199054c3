/// @file rest_cli.hpp
/// @brief What the CLI commands that talk to a running RO server over its REST API share: the
///        bearer token file, NDJSON input and one authenticated JSON call.
#pragma once

#include "m2mdm/server/callback_worker.hpp"

#include <nlohmann/json.hpp>

#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

namespace m2mdm::cli {

/// The first line of @p path (trailing CR and blanks removed); fails (exit 1) when unreadable or empty.
std::string first_line_of(const std::string& path);

/// The non-blank lines of the NDJSON file @p path ("-" = stdin); fails (exit 1) when unreadable.
std::vector<std::string> read_ndjson_lines(const std::string& path);

/// A server's base URL, its TLS trust and the caller's token.
struct RestTarget {
  std::string base;                        ///< "https://ro.example:8443" (no trailing '/')
  std::vector<std::filesystem::path> cas;  ///< PEM CA files (empty = system store)
  std::string token;
  std::chrono::seconds timeout{60};
  RestTarget(std::string url, const std::vector<std::string>& ca_files, const std::string& token_file);
  /// One call; the answer as received (status 0 and error set on a transport failure).
  server::HttpCallResult call(const std::string& method, const std::string& path, const std::string& content_type = {},
                              std::string body = {}) const;
};

/// The "detail" / "message" of a JSON error answer, else the body itself.
std::string error_text(const server::HttpCallResult& r);

}  // namespace m2mdm::cli
