// Shared parts of the daily-work commands (query_support.hpp).
#include "query_support.hpp"

#include <array>
#include <iostream>
#include <ostream>

namespace m2mdm::cli {
namespace {
using json = nlohmann::json;

// The API's members that hold a UNIX time in seconds (docs/openapi.yaml).
bool is_time_key(std::string_view key) {
  static constexpr std::array kKeys{"lastSeen", "created", "updated", "deadline", "at", "completedAt"};
  for (const char* k : kKeys)
    if (key == k) return true;
  return false;
}

std::string cell(const json& v, std::string_view key) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_boolean()) return v.get<bool>() ? "yes" : "no";
  if (v.is_number_integer() && is_time_key(key)) return utc_time(v.get<std::int64_t>());
  if (v.is_null()) return "-";
  return v.dump();
}
}  // namespace

void add_query_flags(CLI::App& cmd, QueryFlags& f) {
  add_rest_target_flags(cmd, f, "file whose first line is a bearer token (operator, SHO or subscriber: the server shows what it may see)");
  cmd.add_flag("--json", f.json_out, "print the server's JSON (one line) instead of a table");
}

void add_id_argument(CLI::App& cmd, std::int64_t& into, const std::string& help) {
  cmd.add_option("ID", into, help)->required()->check(CLI::PositiveNumber);
}

std::string text_of(const json& j, std::string_view key) {
  const auto it = j.find(key);
  if (it == j.end() || it->is_null()) return "-";
  std::string s = it->is_string() ? it->get<std::string>() : it->dump();
  return s.empty() ? "-" : s;
}

std::string number_of(const json& j, std::string_view key) {
  const auto it = j.find(key);
  return it != j.end() && it->is_number_integer() ? std::to_string(it->get<std::int64_t>()) : "-";
}

json matching(const json& items, std::string_view key, const std::string& want) {
  json out = json::array();
  for (const auto& item : items)
    if (want.empty() || (item.contains(key) && item[std::string(key)] == want)) out.push_back(item);
  return out;
}

json all_pages(const RestTarget& server, const std::string& what, const std::string& path, const std::string& key) {
  json out = json::array();
  const std::string sep = path.find('?') == std::string::npos ? "?" : "&";
  std::string after;
  for (;;) {
    const json page = call_json(server, what, 200, "GET", path + sep + "limit=1000" + (after.empty() ? "" : "&after=" + url_escape(after)));
    for (const auto& item : page.value(key, json::array())) out.push_back(item);
    const auto next = page.find("next");
    if (next == page.end() || next->is_null()) return out;
    after = next->is_string() ? next->get<std::string>() : next->dump();
  }
}

void print_object(const json& j, bool json_out) {
  if (json_out) {
    std::cout << j.dump() << '\n';
  } else {
    print_fields(std::cout, j);
  }
}

TextTable jobs_table(const json& jobs) {
  TextTable t({"ID", "KIND", "STATE", "ATTEMPTS", "RESULT", "CORRELATOR", "UPDATED"});
  for (const auto& j : jobs) {
    std::string result = "-";
    if (const auto r = j.find("result"); r != j.end() && r->is_object()) {
      result = number_of(*r, "code");
      if (const std::string m = text_of(*r, "message"); m != "-") result += " " + m;
    }
    t.add({number_of(j, "id"), text_of(j, "kind"), text_of(j, "state"), number_of(j, "attempts"), result,
           text_of(j, "correlator"), utc_time(j.value("updated", std::int64_t{0}))});
  }
  return t;
}

TextTable changes_table(const json& changes) {
  TextTable t({"ID", "DEVID", "VARIANT", "STATE", "FROM", "TO", "RESULT", "DISCARDED", "ACKED", "UPDATED"});
  for (const auto& c : changes) {
    t.add({number_of(c, "id"), text_of(c, "devId"), text_of(c, "variant"), text_of(c, "state"), number_of(c, "fromSho"),
           number_of(c, "toSho"), number_of(c, "resultCode"), c.value("discarded", false) ? "yes" : "no",
           c.value("acknowledged", false) ? "yes" : "no", utc_time(c.value("updated", std::int64_t{0}))});
  }
  return t;
}

void print_fields(std::ostream& out, const json& j, const std::string& prefix) {
  for (const auto& [key, value] : j.items()) {
    if (value.is_object()) {
      print_fields(out, value, prefix + key + ".");
    } else {
      out << prefix << key << ": " << cell(value, key) << '\n';
    }
  }
}

}  // namespace m2mdm::cli
