// ApiRouter: /dm, /api/v1/... (REST, JSON), /metrics, /healthz.
#include "m2mdm/mo/aka.hpp"
#include "m2mdm/server/api.hpp"
#include "m2mdm/server/error.hpp"
#include "m2mdm/server/rest_json.hpp"

#include <nlohmann/json.hpp>
#include <openssl/rand.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <charconv>
#include <set>

namespace m2mdm::server {
namespace {
using json = nlohmann::json;

std::string dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

HttpResponse json_response(int status, const json& j) { return HttpResponse::make(status, "application/json", dump(j)); }

/// Percent-decodes one path segment (RFC 3986 §2.1); nullopt on bad escapes or a decoded '/'.
std::optional<std::string> pct_decode(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '%') {
      out += s[i];
      continue;
    }
    if (i + 2 >= s.size()) return std::nullopt;
    auto b = hex_decode(s.substr(i + 1, 2));
    if (!b || (*b)[0] == '/' || (*b)[0] == 0) return std::nullopt;
    out += static_cast<char>((*b)[0]);
    i += 2;
  }
  return out;
}

std::vector<std::string_view> split_path(std::string_view p) {
  std::vector<std::string_view> out;
  while (!p.empty()) {
    if (p.front() == '/') {
      p.remove_prefix(1);
      continue;
    }
    auto n = p.find('/');
    out.push_back(p.substr(0, n));
    p = n == std::string_view::npos ? std::string_view{} : p.substr(n + 1);
  }
  return out;
}

std::string query_param(std::string_view query, std::string_view name) {
  while (!query.empty()) {
    auto amp = query.find('&');
    auto kv = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
    auto eq = kv.find('=');
    if (kv.substr(0, eq) == name) return pct_decode(eq == std::string_view::npos ? "" : kv.substr(eq + 1)).value_or("");
  }
  return {};
}

std::string_view media_type(std::optional<std::string_view> ct) {
  if (!ct) return {};
  std::string_view v = *ct;
  v = v.substr(0, v.find(';'));
  while (!v.empty() && v.back() == ' ') v.remove_suffix(1);
  return v;
}

bool ieq(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i]))) return false;
  return true;
}

std::string random_token() {
  Bytes b(32);
  if (RAND_bytes(b.data(), static_cast<int>(b.size())) != 1) return {};
  return hex_encode(b);
}

std::string pem_of(ByteView der) {
  std::string b64 = base64_encode(der);
  std::string out = "-----BEGIN CERTIFICATE-----\n";
  for (std::size_t i = 0; i < b64.size(); i += 64) out += b64.substr(i, 64) + "\n";
  return out + "-----END CERTIFICATE-----\n";
}

json device_json(const Device& d) {
  json j = {{"devId", d.dev_id},
            {"pcid", d.pcid},
            {"state", to_string(d.state)},
            {"dpfAddress", d.dpf_address},
            {"pushAddress", d.push_address},
            {"secMethod", d.sec_method},
            {"lastSeen", d.last_seen},
            {"hasPfc", !d.pfc_der.empty()},
            {"created", d.created},
            {"updated", d.updated}};
  if (d.sho_id) j["shoId"] = *d.sho_id;
  if (!d.pfc_validation.empty()) {
    auto v = json::parse(d.pfc_validation, nullptr, false);
    if (!v.is_discarded()) j["pfcValidation"] = v;
  }
  return j;
}

json job_json(const Job& j, const std::optional<JobResult>& r) {
  json out = {{"id", j.id},          {"devId", j.dev_id},       {"shoId", j.sho_id},
              {"kind", to_string(j.kind)}, {"state", to_string(j.state)}, {"correlator", j.correlator},
              {"attempts", j.attempts}, {"deadline", j.deadline}, {"created", j.created},
              {"updated", j.updated}, {"objectBytes", j.payload.size()}};
  if (r) out["result"] = {{"code", r->code}, {"message", r->message}, {"at", r->at}};
  return out;
}

HttpResponse store_error(const std::error_code& ec) {
  if (ec == make_error_code(errc::not_found)) return HttpResponse::json_error(404, "not found");
  if (ec == make_error_code(errc::conflict)) return HttpResponse::json_error(409, "conflict", ec.message());
  spdlog::error("api: store error: {}", ec.message());
  return HttpResponse::json_error(500, "internal error", "storage failure");
}

