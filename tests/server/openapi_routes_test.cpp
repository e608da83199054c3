// docs/openapi.yaml against the route table (issue 15: the spec missed 401/403 on some paths):
// every route of RestApi::routes() is in the spec with its method, every operation of the spec is
// a route, every /api/v1 operation lists 401 and 403 (every token is checked first, then its
// role), and every /api/v1 operation with a JSON request body lists 415 (the one media-type rule,
// api/request_parts.hpp). The spec is read line by line in its own layout: paths at two spaces,
// methods at four, response codes at eight.
#include "api/rest_api.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <string>

namespace m2mdm::server {
namespace {

struct Operation {
  std::set<std::string> codes;
  bool json_body = false;
};

// "METHOD path" -> what the spec lists for it.
std::map<std::string, Operation> read_spec() {
  std::ifstream in(std::string(M2MDM_SOURCE_DIR) + "/docs/openapi.yaml");
  EXPECT_TRUE(in) << "docs/openapi.yaml";
  const std::regex path_re(R"(^  (/\S+):\s*$)"), method_re(R"(^    (get|post|put|patch|delete|head):\s*$)"),
      code_re(R"re(^        "(\d{3})":)re"), body_re(R"(^          application/json:)");
  std::map<std::string, Operation> ops;
  std::string path, key, line;
  bool in_body = false;
  while (std::getline(in, line)) {
    if (line.rfind("components:", 0) == 0) break;
    std::smatch m;
    if (std::regex_match(line, m, path_re)) {
      path = m[1];
      key.clear();
    } else if (!path.empty() && std::regex_match(line, m, method_re)) {
      std::string method = m[1];
      for (auto& c : method) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      key = method + " " + path;
      ops[key];
      in_body = false;
    } else if (!key.empty()) {
      if (line.rfind("      requestBody:", 0) == 0) in_body = true;
      if (line.rfind("      responses:", 0) == 0) in_body = false;
      if (in_body && std::regex_search(line, body_re)) ops[key].json_body = true;
      if (std::regex_search(line, m, code_re)) ops[key].codes.insert(m[1]);
    }
  }
  return ops;
}

TEST(OpenApi, ListsEveryRouteWithItsAnswers) {
  const auto spec = read_spec();
  ASSERT_GT(spec.size(), 30u);
  // Aliases the spec names in the summary of their route instead of a path of their own.
  const std::set<std::string> aliases = {"POST /api/v1/devices/import"};
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
      EXPECT_TRUE(op->second.codes.contains("403")) << key << ": no 403 in docs/openapi.yaml";
      if (op->second.json_body) EXPECT_TRUE(op->second.codes.contains("415")) << key << ": no 415 in docs/openapi.yaml";
    }
  }
  for (const auto& [key, op] : spec) EXPECT_TRUE(routes.contains(key)) << key << " is in docs/openapi.yaml but not a route";
}

}  // namespace
}  // namespace m2mdm::server
