// UDP push listener (see m2mdm/client/push_listener.hpp), on Boost.Asio.
#include "m2mdm/client/push_listener.hpp"

#include "m2mdm/client/error.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/udp.hpp>

namespace m2mdm::client {

namespace asio = boost::asio;
using udp = asio::ip::udp;

struct PushListener::Impl {
  asio::io_context ioc;
  udp::socket socket{ioc};
  PushListenerOptions options;
  Bytes buffer;
};

PushListener::PushListener(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
PushListener::~PushListener() = default;

Result<std::unique_ptr<PushListener>> PushListener::open(const PushListenerOptions& options) {
  if (options.max_datagram == 0 || options.max_datagram > 65535) return fail(errc::invalid_argument);
  boost::system::error_code ec;
  const auto address = asio::ip::make_address(options.address, ec);
  if (ec) return fail(errc::invalid_argument);
  auto impl = std::make_unique<Impl>();
  impl->options = options;
  // One byte more than the bound: a datagram that fills it was larger than allowed.
  impl->buffer.resize(options.max_datagram + 1);
  const udp::endpoint ep(address, options.port);
  impl->socket.open(ep.protocol(), ec);
  if (!ec) impl->socket.bind(ep, ec);
  if (ec) return fail(errc::io_error);
  return std::unique_ptr<PushListener>(new PushListener(std::move(impl)));
}

std::uint16_t PushListener::port() const noexcept {
  boost::system::error_code ec;
  const auto ep = impl_->socket.local_endpoint(ec);
  return ec ? 0 : ep.port();
}

Result<std::optional<PushDatagram>> PushListener::receive(std::chrono::milliseconds timeout) {
  Impl& d = *impl_;
  udp::endpoint peer;
  std::optional<std::pair<boost::system::error_code, std::size_t>> done;
  d.socket.async_receive_from(asio::buffer(d.buffer), peer,
                              [&done](boost::system::error_code ec, std::size_t n) { done.emplace(ec, n); });
  d.ioc.restart();
  d.ioc.run_for(timeout);
  if (!done) {
    d.socket.cancel();
    d.ioc.restart();
    d.ioc.run();  // deliver the cancellation so the handler does not outlive this frame
    if (!done || done->first == asio::error::operation_aborted) return std::optional<PushDatagram>{};
  }
  if (done->first) return fail(errc::io_error);
  if (done->second > d.options.max_datagram) return fail(errc::malformed);
  PushDatagram out;
  out.payload.assign(d.buffer.begin(), d.buffer.begin() + static_cast<std::ptrdiff_t>(done->second));
  out.peer = peer.address().to_string() + ":" + std::to_string(peer.port());
  return std::optional<PushDatagram>{std::move(out)};
}

}  // namespace m2mdm::client
