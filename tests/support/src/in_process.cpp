// The device's DM client and the DPF's DM server, joined in one process.
#include "m2mdm/test/in_process.hpp"

#include "m2mdm/client/error.hpp"

#include <cstdio>
#include <cstdlib>
#include <string>
#include <system_error>
#include <utility>

namespace m2mdm::test {

InProcessTransport::InProcessTransport(server::DmBackend& backend, server::DmServerConfig config)
    : dpf_(backend, std::move(config)) {}

Result<client::HttpReply> InProcessTransport::post(const client::Outgoing& m) {
  if (lost_ != nullptr && *lost_) return fail(client::errc::transport_failed);
  auto reply = dpf_.handle(m.body, m.content_type, m.hmac_header);
  if (!reply) return fail(reply.error());
  client::HttpReply r;
  r.status = 200;
  r.content_type = reply->content_type;
  r.body = std::move(reply->body);
  r.hmac_header = reply->hmac_header;
  return r;
}

Exchange run_client_initiated(client::ClientSession& session, server::DmServerSession& dpf, int max_trips) {
  Exchange x;
  const bool trace = std::getenv("M2MDM_TRACE") != nullptr;
  // One message on stderr, after its direction ("C>S", "S>C"), when M2MDM_TRACE is set.
  const auto show = [trace](const char* direction, ByteView body) {
    if (trace) std::fprintf(stderr, "%s %s\n", direction, std::string(as_chars(body)).c_str());
  };
  // Stops the exchange on @p side's error, followed by that side's abort reason.
  const auto stop = [&x](const char* side, const std::error_code& e, const std::string& abort_reason) {
    x.error = std::string(side) + ": " + e.message() + " / " + abort_reason;
    return x;
  };
  auto out = session.start_client_initiated();
  if (!out) {
    x.error = "start: " + out.error().message();
    return x;
  }
  x.started = true;
  std::optional<client::Outgoing> next = std::move(*out);
  while (next && x.trips < max_trips) {
    ++x.trips;
    x.bytes_out += next->body.size();
    show("C>S", next->body);
    auto reply = dpf.handle(next->body, next->content_type, next->hmac_header);
    if (!reply) return stop("server", reply.error(), dpf.report().abort_reason);
    x.bytes_in += reply->body.size();
    show("S>C", reply->body);
    auto resp = session.on_response(reply->body, reply->content_type, reply->hmac_header);
    if (!resp) return stop("client", resp.error(), session.report().abort_reason);
    next = std::move(*resp);
    if (reply->session_over) {
      x.answered_after_end = next.has_value();
      break;
    }
  }
  return x;
}

}  // namespace m2mdm::test
