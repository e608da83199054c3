// The HTTP side of `m2mdm conformance`: one listening socket on which the device under test posts
// its DM messages (DM_RepPro 1.2 §5: HTTP binding, POST, application/vnd.syncml.dm+xml|+wbxml).
// Single-threaded and driven by the runner: it waits (bounded) for the next POST, on a kept-alive
// connection or a new one, and answers it.
#pragma once

#include "m2mdm/conformance/script.hpp"
#include "m2mdm/syncml/result.hpp"

#include <chrono>
#include <memory>
#include <optional>
#include <string>

namespace m2mdm::cli {

/// One POST from the device.
struct DutRequest {
  std::string target;        ///< the request path
  std::string content_type;
  conformance::DeviceMessage message;
};

class DutHttp {
 public:
  /// Listens on @p address : @p port (0 = any free port); HTTPS (TLS 1.2 or later) when
  /// @p cert_chain and @p private_key (PEM files) are given.
  static Result<std::unique_ptr<DutHttp>> listen(const std::string& address, std::uint16_t port,
                                                 const std::string& cert_chain = {},
                                                 const std::string& private_key = {});
  ~DutHttp();
  DutHttp(const DutHttp&) = delete;
  DutHttp& operator=(const DutHttp&) = delete;

  std::uint16_t port() const;

  /// The next POST, or nullopt when none arrived within @p timeout. Only one request is answered
  /// at a time: call respond() or refuse() before the next wait.
  std::optional<DutRequest> wait(std::chrono::milliseconds timeout);
  /// Answers the request wait() returned with 200 and @p message.
  void respond(const conformance::ServerMessage& message);
  /// Answers it with @p status and no body (a message that is not part of the script).
  void refuse(int status);

 private:
  struct Impl;
  explicit DutHttp(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace m2mdm::cli
