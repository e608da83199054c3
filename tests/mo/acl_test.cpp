#include "m2mdm/mo/acl.hpp"
#include "m2mdm/mo/tree.hpp"

#include <gtest/gtest.h>

#include <map>
#include <string>

namespace m2mdm::mo {
namespace {

constexpr AclOp kOps[] = {AclOp::Add, AclOp::Delete, AclOp::Exec, AclOp::Get, AclOp::Replace};

TEST(Acl, ParseAndFormatCanonical) {
  const auto acl = Acl::parse("Replace=srv1&Get=*&Add=srv1+srv2");
  ASSERT_TRUE(acl);
  EXPECT_EQ(acl->format(), "Add=srv1+srv2&Get=*&Replace=srv1");
  EXPECT_FALSE(acl->empty());
  const auto again = Acl::parse(acl->format());
  ASSERT_TRUE(again);
  EXPECT_EQ(*again, *acl);
}

TEST(Acl, EmptyStringIsEmptyAcl) {
  const auto acl = Acl::parse("");
  ASSERT_TRUE(acl);
  EXPECT_TRUE(acl->empty());
  EXPECT_EQ(acl->format(), "");
  for (AclOp op : kOps) EXPECT_FALSE(acl->allows(op, "srv1"));
}

TEST(Acl, RepeatedCommandsMergeAndDuplicatesCollapse) {
  const auto acl = Acl::parse("Get=a&Get=b+a&Exec=c");
  ASSERT_TRUE(acl);
  EXPECT_EQ(acl->format(), "Exec=c&Get=a+b");
}

TEST(Acl, MalformedGives400) {
  for (const char* bad : {"Get", "Get=", "=srv", "Get=a+", "Get=+a", "Get=a++b", "Get=a&", "&Get=a", "Fetch=a",
                          "get=a", "Get=a b", "Get=a=b", "Get=a&&Add=b", "Copy=a", "Get=a\x01"}) {
    const auto acl = Acl::parse(bad);
    ASSERT_FALSE(acl) << bad;
    EXPECT_EQ(acl.error(), StatusCode::BadRequest) << bad;
  }
}

// The matrix: each op × listed / not listed / wildcard / empty server id.
TEST(Acl, AllowsMatrix) {
  const auto acl = *Acl::parse("Add=srv1&Delete=srv2&Exec=srv1+srv2&Get=*&Replace=srv1");
  const std::map<std::pair<AclOp, std::string>, bool> expect{
      {{AclOp::Add, "srv1"}, true},     {{AclOp::Add, "srv2"}, false},     {{AclOp::Add, "srv3"}, false},
      {{AclOp::Delete, "srv1"}, false}, {{AclOp::Delete, "srv2"}, true},   {{AclOp::Delete, "srv3"}, false},
      {{AclOp::Exec, "srv1"}, true},    {{AclOp::Exec, "srv2"}, true},     {{AclOp::Exec, "srv3"}, false},
      {{AclOp::Get, "srv1"}, true},     {{AclOp::Get, "srv2"}, true},      {{AclOp::Get, "srv3"}, true},
      {{AclOp::Replace, "srv1"}, true}, {{AclOp::Replace, "srv2"}, false}, {{AclOp::Replace, "srv3"}, false},
  };
  for (const auto& [k, v] : expect) {
    EXPECT_EQ(acl.allows(k.first, k.second), v) << acl_op_name(k.first) << " " << k.second;
  }
  // A server id is matched exactly (no prefix, no case folding).
  EXPECT_FALSE(acl.allows(AclOp::Add, "srv"));
  EXPECT_FALSE(acl.allows(AclOp::Add, "SRV1"));
  EXPECT_FALSE(acl.allows(AclOp::Add, "srv10"));
  // An empty (unauthenticated) server id is only allowed by "*".
  EXPECT_FALSE(acl.allows(AclOp::Add, ""));
  EXPECT_TRUE(acl.allows(AclOp::Get, ""));
}

TEST(Acl, GrantRevoke) {
  Acl acl;
  acl.grant(AclOp::Get, "a");
  acl.grant(AclOp::Get, "a");
  acl.grant(AclOp::Replace, "b");
  EXPECT_EQ(acl.format(), "Get=a&Replace=b");
  acl.revoke(AclOp::Get, "a");
  EXPECT_EQ(acl.format(), "Replace=b");
  EXPECT_EQ(acl.servers(AclOp::Replace).size(), 1u);
}

// Inheritance in the tree: op × server × (own ACL | inherited from parent | inherited from root).
class AclInheritance : public ::testing::Test {
 protected:
  void SetUp() override {
    TreeOptions o;
    o.root_acl = "Add=*&Get=*";
    tree_ = Tree(o);
    ASSERT_EQ(tree_.ensure_interior("./P"), StatusCode::Ok);
    ASSERT_EQ(tree_.set_acl("./P", Acl::of("Add=s1&Delete=s1&Exec=s2&Get=s1+s2&Replace=s1")), StatusCode::Ok);
    ASSERT_EQ(tree_.set_text("./P/inherits", "x"), StatusCode::Ok);
    ASSERT_EQ(tree_.set_text("./P/own", "y"), StatusCode::Ok);
    ASSERT_EQ(tree_.set_acl("./P/own", Acl::of("Get=s3&Delete=s3")), StatusCode::Ok);
    ASSERT_EQ(tree_.ensure_interior("./Q/R"), StatusCode::Ok);  // no ACLs: root's applies
  }
  Tree tree_;
};

TEST_F(AclInheritance, EffectiveAclMatrix) {
  struct Row {
    const char* uri;
    const char* server;
    AclOp op;
    bool allowed;
  };
  const Row rows[] = {
      // own ACL on ./P
      {"./P", "s1", AclOp::Add, true},        {"./P", "s2", AclOp::Add, false},
      {"./P", "s1", AclOp::Delete, true},     {"./P", "s2", AclOp::Exec, true},
      {"./P", "s1", AclOp::Exec, false},      {"./P", "s3", AclOp::Get, false},
      // empty ACL inherits ./P
      {"./P/inherits", "s1", AclOp::Get, true},     {"./P/inherits", "s2", AclOp::Get, true},
      {"./P/inherits", "s3", AclOp::Get, false},    {"./P/inherits", "s1", AclOp::Replace, true},
      {"./P/inherits", "s2", AclOp::Replace, false},{"./P/inherits", "s2", AclOp::Exec, true},
      // own ACL on a leaf replaces (does not merge with) the parent's
      {"./P/own", "s3", AclOp::Get, true},    {"./P/own", "s1", AclOp::Get, false},
      {"./P/own", "s1", AclOp::Replace, false},{"./P/own", "s3", AclOp::Delete, true},
      // no ACL anywhere below the root: the root's Add=*&Get=*
      {"./Q/R", "anyone", AclOp::Get, true},  {"./Q/R", "anyone", AclOp::Add, true},
      {"./Q/R", "anyone", AclOp::Delete, false}, {"./Q/R", "anyone", AclOp::Replace, false},
      {"./Q/R", "anyone", AclOp::Exec, false},
  };
  for (const auto& row : rows) {
    const auto uri = *Uri::parse(row.uri);
    EXPECT_EQ(tree_.effective_acl(uri).allows(row.op, row.server), row.allowed)
        << row.uri << " " << row.server << " " << acl_op_name(row.op);
  }
}

TEST_F(AclInheritance, CommandsFollowTheGoverningAcl) {
  const auto s1 = Caller::server("s1");
  const auto s2 = Caller::server("s2");
  const auto s3 = Caller::server("s3");
  // Get: the node's own (inherited) ACL.
  EXPECT_EQ(tree_.get(s2, "./P/inherits").status, StatusCode::Ok);
  EXPECT_EQ(tree_.get(s3, "./P/inherits").status, StatusCode::PermissionDenied);
  EXPECT_EQ(tree_.get(s3, "./P/own").status, StatusCode::Ok);
  EXPECT_EQ(tree_.get(s1, "./P/own").status, StatusCode::PermissionDenied);
  // Add: the parent's ACL.
  EXPECT_EQ(tree_.add(s2, "./P/new", NodeValue{Format::Chr, {}, {}}), StatusCode::PermissionDenied);
  EXPECT_EQ(tree_.add(s1, "./P/new", NodeValue{Format::Chr, {}, {}}), StatusCode::Ok);
  // Replace of a leaf's value: its own ACL (inherited here).
  EXPECT_EQ(tree_.replace(s2, "./P/inherits", NodeValue{Format::Chr, {}, {'z'}}), StatusCode::PermissionDenied);
  EXPECT_EQ(tree_.replace(s1, "./P/inherits", NodeValue{Format::Chr, {}, {'z'}}), StatusCode::Ok);
  // Replace of a leaf's ACL: Replace on the parent (s1), even if the leaf's own ACL says no.
  EXPECT_EQ(tree_.replace(s3, "./P/own?prop=ACL", NodeValue{Format::Chr, {}, {}}), StatusCode::PermissionDenied);
  const std::string new_acl = "Get=s1";
  EXPECT_EQ(tree_.replace(s1, "./P/own?prop=ACL", NodeValue{Format::Chr, {}, Bytes(new_acl.begin(), new_acl.end())}),
            StatusCode::Ok);
  EXPECT_EQ(tree_.get(s1, "./P/own").status, StatusCode::Ok);
  // Replace of an interior node's ACL: Replace on the node itself.
  EXPECT_EQ(tree_.replace(s2, "./P?prop=ACL", NodeValue{Format::Chr, {}, {}}), StatusCode::PermissionDenied);
  // Delete: own ACL.
  EXPECT_EQ(tree_.remove(s2, "./P/inherits"), StatusCode::PermissionDenied);
  EXPECT_EQ(tree_.remove(s1, "./P/inherits"), StatusCode::Ok);
  // Exec: own ACL (inherited Exec=s2), then the node must be executable.
  EXPECT_EQ(tree_.exec(s1, "./P/new", {}, {}), StatusCode::PermissionDenied);
  EXPECT_EQ(tree_.exec(s2, "./P/new", {}, {}), StatusCode::CommandNotAllowed);  // no handler
}

TEST_F(AclInheritance, ClearingAnAclRestoresInheritance) {
  const auto s3 = Caller::server("s3");
  const auto s1 = Caller::server("s1");
  EXPECT_EQ(tree_.get(s3, "./P/own").status, StatusCode::Ok);
  ASSERT_EQ(tree_.replace(s1, "./P/own?prop=ACL", NodeValue{Format::Chr, {}, {}}), StatusCode::Ok);
  EXPECT_EQ(tree_.get(s3, "./P/own").status, StatusCode::PermissionDenied);
  EXPECT_EQ(tree_.get(s1, "./P/own").status, StatusCode::Ok);
}

}  // namespace
}  // namespace m2mdm::mo
