/// @file query_support.hpp
/// @brief What the read-and-act commands for daily work share (`m2mdm devices list|show`,
///        `m2mdm jobs list|show|cancel`, `m2mdm operator-change list|show`): the REST target
///        with any role's token, `--json`, the rows they print and the validators of their filters.
#pragma once

#include "cli_support.hpp"
#include "rest_cli.hpp"
#include "text_table.hpp"

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace m2mdm::cli {

/// The server, the caller's token and `--json`.
struct QueryFlags : RestTargetFlags {
  bool json_out = false;  ///< print the server's JSON (one line) instead of tables
};

/// Declares --url, --token-file (any role's token: the server decides what it may see),
/// --ca-file and --json on @p cmd.
void add_query_flags(CLI::App& cmd, QueryFlags& f);

/// A CLI validator that accepts what @p parse recognises (an enum's to_string names), naming
/// @p what and the accepted @p names in its message.
template <class Parse>
CLI::Validator names_of(std::string what, std::string names, Parse parse) {
  return CLI::Validator(
      [what, names, parse](std::string& v) -> std::string {
        return parse(v) ? std::string() : "unknown " + what + " '" + v + "' (one of " + names + ")";
      },
      std::string(), what);  // the option's help lists the names
}

/// Adds the sub-command @p name (help @p help) of @p parent with the query flags; @p run gets its
/// flags when it runs. Returns the command and its flags, for the command's own options.
template <class Flags, class Run>
std::pair<CLI::App*, Flags*> add_query_command(CLI::App& parent, const std::string& name, const std::string& help,
                                               Run run) {
  auto [cmd, flags] = add_command<Flags>(parent, name, help, run);
  add_query_flags(*cmd, *flags);
  return {cmd, flags};
}

/// Declares the required positional ID (a positive number) of @p cmd into @p into.
void add_id_argument(CLI::App& cmd, std::int64_t& into, const std::string& help);

/// The names of an enum's values from the first to @p last ("queued, notified, ..."), by the
/// enum's to_string (found next to the enum).
template <class Enum>
std::string enum_names(Enum last) {
  std::string out;
  for (int i = 0; i <= static_cast<int>(last); ++i) out += (i ? ", " : "") + std::string(to_string(static_cast<Enum>(i)));
  return out;
}

/// The elements of the array @p items whose string member @p key equals @p want (all when
/// @p want is empty): the filters the API does not apply itself.
nlohmann::json matching(const nlohmann::json& items, std::string_view key, const std::string& want);

/// Every element of the array @p key of the paged answers to GET @p path (which may already hold
/// a query): pages of 1000 followed by their "next" cursor (`after=`); the command fails (exit 1)
/// naming @p what on any error.
nlohmann::json all_pages(const RestTarget& server, const std::string& what, const std::string& path,
                         const std::string& key);

/// Prints one object: its JSON on one line with --json, else "key: value" lines (print_fields).
void print_object(const nlohmann::json& j, bool json_out);

/// Declares the filter @p flag (e.g. "--state") of @p cmd into @p into: only items whose @p what
/// is the value, one of @p names as @p parse recognises them (checked before any request).
template <class Parse>
void add_name_filter(CLI::App& cmd, const std::string& flag, std::string& into, const std::string& what,
                     const std::string& names, Parse parse) {
  cmd.add_option(flag, into, "only those whose " + what + " is this (" + names + ")")
      ->check(names_of(what, names, parse));
}

/// The string member @p key of @p j, or "-" when absent, null or empty.
std::string text_of(const nlohmann::json& j, std::string_view key);
/// The integer member @p key of @p j as text, or "-" when absent or not a number.
std::string number_of(const nlohmann::json& j, std::string_view key);

/// The table of jobs `m2mdm jobs list` and `devices show` print (the API's Job objects).
TextTable jobs_table(const nlohmann::json& jobs);
/// The table of operator changes `operator-change list` and `devices show` print.
TextTable changes_table(const nlohmann::json& changes);
/// Prints @p j's members as "key: value" lines (times of the keys the API gives in UNIX seconds
/// as UTC), nested objects as "key.sub: value".
void print_fields(std::ostream& out, const nlohmann::json& j, const std::string& prefix = {});

}  // namespace m2mdm::cli
