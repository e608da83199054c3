// docs/openapi.yaml against the route table (issue 15: the spec missed 401/403 on some paths):
// every route of RestApi::routes() is in the spec with its method, every operation of the spec is
// a route, every /api/v1 operation lists 401 and 403 (every token is checked first, then its
// role), and every /api/v1 operation with a JSON request body lists 415 (the one media-type rule,
// api/request_parts.hpp). The spec is read line by line in its own layout: paths at two spaces,
// methods at four, fields of an operation at six, response codes at eight.
#include "api/rest_api.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <set>
#include <string>
#include <string_view>

namespace m2mdm::server {
namespace {

struct Operation {
  std::set<std::string> codes;
  bool json_body = false;
};

// The text after exactly @p n leading spaces ("" when the line is indented otherwise).
std::string_view at_indent(std::string_view line, std::size_t n) {
  if (line.size() <= n || line.find_first_not_of(' ') != n) return {};
  return line.substr(n);
}

// "METHOD path" -> what the spec lists for it.
std::map<std::string, Operation> read_spec() {
  std::ifstream in(std::string(M2MDM_SOURCE_DIR) + "/docs/openapi.yaml");
  EXPECT_TRUE(in) << "docs/openapi.yaml";
  const std::set<std::string_view> methods = {"get:", "post:", "put:", "patch:", "delete:", "head:"};
  std::map<std::string, Operation> ops;
  std::string path, key, line;
  bool in_body = false;
  while (std::getline(in, line)) {
    if (line.starts_with("components:")) break;
    if (auto p = at_indent(line, 2); p.starts_with("/") && p.ends_with(":")) {
      path = p.substr(0, p.size() - 1);
      key.clear();
    } else if (auto m = at_indent(line, 4); !path.empty() && methods.contains(m)) {
      std::string method(m.substr(0, m.size() - 1));
      for (auto& c : method) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      key = method + " " + path;
      ops[key];
      in_body = false;
    } else if (!key.empty()) {
      if (auto f = at_indent(line, 6); !f.empty()) in_body = f.starts_with("requestBody:");
      if (in_body && at_indent(line, 10).starts_with("application/json:")) ops[key].json_body = true;
      // A response: '"401": ...' at eight spaces.
      if (auto c = at_indent(line, 8); c.size() >= 6 && c[0] == '"' && c[4] == '"' && c[5] == ':') {
        ops[key].codes.insert(std::string(c.substr(1, 3)));
      }
    }
  }
  return ops;
}

TEST(OpenApi, ListsEveryRouteWithItsAnswers) {
  const auto spec = read_spec();
  ASSERT_GT(spec.size(), 30u);
  // Aliases the spec names in the summary of their route instead of a path of their own.
  const std::set<std::string> aliases = {"POST /api/v1/devices/import"};
  // Routes every valid token may call: no role check, so no 403.
  const std::set<std::string> every_token = {"GET /api/v1/whoami"};
  std::set<std::string> routes;
  for (const auto& r : RestApi::routes()) {
    if (r.handler == nullptr) continue;  // a guard row, not an endpoint
    const std::string key = std::string(r.method) + " " + std::string(r.pattern);
    routes.insert(key);
    if (aliases.contains(key)) continue;
    auto op = spec.find(key);
    if (op == spec.end()) {
      ADD_FAILURE() << key << " is a route but not in docs/openapi.yaml";
      continue;
    }
    if (r.pattern.starts_with("/api/v1/")) {
      EXPECT_TRUE(op->second.codes.contains("401")) << key << ": no 401 in docs/openapi.yaml";
      if (!every_token.contains(key)) {
        EXPECT_TRUE(op->second.codes.contains("403")) << key << ": no 403 in docs/openapi.yaml";
      }
      if (op->second.json_body) {
        EXPECT_TRUE(op->second.codes.contains("415")) << key << ": no 415 in docs/openapi.yaml";
      }
    }
  }
  for (const auto& [key, op] : spec) EXPECT_TRUE(routes.contains(key)) << key << " is in docs/openapi.yaml but not a route";
}

}  // namespace
}  // namespace m2mdm::server
