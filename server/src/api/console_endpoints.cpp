// The web console's static assets (docs/console.md): GET /console/ (index.html) and
// GET /console/<asset>, public (they hold no data: everything is read through /api/v1 with the
// caller's token). Each answer carries a strict Content-Security-Policy (no inline script or
// style, nothing from another origin), an ETag (If-None-Match -> 304, RFC 9110 §13.1.2) and
// Cache-Control: no-cache (revalidated on each use, so a new binary's console is never stale).
#include "api/console_assets.hpp"
#include "api/responses.hpp"
#include "api/rest_api.hpp"

namespace m2mdm::server {

namespace {
constexpr std::string_view kConsoleCsp =
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

void harden(HttpResponse& r) {
  r.set_header("Content-Security-Policy", kConsoleCsp);
  r.set_header("X-Content-Type-Options", "nosniff");
  r.set_header("Referrer-Policy", "no-referrer");
  r.set_header("X-Frame-Options", "DENY");
}
}  // namespace

HttpResponse RestApi::redirect_console(Call& /*call*/) {
  HttpResponse r = HttpResponse::make(308, "text/plain; charset=utf-8", "see /console/\n");
  r.set_header("Location", "/console/");
  harden(r);
  return r;
}

HttpResponse RestApi::get_console_asset(Call& call) {
  std::string_view name = call.param("asset");
  if (name.empty()) name = "index.html";
  for (const auto& a : console_assets()) {
    if (a.name != name) continue;
    HttpResponse r;
    auto inm = call.request.header("If-None-Match");
    if (inm && inm->find(a.etag) != std::string_view::npos) {
      r.status = 304;
    } else {
      r = HttpResponse::make(200, a.content_type, std::string(a.bytes));
    }
    r.set_header("ETag", a.etag);
    r.set_header("Cache-Control", "no-cache");
    harden(r);
    return r;
  }
  auto r = HttpResponse::json_error(404, "not found", "no such console asset");
  harden(r);
  return r;
}

}  // namespace m2mdm::server
