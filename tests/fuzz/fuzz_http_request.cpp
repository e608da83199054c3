// libFuzzer: the HTTP layer, request framing -> handler -> response framing (hardening: "a fuzz
// target for the HTTP layer"). Bytes are framed exactly as a connection frames them
// (http_framing::frame_request: the server's parser settings, bounded read buffer, chunk and
// trailer limits; byte 0 picks the read size), and a complete request goes to the real REST
// router (SQLite store in a temp dir, DPF behind /dm); the answer is framed back for the wire.
// Properties: no crash/UB/leak and no exception; refusals are 400/413/431 only; a body is never
// larger than the limit; every answer frames (Content-Length matches the body).
#include "http/http_framing.hpp"
#include "m2mdm/server/api.hpp"
#include "m2mdm/server/dpf_service.hpp"
#include "m2mdm/server/pva.hpp"
#include "m2mdm/server/sqlite_store.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string_view>

#include <unistd.h>

using namespace m2mdm;
using namespace m2mdm::server;

namespace {

struct World {
  std::unique_ptr<SqliteStore> store;
  Pva pva;
  std::unique_ptr<ApiRouter> router;
  HttpServerOptions options;

  World() {
    const auto dir = std::filesystem::temp_directory_path() / ("m2mdm-fuzz-http-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    auto box = mo::SecretBox::from_key(Bytes(mo::SecretBox::key_size, 0x42));
    if (!box) std::abort();
    auto s = SqliteStore::open(dir / "ro.db", std::move(*box));
    if (!s) std::abort();
    store = std::move(*s);
    ApiOptions o;
    o.admin_token_hash = hash_token("fuzz-admin-token-0123456789");
    o.default_dpf_address = "https://127.0.0.1/dm";
    router = std::make_unique<ApiRouter>(*store, pva, o, [] { return std::int64_t{1'800'000'000}; });
    DpfOptions d;
    d.max_sessions = 64;
    router->set_dm_endpoint(std::make_shared<DpfService>(*store, d));
    options.body_limit = 64 * 1024;
    options.header_limit = 4 * 1024;
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static World world;
  if (size == 0) return 0;
  const std::size_t read_size = 1 + (static_cast<std::size_t>(data[0]) * 131) % 8192;
  const std::string_view bytes(reinterpret_cast<const char*>(data + 1), size - 1);
  auto framed = http_framing::frame_request(bytes, world.options, read_size);
  if (framed.consumed > bytes.size()) std::abort();
  if (framed.refusal) {
    const int s = framed.refusal->status;
    if (s != 400 && s != 413 && s != 431) std::abort();
    if (framed.request) std::abort();
    return 0;
  }
  if (!framed.request) return 0;  // the bytes end inside the request
  if (framed.request->body.size() > world.options.body_limit) std::abort();
  HttpResponse r = world.router->handle(*framed.request);
  auto wire = http_framing::to_beast(std::move(r), 11, true);
  if (wire.has_content_length() && wire.payload_size() && *wire.payload_size() != wire.body().size()) std::abort();
  return 0;
}
