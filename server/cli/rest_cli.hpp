/// @file rest_cli.hpp
/// @brief What the CLI commands that talk to a running RO server over its REST API share: the
///        --url/--token-file/--ca-file flags, the bearer token file, NDJSON input and one
///        authenticated JSON call.
#pragma once

#include "m2mdm/server/callback_worker.hpp"

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <chrono>
#include <filesystem>
#include <string>
#include <string_view>
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

/// What the --url, --token-file and --ca-file flags of a REST command hold.
struct RestTargetFlags {
  std::string url;                    ///< base URL of the server, e.g. https://ro.example:8443
  std::string token_file;             ///< first line = the bearer token
  std::vector<std::string> ca_files;  ///< PEM CA files (empty = system store)
  /// The server these flags name, with the token read from the file (exit 1 when unusable).
  RestTarget target() const;
};

/// The usual help text of --url.
inline constexpr const char* kUrlHelp = "base URL of the server (http(s)://HOST:PORT)";

/// Declares the required `--url` on @p cmd into @p f.url with the help text @p help.
void add_url_flag(CLI::App& cmd, RestTargetFlags& f, const std::string& help = kUrlHelp);
/// Declares the required `--token-file` (an existing file) on @p cmd into @p f.token_file;
/// @p help says whose token it holds.
void add_token_file_flag(CLI::App& cmd, RestTargetFlags& f, const std::string& help);
/// Declares the repeatable `--ca-file` on @p cmd into @p f.ca_files (one file per occurrence, so
/// the positionals after it stay positionals).
void add_ca_file_flag(CLI::App& cmd, RestTargetFlags& f);
/// Declares --url, --token-file (help @p token_help) and --ca-file, in that order.
void add_rest_target_flags(CLI::App& cmd, RestTargetFlags& f, const std::string& token_help);

/// The "detail" / "message" of a JSON error answer, else the body itself.
std::string error_text(const server::HttpCallResult& r);

/// One call whose answer must be JSON with status @p expected: the parsed answer, else the command
/// fails (exit 1) with "WHAT: HTTP <status>: <reason>" (@p what names the object, e.g. "job 7").
nlohmann::json call_json(const RestTarget& server, const std::string& what, int expected, const std::string& method,
                         const std::string& path, const std::string& body = {});

/// @p s percent-encoded for a URL path segment or query value (RFC 3986 §2.3: unreserved kept,
/// and the characters of @p also_keep, e.g. ":", which a path segment may hold as it is).
std::string url_escape(std::string_view s, std::string_view also_keep = {});

}  // namespace m2mdm::cli
