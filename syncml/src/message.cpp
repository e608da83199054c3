#include "m2mdm/syncml/message.hpp"
#include "m2mdm/syncml/name_table.hpp"

#include <array>
#include <string_view>
#include <utility>

namespace m2mdm::syncml {
namespace {

constexpr std::array<std::pair<CommandKind, const char*>, 11> kNames{{
    {CommandKind::Add, "Add"},
    {CommandKind::Alert, "Alert"},
    {CommandKind::Atomic, "Atomic"},
    {CommandKind::Copy, "Copy"},
    {CommandKind::Delete, "Delete"},
    {CommandKind::Exec, "Exec"},
    {CommandKind::Get, "Get"},
    {CommandKind::Replace, "Replace"},
    {CommandKind::Results, "Results"},
    {CommandKind::Sequence, "Sequence"},
    {CommandKind::Status, "Status"},
}};

}  // namespace

Meta effective_meta(const Item& item, const std::optional<Meta>& command_meta) {
  Meta m = command_meta.value_or(Meta{});
  if (item.meta) {
    if (item.meta->format) m.format = item.meta->format;
    if (item.meta->type) m.type = item.meta->type;
    if (item.meta->size) m.size = item.meta->size;
    if (item.meta->mark) m.mark = item.meta->mark;
  }
  return m;
}

const char* command_name(CommandKind kind) noexcept { return name_in(kNames, kind).value_or("?"); }

std::optional<CommandKind> command_from_name(std::string_view name) noexcept { return value_in(kNames, name); }

CommandKind Command::kind() const noexcept {
  struct Visitor {
    CommandKind operator()(const Alert&) const { return CommandKind::Alert; }
    CommandKind operator()(const ItemCommand& c) const { return c.kind; }
    CommandKind operator()(const Status&) const { return CommandKind::Status; }
    CommandKind operator()(const Results&) const { return CommandKind::Results; }
    CommandKind operator()(const Container& c) const { return c.kind; }
  };
  return std::visit(Visitor{}, value);
}

std::uint32_t Command::cmd_id() const noexcept {
  return std::visit([](const auto& c) { return c.cmd_id; }, value);
}

}  // namespace m2mdm::syncml
