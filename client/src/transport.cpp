// The session loop over a Transport (see m2mdm/client/transport.hpp).
#include "m2mdm/client/transport.hpp"

#include "m2mdm/client/error.hpp"

#include <cctype>

namespace m2mdm::client {

namespace {

bool is_syncml_dm_type(std::string_view type) {
  std::string lower(type);
  for (auto& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return lower == kSyncmlDmXml || lower == kSyncmlDmWbxml;
}

}  // namespace

Result<SessionReport> run_session(ClientSession& session, Transport& transport, Outgoing first,
                                  unsigned max_round_trips) {
  std::optional<Outgoing> next = std::move(first);
  unsigned trips = 0;
  while (next) {
    if (++trips > max_round_trips) return fail(errc::session_aborted);
    auto reply = transport.post(*next);
    if (!reply) return fail(reply.error());
    if (reply->status != 200) return fail(errc::http_status);
    if (!is_syncml_dm_type(reply->content_type)) return fail(errc::bad_content_type);
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