HttpResponse bad_request(std::string_view why) { return HttpResponse::json_error(400, "bad request", why); }
HttpResponse method_not_allowed(std::string_view allow) {
  auto r = HttpResponse::json_error(405, "method not allowed");
  r.set_header("Allow", allow);
  return r;
}

}  // namespace

struct ApiRouter::Caller {
  enum class Role { op, vno, sho } role = Role::sho;
  std::int64_t sho_id = 0;
  std::string actor() const {
    switch (role) {
      case Role::op: return "operator";
      case Role::vno: return "vno";
      case Role::sho: return "sho:" + std::to_string(sho_id);
    }
    return "?";
  }
};

ApiRouter::ApiRouter(Store& store, const Pva& pva, ApiOptions options, Clock clock)
    : store_(store), pva_(pva), options_(std::move(options)), clock_(std::move(clock)),
      dm_(std::make_shared<UnavailableDmEndpoint>()) {}

void ApiRouter::set_dm_endpoint(std::shared_ptr<DmEndpoint> endpoint) {
  std::lock_guard lock(dm_mutex_);
  dm_ = endpoint ? std::move(endpoint) : std::make_shared<UnavailableDmEndpoint>();
}

void ApiRouter::set_default_dpf_address(std::string url) {
  std::lock_guard lock(dm_mutex_);
  options_.default_dpf_address = std::move(url);
}

void ApiRouter::set_http_stats(std::function<HttpServerStats()> stats) {
  std::lock_guard lock(dm_mutex_);
  http_stats_ = std::move(stats);
}

void ApiRouter::set_drf(std::shared_ptr<DrfService> drf) {
  std::lock_guard lock(dm_mutex_);
  drf_ = std::move(drf);
}

void ApiRouter::set_job_listener(std::function<void(const Job&)> listener) {
  std::lock_guard lock(dm_mutex_);
  job_listener_ = std::move(listener);
}

