#include "m2mdm/client/alert_outbox.hpp"

#include "m2mdm/client/error.hpp"
#include "m2mdm/mo/atomic_file.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>

namespace m2mdm::client {
namespace {

using nlohmann::json;

json to_json(const PendingAlert& a) {
  return json{{"id", a.id},
              {"server_id", a.server_id},
              {"attempts", a.attempts},
              {"correlator", a.payload.correlator},
              {"source_uri", a.payload.source_uri},
              {"type", a.payload.type},
              {"format", a.payload.format},
              {"mark", a.payload.mark},
              {"data", a.payload.data}};
}

PendingAlert from_json(const json& j) {
  PendingAlert a;
  a.id = j.at("id").get<std::uint64_t>();
  a.server_id = j.at("server_id").get<std::string>();
  a.attempts = j.at("attempts").get<std::uint32_t>();
  a.payload.correlator = j.at("correlator").get<std::string>();
  a.payload.source_uri = j.at("source_uri").get<std::string>();
  a.payload.type = j.at("type").get<std::string>();
  a.payload.format = j.at("format").get<std::string>();
  a.payload.mark = j.at("mark").get<std::string>();
  a.payload.data = j.at("data").get<std::string>();
  return a;
}

std::vector<PendingAlert> select(const std::vector<PendingAlert>& all, std::string_view server_id) {
  std::vector<PendingAlert> out;
  std::copy_if(all.begin(), all.end(), std::back_inserter(out),
               [&](const PendingAlert& a) { return a.server_id == server_id; });
  return out;
}

}  // namespace

Result<std::uint64_t> MemoryAlertOutbox::add(std::string_view server_id, const mo::GenericAlertPayload& payload) {
  alerts_.push_back(PendingAlert{next_id_, std::string(server_id), payload, 0});
  return next_id_++;
}

std::vector<PendingAlert> MemoryAlertOutbox::pending(std::string_view server_id) const {
  return select(alerts_, server_id);
}

Result<void> MemoryAlertOutbox::mark_sent(std::uint64_t id) {
  for (auto& a : alerts_)
    if (a.id == id) ++a.attempts;
  return {};
}

Result<void> MemoryAlertOutbox::acknowledge(std::uint64_t id) {
  std::erase_if(alerts_, [id](const PendingAlert& a) { return a.id == id; });
  return {};
}

Result<FileAlertOutbox> FileAlertOutbox::open(std::filesystem::path path) {
  FileAlertOutbox box(std::move(path));
  auto& ops = mo::posix_file_ops();
  if (!ops.exists(box.path_)) return box;
  auto bytes = ops.read(box.path_);
  if (!bytes) return fail(bytes.error());
  // nlohmann::json reports parse errors by exception; keep it inside this adapter.
  try {
    const json doc = json::parse(bytes->begin(), bytes->end());
    box.next_id_ = doc.at("next_id").get<std::uint64_t>();
    for (const auto& j : doc.at("alerts")) box.alerts_.push_back(from_json(j));
  } catch (const json::exception&) {
    return fail(errc::malformed);
  }
  return box;
}

Result<void> FileAlertOutbox::save(const std::vector<PendingAlert>& alerts, std::uint64_t next_id) const {
  json doc{{"version", 1}, {"next_id", next_id}, {"alerts", json::array()}};
  for (const auto& a : alerts) doc["alerts"].push_back(to_json(a));
  const std::string text = doc.dump(1);
  return mo::atomic_write(mo::posix_file_ops(), path_, as_bytes(text));
}

Result<std::uint64_t> FileAlertOutbox::add(std::string_view server_id, const mo::GenericAlertPayload& payload) {
  auto next = alerts_;
  next.push_back(PendingAlert{next_id_, std::string(server_id), payload, 0});
  if (auto r = save(next, next_id_ + 1); !r) return fail(r.error());
  alerts_ = std::move(next);
  return next_id_++;
}

std::vector<PendingAlert> FileAlertOutbox::pending(std::string_view server_id) const {
  return select(alerts_, server_id);
}

Result<void> FileAlertOutbox::mark_sent(std::uint64_t id) {
  auto next = alerts_;
  for (auto& a : next)
    if (a.id == id) ++a.attempts;
  if (auto r = save(next, next_id_); !r) return r;
  alerts_ = std::move(next);
  return {};
}

Result<void> FileAlertOutbox::acknowledge(std::uint64_t id) {
  auto next = alerts_;
  if (std::erase_if(next, [id](const PendingAlert& a) { return a.id == id; }) == 0) return {};
  if (auto r = save(next, next_id_); !r) return r;
  alerts_ = std::move(next);
  return {};
}

}  // namespace m2mdm::client
