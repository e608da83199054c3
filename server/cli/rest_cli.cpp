// Shared parts of the REST CLI commands (rest_cli.hpp).
#include "rest_cli.hpp"

#include "cli_support.hpp"

#include <cctype>
#include <fstream>
#include <iostream>

namespace m2mdm::cli {

std::string first_line_of(const std::string& path) {
  std::ifstream in(path);
  if (!in) fail("cannot read " + path);
  std::string line;
  std::getline(in, line);
  while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
  if (line.empty()) fail(path + ": no token on its first line");
  return line;
}

std::vector<std::string> read_ndjson_lines(const std::string& path) {
  std::ifstream file;
  std::istream* in = &std::cin;
  if (path != "-") {
    file.open(path);
    if (!file) fail("cannot read " + path);
    in = &file;
  }
  std::vector<std::string> lines;
  std::string line;
  while (std::getline(*in, line)) {
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;  // blank lines
    lines.push_back(std::move(line));
  }
  return lines;
}

RestTarget RestTargetFlags::target() const { return RestTarget(url, ca_files, token_file); }

void add_url_flag(CLI::App& cmd, RestTargetFlags& f, const std::string& help) {
  cmd.add_option("--url", f.url, help)->required();
}

void add_token_file_flag(CLI::App& cmd, RestTargetFlags& f, const std::string& help) {
  cmd.add_option("--token-file", f.token_file, help)->required()->check(CLI::ExistingFile);
}

void add_ca_file_flag(CLI::App& cmd, RestTargetFlags& f) {
  cmd.add_option("--ca-file", f.ca_files, "PEM CA file to verify an https server (repeatable; default: system store)")
      ->allow_extra_args(false);
}

void add_rest_target_flags(CLI::App& cmd, RestTargetFlags& f, const std::string& token_help) {
  add_url_flag(cmd, f);
  add_token_file_flag(cmd, f, token_help);
  add_ca_file_flag(cmd, f);
}

RestTarget::RestTarget(std::string url, const std::vector<std::string>& ca_files, const std::string& token_file)
    : base(std::move(url)), cas(ca_files.begin(), ca_files.end()), token(first_line_of(token_file)) {
  while (!base.empty() && base.back() == '/') base.pop_back();
}

server::HttpCallResult RestTarget::call(const std::string& method, const std::string& path,
                                        const std::string& content_type, std::string body) const {
  server::HttpCall c;
  c.method = method;
  c.url = base + path;
  c.headers.emplace_back("Authorization", "Bearer " + token);
  c.content_type = content_type;
  c.body = std::move(body);
  return server::http_call(c, cas, timeout);
}

std::string error_text(const server::HttpCallResult& r) {
  if (!r.error.empty()) return r.error;
  const auto j = nlohmann::json::parse(r.body, nullptr, false);
  if (!j.is_discarded() && j.is_object()) {
    for (const char* key : {"detail", "message"})
      if (j.contains(key) && j[key].is_string()) return j[key].get<std::string>();
  }
  return r.body;
}

nlohmann::json call_json(const RestTarget& server, const std::string& what, int expected, const std::string& method,
                         const std::string& path, const std::string& body) {
  const auto r = server.call(method, path, body.empty() ? std::string() : "application/json", body);
  if (!r.error.empty()) fail(what + ": " + r.error);
  if (r.status != expected) fail(what + ": HTTP " + std::to_string(r.status) + ": " + error_text(r));
  auto j = nlohmann::json::parse(r.body, nullptr, false);
  if (j.is_discarded()) fail(what + ": the server's answer is not JSON");
  return j;
}

std::string url_escape(std::string_view s, std::string_view also_keep) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~' || also_keep.find(static_cast<char>(c)) != std::string_view::npos) {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

}  // namespace m2mdm::cli
