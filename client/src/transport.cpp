// The session loop over a Transport (see m2mdm/client/transport.hpp).
#include "m2mdm/client/transport.hpp"

#include "m2mdm/client/error.hpp"
#include "m2mdm/syncml/codec.hpp"

namespace m2mdm::client {

Result<SessionReport> run_session(ClientSession& session, Transport& transport, Outgoing first,
                                  unsigned max_round_trips) {
  std::optional<Outgoing> next = std::move(first);
  unsigned trips = 0;
  while (next) {
    if (++trips > max_round_trips) return fail(errc::session_aborted);
    auto reply = transport.post(*next);
    if (!reply) return fail(reply.error());
    if (reply->status != 200) return fail(errc::http_status);
    // Either DM media type, parameters and case as HTTP allows (the codec's own reading of it).
    if (!syncml::encoding_from_content_type(reply->content_type)) return fail(errc::bad_content_type);
    std::optional<std::string_view> hmac;
    if (reply->hmac_header) hmac = *reply->hmac_header;
    auto resp = session.on_response(reply->body, reply->content_type, hmac);
    if (!resp) return fail(resp.error());
    next = std::move(*resp);
  }
  if (session.state() != SessionState::Completed) return fail(errc::session_aborted);
  return session.report();
}

}  // namespace m2mdm::client
