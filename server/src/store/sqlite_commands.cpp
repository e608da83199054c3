// SqliteStore, generic management commands (CommandStore). The ops and the outcome are kept as
// JSON text: the store does not interpret them beyond this file.
#include "store/sqlite_impl.hpp"

namespace m2mdm::server {
using sqlite_detail::err;
using sqlite_detail::from_sqlite;
using sqlite_detail::Query;

namespace {
using json = nlohmann::json;

/// The columns of a command; ops and outcome are JSON, read by read_command.
constexpr auto kCommandRow = row_columns<MgmtCommand>(
    Field{"id", &MgmtCommand::id}, Field{"dev_id", &MgmtCommand::dev_id},
    Field{"submitted_by", &MgmtCommand::submitted_by},
    EnumField{"wrap", &MgmtCommand::wrap, mgmt_wrap_from_string, MgmtWrap::none}, ByHand{"ops"},
    EnumField{"state", &MgmtCommand::state, mgmt_state_from_string, MgmtState::failed}, ByHand{"outcome"},
    Field{"deadline", &MgmtCommand::deadline}, Field{"created", &MgmtCommand::created},
    Field{"updated", &MgmtCommand::updated});

std::string ops_to_json(const std::vector<MgmtOp>& ops) {
  json arr = json::array();
  for (const auto& op : ops) {
    json o{{"verb", to_string(op.verb)}, {"target", op.target}, {"format", op.format}, {"type", op.type}};
    if (!op.source.empty()) o["source"] = op.source;
    if (op.data) o["data"] = *op.data;
    arr.push_back(std::move(o));
  }
  return arr.dump();
}

std::string outcome_to_json(const MgmtCommand& c) {
  json st = json::array(), res = json::array();
  for (const auto& s : c.statuses) st.push_back({{"index", s.index}, {"cmd", s.cmd}, {"code", s.code}});
  for (const auto& r : c.results)
    res.push_back({{"index", r.index}, {"source", r.source}, {"format", r.format}, {"type", r.type}, {"data", r.data}});
  return json{{"statuses", st}, {"results", res}, {"error", c.error}}.dump();
}

std::string text_or(const json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string{};
}
int int_or(const json& j, const char* key, int def) {
  auto it = j.find(key);
  return it != j.end() && it->is_number_integer() ? it->get<int>() : def;
}

// Rows were written by this file; a malformed cell (a hand-edited store) reads as empty.
MgmtCommand read_command(const Query& st) {
  MgmtCommand c = kCommandRow.read(st);
  const json ops = json::parse(st.col_text(kCommandRow.index("ops")), nullptr, false);
  if (ops.is_array()) {
    for (const auto& o : ops) {
      if (!o.is_object()) continue;
      MgmtOp op;
      op.verb = mgmt_verb_from_string(text_or(o, "verb")).value_or(MgmtVerb::get);
      op.target = text_or(o, "target");
      op.source = text_or(o, "source");
      op.format = text_or(o, "format");
      op.type = text_or(o, "type");
      if (o.contains("data")) op.data = text_or(o, "data");
      c.ops.push_back(std::move(op));
    }
  }
  const json out = json::parse(st.col_text(kCommandRow.index("outcome")), nullptr, false);
  if (out.is_object()) {
    if (auto it = out.find("statuses"); it != out.end() && it->is_array())
      for (const auto& s : *it)
        if (s.is_object()) c.statuses.push_back({int_or(s, "index", -1), text_or(s, "cmd"), int_or(s, "code", 0)});
    if (auto it = out.find("results"); it != out.end() && it->is_array())
      for (const auto& r : *it)
        if (r.is_object())
          c.results.push_back(
              {int_or(r, "index", -1), text_or(r, "source"), text_or(r, "format"), text_or(r, "type"), text_or(r, "data")});
    c.error = text_or(out, "error");
  }
  return c;
}

Result<MgmtCommand> command_where_id(SqliteStore::Impl& impl, std::int64_t id) {
  return impl.row_where(column_list<kCommandRow>(), "commands", "id", id, read_command);
}
}  // namespace

Result<MgmtCommand> SqliteStore::create_command(const MgmtCommand& cmd, const AuditEntry& audit, std::int64_t now) {
  Impl::WriteTx tx(*impl_);
  if (!tx.began()) return fail(err(errc::io_error));
  auto dev = impl_->device_where("dev_id", cmd.dev_id);
  if (!dev) return fail(dev.error());
  auto inserted = impl_->insert(
      "INSERT INTO commands(dev_id, submitted_by, wrap, ops, state, deadline, created, updated) "
      "VALUES(?,?,?,?,'queued',?,?,?)",
      cmd.dev_id, cmd.submitted_by, to_string(cmd.wrap), ops_to_json(cmd.ops), cmd.deadline, now, now);
  if (!inserted) return fail(inserted.error());
  const std::int64_t id = *inserted;
  AuditEntry a = audit;
  a.at = now;
  if (a.subject.empty()) a.subject = std::to_string(id);
  M2MDM_TRY(impl_->audit(a));
  auto created = command_where_id(*impl_, id);
  if (!created) return fail(created.error());
  M2MDM_TRY(tx.commit());
  return created;
}

Result<MgmtCommand> SqliteStore::get_command(std::int64_t id) {
  Impl::Lock lock(*impl_);
  auto c = command_where_id(*impl_, id);
  if (!c) return fail(c.error());
  return c;
}

Result<std::optional<MgmtCommand>> SqliteStore::claim_next_command(std::string_view dev_id, std::int64_t now) {
  Impl::Lock lock(*impl_);
  {
    // Nothing queued (most DM messages): nothing to expire or claim, and no write transaction
    // (whose COMMIT, even empty, would wait for a sync of the -wal file).
    auto any = impl_->q("SELECT 1 FROM commands WHERE dev_id = ? AND state = 'queued' LIMIT 1");
    if (!any) return fail(any.error());
    any->text(1, dev_id);
    auto found = any->next();
    if (!found) return fail(found.error());
    if (!*found) return std::optional<MgmtCommand>{};
  }
  Impl::Tx tx(*impl_);
  if (!tx.began()) return fail(err(errc::io_error));
  // Past their deadline: expired, never sent.
  M2MDM_TRY(impl_->exec(
      "UPDATE commands SET state = 'expired', outcome = '{\"error\":\"deadline passed before delivery\"}', "
      "updated = ? WHERE dev_id = ? AND state = 'queued' AND deadline <> 0 AND deadline < ?",
      now, dev_id, now));
  std::int64_t id = 0;
  {
    auto next = impl_->q("SELECT id FROM commands WHERE dev_id = ? AND state = 'queued' ORDER BY id LIMIT 1");
    if (!next) return fail(next.error());
    next->text(1, dev_id);
    auto found = next->next();
    if (!found) return fail(found.error());
    if (!*found) {
      M2MDM_TRY(tx.commit());
      return std::optional<MgmtCommand>{};
    }
    id = next->col_i64(0);
  }
  M2MDM_TRY(
      impl_->exec("UPDATE commands SET state = 'delivered', updated = ? WHERE id = ? AND state = 'queued'", now, id));
  auto c = command_where_id(*impl_, id);
  if (!c) return fail(c.error());
  M2MDM_TRY(tx.commit());
  return std::optional<MgmtCommand>{std::move(*c)};
}

Result<bool> SqliteStore::finish_command(const MgmtCommand& cmd, std::int64_t now) {
  Impl::Lock lock(*impl_);
  M2MDM_TRY(impl_->exec("UPDATE commands SET state = ?, outcome = ?, updated = ? WHERE id = ? AND state = 'delivered'",
                        to_string(cmd.state), outcome_to_json(cmd), now, cmd.id));
  return sqlite3_changes(impl_->db.get()) == 1;
}

Result<bool> SqliteStore::has_queued_command(std::string_view dev_id, std::int64_t now) {
  Impl::Lock lock(*impl_);
  auto queued = impl_->scalar(
      "SELECT count(*) FROM commands WHERE dev_id = ? AND state = 'queued' AND (deadline = 0 OR deadline >= ?)", dev_id,
      now);
  if (!queued) return fail(queued.error());
  return *queued > 0;
}

Result<std::size_t> SqliteStore::fail_orphaned_commands(std::string_view why, std::int64_t now) {
  Impl::Lock lock(*impl_);
  M2MDM_TRY(impl_->exec("UPDATE commands SET state = 'failed', outcome = ?, updated = ? WHERE state = 'delivered'",
                        json{{"error", std::string(why)}}.dump(), now));
  return static_cast<std::size_t>(sqlite3_changes(impl_->db.get()));
}

Result<std::vector<MgmtCommand>> SqliteStore::list_commands(std::string_view dev_id, std::int64_t before_id,
                                                            std::size_t limit) {
  Impl::Lock lock(*impl_);
  return impl_->select_id_page("SELECT " + column_list<kCommandRow>() + " FROM commands WHERE dev_id = ?",
                               {std::string(dev_id)}, before_id, true, limit, read_command);
}

}  // namespace m2mdm::server
