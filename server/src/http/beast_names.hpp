// Internal: the Boost.Asio/Beast headers and short namespace names the server's HTTP adapters
// (http_server.cpp, the callback client in ro/callback_worker.cpp) and their tests share.
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

namespace m2mdm::server::beast_names {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
}  // namespace m2mdm::server::beast_names
