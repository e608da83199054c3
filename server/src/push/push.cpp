// Push addresses, the package 0 WSP push, and the UDP push sender.
#include "m2mdm/server/push.hpp"

#include "m2mdm/bootstrap/wsp.hpp"
#include "m2mdm/server/error.hpp"
#include "m2mdm/syncml/notification.hpp"

#include <netdb.h>
#include <sys/socket.h>
#include <unistd.h>

#include <charconv>
#include <memory>

namespace m2mdm::server {
namespace {
std::error_code err(errc e) { return make_error_code(e); }
}  // namespace

Result<PushAddress> parse_push_address(std::string_view text) {
  if (text.starts_with("udp:")) text.remove_prefix(4);
  const auto colon = text.rfind(':');
  if (colon == std::string_view::npos || colon == 0 || colon + 1 >= text.size()) return fail(err(errc::invalid_argument));
  std::string_view host = text.substr(0, colon);
  const std::string_view port = text.substr(colon + 1);
  if (host.front() == '[') {
    if (host.size() < 3 || host.back() != ']') return fail(err(errc::invalid_argument));
    host = host.substr(1, host.size() - 2);
  } else if (host.find(':') != std::string_view::npos) {
    return fail(err(errc::invalid_argument));  // a v6 literal must be bracketed
  }
  if (host.empty() || host.size() > 255) return fail(err(errc::invalid_argument));
  for (char c : host)
    if (c <= ' ' || c > '~' || c == '/' || c == '[' || c == ']') return fail(err(errc::invalid_argument));
  unsigned v = 0;
  auto [p, ec] = std::from_chars(port.data(), port.data() + port.size(), v);
  if (ec != std::errc{} || p != port.data() + port.size() || v == 0 || v > 65535)
    return fail(err(errc::invalid_argument));
  return PushAddress{std::string(host), static_cast<std::uint16_t>(v)};
}

Result<Bytes> make_package0_push(const DmCredentials& dm, std::uint16_t session_id, std::uint8_t tid,
                                 bool reset_nonce) {
  if (dm.server_id.empty() || session_id == 0) return fail(err(errc::invalid_argument));
  syncml::Notification n;
  n.ui_mode = syncml::UiMode::background;     // DM_Notification 1.2 §6.2.2.7
  n.initiator = syncml::Initiator::server;    // §6.2.2.8
  n.session_id = session_id;                  // §6.2.2.10
  n.server_id = dm.server_id;
  // §6.2.2.2: digest keyed with the server's credentials and the nonce the client expects.
  // The reset nonce when the stored one may be out of step (DM_Notification 1.2 §6.2.2.2).
  const ByteView nonce = reset_nonce ? ByteView(syncml::kNotificationResetNonce) : ByteView(dm.server_nonce);
  auto pkg0 = syncml::encode_notification(n, dm.server_password, nonce);
  if (!pkg0) return fail(pkg0.error());
  return bootstrap::wsp::encode_push(bootstrap::wsp::make_dm_notification_push(tid, std::move(*pkg0)));
}

Result<void> UdpPushSender::send(const PushAddress& to, ByteView payload) {
  if (to.host.empty() || to.port == 0) return fail(err(errc::invalid_argument));
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_DGRAM;
  hints.ai_flags = AI_NUMERICSERV;
  addrinfo* res = nullptr;
  const std::string port = std::to_string(to.port);
  if (::getaddrinfo(to.host.c_str(), port.c_str(), &hints, &res) != 0 || res == nullptr)
    return fail(err(errc::io_error));
  std::unique_ptr<addrinfo, decltype(&::freeaddrinfo)> guard(res, &::freeaddrinfo);
  for (addrinfo* ai = res; ai != nullptr; ai = ai->ai_next) {
    const int fd = ::socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
    if (fd < 0) continue;
    const ssize_t n = ::sendto(fd, payload.data(), payload.size(), 0, ai->ai_addr, ai->ai_addrlen);
    ::close(fd);
    if (n == static_cast<ssize_t>(payload.size())) return {};
  }
  return fail(err(errc::io_error));
}

}  // namespace m2mdm::server
