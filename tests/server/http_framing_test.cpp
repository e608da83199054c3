// The server's request framing without sockets (http_framing::frame_request, the same parser
// settings and bounded buffer as each connection): the limits a peer meets before a handler
// runs, at every read size. The wire-level counterparts are in http_server_test.cpp.
#include "http/http_framing.hpp"

#include <gtest/gtest.h>

#include <string>

namespace m2mdm::server {
namespace {

using http_framing::frame_request;

HttpServerOptions options() {
  HttpServerOptions o;
  o.body_limit = 1024;
  o.header_limit = 2048;
  return o;
}

std::string chunked(std::string_view ext, std::string_view trailer) {
  return "POST /dm HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5" + std::string(ext) +
         "\r\nhello\r\n6\r\n world\r\n0\r\n" + std::string(trailer) + "\r\n";
}

TEST(HttpFraming, FramesTheSameRequestAtEveryReadSize) {
  const std::string wire = chunked(";a=b", "X-Trailer: ok\r\n");
  for (std::size_t read_size : {std::size_t{1}, std::size_t{2}, std::size_t{7}, std::size_t{512}, std::size_t{65536}}) {
    auto f = frame_request(wire, options(), read_size);
    ASSERT_TRUE(f.request) << read_size;
    EXPECT_FALSE(f.refusal);
    EXPECT_EQ(f.request->method, "POST");
    EXPECT_EQ(f.request->target, "/dm");
    EXPECT_EQ(f.request->body, "hello world");
    EXPECT_EQ(f.consumed, wire.size());
  }
}

TEST(HttpFraming, IncompleteBytesAreNeitherRequestNorRefusal) {
  const std::string wire = "GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc";
  auto f = frame_request(wire, options());
  EXPECT_FALSE(f.request);
  EXPECT_FALSE(f.refusal);
}

TEST(HttpFraming, LimitsBeforeAnyHandler) {
  const auto refused = [](const std::string& wire, std::size_t read_size = 65536) {
    auto f = frame_request(wire, options(), read_size);
    EXPECT_FALSE(f.request);
    return f.refusal ? f.refusal->status : 0;
  };
  for (std::size_t rs : {std::size_t{3}, std::size_t{65536}}) {
    // Body over the limit: announced, or grown chunk by chunk.
    EXPECT_EQ(refused("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1025\r\n\r\n", rs), 413);
    std::string many = "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n";
    for (int i = 0; i < 30; ++i) many += "40\r\n" + std::string(64, 'x') + "\r\n";
    EXPECT_EQ(refused(many + "0\r\n\r\n", rs), 413);
    // Headers, trailers and chunk extensions over the limit.
    EXPECT_EQ(refused("GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(3000, 'h') + "\r\n\r\n", rs), 431);
    EXPECT_EQ(refused(chunked("", "X-Pad: " + std::string(70'000, 'a') + "\r\n"), rs), 431);
    // The trailer section is bounded by the read buffer (header_limit + 4 KiB).
    EXPECT_EQ(refused(chunked("", "X-Pad: " + std::string(7'000, 'a') + "\r\n"), rs), 431);
    EXPECT_EQ(refused(chunked(";e=" + std::string(1500, 'e'), ""), rs), 400);
    EXPECT_EQ(refused(chunked(";e=" + std::string(100'000, 'e'), ""), rs), 431);
    // Malformed.
    EXPECT_EQ(refused("GET / HTTP/1.1\r\nHost x\r\n\r\n", rs), 400);
  }
}

TEST(HttpFraming, ResponsesFrameWithoutThrowing) {
  for (int status : {100, 101, 200, 204, 304, 404, 500}) {
    HttpResponse r = HttpResponse::make(status, "text/plain", "body");
    auto wire = http_framing::to_beast(std::move(r), 11, true);
    const int sent = wire.result_int();
    EXPECT_NE(sent / 100, 1) << status;
    if (sent == 204 || sent == 304) {
      EXPECT_TRUE(wire.body().empty());
    }
  }
}

}  // namespace
}  // namespace m2mdm::server
