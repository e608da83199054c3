// Names of the management command enums (m2mdm/server/mgmt_command.hpp).
#include "m2mdm/server/mgmt_command.hpp"

#include <array>
#include <utility>

namespace m2mdm::server {
namespace {
template <class E, std::size_t N>
std::optional<E> lookup(const std::array<std::pair<E, std::string_view>, N>& table, std::string_view s) noexcept {
  for (const auto& [e, name] : table)
    if (name == s) return e;
  return std::nullopt;
}
template <class E, std::size_t N>
std::string_view name_of(const std::array<std::pair<E, std::string_view>, N>& table, E e) noexcept {
  for (const auto& [v, name] : table)
    if (v == e) return name;
  return "?";
}
constexpr std::array<std::pair<MgmtVerb, std::string_view>, 6> kVerbs{{{MgmtVerb::get, "Get"},
                                                                        {MgmtVerb::replace, "Replace"},
                                                                        {MgmtVerb::add, "Add"},
                                                                        {MgmtVerb::del, "Delete"},
                                                                        {MgmtVerb::exec, "Exec"},
                                                                        {MgmtVerb::copy, "Copy"}}};
constexpr std::array<std::pair<MgmtWrap, std::string_view>, 3> kWraps{
    {{MgmtWrap::none, "none"}, {MgmtWrap::atomic, "Atomic"}, {MgmtWrap::sequence, "Sequence"}}};
constexpr std::array<std::pair<MgmtState, std::string_view>, 5> kStates{{{MgmtState::queued, "queued"},
                                                                          {MgmtState::delivered, "delivered"},
                                                                          {MgmtState::completed, "completed"},
                                                                          {MgmtState::failed, "failed"},
                                                                          {MgmtState::expired, "expired"}}};
}  // namespace

std::string_view to_string(MgmtVerb v) noexcept { return name_of(kVerbs, v); }
std::optional<MgmtVerb> mgmt_verb_from_string(std::string_view s) noexcept { return lookup(kVerbs, s); }
std::string_view to_string(MgmtWrap w) noexcept { return name_of(kWraps, w); }
std::optional<MgmtWrap> mgmt_wrap_from_string(std::string_view s) noexcept { return lookup(kWraps, s); }
std::string_view to_string(MgmtState s) noexcept { return name_of(kStates, s); }
std::optional<MgmtState> mgmt_state_from_string(std::string_view s) noexcept { return lookup(kStates, s); }

}  // namespace m2mdm::server
