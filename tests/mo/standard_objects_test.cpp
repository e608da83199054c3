#include "m2mdm/mo/standard_objects.hpp"

#include <gtest/gtest.h>

namespace m2mdm::mo {
namespace {

Bytes b(std::string_view s) { return Bytes(s.begin(), s.end()); }

class StdObjects : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(install_devinfo(tree_, DevInfo{"IMEI:490154203237518", "ACME", "M2M-1", "1.2", "en-US"}), StatusCode::Ok);
    DevDetail d;
    d.oem = "ACME";
    d.fw_v = "1.0";
    d.uri = UriLimits{12, 200, 32};
    ASSERT_EQ(install_devdetail(tree_, d), StatusCode::Ok);
    ASSERT_EQ(install_dmacc(tree_), StatusCode::Ok);
    acc_.node_name = "dpf1";
    acc_.server_id = "dpf.example";
    acc_.name = "DPF";
    acc_.pref_con_ref = "napdef1";
    acc_.aauth_pref = "DIGEST";
    acc_.app_addr.push_back(DmAppAddr{"1", "https://dpf.example:8443/dm", "URI", {"8443", "443"}});
    acc_.app_auth.push_back(DmAppAuth{"SRVCRED", "SRVCRED", "DIGEST", "dpf.example", "srvsecret", b("nonce1")});
    acc_.app_auth.push_back(DmAppAuth{"CLCRED", "CLCRED", "DIGEST", "dev1", "clsecret", Bytes{0, 1, 2}});
    ASSERT_EQ(write_dm_account(tree_, acc_), StatusCode::Ok);
  }
  Tree tree_;
  DmAccountView acc_;
};

TEST_F(StdObjects, DevInfoIsReadableAndReadOnly) {
  const auto any = Caller::server("whoever");
  const auto r = tree_.get(any, "./DevInfo/DevId");
  ASSERT_EQ(r.status, StatusCode::Ok);
  EXPECT_EQ(as_chars(r.items[0].data), "IMEI:490154203237518");
  EXPECT_EQ(as_chars(tree_.get(any, "./DevInfo").items[0].data), "DevId/DmV/Ext/Lang/Man/Mod");
  EXPECT_EQ(as_chars(tree_.get(any, "./DevInfo?prop=Type").items[0].data), kDevInfoUrn);
  EXPECT_EQ(tree_.get_text("./DevInfo/DmV"), "1.2");
  // The root ACL gives nobody Replace here; with an ACL granting it, the DDF still says Get only.
  EXPECT_EQ(tree_.replace(any, "./DevInfo/Man", NodeValue{Format::Chr, {}, b("X")}), StatusCode::PermissionDenied);
  ASSERT_EQ(tree_.set_acl("./DevInfo", Acl::of("Get=*&Replace=*&Delete=*&Add=*")), StatusCode::Ok);
  EXPECT_EQ(tree_.replace(any, "./DevInfo/Man", NodeValue{Format::Chr, {}, b("X")}), StatusCode::CommandNotAllowed);
  EXPECT_EQ(tree_.remove(any, "./DevInfo/Man"), StatusCode::CommandNotAllowed);
  EXPECT_EQ(tree_.add(any, "./DevInfo/Extra", NodeValue{Format::Chr, {}, b("X")}), StatusCode::CommandNotAllowed);
}

TEST_F(StdObjects, DevDetailPublishesUriLimits) {
  EXPECT_EQ(tree_.get_text("./DevDetail/URI/MaxDepth"), "12");
  EXPECT_EQ(tree_.get_text("./DevDetail/URI/MaxTotLen"), "200");
  EXPECT_EQ(tree_.get_text("./DevDetail/URI/MaxSegLen"), "32");
  EXPECT_EQ(tree_.get_text("./DevDetail/LrgObj"), "true");
  EXPECT_EQ(tree_.find("./DevDetail/LrgObj")->format, Format::Bool);
  EXPECT_EQ(tree_.get_text("./DevDetail/OEM"), "ACME");
}

// Every field of every AppAddr and AppAuth <x> reads back as written, each under its node name.
TEST_F(StdObjects, DmAccountListsReadBackWhole) {
  acc_.app_addr.push_back(DmAppAddr{"2", "https://backup.example/dm", "IPv4", {}});
  ASSERT_EQ(write_dm_account(tree_, acc_), StatusCode::Ok);
  const auto back = read_dm_account(tree_, "dpf1");
  ASSERT_TRUE(back);
  ASSERT_EQ(back->app_addr.size(), 2u);
  for (std::size_t i = 0; i < 2; ++i) {
    EXPECT_EQ(back->app_addr[i].name, acc_.app_addr[i].name) << i;
    EXPECT_EQ(back->app_addr[i].addr, acc_.app_addr[i].addr) << i;
    EXPECT_EQ(back->app_addr[i].addr_type, acc_.app_addr[i].addr_type) << i;
    EXPECT_EQ(back->app_addr[i].ports, acc_.app_addr[i].ports) << i;
  }
  ASSERT_EQ(back->app_auth.size(), 2u);
  for (std::size_t i = 0; i < 2; ++i) {
    const DmAppAuth& written = acc_.app_auth[1 - i];  // read back in name order: CLCRED, SRVCRED
    EXPECT_EQ(back->app_auth[i].name, written.name) << i;
    EXPECT_EQ(back->app_auth[i].level, written.level) << i;
    EXPECT_EQ(back->app_auth[i].type, written.type) << i;
    EXPECT_EQ(back->app_auth[i].auth_name, written.auth_name) << i;
    EXPECT_EQ(back->app_auth[i].secret, written.secret) << i;
    EXPECT_EQ(back->app_auth[i].data, written.data) << i;
  }
}

