/// @file transport.hpp
/// @brief How a DM message reaches the server: the small interface the integrator implements
///        (or takes HttpTransport), and the loop that drives a ClientSession through it.
///
/// OMA DM 1.2 over HTTP (OMA-TS-DM_HTTPBinding... in DM_RepPro 1.2 §5 / SyncML HTTP binding):
/// every client message is one POST whose body is the SyncML message, Content-Type
/// application/vnd.syncml.dm+xml or +wbxml, and the server's message comes back as the response
/// body (DM_Security 1.2 §5.4: HMAC credentials travel in the x-syncml-hmac header both ways).
#pragma once

#include "m2mdm/client/session.hpp"
#include "m2mdm/syncml/result.hpp"

#include <optional>
#include <string>

namespace m2mdm::client {

/// The server's answer to one POST.
struct HttpReply {
  unsigned status = 0;                     ///< HTTP status code
  std::string content_type;                ///< Content-Type (media type, parameters stripped)
  Bytes body;
  std::optional<std::string> hmac_header;  ///< x-syncml-hmac of the response, if present
};

/// Carries one client message to the server and returns its answer. Implementations report
/// failures as client::errc values (transport_failed, timed_out, tls_*, response_too_large...)
/// and never throw.
class Transport {
 public:
  virtual ~Transport() = default;
  virtual Result<HttpReply> post(const Outgoing& message) = 0;
};

/// The two SyncML DM media types (DM_RepPro 1.2 §5), as the codec names them.
inline constexpr std::string_view kSyncmlDmXml = syncml::kContentTypeXml;
inline constexpr std::string_view kSyncmlDmWbxml = syncml::kContentTypeWbxml;

/// Runs @p session from its first message @p first until it ends: posts each message, feeds each
/// reply to on_response(). At most @p max_round_trips POSTs. A reply that is not HTTP 200
/// (http_status) or not a SyncML DM media type (bad_content_type; parameters such as
/// "; charset=utf-8" and case do not matter), or a transport error, ends
/// the loop with that error. When the session ends Aborted the result is errc::session_aborted
/// (session.report().abort_reason says why); Completed gives the report.
Result<SessionReport> run_session(ClientSession& session, Transport& transport, Outgoing first,
                                  unsigned max_round_trips = 100);

}  // namespace m2mdm::client
