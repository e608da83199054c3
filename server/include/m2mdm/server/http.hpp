/// @file http.hpp
/// @brief Transport-independent HTTP request/response and the handler interfaces the Beast
///        adapter (http_server.hpp) calls. No Boost type appears here: handlers can be tested
///        by calling `handle()` directly, and the DM engine plugs in as a `DmEndpoint`.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace m2mdm::server {

/// One HTTP request as the adapter received it (the body is complete and within the limit).
struct HttpRequest {
  std::string method;  ///< "GET", "POST", ...
  std::string target;  ///< origin-form target, path and query ("/api/v1/jobs/7?x=1")
  std::vector<std::pair<std::string, std::string>> headers;  ///< in arrival order, names as sent
  std::string body;     ///< raw bytes (may hold WBXML: binary-safe)
  std::string peer;     ///< "ip:port" of the remote end
  bool tls = false;     ///< arrived over HTTPS

  /// First header named @p name (case-insensitive, RFC 9110 §5.1), or nullopt.
  std::optional<std::string_view> header(std::string_view name) const;
  /// The path part of the target (before '?').
  std::string_view path() const;
  /// The query part of the target (after '?', empty if none).
  std::string_view query() const;
};

/// The response a handler returns; the adapter adds Content-Length, Date, Server, Connection.
struct HttpResponse {
  int status = 200;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;

  /// Sets (replacing) a header.
  HttpResponse& set_header(std::string_view name, std::string_view value);
  std::optional<std::string_view> header(std::string_view name) const;

  /// A response with Content-Type.
  static HttpResponse make(int status, std::string_view content_type, std::string body);
  /// A JSON error body {"error": error, "detail": detail} with Content-Type application/json.
  static HttpResponse json_error(int status, std::string_view error, std::string_view detail = {});
};

/// Anything that turns a request into a response. Called concurrently from the server's
/// I/O threads: implementations must be thread-safe and should not block for long.
class HttpHandler {
 public:
  virtual ~HttpHandler() = default;
  virtual HttpResponse handle(const HttpRequest& request) = 0;
};

/// Content types of OMA DM over HTTP (DM_RepPro 1.2 / SyncML HTTP binding).
inline constexpr std::string_view dm_xml_content_type = "application/vnd.syncml.dm+xml";
inline constexpr std::string_view dm_wbxml_content_type = "application/vnd.syncml.dm+wbxml";
/// Header carrying the HMAC credentials (DM_Security 1.2 §5.5.2, "x-syncml-hmac").
inline constexpr std::string_view syncml_hmac_header = "x-syncml-hmac";

/// What `/dm` is routed to. The router has already checked method (POST) and Content-Type (one
/// of the two above, parameters such as charset ignored); the request is passed unchanged
/// (including x-syncml-hmac). The DM engine's implementation returns the response package
/// with the same content type, or a 4xx/5xx.
class DmEndpoint {
 public:
  virtual ~DmEndpoint() = default;
  virtual HttpResponse handle_dm(const HttpRequest& request) = 0;
};

/// The endpoint installed until the DM engine provides one: always 503 (Retry-After: 30).
class UnavailableDmEndpoint final : public DmEndpoint {
 public:
  HttpResponse handle_dm(const HttpRequest& request) override;
};

}  // namespace m2mdm::server
