// MgmtRun (see mgmt_run.hpp).
#include "dpf/mgmt_run.hpp"

#include "m2mdm/syncml/encoding.hpp"
#include "m2mdm/syncml/status.hpp"

namespace m2mdm::server {
namespace {

syncml::CommandKind kind_of(MgmtVerb v) {
  switch (v) {
    case MgmtVerb::get: return syncml::CommandKind::Get;
    case MgmtVerb::replace: return syncml::CommandKind::Replace;
    case MgmtVerb::add: return syncml::CommandKind::Add;
    case MgmtVerb::del: return syncml::CommandKind::Delete;
    case MgmtVerb::exec: return syncml::CommandKind::Exec;
    case MgmtVerb::copy: return syncml::CommandKind::Copy;
  }
  return syncml::CommandKind::Get;
}

std::string data_text(const syncml::Item& item) { return item.data.value_or(std::string{}); }

}  // namespace

std::vector<syncml::Command> MgmtRun::build(const std::function<std::uint32_t()>& next_id) {
  std::vector<syncml::Command> out;
  std::optional<syncml::Container> box;
  if (cmd_.wrap != MgmtWrap::none) {
    box.emplace();
    box->kind = cmd_.wrap == MgmtWrap::atomic ? syncml::CommandKind::Atomic : syncml::CommandKind::Sequence;
    box->cmd_id = next_id();
    index_of_[box->cmd_id] = -1;
    ++statuses_due_;
  }
  for (std::size_t i = 0; i < cmd_.ops.size(); ++i) {
    const MgmtOp& op = cmd_.ops[i];
    syncml::ItemCommand c;
    c.kind = kind_of(op.verb);
    c.cmd_id = next_id();
    syncml::Item item;
    item.target = syncml::Location{op.target, std::nullopt};
    // Copy: Source is the node copied, Target where it goes (DM_RepPro 1.2 §6.6.5).
    if (op.verb == MgmtVerb::copy) item.source = syncml::Location{op.source, std::nullopt};
    if (!op.format.empty() || !op.type.empty()) {
      syncml::Meta meta;
      if (!op.format.empty()) meta.format = op.format;
      if (!op.type.empty()) meta.type = op.type;
      item.meta = std::move(meta);
    }
    item.data = op.data;
    c.items.push_back(std::move(item));
    index_of_[c.cmd_id] = static_cast<int>(i);
    ++statuses_due_;
    if (box)
      box->commands.push_back(syncml::Command{std::move(c)});
    else
      out.push_back(syncml::Command{std::move(c)});
  }
  if (box) out.push_back(syncml::Command{std::move(*box)});
  return out;
}

void MgmtRun::on_status(const syncml::Status& st) {
  auto it = index_of_.find(st.cmd_ref);
  if (it == index_of_.end()) return;
  // One Status per command: a repeated one (the device's retransmission) is not counted twice.
  for (const auto& s : cmd_.statuses)
    if (s.index == it->second) return;
  cmd_.statuses.push_back({it->second, st.cmd, st.data});
  if (statuses_due_ > 0) --statuses_due_;
  // A Get the device accepted owes its Results (DM_RepPro 1.2 §6.6.12).
  const int index = it->second;
  if (index >= 0 && static_cast<std::size_t>(index) < cmd_.ops.size() && cmd_.ops[index].verb == MgmtVerb::get &&
      syncml::is_success(static_cast<syncml::StatusCode>(st.data)) && !results_seen_.contains(index))
    results_due_.insert(index);
}

void MgmtRun::results_arrived(int index) {
  results_seen_.insert(index);
  results_due_.erase(index);
}

std::optional<syncml::StatusCode> MgmtRun::on_results(const syncml::Results& res, std::uint64_t max_obj_size) {
  auto it = index_of_.find(res.cmd_ref);
  if (it == index_of_.end()) return std::nullopt;
  const int index = it->second;
  std::optional<syncml::StatusCode> reply;
  for (const auto& item : res.items) {
    const syncml::Meta meta = syncml::effective_meta(item, res.meta);
    const std::string source = item.source ? item.source->loc_uri : res.source_ref.value_or(res.target_ref.value_or(""));
    if (!assembler_.active() && !item.more_data) {
      // A whole object in one item.
      cmd_.results.push_back({index, source, meta.format.value_or(""), meta.type.value_or(""), data_text(item)});
      results_arrived(index);
      continue;
    }
    if (!assembler_.active()) {
      // The first chunk of a large object: it must declare its Size, within our MaxObjSize
      // (DM_RepPro 1.2 §7; DM_Protocol 1.2 §6.10).
      const syncml::StatusCode first = assembler_.begin(source, meta, max_obj_size);
      if (first != syncml::StatusCode::Ok) {
        cmd_.statuses.push_back({index, "Results", syncml::code(first)});
        reply = first;
        results_arrived(index);  // refused (413/411): nothing more of it will be taken
        continue;
      }
      pending_ = {index, source, meta.format.value_or(""), meta.type.value_or(""), {}};
    }
    // A b64 object travels as chunks each base64-encoded on its own; Size counts the decoded bytes.
    const bool b64 = assembler_.base64();
    const syncml::StatusCode s = assembler_.append_data(data_text(item), item.more_data);
    reply = s;
    if (s == syncml::StatusCode::Ok) {
      const Bytes whole = assembler_.take();
      if (b64)
        pending_.data = base64_encode(whole);
      else
        pending_.data.assign(whole.begin(), whole.end());
      cmd_.results.push_back(std::move(pending_));
      pending_ = {};
      results_arrived(index);
    } else if (s != syncml::StatusCode::ChunkedItemAccepted) {
      // 400 (a chunk that is not base64) or 424: the object is discarded, and reported.
      cmd_.statuses.push_back({index, "Results", syncml::code(s)});
      pending_ = {};
      results_arrived(index);
    }
  }
  return reply;
}

}  // namespace m2mdm::server
