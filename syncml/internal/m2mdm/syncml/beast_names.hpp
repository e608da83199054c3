/// @file beast_names.hpp
/// @brief Internal (build tree only, never installed): the Boost.Asio/Beast headers and the short
///        namespace names that every Beast user in the tree shares: the server's HTTP adapters
///        (http_server.cpp, ro/callback_worker.cpp), the device's HttpTransport, `m2mdm load`'s
///        connections, the conformance DUT's HTTP side and the tests' scripted servers. syncml
///        itself does not use Beast: only a target that links m2mdm::beast may include this.
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

/// Bring the names in with `using namespace beast_names;` inside an m2mdm namespace.
namespace m2mdm::beast_names {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
}  // namespace m2mdm::beast_names