TEST_F(StdObjects, DmAccountRoundTrip) {
  const auto back = read_dm_account(tree_, "dpf1");
  ASSERT_TRUE(back);
  EXPECT_EQ(back->server_id, "dpf.example");
  EXPECT_EQ(back->name, "DPF");
  EXPECT_EQ(back->pref_con_ref, "napdef1");
  EXPECT_EQ(back->aauth_pref, "DIGEST");
  ASSERT_EQ(back->app_addr.size(), 1u);
  EXPECT_EQ(back->app_addr[0].addr, "https://dpf.example:8443/dm");
  EXPECT_EQ(back->app_addr[0].ports, (std::vector<std::string>{"8443", "443"}));
  ASSERT_EQ(back->app_auth.size(), 2u);
  EXPECT_EQ(back->app_auth[0].name, "CLCRED");  // name order
  EXPECT_EQ(back->app_auth[0].data, (Bytes{0, 1, 2}));
  EXPECT_EQ(back->app_auth[1].secret, "srvsecret");
  EXPECT_EQ(find_dm_account(tree_, "dpf.example")->node_name, "dpf1");
  EXPECT_FALSE(find_dm_account(tree_, "other"));
  EXPECT_FALSE(read_dm_account(tree_, "nothing"));
  EXPECT_EQ(tree_.find("./DMAcc/dpf1")->type, kDmAccUrn);
}

TEST_F(StdObjects, DmAccountAclBelongsToItsServer) {
  const auto own = Caller::server("dpf.example");
  const auto other = Caller::server("evil.example");
  EXPECT_EQ(tree_.find("./DMAcc/dpf1")->acl.format(), "Delete=dpf.example&Get=dpf.example&Replace=dpf.example");
  EXPECT_EQ(tree_.get(own, "./DMAcc/dpf1/Name").status, StatusCode::Ok);
  EXPECT_EQ(tree_.get(other, "./DMAcc/dpf1/Name").status, StatusCode::PermissionDenied);
  EXPECT_EQ(tree_.replace(own, "./DMAcc/dpf1/Name", NodeValue{Format::Chr, {}, b("New")}), StatusCode::Ok);
  EXPECT_EQ(tree_.replace(other, "./DMAcc/dpf1/Name", NodeValue{Format::Chr, {}, b("X")}), StatusCode::PermissionDenied);
  // Secrets are never readable, even by the owner (DDF AccessType Add, Replace).
  EXPECT_EQ(tree_.get(own, "./DMAcc/dpf1/AppAuth/SRVCRED/AAuthSecret").status, StatusCode::CommandNotAllowed);
  EXPECT_EQ(tree_.get(own, "./DMAcc/dpf1/AppAuth/SRVCRED/AAuthData").status, StatusCode::CommandNotAllowed);
  EXPECT_EQ(tree_.replace(own, "./DMAcc/dpf1/AppAuth/SRVCRED/AAuthSecret", NodeValue{Format::Chr, {}, b("n")}),
            StatusCode::Ok);
  // Other servers cannot create accounts (./DMAcc is Get=*).
  EXPECT_EQ(tree_.add(other, "./DMAcc/evil", NodeValue{Format::Node, {}, {}}), StatusCode::PermissionDenied);
  // The owner may delete its account; ./DMAcc itself is permanent.
  EXPECT_EQ(tree_.remove(other, "./DMAcc/dpf1"), StatusCode::PermissionDenied);
  EXPECT_EQ(tree_.remove(own, "./DMAcc/dpf1"), StatusCode::Ok);
  EXPECT_FALSE(tree_.exists("./DMAcc/dpf1/AppAddr/1/Addr"));
}

TEST_F(StdObjects, RewritingAnAccountReplacesIt) {
  acc_.app_addr[0].ports = {"80"};
  acc_.app_auth.pop_back();
  ASSERT_EQ(write_dm_account(tree_, acc_), StatusCode::Ok);
  const auto back = read_dm_account(tree_, "dpf1");
  EXPECT_EQ(back->app_addr[0].ports, (std::vector<std::string>{"80"}));
  EXPECT_EQ(back->app_auth.size(), 1u);
  EXPECT_EQ(list_dm_accounts(tree_).size(), 1u);
}

TEST_F(StdObjects, InvalidAccountLeavesTreeUnchanged) {
  DmAccountView bad = acc_;
  bad.node_name = "dpf2";
  bad.app_addr[0].ports = {"not-a-number"};
  EXPECT_EQ(write_dm_account(tree_, bad), StatusCode::BadRequest);
  EXPECT_FALSE(tree_.exists("./DMAcc/dpf2"));
  bad.node_name = "a/b";
  EXPECT_EQ(write_dm_account(tree_, bad), StatusCode::BadRequest);
  bad.node_name = "dpf3";
  bad.server_id = "";
  EXPECT_EQ(write_dm_account(tree_, bad), StatusCode::BadRequest);
}

}  // namespace
}  // namespace m2mdm::mo
