/// @file callback_worker.hpp
/// @brief Delivers the SHO callbacks of the Store's outbox (TR 33.812 step 21: the DPF reports
///        the result to the SHO): POST of the JSON body to the SHO's registered URL over HTTP or
///        HTTPS (Boost.Beast client), acknowledged on a 2xx, otherwise retried with exponential
///        back-off (capped). All state is in the Store, so pending callbacks survive a restart.
#pragma once

#include "m2mdm/server/polling_worker.hpp"
#include "m2mdm/server/store.hpp"
#include "m2mdm/syncml/result.hpp"

#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace m2mdm::server {

/// Which addresses the RO may connect to on an SHO's behalf (SSRF guard for callbacks).
/// Link-local addresses (169.254.0.0/16 with the cloud metadata service, fe80::/10), unspecified,
/// multicast, broadcast and other reserved addresses are never allowed; loopback and private
/// networks (RFC 1918, 100.64.0.0/10, fc00::/7) only when the operator allows them.
struct AddressPolicy {
  bool allow_loopback = true;
  bool allow_private = true;
};

/// True when @p address, an IPv4 or IPv6 literal (an IPv4-mapped IPv6 address counts as its IPv4
/// address), may be connected to under @p policy. False for anything that is not an IP literal.
bool address_allowed(std::string_view address, const AddressPolicy& policy) noexcept;

/// The host of an http(s) URL when it is an IP literal ("[...]" removed), else nullopt.
std::optional<std::string> url_ip_literal(std::string_view url);

/// Callback delivery settings.
struct CallbackOptions {
  std::int64_t retry_seconds = 1;          ///< first retry delay; doubles per failed attempt
  std::int64_t max_retry_seconds = 300;    ///< cap of the back-off
  std::chrono::milliseconds timeout{5000}; ///< connect + TLS + request + response, per attempt
  std::chrono::milliseconds poll{1000};    ///< how often the thread looks at the outbox
  std::size_t batch = 16;                  ///< entries per sweep
  std::vector<std::filesystem::path> ca_files;  ///< PEM CAs for https URLs; empty = system store
  AddressPolicy address_policy;            ///< checked against every address a callback URL resolves to
  std::function<std::int64_t()> clock;     ///< Unix seconds; default system clock
};

/// The outcome of one POST: the HTTP status, or an error (resolve/connect/TLS/timeout).
struct PostResult {
  int status = 0;      ///< 0 when no response was read
  std::string error;   ///< empty on a response
};

/// One request of http_call(): method, URL, extra headers and body.
struct HttpCall {
  std::string method = "GET";  ///< GET, POST, PUT, PATCH, DELETE
  std::string url;             ///< http:// or https://
  std::vector<std::pair<std::string, std::string>> headers;  ///< e.g. Authorization
  std::string content_type;    ///< empty = no body header
  std::string body;
};
/// The outcome of http_call(): status and body, or an error (resolve/connect/TLS/timeout).
struct HttpCallResult {
  int status = 0;      ///< 0 when no response was read
  std::string body;
  std::string error;   ///< empty on a response
};
/// One HTTP/1.1 exchange with the same Beast client as post_json() (same TLS rules); used by
/// embedders that drive the REST API in-process (`m2mdm demo`). With @p policy, only resolved
/// addresses it allows are connected to (an error naming the address otherwise). Never throws.
HttpCallResult http_call(const HttpCall& call, const std::vector<std::filesystem::path>& ca_files,
                         std::chrono::milliseconds timeout, std::optional<AddressPolicy> policy = std::nullopt);
/// POSTs @p body (application/json) to an http:// or https:// URL and reads the response.
/// HTTPS verifies the peer chain against @p ca_files (or the system store) and the host name.
PostResult post_json(const std::string& url, const std::string& body, const std::vector<std::filesystem::path>& ca_files,
                     std::chrono::milliseconds timeout, std::optional<AddressPolicy> policy = std::nullopt);

/// Delivery counters (for logs, /metrics and tests).
struct CallbackStats {
  std::uint64_t delivered = 0;
  std::uint64_t failed_attempts = 0;
};

/// Drains Store::due_callbacks (a background thread every options.poll, or run_once() from a test).
class CallbackWorker final : public PollingWorker {
 public:
  CallbackWorker(Store& store, CallbackOptions options);
  ~CallbackWorker() override;  // stops the thread first: run_once() uses the members

  /// One sweep over the due entries; returns how many were acknowledged.
  std::size_t run_once() override;
  CallbackStats stats() const noexcept { return {delivered_.load(), failed_.load()}; }
  /// The delay before attempt number @p attempts + 1 (attempts already failed >= 1).
  std::int64_t backoff(int attempts) const noexcept;

 private:
  std::int64_t now() const;
  Store& store_;
  CallbackOptions options_;
  std::atomic<std::uint64_t> delivered_{0};
  std::atomic<std::uint64_t> failed_{0};
};

}  // namespace m2mdm::server