std::int64_t ApiRouter::now() const {
  if (clock_) return clock_();
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

HttpResponse ApiRouter::handle(const HttpRequest& request) {
  std::string route_name = "other";
  HttpResponse r;
  try {
    r = route(request, route_name);
  } catch (const std::exception& e) {  // nothing below should throw; never let it reach the adapter
    spdlog::error("api: {} {}: {}", request.method, route_name, e.what());
    r = HttpResponse::json_error(500, "internal error");
  }
  r.set_header("Cache-Control", "no-store");
  metrics_.count(route_name, request.method, r.status);
  spdlog::debug("http {} {} {} -> {}", request.peer, request.method, route_name, r.status);
  return r;
}

HttpResponse ApiRouter::route(const HttpRequest& request, std::string& route_name) {
  const std::string_view path = request.path();
  if (path == "/healthz") {
    route_name = "/healthz";
    if (request.method != "GET" && request.method != "HEAD") return method_not_allowed("GET, HEAD");
    if (auto ok = store_.ping(); !ok) return HttpResponse::make(503, "text/plain", "store unavailable\n");
    return HttpResponse::make(200, "text/plain", "ok\n");
  }
  if (path == "/metrics") {
    route_name = "/metrics";
    if (request.method != "GET") return method_not_allowed("GET");
    auto stats = store_.stats();
    std::optional<HttpServerStats> http;
    {
      std::lock_guard lock(dm_mutex_);
      if (http_stats_) http = http_stats_();
    }
    return HttpResponse::make(200, "text/plain; version=0.0.4; charset=utf-8",
                              metrics_.render(stats ? &*stats : nullptr, http ? &*http : nullptr));
  }
  if (path == "/dm") {
    route_name = "/dm";
    if (request.method != "POST") return method_not_allowed("POST");
    // OMA DM 1.2 HTTP binding: the two SyncML DM media types only.
    auto mt = media_type(request.header("Content-Type"));
    if (!ieq(mt, dm_xml_content_type) && !ieq(mt, dm_wbxml_content_type))
      return HttpResponse::json_error(415, "unsupported media type",
                                      "use application/vnd.syncml.dm+xml or application/vnd.syncml.dm+wbxml");
    std::shared_ptr<DmEndpoint> dm;
    {
      std::lock_guard lock(dm_mutex_);
      dm = dm_;
    }
    return dm->handle_dm(request);
  }
  if (path == "/api/v1" || path.starts_with("/api/v1/")) {
    route_name = "/api/v1/unknown";
    return api(request, route_name);
  }
  return HttpResponse::json_error(404, "not found");
}

HttpResponse ApiRouter::api(const HttpRequest& request, std::string& route_name) {
  // --- authentication first, whatever the path (unknown paths too).
  Caller caller;
  {
    auto unauthorized = [] {
      auto r = HttpResponse::json_error(401, "unauthorized", "a valid bearer token is required");
      r.set_header("WWW-Authenticate", "Bearer realm=\"m2mdm\"");
      return r;
    };
    auto auth = request.header("Authorization");
    if (!auth || auth->size() < 7 || !ieq(auth->substr(0, 7), "Bearer ")) return unauthorized();
    std::string_view token = auth->substr(7);
    while (!token.empty() && token.front() == ' ') token.remove_prefix(1);
    while (!token.empty() && token.back() == ' ') token.remove_suffix(1);
    if (token.empty() || token.size() > 512) return unauthorized();
    const Bytes h = hash_token(token);
    bool found = false;
    if (!options_.admin_token_hash.empty() && constant_time_equal(h, options_.admin_token_hash)) {
      caller.role = Caller::Role::op;
      found = true;
    }
    for (const auto& v : options_.vno_token_hashes)
      if (!found && constant_time_equal(h, v)) {
        caller.role = Caller::Role::vno;
        found = true;
      }
    if (!found) {
      auto sho = store_.find_sho_by_token_hash(h);
      if (!sho) {
        if (sho.error() != make_error_code(errc::not_found)) return store_error(sho.error());
        return unauthorized();
      }
      caller.role = Caller::Role::sho;
      caller.sho_id = sho->id;
    }
  }
  const bool is_op = caller.role == Caller::Role::op;
  const bool is_sho = caller.role == Caller::Role::sho;
  const bool is_vno = caller.role == Caller::Role::vno;
  auto forbidden = [] { return HttpResponse::json_error(403, "forbidden", "this token may not use this endpoint"); };
  auto audit = [&](std::string action, std::string subject, std::string detail) {
    if (auto r = store_.append_audit({0, now(), caller.actor(), std::move(action), std::move(subject), std::move(detail)}); !r)
      spdlog::warn("api: audit append failed: {}", r.error().message());
  };

  auto segs = split_path(request.path());  // "api", "v1", ...
  std::vector<std::string> s;
  for (std::size_t i = 2; i < segs.size(); ++i) {
    auto d = pct_decode(segs[i]);
    if (!d) return bad_request("bad percent-encoding in path");
    s.push_back(std::move(*d));
  }
  const std::string& m = request.method;
  auto body_mt = media_type(request.header("Content-Type"));

  // Loads a device the caller may see (an SHO sees only its own: 404 for others').
  auto visible_device = [&](const std::string& dev_id) -> Result<Device> {
    auto d = store_.get_device(dev_id);
    if (!d) return d;
    if (is_sho && d->sho_id != caller.sho_id) return fail(make_error_code(errc::not_found));
    if (is_vno) return fail(make_error_code(errc::not_found));
    return d;
  };

  // ---------------- /shos
  if (s.size() == 1 && s[0] == "shos") {
    route_name = "/api/v1/shos";
    if (!is_op) return forbidden();
    if (m == "GET") {
      auto list = store_.list_shos();
      if (!list) return store_error(list.error());
      json arr = json::array();
      for (const auto& sho : *list)
        arr.push_back({{"id", sho.id}, {"name", sho.name}, {"callbackUrl", sho.callback_url}, {"created", sho.created}});
      return json_response(200, arr);
    }
    if (m != "POST") return method_not_allowed("GET, POST");
    auto name = parse_sho_create(request.body);
    if (!name) return bad_request(name.error());
    std::string token = random_token();
    if (token.empty()) return HttpResponse::json_error(500, "internal error", "no randomness");
    auto sho = store_.create_sho(*name, hash_token(token), now());
    if (!sho) return store_error(sho.error());
    audit("sho.create", std::to_string(sho->id), *name);
    return json_response(201, {{"id", sho->id}, {"name", sho->name}, {"token", token}});
  }

  // ---------------- /callback
  if (s.size() == 1 && s[0] == "callback") {
    route_name = "/api/v1/callback";
    if (!is_sho) return forbidden();
    if (m == "GET") {
      auto sho = store_.get_sho(caller.sho_id);
      if (!sho) return store_error(sho.error());
      return json_response(200, {{"url", sho->callback_url}});
    }
    if (m != "PUT") return method_not_allowed("GET, PUT");
    auto url = parse_callback_registration(request.body);
    if (!url) return bad_request(url.error());
    if (auto r = store_.set_sho_callback(caller.sho_id, *url); !r) return store_error(r.error());
    audit("callback.register", std::to_string(caller.sho_id), *url);
    return json_response(200, {{"url", *url}});
  }

  // ---------------- /devices:import, /devices/import
  if ((s.size() == 1 && s[0] == "devices:import") || (s.size() == 2 && s[0] == "devices" && s[1] == "import")) {
    route_name = "/api/v1/devices/import";
    if (!is_op && !is_sho) return forbidden();
    if (m != "POST") return method_not_allowed("POST");
    const bool ndjson = ieq(body_mt, "application/x-ndjson") || ieq(body_mt, "application/ndjson");
    if (!ndjson && !body_mt.empty() && !ieq(body_mt, "application/json"))
      return HttpResponse::json_error(415, "unsupported media type", "use application/json or application/x-ndjson");
    auto parsed = parse_device_import(request.body, ndjson, options_.max_import_devices);
    if (!parsed) return bad_request(parsed.error());
    std::vector<Device> devices;
    std::set<std::int64_t> sho_ids;
    std::string default_dpf;
    {
      std::lock_guard lock(dm_mutex_);
      default_dpf = options_.default_dpf_address;
    }
    devices.reserve(parsed->size());
    for (auto& item : *parsed) {
      Device d = std::move(item.device);
      if (is_sho) {
        if (item.sho_given && *d.sho_id != caller.sho_id)
          return bad_request("device " + d.dev_id + ": an SHO may import only its own devices");
        d.sho_id = caller.sho_id;
        // An SHO may not take over (or learn about) another SHO's device: same 404 as a GET.
        if (auto existing = store_.get_device(d.dev_id); existing && existing->sho_id != caller.sho_id)
          return HttpResponse::json_error(409, "conflict", "device " + d.dev_id + " cannot be imported");
      }
      if (d.sho_id) sho_ids.insert(*d.sho_id);
      if (d.dpf_address.empty()) d.dpf_address = default_dpf;
      devices.push_back(std::move(d));
    }
    for (auto id : sho_ids)
      if (auto sho = store_.get_sho(id); !sho) return bad_request("unknown shoId " + std::to_string(id));
    auto counts = store_.upsert_devices(devices, now());
    if (!counts) {
      if (counts.error() == make_error_code(errc::conflict))
        return HttpResponse::json_error(409, "conflict", "a pcid is already registered to another device");
      return store_error(counts.error());
    }
    audit("device.import", std::to_string(devices.size()) + " devices",
          "inserted " + std::to_string(counts->inserted) + ", updated " + std::to_string(counts->updated) +
              ", unchanged " + std::to_string(counts->unchanged));
    return json_response(200, {{"total", devices.size()},
                               {"inserted", counts->inserted},
                               {"updated", counts->updated},
                               {"unchanged", counts->unchanged}});
  }

  // ---------------- /devices (listing)
  if (s.size() == 1 && s[0] == "devices") {
    route_name = "/api/v1/devices";
    if (!is_sho) return forbidden();
    if (m != "GET") return method_not_allowed("GET");
    std::size_t limit = 100;
    if (auto l = query_param(request.query(), "limit"); !l.empty()) {
      std::size_t v = 0;
      auto [p, ec] = std::from_chars(l.data(), l.data() + l.size(), v);
      if (ec != std::errc{} || p != l.data() + l.size() || v == 0 || v > 1000) return bad_request("limit must be 1..1000");
      limit = v;
    }
    auto list = store_.list_devices(caller.sho_id, query_param(request.query(), "after"), limit);
    if (!list) return store_error(list.error());
    json arr = json::array();
    for (const auto& d : *list) arr.push_back(device_json(d));
    return json_response(200, {{"devices", arr}});
  }

  // ---------------- /devices/{devId}[/pfc|/jobs]
  if (s.size() >= 2 && s.size() <= 3 && s[0] == "devices") {
    const std::string& dev_id = s[1];
    if (!is_op && !is_sho) return forbidden();
    if (s.size() == 2) {
      route_name = "/api/v1/devices/{devId}";
      if (m != "GET" && m != "PATCH") return method_not_allowed("GET, PATCH");
      auto d = visible_device(dev_id);
      if (!d) return store_error(d.error());
      if (m == "GET") return json_response(200, device_json(*d));
      if (!body_mt.empty() && !ieq(body_mt, "application/json") && !ieq(body_mt, "application/merge-patch+json"))
        return HttpResponse::json_error(415, "unsupported media type", "use application/json");
      auto patch = parse_device_patch(request.body);
      if (!patch) return bad_request(patch.error());
      if (auto r = store_.patch_device(dev_id, *patch, now()); !r) return store_error(r.error());
      audit("device.patch", dev_id,
            (patch->push_address ? "pushAddress=" + *patch->push_address + " " : std::string()) +
                (patch->sec_method ? "secMethod=" + *patch->sec_method : std::string()));
      auto updated = store_.get_device(dev_id);
      if (!updated) return store_error(updated.error());
      return json_response(200, device_json(*updated));
    }
    if (s[2] == "bootstrap") {
      route_name = "/api/v1/devices/{devId}/bootstrap";
      if (m != "POST") return method_not_allowed("POST");
      auto d = visible_device(dev_id);  // an SHO reaches only its own devices (404 otherwise)
      if (!d) return store_error(d.error());
      if (!body_mt.empty() && !ieq(body_mt, "application/json"))
        return HttpResponse::json_error(415, "unsupported media type", "use application/json");
      auto req = parse_bootstrap_request(request.body);
      if (!req) return bad_request(req.error());
      std::shared_ptr<DrfService> drf;
      {
        std::lock_guard lock(dm_mutex_);
        drf = drf_;
      }
      if (!drf || !drf->configured())
        return HttpResponse::json_error(503, "service unavailable", "the DRF is not configured (no DPF key pin)");
      BootstrapRequest br;
      br.delivery = req->sms ? BootstrapDelivery::sms : BootstrapDelivery::udp;
      br.rebootstrap = req->rebootstrap;
      br.rebootstrap_token = req->rebootstrap_token;
      br.actor = caller.actor();
      // Re-bootstrap only for the operator or the device's own SHO (TR 33.812 §5.2.2.6.3.2 FFS).
      br.caller_may_rebootstrap = is_op || (is_sho && d->sho_id == caller.sho_id);
      auto out = drf->bootstrap(dev_id, br);
      if (!out) {
        if (out.error().status == 409 || out.error().status == 403)
          audit("drf.bootstrap.refused", dev_id, out.error().reason);
        return HttpResponse::json_error(out.error().status,
                                        out.error().status == 409   ? "conflict"
                                        : out.error().status == 403 ? "forbidden"
                                        : out.error().status == 503 ? "service unavailable"
                                        : out.error().status == 502 ? "bad gateway"
                                                                    : "error",
                                        out.error().reason);
      }
      json body = {{"devId", dev_id},
                   {"bootstrapId", out->record.id},
                   {"issued", out->record.issued},
                   {"secMethod", out->record.sec_method},
                   {"rebootstrap", out->record.rebootstrap},
                   {"delivery", req->sms ? "sms" : "push"},
                   {"serverId", out->issued.dm.server_id},
                   {"pushBytes", out->issued.push_pdu.size()}};
      if (req->sms) {
        json segments = json::array();
        for (const auto& seg : out->issued.sms) segments.push_back(hex_encode(seg, true));
        body["smsSegments"] = segments;  // TP-User-Data (UDH + payload), 8-bit data coding, UDHI set
        body["smsDataCoding"] = "8bit";
      } else {
        body["pushAddress"] = out->push_address;
      }
      return json_response(req->sms ? 200 : 202, body);
    }
    if (s[2] == "pfc") {
      route_name = "/api/v1/devices/{devId}/pfc";
      if (m != "GET") return method_not_allowed("GET");
      auto d = visible_device(dev_id);
      if (!d) return store_error(d.error());
      if (d->pfc_der.empty()) return HttpResponse::json_error(404, "not found", "the device has not reported its PfC yet");
      auto accept = request.header("Accept").value_or("");
      if (accept.find("application/pkix-cert") != std::string_view::npos)
        return HttpResponse::make(200, "application/pkix-cert", std::string(as_chars(d->pfc_der)));
      return HttpResponse::make(200, "application/x-pem-file", pem_of(d->pfc_der));
    }
    if (s[2] == "jobs") {
      route_name = "/api/v1/devices/{devId}/jobs";
      auto d = visible_device(dev_id);
      if (!d) return store_error(d.error());
      if (m == "GET") {
        auto jobs = store_.list_jobs(dev_id);
        if (!jobs) return store_error(jobs.error());
        json arr = json::array();
        for (const auto& j : *jobs) {
          if (is_sho && j.sho_id != caller.sho_id) continue;
          auto r = store_.get_result(j.id);
          arr.push_back(job_json(j, r ? *r : std::nullopt));
        }
        return json_response(200, {{"jobs", arr}});
      }
      if (m != "POST") return method_not_allowed("GET, POST");
      if (!is_sho) return forbidden();
      if (!body_mt.empty() && !ieq(body_mt, "application/json"))
        return HttpResponse::json_error(415, "unsupported media type", "use application/json");
      auto sub = parse_job_submission(request.body, request.body.size());
      if (!sub) return bad_request(sub.error());
      const std::int64_t t = now();
      NewJob nj{dev_id, caller.sho_id, sub->kind, std::move(sub->object), std::move(sub->authorisation),
                std::move(sub->correlator), t + sub->ttl_seconds.value_or(options_.default_job_ttl)};
      auto job = store_.create_job(nj, t);
      if (!job) {
        if (job.error() == make_error_code(errc::conflict))
          return HttpResponse::json_error(409, "conflict", "correlator already used");
        return store_error(job.error());
      }
      std::function<void(const Job&)> listener;
      {
        std::lock_guard lock(dm_mutex_);
        listener = job_listener_;
      }
      if (listener) listener(*job);  // package 0 trigger (TR 33.812 step 15)
      auto r = json_response(202, job_json(*job, std::nullopt));
      r.set_header("Location", "/api/v1/jobs/" + std::to_string(job->id));
      return r;
    }
  }

  // ---------------- /drf/registry/{pcid}: the DRF registry (PCID -> SHO, DPF address)
  if (s.size() == 3 && s[0] == "drf" && s[1] == "registry") {
    route_name = "/api/v1/drf/registry/{pcid}";
    if (!is_op && !is_sho) return forbidden();
    if (m != "GET") return method_not_allowed("GET");
    auto d = store_.get_device_by_pcid(s[2]);
    if (!d) return store_error(d.error());
    if (is_sho && d->sho_id != caller.sho_id) return HttpResponse::json_error(404, "not found");
    auto b = store_.active_bootstrap(d->dev_id);
    if (!b) return store_error(b.error());
    json out = {{"pcid", d->pcid}, {"devId", d->dev_id}, {"dpfAddress", d->dpf_address},
                {"pushAddress", d->push_address}, {"secMethod", d->sec_method}};
    out["shoId"] = d->sho_id ? json(*d->sho_id) : json(nullptr);
    if (*b)
      out["activeBootstrap"] = {{"id", (*b)->id},         {"issued", (*b)->issued},
                                {"delivery", (*b)->delivery}, {"secMethod", (*b)->sec_method},
                                {"rebootstrap", (*b)->rebootstrap}, {"actor", (*b)->actor}};
    else
      out["activeBootstrap"] = nullptr;
    return json_response(200, out);
  }

  // ---------------- /jobs/{id}
  if (s.size() == 2 && s[0] == "jobs") {
    route_name = "/api/v1/jobs/{id}";
    if (!is_op && !is_sho) return forbidden();
    if (m != "GET") return method_not_allowed("GET");
    std::int64_t id = 0;
    auto [p, ec] = std::from_chars(s[1].data(), s[1].data() + s[1].size(), id);
    if (ec != std::errc{} || p != s[1].data() + s[1].size() || id <= 0)
      return HttpResponse::json_error(404, "not found");
    auto job = store_.get_job(id);
    if (!job) return store_error(job.error());
    if (is_sho && job->sho_id != caller.sho_id) return HttpResponse::json_error(404, "not found");
    auto r = store_.get_result(id);
    if (!r) return store_error(r.error());
    return json_response(200, job_json(*job, *r));
  }

  // ---------------- /pva/validate
  if (s.size() == 2 && s[0] == "pva" && s[1] == "validate") {
    route_name = "/api/v1/pva/validate";
    if (!is_op && !is_sho) return forbidden();
    if (m != "POST") return method_not_allowed("POST");
    PvaRequest req;
    if (ieq(body_mt, "application/pkix-cert") || ieq(body_mt, "application/x-pem-file") ||
        ieq(body_mt, "application/x-x509-ca-cert")) {
      req.pfc.assign(request.body.begin(), request.body.end());
      req.dev_id = query_param(request.query(), "devId");
    } else if (body_mt.empty() || ieq(body_mt, "application/json")) {
      auto parsed = parse_pva_request(request.body);
      if (!parsed) return bad_request(parsed.error());
      req = std::move(*parsed);
    } else {
      return HttpResponse::json_error(415, "unsupported media type",
                                      "use application/json, application/pkix-cert or application/x-pem-file");
    }
    if (!req.dev_id.empty()) {
      if (auto d = visible_device(req.dev_id); !d) return store_error(d.error());
    }
    const std::int64_t t = now();
    PvaVerdict v = pva_.validate(req.pfc, t, req.intermediates);
    json verdict = {{"valid", v.valid},     {"reason", v.reason},        {"subject", v.subject},
                    {"issuer", v.issuer},   {"not_after", v.not_after}, {"validatedAt", t}};
    if (!req.dev_id.empty()) {
      if (auto r = store_.set_pfc_validation(req.dev_id, dump(verdict), t); !r) return store_error(r.error());
      verdict["devId"] = req.dev_id;
    }
    audit("pva.validate", req.dev_id.empty() ? v.subject : req.dev_id,
          std::string(v.valid ? "valid" : "invalid") + ": " + v.reason);
    return json_response(200, verdict);
  }

  // ---------------- /icf/vectors, /icf/resync (TS 33.102 §6.3)
  if (s.size() == 2 && s[0] == "icf" && (s[1] == "vectors" || s[1] == "resync")) {
    route_name = "/api/v1/icf/" + s[1];
    if (!is_op && !is_vno) return forbidden();
    if (m != "POST") return method_not_allowed("POST");
    const std::int64_t t = now();
    if (s[1] == "vectors") {
      auto req = parse_vector_request(request.body, options_.icf_max_vectors);
      if (!req) return bad_request(req.error());
      auto dev = store_.get_device_by_pcid(req->pcid);
      if (!dev) return store_error(dev.error());
      if (dev->k.size() != 16 || dev->opc.size() != 16)
        return HttpResponse::json_error(409, "conflict", "no temporary credentials for this pcid");
      auto first = store_.reserve_sqn(req->pcid, req->count, t);
      if (!first) {
        if (first.error() == make_error_code(errc::not_found))
          return HttpResponse::json_error(409, "conflict", "sequence numbers exhausted");
        return store_error(first.error());
      }
      json arr = json::array();
      for (std::uint32_t i = 0; i < req->count; ++i) {
        Bytes rand(16);
        if (RAND_bytes(rand.data(), 16) != 1) return HttpResponse::json_error(500, "internal error", "no randomness");
        auto av = mo::generate_vector(dev->k, dev->opc, *first + i, options_.icf_amf, rand);
        if (!av) return HttpResponse::json_error(500, "internal error", av.error().message());
        arr.push_back({{"rand", hex_encode(av->rand)},
                       {"xres", hex_encode(av->xres.view())},
                       {"ck", hex_encode(av->ck.view())},
                       {"ik", hex_encode(av->ik.view())},
                       {"autn", hex_encode(av->autn)}});
      }
      audit("icf.vectors", req->pcid, std::to_string(req->count) + " vectors from SQN " + std::to_string(*first));
      return json_response(200, {{"pcid", req->pcid}, {"vectors", arr}});
    }
    auto req = parse_resync_request(request.body);
    if (!req) return bad_request(req.error());
    auto dev = store_.get_device_by_pcid(req->pcid);
    if (!dev) return store_error(dev.error());
    if (dev->k.size() != 16 || dev->opc.size() != 16)
      return HttpResponse::json_error(409, "conflict", "no temporary credentials for this pcid");
    auto sqn_ms = mo::verify_auts(dev->k, dev->opc, req->rand, req->auts);
    if (!sqn_ms) {
      audit("icf.resync", req->pcid, "AUTS verification failed");
      return HttpResponse::json_error(422, "invalid auts", "MAC-S does not verify");
    }
    // TS 33.102 §6.3.5: the HE continues from SQN_MS (next = SQN_MS + 1).
    const std::uint64_t next = std::max(dev->sqn, *sqn_ms + 1);
    if (auto r = store_.set_sqn(req->pcid, next, t); !r) return store_error(r.error());
    audit("icf.resync", req->pcid, "SQN_MS " + std::to_string(*sqn_ms));
    return json_response(200, {{"pcid", req->pcid}, {"sqnMs", *sqn_ms}, {"nextSqn", next}});
  }

  return HttpResponse::json_error(404, "not found", "no such API endpoint");
}

// ---------------------------------------------------------------- metrics

void Metrics::count(std::string_view route, std::string_view method, int status) {
  std::lock_guard lock(mutex_);
  ++requests_[{std::string(route), std::string(method.size() <= 8 ? method : "OTHER"), status}];
}

std::string Metrics::render(const StoreStats* store, const HttpServerStats* http) const {
  std::string out;
  out += "# HELP m2mdm_http_requests_total HTTP requests by route template, method and status.\n";
  out += "# TYPE m2mdm_http_requests_total counter\n";
  {
    std::lock_guard lock(mutex_);
    for (const auto& [key, n] : requests_) {
      const auto& [route, method, status] = key;
      out += "m2mdm_http_requests_total{route=\"" + route + "\",method=\"" + method + "\",status=\"" +
             std::to_string(status) + "\"} " + std::to_string(n) + "\n";
    }
  }
  if (http) {
    out += "# HELP m2mdm_http_active_connections Open HTTP connections.\n# TYPE m2mdm_http_active_connections gauge\n";
    out += "m2mdm_http_active_connections " + std::to_string(http->active_connections) + "\n";
    out += "# HELP m2mdm_http_accepted_connections_total Accepted connections.\n"
           "# TYPE m2mdm_http_accepted_connections_total counter\n";
    out += "m2mdm_http_accepted_connections_total " + std::to_string(http->accepted_connections) + "\n";
    out += "# HELP m2mdm_http_rejected_connections_total Connections refused over the cap.\n"
           "# TYPE m2mdm_http_rejected_connections_total counter\n";
    out += "m2mdm_http_rejected_connections_total " + std::to_string(http->rejected_connections) + "\n";
    out += "# HELP m2mdm_http_contained_exceptions_total Exceptions caught on a connection (that connection "
           "or request failed; the server went on).\n# TYPE m2mdm_http_contained_exceptions_total counter\n";
    out += "m2mdm_http_contained_exceptions_total " + std::to_string(http->contained_exceptions) + "\n";
  }
  if (store) {
    out += "# HELP m2mdm_jobs Jobs by state.\n# TYPE m2mdm_jobs gauge\n";
    for (int i = 0; i <= static_cast<int>(JobState::expired); ++i) {
      auto name = std::string(to_string(static_cast<JobState>(i)));
      auto it = store->jobs_by_state.find(name);
      out += "m2mdm_jobs{state=\"" + name + "\"} " + std::to_string(it == store->jobs_by_state.end() ? 0 : it->second) + "\n";
    }
    out += "# HELP m2mdm_devices Devices by state.\n# TYPE m2mdm_devices gauge\n";
    for (int i = 0; i <= static_cast<int>(DeviceState::failed); ++i) {
      auto name = std::string(to_string(static_cast<DeviceState>(i)));
      auto it = store->devices_by_state.find(name);
      out += "m2mdm_devices{state=\"" + name + "\"} " +
             std::to_string(it == store->devices_by_state.end() ? 0 : it->second) + "\n";
    }
    out += "# HELP m2mdm_outbox_pending SHO callbacks not yet acknowledged.\n# TYPE m2mdm_outbox_pending gauge\n";
    out += "m2mdm_outbox_pending " + std::to_string(store->outbox_pending) + "\n";
    out += "# HELP m2mdm_shos Registered SHOs.\n# TYPE m2mdm_shos gauge\n";
    out += "m2mdm_shos " + std::to_string(store->shos) + "\n";
  }
  out += "# HELP m2mdm_store_up 1 when the store answered the scrape.\n# TYPE m2mdm_store_up gauge\n";
  out += std::string("m2mdm_store_up ") + (store ? "1" : "0") + "\n";
  return out;
}

}  // namespace m2mdm::server
