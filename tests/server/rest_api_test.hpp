// The fixture of the REST API tests (rest_test.cpp, console_api_test.cpp): an ApiRouter over a
// real SQLite store in a temp dir, the operator's and a VNO's tokens, a mock clock, one call
// through the router, and an SHO created through the API.
#pragma once

#include "test_util.hpp"

#include "m2mdm/server/pva.hpp"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <memory>
#include <string>
#include <utility>

namespace m2mdm::server::test {

inline const std::string kAdminToken = "admin-token-0123456789abcdef";
inline const std::string kVnoToken = "vno-token-0123456789abcdef";

struct RestApiTest : ::testing::Test {
  TempDir dir;
  std::unique_ptr<SqliteStore> store = open_store(dir.path() / "m2mdm.sqlite");
  Pva pva;
  std::unique_ptr<ApiRouter> router;
  MockClock t{1'800'000'000};

  void SetUp() override {
    ASSERT_TRUE(store);
    ApiOptions o;
    o.admin_token_hash = hash_token(kAdminToken);
    o.vno_token_hashes.push_back(hash_token(kVnoToken));
    o.default_dpf_address = "https://ro.test/dm";
    router = std::make_unique<ApiRouter>(*store, pva, o, t.fn());
  }

  HttpResponse call(std::string method, std::string target, std::string token = {}, std::string body = {},
                    std::string content_type = "application/json") {
    return api_call(*router, std::move(method), std::move(target), token, std::move(body), content_type);
  }
  static nlohmann::json js(const HttpResponse& r) { return nlohmann::json::parse(r.body); }

  /// Creates an SHO through the API and returns {id, token}.
  std::pair<std::int64_t, std::string> make_sho(const std::string& name) {
    auto r = call("POST", "/api/v1/shos", kAdminToken, nlohmann::json{{"name", name}}.dump());
    EXPECT_EQ(r.status, 201) << r.body;
    auto j = js(r);
    return {j["id"].get<std::int64_t>(), j["token"].get<std::string>()};
  }
};

}  // namespace m2mdm::server::test
