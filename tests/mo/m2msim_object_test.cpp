#include "m2mdm/mo/m2msim_object.hpp"

#include "m2mdm/mo/tree_store.hpp"
#include "m2mdm/test/files.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

namespace m2mdm::mo {
namespace {

Bytes b(std::string_view s) { return Bytes(s.begin(), s.end()); }
const std::string kDdf = std::string(M2MDM_SOURCE_DIR) + "/mo/ddf/m2msim.ddf";

using m2mdm::test::slurp;

class M2msim : public ::testing::Test {
 protected:
  M2msim() : tree_(options()) {}
  static TreeOptions options() {
    TreeOptions o;
    o.clock = [] { return std::int64_t{1700000000}; };
    return o;
  }
  void SetUp() override {
    M2msimConfig c;
    c.pfc_der = Bytes{0x30, 0x82, 0x01, 0x0A, 0x02};
    c.dev_id = "IMEI:490154203237518";
    c.servers = {"dpf.example"};
    ASSERT_EQ(install_m2msim_object(tree_, c), StatusCode::Ok);
  }
  Tree tree_;
  Caller dpf_ = Caller::server("dpf.example");
  Caller other_ = Caller::server("other.example");
};

TEST(M2msimDdf, IsWellFormedXml) {
  const std::string cmd = "xmllint --noout --nonet '" + kDdf + "'";
  EXPECT_EQ(std::system(cmd.c_str()), 0) << cmd;
}

// The table the tree enforces is the one the published DDF states, node by node.
TEST(M2msimDdf, MatchesTheEnforcedRules) {
  const auto ddf = rules_from_ddf(slurp(kDdf));
  ASSERT_TRUE(ddf) << ddf.error().message();
  std::map<std::string, NodeRule> from_ddf;
  for (const auto& r : *ddf) from_ddf.emplace(r.pattern, r);
  const auto code = m2msim_rules();
  ASSERT_EQ(from_ddf.size(), code.size());
  for (const auto& r : code) {
    const auto it = from_ddf.find(r.pattern);
    ASSERT_NE(it, from_ddf.end()) << r.pattern;
    EXPECT_EQ(it->second.access, r.access) << r.pattern;
    EXPECT_EQ(it->second.scope, r.scope) << r.pattern;
    EXPECT_EQ(it->second.format, r.format) << r.pattern;
    EXPECT_EQ(it->second.type, r.type) << r.pattern;
  }
}

// What the DDF does not state: the order of the table (the tree takes the first rule that
// matches), the formats a leaf also accepts, titles and size limits.
TEST(M2msimDdf, EnforcedRulesInTheirOrderWithTheirExtraFormats) {
  const std::vector<std::string> order{
      "",
      "PfC",
      "DevId",
      "MCIM",
      "MCIM/*",
      "MCIM/*/Id",
      "MCIM/*/SHO",
      "MCIM/*/State",
      "MCIM/*/Counter",
      "MCIM/*/LastResult",
      "MCIM/*/Operations",
      "MCIM/*/Operations/Activate",
      "MCIM/*/Operations/Deactivate",
      "MCIM/*/Operations/Delete",
      "Download",
      "Download/*",
      "Download/*/Package",
      "Download/*/TransactionId",
      "Download/*/AuthToken",
      "Download/*/State",
      "Download/*/Operations",
      "Download/*/Operations/Install",
      "Operations",
      "Operations/ResetToPristine",
      "ReBootstrap",
      "ReBootstrap/Armed",
      "ReBootstrap/ArmedBy",
      "ReBootstrap/Expiry",
      "ReBootstrap/Operations",
      "ReBootstrap/Operations/Arm",
      "ReBootstrap/Operations/Disarm",
      "Ext",
  };
  const std::set<std::string> also_b64{"PfC", "Download/*/Package", "Download/*/AuthToken"};
  const auto rules = m2msim_rules();
  ASSERT_EQ(rules.size(), order.size());
  for (std::size_t i = 0; i < rules.size(); ++i) {
    const std::string rel = order[i];
    EXPECT_EQ(rules[i].pattern, rel.empty() ? std::string(kM2msimRoot) : std::string(kM2msimRoot) + "/" + rel) << i;
    const unsigned b64 = 1u << static_cast<unsigned>(Format::B64);
    EXPECT_EQ(rules[i].also_formats, also_b64.contains(rel) ? b64 : 0u) << rel;
    EXPECT_TRUE(rules[i].title.empty()) << rel;
    EXPECT_EQ(rules[i].max_size, 0u) << rel;
  }
}

TEST(M2msimDdf, ParserRefusesMalformedDdf) {
  EXPECT_FALSE(rules_from_ddf("<MgmtTree><Node>"));
  EXPECT_FALSE(rules_from_ddf("<Other/>"));
  EXPECT_FALSE(rules_from_ddf("<MgmtTree><Node><NodeName>A</NodeName></Node></MgmtTree>"));
  EXPECT_FALSE(rules_from_ddf(
      "<MgmtTree><Node><NodeName>A</NodeName><DFProperties><DFFormat><blob/></DFFormat></DFProperties></Node></MgmtTree>"));
  const auto ok = rules_from_ddf(
      "<MgmtTree><Node><NodeName>A</NodeName><DFProperties><AccessType><Get/><Exec/></AccessType>"
      "<DFFormat><null/></DFFormat></DFProperties></Node></MgmtTree>");
  ASSERT_TRUE(ok);
  ASSERT_EQ(ok->size(), 1u);
  EXPECT_EQ((*ok)[0].pattern, "./A");
  EXPECT_EQ((*ok)[0].access, kAccessGet | kAccessExec);
  EXPECT_EQ((*ok)[0].scope, Scope::Dynamic);
}

TEST_F(M2msim, OnlyConfiguredServersSeeTheObject) {
  EXPECT_EQ(tree_.get(other_, "./M2MSIMMobj").status, StatusCode::PermissionDenied);
  EXPECT_EQ(tree_.get(other_, "./M2MSIMMobj/PfC").status, StatusCode::PermissionDenied);
  EXPECT_EQ(tree_.get(other_, "./M2MSIMMobj/MCIM").status, StatusCode::PermissionDenied);
  const auto r = tree_.get(dpf_, "./M2MSIMMobj");
  ASSERT_EQ(r.status, StatusCode::Ok);
  EXPECT_EQ(as_chars(r.items[0].data), "DevId/Download/Ext/MCIM/Operations/PfC/ReBootstrap");
  EXPECT_EQ(r.items[0].type, kM2msimUrn);
  const auto pfc = tree_.get(dpf_, "./M2MSIMMobj/PfC");
  ASSERT_EQ(pfc.status, StatusCode::Ok);
  EXPECT_EQ(pfc.items[0].data, (Bytes{0x30, 0x82, 0x01, 0x0A, 0x02}));
  EXPECT_EQ(pfc.items[0].type, "application/pkix-cert");
}

TEST_F(M2msim, PermanentNodesAreProtected) {
  EXPECT_EQ(tree_.replace(dpf_, "./M2MSIMMobj/PfC", NodeValue{Format::Bin, {}, b("x")}), StatusCode::PermissionDenied);
  ASSERT_EQ(tree_.set_acl("./M2MSIMMobj", Acl::of("Get=dpf.example&Replace=dpf.example&Delete=dpf.example")),
            StatusCode::Ok);
  EXPECT_EQ(tree_.replace(dpf_, "./M2MSIMMobj/PfC", NodeValue{Format::Bin, {}, b("x")}), StatusCode::CommandNotAllowed);
  EXPECT_EQ(tree_.remove(dpf_, "./M2MSIMMobj/PfC"), StatusCode::CommandNotAllowed);
  EXPECT_EQ(tree_.remove(dpf_, "./M2MSIMMobj"), StatusCode::CommandNotAllowed);
  EXPECT_EQ(tree_.add(dpf_, "./M2MSIMMobj/Whatever", NodeValue{Format::Chr, {}, b("x")}), StatusCode::PermissionDenied);
}

// The provisioning sequence of docs/m2msimmobj.md, as the DPF issues it and the device answers.
TEST_F(M2msim, ProvisioningSequence) {
  std::string seen_correlator;
  tree_.on_exec("./M2MSIMMobj/Download/*/Operations/Install", [&](ExecRequest& req) {
    const std::string slot = req.uri.segments().at(2);
    auto d = read_download(req.tree, slot);
    if (!d || d->package.empty()) return ExecOutcome{StatusCode::NotFound};
    seen_correlator = std::string(req.correlator);
    EXPECT_EQ(set_download_state(req.tree, slot, DownloadState::Installing), StatusCode::Ok);
    return ExecOutcome{StatusCode::AcceptedForProcessing};
  });
  // Step 18: the DPF delivers the sealed package (binary, b64 on the wire) and Execs Install.
  const Bytes package(3000, 0xA5);
  EXPECT_EQ(tree_.preflight(dpf_, "./M2MSIMMobj/Download/tx42/Package", true, Format::B64, package.size()),
            StatusCode::Ok);
  ASSERT_EQ(tree_.add(dpf_, "./M2MSIMMobj/Download/tx42", NodeValue{Format::Node, {}, {}}), StatusCode::Ok);
  ASSERT_EQ(tree_.add(dpf_, "./M2MSIMMobj/Download/tx42/TransactionId", NodeValue{Format::Chr, {}, b("tx42")}),
            StatusCode::Ok);
  ASSERT_EQ(tree_.add(dpf_, "./M2MSIMMobj/Download/tx42/Package",
                      NodeValue{Format::B64, std::string(kSealedPackageType), package}),
            StatusCode::Ok);
  ASSERT_EQ(tree_.add(dpf_, "./M2MSIMMobj/Download/tx42/Operations/Install", NodeValue{Format::Null, {}, {}}),
            StatusCode::Ok);
  // Other servers cannot deliver or execute.
  EXPECT_EQ(tree_.add(other_, "./M2MSIMMobj/Download/x", NodeValue{Format::Node, {}, {}}), StatusCode::PermissionDenied);
  EXPECT_EQ(tree_.exec(other_, "./M2MSIMMobj/Download/tx42/Operations/Install", {}, "c"), StatusCode::PermissionDenied);
  // The package is write-only; the state is device-owned.
  EXPECT_EQ(tree_.get(dpf_, "./M2MSIMMobj/Download/tx42/Package").status, StatusCode::CommandNotAllowed);
  EXPECT_EQ(tree_.add(dpf_, "./M2MSIMMobj/Download/tx42/State", NodeValue{Format::Chr, {}, b("Installed")}),
            StatusCode::CommandNotAllowed);
  EXPECT_EQ(tree_.exec(dpf_, "./M2MSIMMobj/Download/tx42/Operations/Install", {}, "corr-7"),
            StatusCode::AcceptedForProcessing);
  EXPECT_EQ(seen_correlator, "corr-7");
  EXPECT_EQ(tree_.get_text("./M2MSIMMobj/Download/tx42/State"), "Installing");
  // Step 19-20: the device installs, records the MCIM and reports by Generic Alert.
  McimEntryView e{"1", "8988211000000000017", "00101", McimState::Active, 7, 1200, {"dpf.example"}};
  ASSERT_EQ(write_mcim_entry(tree_, e), StatusCode::Ok);
  ASSERT_EQ(set_download_state(tree_, "tx42", DownloadState::Installed), StatusCode::Ok);
  const auto alert = make_m2msim_alert(kAlertInstall, "./M2MSIMMobj/Download/tx42/Operations/Install", "corr-7",
                                       M2msimResult::Success);
  EXPECT_EQ(alert.data, "1200");
  EXPECT_EQ(alert.mark, "");
  EXPECT_EQ(alert.type, "urn:oma:at:m2mdm-m2msim:install:1.0");
  // The DPF discovers the registry; others cannot.
  EXPECT_EQ(as_chars(tree_.get(dpf_, "./M2MSIMMobj/MCIM").items[0].data), "1");
  EXPECT_EQ(as_chars(tree_.get(dpf_, "./M2MSIMMobj/MCIM/1/State").items[0].data), "Active");
  EXPECT_EQ(tree_.get(other_, "./M2MSIMMobj/MCIM/1/State").status, StatusCode::PermissionDenied);
  EXPECT_EQ(tree_.replace(dpf_, "./M2MSIMMobj/MCIM/1/State", NodeValue{Format::Chr, {}, b("Blocked")}),
            StatusCode::PermissionDenied);
  const auto list = list_mcim_entries(tree_);
  ASSERT_EQ(list.size(), 1u);
  EXPECT_EQ(list[0].id, "8988211000000000017");
  EXPECT_EQ(list[0].counter, 7u);
  EXPECT_EQ(list[0].state, McimState::Active);
  EXPECT_EQ(list[0].visible_to, (std::vector<std::string>{"dpf.example"}));
  // Cleanup of the slot by the DPF.
  EXPECT_EQ(tree_.remove(dpf_, "./M2MSIMMobj/Download/tx42"), StatusCode::Ok);
  EXPECT_FALSE(read_download(tree_, "tx42"));
}

TEST_F(M2msim, McimVisibilityPerServer) {
  ASSERT_EQ(write_mcim_entry(tree_, McimEntryView{"a", "id-a", "00101", McimState::Inactive, 1, 0, {"sho-a"}}),
            StatusCode::Ok);
  // The entry's own ACL names only sho-a: the DPF, which sees the registry, does not see it.
  EXPECT_EQ(tree_.get(dpf_, "./M2MSIMMobj/MCIM/a/Id").status, StatusCode::PermissionDenied);
  // Exec on MCIM operations needs the entry's Exec right and a handler.
  EXPECT_EQ(tree_.exec(Caller::server("sho-a"), "./M2MSIMMobj/MCIM/a/Operations/Activate", {}, "c"),
            StatusCode::CommandNotAllowed);
  EXPECT_EQ(tree_.exec(dpf_, "./M2MSIMMobj/MCIM/a/Operations/Activate", {}, "c"), StatusCode::PermissionDenied);
}

TEST_F(M2msim, ReBootstrapArming) {
  EXPECT_FALSE(rebootstrap_armed(tree_, 1700000000));
  EXPECT_EQ(tree_.exec(other_, "./M2MSIMMobj/ReBootstrap/Operations/Arm", {}, {}), StatusCode::PermissionDenied);
  EXPECT_EQ(tree_.exec(dpf_, "./M2MSIMMobj/ReBootstrap/Operations/Arm", b("0"), {}), StatusCode::BadRequest);
  EXPECT_EQ(tree_.exec(dpf_, "./M2MSIMMobj/ReBootstrap/Operations/Arm", b("abc"), {}), StatusCode::BadRequest);
  ASSERT_EQ(tree_.exec(dpf_, "./M2MSIMMobj/ReBootstrap/Operations/Arm", b("120"), {}), StatusCode::Ok);
  EXPECT_TRUE(rebootstrap_armed(tree_, 1700000000));
  EXPECT_TRUE(rebootstrap_armed(tree_, 1700000119));
  EXPECT_FALSE(rebootstrap_armed(tree_, 1700000120));
  EXPECT_EQ(tree_.get_text("./M2MSIMMobj/ReBootstrap/ArmedBy"), "dpf.example");
  EXPECT_EQ(as_chars(tree_.get(dpf_, "./M2MSIMMobj/ReBootstrap/Armed").items[0].data), "true");
  ASSERT_EQ(tree_.exec(dpf_, "./M2MSIMMobj/ReBootstrap/Operations/Disarm", {}, {}), StatusCode::Ok);
  EXPECT_FALSE(rebootstrap_armed(tree_, 1700000000));
  // Default validity 600 s.
  ASSERT_EQ(tree_.exec(dpf_, "./M2MSIMMobj/ReBootstrap/Operations/Arm", {}, {}), StatusCode::Ok);
  EXPECT_EQ(tree_.get_text("./M2MSIMMobj/ReBootstrap/Expiry"), "1700000600");
}

TEST_F(M2msim, SurvivesPersistence) {
  ASSERT_EQ(write_mcim_entry(tree_, McimEntryView{"1", "id", "00101", McimState::Blocked, 3, 1414, {"dpf.example"}}),
            StatusCode::Ok);
  auto back = deserialize_tree(serialize_tree(tree_));
  ASSERT_TRUE(back);
  const auto e = read_mcim_entry(*back, "1");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->state, McimState::Blocked);
  EXPECT_EQ(e->last_result, 1414);
  EXPECT_EQ(back->get_bytes("./M2MSIMMobj/PfC"), (Bytes{0x30, 0x82, 0x01, 0x0A, 0x02}));
  // Re-installing after load re-registers rules and handlers and keeps the data.
  M2msimConfig c;
  c.pfc_der = Bytes{0x30, 0x82, 0x01, 0x0A, 0x02};
  c.servers = {"dpf.example"};
  ASSERT_EQ(install_m2msim_object(*back, c), StatusCode::Ok);
  EXPECT_EQ(read_mcim_entry(*back, "1")->state, McimState::Blocked);
  EXPECT_EQ(back->exec(dpf_, "./M2MSIMMobj/ReBootstrap/Operations/Arm", {}, {}), StatusCode::Ok);
}

TEST(M2msimResults, NamesCodesAndAlertData) {
  std::set<std::uint16_t> codes;
  std::set<std::string_view> names;
  for (M2msimResult r : all_m2msim_results()) {
    codes.insert(static_cast<std::uint16_t>(r));
    names.insert(m2msim_result_name(r));
    EXPECT_NE(m2msim_result_name(r), "Unknown");
  }
  EXPECT_EQ(codes.size(), all_m2msim_results().size());
  EXPECT_EQ(names.size(), all_m2msim_results().size());
  const auto a = make_m2msim_alert(kAlertInstall, "./M2MSIMMobj/Download/1/Operations/Install", "c1",
                                   M2msimResult::Replayed, "counter 7 already\ninstalled");
  EXPECT_EQ(a.data, "1404 counter 7 already installed");
  EXPECT_EQ(a.mark, "critical");
  EXPECT_EQ(a.format, "chr");
  EXPECT_EQ(a.correlator, "c1");
  const auto parsed = parse_m2msim_alert_data(a.data);
  ASSERT_TRUE(parsed);
  EXPECT_EQ(parsed->first, 1404);
  EXPECT_EQ(parsed->second, "counter 7 already installed");
  EXPECT_EQ(parse_m2msim_alert_data("1200")->first, 1200);
  EXPECT_FALSE(parse_m2msim_alert_data("12"));
  EXPECT_FALSE(parse_m2msim_alert_data("abcd"));
  EXPECT_FALSE(parse_m2msim_alert_data("12000"));
  EXPECT_EQ(mcim_state_name(McimState::Blocked), "Blocked");
  EXPECT_EQ(parse_mcim_state("Active"), McimState::Active);
  EXPECT_FALSE(parse_mcim_state("active"));
}

TEST(M2msimInstall, RequiresServers) {
  Tree t;
  EXPECT_EQ(install_m2msim_object(t, M2msimConfig{}), StatusCode::BadRequest);
  M2msimConfig c;
  c.servers = {"bad id"};
  EXPECT_EQ(install_m2msim_object(t, c), StatusCode::BadRequest);
}

}  // namespace
}  // namespace m2mdm::mo
