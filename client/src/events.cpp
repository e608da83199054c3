// Names of the device events (see m2mdm/client/events.hpp). The names are a wire format: the
// `event` field of m2mdm-device's JSON lines; never rename one.
#include "m2mdm/client/events.hpp"
#include "m2mdm/syncml/name_table.hpp"

#include <array>
#include <utility>

namespace m2mdm::client {
namespace {

using K = DeviceEventKind;
constexpr std::array<std::pair<K, std::string_view>, 16> kNames{{
    {K::device_ready, "device_ready"},
    {K::push_refused, "push_refused"},
    {K::bootstrap_applied, "bootstrap_applied"},
    {K::bootstrap_refused, "bootstrap_refused"},
    {K::package0_verified, "package0_verified"},
    {K::package0_refused, "package0_refused"},
    {K::session_started, "session_started"},
    {K::session_completed, "session_completed"},
    {K::session_failed, "session_failed"},
    {K::mcim_installed, "mcim_installed"},
    {K::mcim_install_failed, "mcim_install_failed"},
    {K::mcim_operation, "mcim_operation"},
    {K::mcim_blocked, "mcim_blocked"},
    {K::listening, "listening"},
    {K::push_received, "push_received"},
    {K::stopping, "stopping"},
}};

}  // namespace

std::string_view to_string(DeviceEventKind kind) noexcept {
  return syncml::name_in(kNames, kind).value_or("unknown");
}

std::optional<DeviceEventKind> parse_device_event_kind(std::string_view name) noexcept {
  return syncml::value_in(kNames, name);
}

const std::vector<DeviceEventKind>& all_device_event_kinds() {
  static const std::vector<DeviceEventKind> kinds = [] {
    std::vector<DeviceEventKind> v;
    for (const auto& [k, name] : kNames) v.push_back(k);
    return v;
  }();
  return kinds;
}

std::string_view to_string(EventSeverity severity) noexcept {
  switch (severity) {
    case EventSeverity::debug: return "debug";
    case EventSeverity::info: return "info";
    case EventSeverity::warning: return "warning";
    case EventSeverity::error: return "error";
  }
  return "info";
}

}  // namespace m2mdm::client
