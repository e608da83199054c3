// Request and response framing of the HTTP server (see http_framing.hpp).
// GCC 12 reports a false -Wmaybe-uninitialized inside Beast's basic_parser (boost::optional in
// do_field, inlined into parser.put() here); Beast's own read loop is the same code.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include "http/http_framing.hpp"

#include <boost/asio/error.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/error.hpp>

#include <algorithm>
#include <cstring>

namespace m2mdm::server::http_framing {

namespace beast = boost::beast;
namespace asio = boost::asio;

std::size_t read_buffer_limit(const HttpServerOptions& options) noexcept { return options.header_limit + 4096; }

ChunkHeaderGuard chunk_header_guard() {
  return [](std::uint64_t, beast::string_view extensions, beast::error_code& ec) {
    if (extensions.size() > kMaxChunkExtension) ec = bhttp::error::bad_chunk_extension;
  };
}

void configure(RequestParser& parser, const HttpServerOptions& options, ChunkHeaderGuard& guard) {
  parser.body_limit(options.body_limit);
  parser.header_limit(static_cast<std::uint32_t>(options.header_limit));
  parser.on_chunk_header(guard);
}

std::optional<Refusal> refusal_for(beast::error_code ec) {
  if (ec == bhttp::error::body_limit) return Refusal{413, "request body too large"};
  // A header or trailer section that outgrows the read buffer is a header over the limit.
  if (ec == bhttp::error::header_limit || ec == bhttp::error::buffer_overflow)
    return Refusal{431, "request header too large"};
  if (ec == bhttp::error::bad_chunk_extension) return Refusal{400, "chunk extension too large or malformed"};
  if (ec == beast::error::timeout || ec == bhttp::error::end_of_stream || ec == asio::error::eof ||
      ec == asio::error::operation_aborted || ec == asio::ssl::error::stream_truncated)
    return std::nullopt;
  if (ec.category() == bhttp::make_error_code(bhttp::error::bad_target).category())
    return Refusal{400, "malformed request"};
  return std::nullopt;
}

HttpRequest to_plain(const BeastRequest& req, const std::string& peer, bool tls) {
  HttpRequest out;
  out.method = std::string(req.method_string());
  out.target = std::string(req.target());
  for (const auto& f : req) out.headers.emplace_back(std::string(f.name_string()), std::string(f.value()));
  out.body = req.body();
  out.peer = peer;
  out.tls = tls;
  return out;
}

BeastResponse to_beast(HttpResponse&& r, unsigned version, bool keep_alive) {
  BeastResponse res{static_cast<bhttp::status>(r.status), version};
  res.set(bhttp::field::server, "m2mdm/0.1");
  for (auto& [k, v] : r.headers) res.insert(k, v);
  if (r.status >= 100 && r.status < 200) r.status = 500;
  if (r.status == 204 || r.status == 304) r.body.clear();
  res.result(static_cast<bhttp::status>(r.status));
  res.body() = std::move(r.body);
  res.keep_alive(keep_alive);
  res.prepare_payload();
  return res;
}

Framed frame_request(std::string_view bytes, const HttpServerOptions& options, std::size_t read_size) {
  Framed out;
  RequestParser parser;
  auto guard = chunk_header_guard();
  configure(parser, options, guard);
  parser.eager(true);  // as http::async_read sets it
  beast::flat_buffer buffer(read_buffer_limit(options));
  std::size_t offset = 0;
  read_size = std::max<std::size_t>(read_size, 1);
  // The loop of Beast's read_some_op: parse what is buffered; on need_more read into the
  // bounded buffer (a full buffer is buffer_overflow).
  for (;;) {
    beast::error_code ec;
    if (buffer.size() > 0) {
      const auto used = parser.put(buffer.data(), ec);
      buffer.consume(used);
      out.consumed += used;
      if (!ec && parser.is_done()) {
        out.request = to_plain(parser.get(), "127.0.0.1:0", false);
        return out;
      }
      if (ec && ec != bhttp::error::need_more) {
        out.refusal = refusal_for(ec).value_or(Refusal{400, "malformed request"});
        return out;
      }
      if (!ec && used > 0) continue;  // more to parse from what is buffered
    }
    if (offset == bytes.size()) return out;  // the bytes end before the request does
    const std::size_t room = buffer.max_size() - buffer.size();
    if (room == 0) {
      out.refusal = refusal_for(bhttp::error::buffer_overflow);
      return out;
    }
    const std::size_t n = std::min({read_size, room, bytes.size() - offset});
    auto dst = buffer.prepare(n);
    std::memcpy(dst.data(), bytes.data() + offset, n);
    buffer.commit(n);
    offset += n;
  }
}

}  // namespace m2mdm::server::http_framing

#pragma GCC diagnostic pop
