// Internal (not installed): how the HTTP server frames requests and responses, shared by the
// Beast connection handler (http_server.cpp) and the I/O-free frame_request() that the HTTP
// fuzz target and tests drive. One place decides every limit a peer meets before a handler runs.
#pragma once

#include "m2mdm/server/http.hpp"
#include "m2mdm/server/http_server.hpp"

#include <boost/beast/core/error.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string_view>

namespace m2mdm::server::http_framing {

namespace bhttp = boost::beast::http;
using RequestParser = bhttp::request_parser<bhttp::string_body>;
using BeastRequest = bhttp::request<bhttp::string_body>;
using BeastResponse = bhttp::response<bhttp::string_body>;

/// Longest chunk extension accepted (RFC 9112 §7.1.1 sets none; a server must bound it).
/// Nothing m2mdm serves uses chunk extensions.
inline constexpr std::size_t kMaxChunkExtension = 1024;

/// Bytes a connection may hold unparsed: the start line and headers (header_limit), a chunk
/// header line or the trailer section (bounded the same way), plus room for one read. Beast's
/// parser consumes body bytes as they arrive, so this bounds what a peer can make us buffer
/// outside a body, and keeps every header or trailer field below Beast's 64 KiB field ceiling
/// (over it, Beast throws std::length_error instead of returning an error).
std::size_t read_buffer_limit(const HttpServerOptions& options) noexcept;

/// Refuses chunk extensions longer than kMaxChunkExtension (a parser keeps a reference to it:
/// it must outlive the parser).
using ChunkHeaderGuard = std::function<void(std::uint64_t, boost::beast::string_view, boost::beast::error_code&)>;
ChunkHeaderGuard chunk_header_guard();

/// Sets @p parser's body and header limits and installs @p guard, as for every request.
void configure(RequestParser& parser, const HttpServerOptions& options, ChunkHeaderGuard& guard);

/// The answer to a read error before a request was complete: 413, 431 or 400 (and the text
/// for it), or nullopt when the connection should just close (timeouts, EOF, TLS truncation,
/// anything else).
struct Refusal {
  int status;
  std::string_view text;
};
std::optional<Refusal> refusal_for(boost::beast::error_code ec);

/// The plain HttpRequest of a Beast request.
HttpRequest to_plain(const BeastRequest& req, const std::string& peer, bool tls);

/// A Beast response for a handler's answer: Server header, keep-alive, and the RFC 9110 rules
/// for 1xx/204/304 applied so that Beast's prepare_payload() cannot throw (RFC 9110 §15.2,
/// §15.3.5, §15.4.5: no content there; a 1xx from a handler becomes 500).
BeastResponse to_beast(HttpResponse&& r, unsigned version, bool keep_alive);

/// What frame_request() made of some bytes.
struct Framed {
  std::optional<HttpRequest> request;  ///< set when a whole request was read
  std::optional<Refusal> refusal;      ///< set when the bytes were refused (413/431/400)
  std::size_t consumed = 0;            ///< bytes taken (a complete request's, or up to the refusal)
};

/// Frames one request from @p bytes exactly as a connection does (same parser settings, same
/// bounded read buffer, read sizes of at most @p read_size bytes), without I/O. Neither
/// request nor refusal: the bytes end before the request does.
Framed frame_request(std::string_view bytes, const HttpServerOptions& options, std::size_t read_size = 65536);

}  // namespace m2mdm::server::http_framing
