#include "m2mdm/mo/tree.hpp"

#include <gtest/gtest.h>

#include <string>

namespace m2mdm::mo {
namespace {

Bytes b(std::string_view s) { return Bytes(s.begin(), s.end()); }
NodeValue chr(std::string_view s) { return NodeValue{Format::Chr, "text/plain", b(s)}; }
NodeValue interior() { return NodeValue{Format::Node, {}, {}}; }
std::string text(const GetResult& r, std::size_t i = 0) {
  return r.items.size() > i ? std::string(as_chars(r.items[i].data)) : std::string("<none>");
}

class TreeTest : public ::testing::Test {
 protected:
  TreeTest() : tree_(make_options()) {}
  static TreeOptions make_options() {
    TreeOptions o;
    o.root_acl = "Add=*&Get=*&Replace=admin&Delete=admin&Exec=admin";
    o.max_obj_size = 64;
    o.clock = [] { return std::int64_t{1700000000}; };  // 2023-11-14T22:13:20Z
    return o;
  }
  Tree tree_;
  Caller srv_ = Caller::server("srv");
  Caller admin_ = Caller::server("admin");
};

TEST_F(TreeTest, RootExistsAndIsPermanent) {
  const auto r = tree_.get(srv_, ".");
  ASSERT_EQ(r.status, StatusCode::Ok);
  EXPECT_EQ(r.items[0].format, Format::Node);
  EXPECT_EQ(text(r), "");
  EXPECT_EQ(tree_.add(admin_, ".", interior()), StatusCode::AlreadyExists);
  EXPECT_EQ(tree_.remove(admin_, "."), StatusCode::CommandNotAllowed);
  EXPECT_EQ(tree_.replace(admin_, ".", chr("x")), StatusCode::CommandNotAllowed);
}

TEST_F(TreeTest, AddLeafAndGetIt) {
  ASSERT_EQ(tree_.add(srv_, "./A", interior()), StatusCode::Ok);
  ASSERT_EQ(tree_.add(srv_, "A/x", chr("hello")), StatusCode::Ok);
  const auto r = tree_.get(srv_, "./A/x");
  ASSERT_EQ(r.status, StatusCode::Ok);
  ASSERT_EQ(r.items.size(), 1u);
  EXPECT_EQ(r.items[0].uri, "./A/x");
  EXPECT_EQ(r.items[0].format, Format::Chr);
  EXPECT_EQ(r.items[0].type, "text/plain");
  EXPECT_EQ(text(r), "hello");
}

TEST_F(TreeTest, AddExistingGives418) {
  ASSERT_EQ(tree_.add(srv_, "./A", interior()), StatusCode::Ok);
  EXPECT_EQ(tree_.add(srv_, "./A", interior()), StatusCode::AlreadyExists);
  ASSERT_EQ(tree_.add(srv_, "./A/x", chr("1")), StatusCode::Ok);
  EXPECT_EQ(tree_.add(srv_, "./A/x", chr("2")), StatusCode::AlreadyExists);
}

TEST_F(TreeTest, ImplicitInteriorCreation) {
  ASSERT_EQ(tree_.add(srv_, "./A/B/C/leaf", chr("v")), StatusCode::Ok);
  EXPECT_TRUE(tree_.find("./A/B/C")->interior());
  EXPECT_TRUE(tree_.find("./A/B")->interior());
  EXPECT_EQ(text(tree_.get(srv_, "./A/B/C/leaf")), "v");
}

TEST_F(TreeTest, ImplicitInteriorCreationCanBeDisabled) {
  TreeOptions o;
  o.implicit_interior_add = false;
  Tree t(o);
  EXPECT_EQ(t.add(srv_, "./A/B", chr("v")), StatusCode::NotFound);
  EXPECT_FALSE(t.exists("./A"));
  ASSERT_EQ(t.add(srv_, "./A", interior()), StatusCode::Ok);
  EXPECT_EQ(t.add(srv_, "./A/B", chr("v")), StatusCode::Ok);
}

TEST_F(TreeTest, AddBelowALeafGives405) {
  ASSERT_EQ(tree_.add(srv_, "./leaf", chr("v")), StatusCode::Ok);
  EXPECT_EQ(tree_.add(srv_, "./leaf/child", chr("v")), StatusCode::CommandNotAllowed);
  EXPECT_EQ(tree_.add(srv_, "./leaf/a/b", chr("v")), StatusCode::CommandNotAllowed);
}

TEST_F(TreeTest, AddInteriorWithDataGives400) {
  EXPECT_EQ(tree_.add(srv_, "./A", NodeValue{Format::Node, {}, b("x")}), StatusCode::BadRequest);
  EXPECT_FALSE(tree_.exists("./A"));
}

TEST_F(TreeTest, AddOnPropertyGives405) {
  ASSERT_EQ(tree_.add(srv_, "./A", interior()), StatusCode::Ok);
  EXPECT_EQ(tree_.add(srv_, "./A?prop=Title", chr("t")), StatusCode::CommandNotAllowed);
}

TEST_F(TreeTest, UriErrorsPropagate) {
  EXPECT_EQ(tree_.add(srv_, "A//B", chr("v")), StatusCode::BadRequest);
  EXPECT_EQ(tree_.get(srv_, "./A/../B").status, StatusCode::BadRequest);
  EXPECT_EQ(tree_.add(srv_, "./" + std::string(65, 'a'), chr("v")), StatusCode::UriTooLong);
  EXPECT_EQ(tree_.get(srv_, ".?prop=Colour").status, StatusCode::OptionalFeatureNotSupported);
}

TEST_F(TreeTest, ValueValidationByFormat) {
  EXPECT_EQ(tree_.add(srv_, "./i", NodeValue{Format::Int, {}, b("12x")}), StatusCode::BadRequest);
  EXPECT_EQ(tree_.add(srv_, "./i", NodeValue{Format::Int, {}, b("4294967296")}), StatusCode::BadRequest);
  EXPECT_EQ(tree_.add(srv_, "./i", NodeValue{Format::Int, {}, b("-2147483648")}), StatusCode::Ok);
  EXPECT_EQ(tree_.add(srv_, "./bo", NodeValue{Format::Bool, {}, b("yes")}), StatusCode::BadRequest);
  EXPECT_EQ(tree_.add(srv_, "./bo", NodeValue{Format::Bool, {}, b("true")}), StatusCode::Ok);
  EXPECT_EQ(tree_.add(srv_, "./c", NodeValue{Format::Chr, {}, Bytes{0xC3, 0x28}}), StatusCode::BadRequest);
  EXPECT_EQ(tree_.add(srv_, "./bin", NodeValue{Format::Bin, {}, Bytes{0xC3, 0x28, 0x00}}), StatusCode::Ok);
  EXPECT_EQ(tree_.add(srv_, "./n", NodeValue{Format::Null, {}, b("x")}), StatusCode::BadRequest);
  EXPECT_EQ(tree_.add(srv_, "./d", NodeValue{Format::Date, {}, b("2024-02-30x")}), StatusCode::BadRequest);
  EXPECT_EQ(tree_.add(srv_, "./d", NodeValue{Format::Date, {}, b("2024-02-29")}), StatusCode::Ok);
  EXPECT_EQ(tree_.add(srv_, "./t", NodeValue{Format::Time, {}, b("25:00:00")}), StatusCode::BadRequest);
  EXPECT_EQ(tree_.add(srv_, "./t", NodeValue{Format::Time, {}, b("23:59:59Z")}), StatusCode::Ok);
  EXPECT_EQ(tree_.add(srv_, "./f", NodeValue{Format::Float, {}, b("1e")}), StatusCode::BadRequest);
  EXPECT_EQ(tree_.add(srv_, "./f", NodeValue{Format::Float, {}, b("-1.5e3")}), StatusCode::Ok);
}

TEST_F(TreeTest, MaxObjSizeGives413) {
  EXPECT_EQ(tree_.add(srv_, "./big", NodeValue{Format::Bin, {}, Bytes(65, 0)}), StatusCode::RequestEntityTooLarge);
  ASSERT_EQ(tree_.add(admin_, "./big", NodeValue{Format::Bin, {}, Bytes(64, 0)}), StatusCode::Ok);
  EXPECT_EQ(tree_.replace(admin_, "./big", NodeValue{Format::Bin, {}, Bytes(65, 0)}),
            StatusCode::RequestEntityTooLarge);
  EXPECT_EQ(tree_.preflight(srv_, "./other", true, Format::Bin, 1000), StatusCode::RequestEntityTooLarge);
  EXPECT_EQ(tree_.preflight(srv_, "./other", true, Format::Bin, 10), StatusCode::Ok);
  EXPECT_EQ(tree_.preflight(srv_, "./big", true, Format::Bin, 10), StatusCode::AlreadyExists);
  EXPECT_EQ(tree_.preflight(admin_, "./big", false, Format::Bin, 10), StatusCode::Ok);
  EXPECT_EQ(tree_.preflight(admin_, "./nothing", false, Format::Bin, 10), StatusCode::NotFound);
}

TEST_F(TreeTest, ReplacePaths) {
  EXPECT_EQ(tree_.replace(admin_, "./missing", chr("x")), StatusCode::NotFound);
  ASSERT_EQ(tree_.add(srv_, "./A/x", chr("1")), StatusCode::Ok);
  // The creator lacked Replace on the root, so it received rights on ./A (DM_TND §7.7.1).
  EXPECT_EQ(tree_.find("./A")->acl.format(), "Add=srv&Delete=srv&Get=srv&Replace=srv");
  EXPECT_EQ(tree_.replace(Caller::server("other"), "./A/x", chr("2")), StatusCode::PermissionDenied);
  EXPECT_EQ(tree_.replace(srv_, "./A", chr("2")), StatusCode::CommandNotAllowed);  // interior
  EXPECT_EQ(tree_.replace(srv_, "./A/x", interior()), StatusCode::CommandNotAllowed);
  EXPECT_EQ(tree_.replace(srv_, "./A/x", NodeValue{Format::Int, {}, b("zz")}), StatusCode::BadRequest);
  const std::uint32_t v0 = tree_.find("./A/x")->verno;
  EXPECT_EQ(tree_.replace(srv_, "./A/x", NodeValue{Format::Int, "text/plain", b("42")}), StatusCode::Ok);
  EXPECT_EQ(tree_.find("./A/x")->format, Format::Int);
  EXPECT_EQ(tree_.find("./A/x")->verno, v0 + 1);
  EXPECT_EQ(text(tree_.get(srv_, "./A/x")), "42");
  EXPECT_EQ(tree_.replace(srv_, "./A/x?list=Struct", chr("1")), StatusCode::CommandNotAllowed);
}

TEST_F(TreeTest, CreatorWithReplaceOnParentGetsEmptyAcl) {
  ASSERT_EQ(tree_.add(admin_, "./A", interior()), StatusCode::Ok);
  EXPECT_TRUE(tree_.find("./A")->acl.empty());
}

TEST_F(TreeTest, DeleteIsRecursive) {
  ASSERT_EQ(tree_.add(admin_, "./A/B/c", chr("1")), StatusCode::Ok);
  ASSERT_EQ(tree_.add(admin_, "./A/B/d", chr("2")), StatusCode::Ok);
  ASSERT_EQ(tree_.add(admin_, "./AB", chr("sibling with a common prefix")), StatusCode::Ok);
  ASSERT_EQ(tree_.add(admin_, "./A-B", chr("sibling sorting before /")), StatusCode::Ok);
  EXPECT_EQ(tree_.remove(srv_, "./A"), StatusCode::PermissionDenied);
  EXPECT_EQ(tree_.remove(admin_, "./A"), StatusCode::Ok);
  EXPECT_FALSE(tree_.exists("./A"));
  EXPECT_FALSE(tree_.exists("./A/B"));
  EXPECT_FALSE(tree_.exists("./A/B/c"));
  EXPECT_TRUE(tree_.exists("./AB"));
  EXPECT_TRUE(tree_.exists("./A-B"));
  EXPECT_EQ(tree_.remove(admin_, "./A"), StatusCode::NotFound);
  EXPECT_EQ(tree_.remove(admin_, "./AB?prop=ACL"), StatusCode::CommandNotAllowed);
}

TEST_F(TreeTest, DeleteIsAllOrNothing) {
  ASSERT_EQ(tree_.add(admin_, "./A/open", chr("1")), StatusCode::Ok);
  ASSERT_EQ(tree_.add(admin_, "./A/locked", chr("2")), StatusCode::Ok);
  ASSERT_EQ(tree_.set_acl("./A", Acl::of("Delete=srv&Get=*")), StatusCode::Ok);
  ASSERT_EQ(tree_.set_acl("./A/locked", Acl::of("Get=*")), StatusCode::Ok);
  EXPECT_EQ(tree_.remove(srv_, "./A"), StatusCode::PermissionDenied);
  EXPECT_TRUE(tree_.exists("./A/open"));
  EXPECT_TRUE(tree_.exists("./A/locked"));
}

TEST_F(TreeTest, GetInteriorReturnsChildList) {
  ASSERT_EQ(tree_.add(admin_, "./A/b", chr("1")), StatusCode::Ok);
  ASSERT_EQ(tree_.add(admin_, "./A/a", chr("2")), StatusCode::Ok);
  ASSERT_EQ(tree_.add(admin_, "./A/c/deep", chr("3")), StatusCode::Ok);
  const auto r = tree_.get(srv_, "./A");
  ASSERT_EQ(r.status, StatusCode::Ok);
  EXPECT_EQ(r.items[0].format, Format::Node);
  EXPECT_EQ(text(r), "a/b/c");
  EXPECT_EQ(tree_.get(srv_, "./nothing").status, StatusCode::NotFound);
}

TEST_F(TreeTest, ListStructAndStructData) {
  ASSERT_EQ(tree_.add(admin_, "./A/x", chr("1")), StatusCode::Ok);
  ASSERT_EQ(tree_.add(admin_, "./A/S/y", chr("2")), StatusCode::Ok);
  ASSERT_EQ(tree_.add(admin_, "./A/secret", chr("3")), StatusCode::Ok);
  ASSERT_EQ(tree_.set_acl("./A/secret", Acl::of("Get=admin")), StatusCode::Ok);
  const auto s = tree_.get(srv_, "./A?list=Struct");
  ASSERT_EQ(s.status, StatusCode::Ok);
  std::vector<std::string> uris;
  for (const auto& i : s.items) {
    uris.push_back(i.uri);
    EXPECT_TRUE(i.data.empty());
  }
  EXPECT_EQ(uris, (std::vector<std::string>{"./A", "./A/S", "./A/S/y", "./A/x"}));
  const auto d = tree_.get(admin_, "./A?list=StructData");
  ASSERT_EQ(d.status, StatusCode::Ok);
  ASSERT_EQ(d.items.size(), 5u);
  EXPECT_EQ(d.items[2].uri, "./A/S/y");
  EXPECT_EQ(text(d, 2), "2");
  EXPECT_EQ(d.items[1].format, Format::Node);
  EXPECT_EQ(tree_.get(srv_, "./A?list=TNDS").status, StatusCode::OptionalFeatureNotSupported);
}

TEST_F(TreeTest, PropertiesGet) {
  ASSERT_EQ(tree_.add(admin_, "./A/x", NodeValue{Format::Int, "text/plain", b("123")}), StatusCode::Ok);
  auto prop = [&](std::string_view p) { return text(tree_.get(srv_, std::string("./A/x?prop=") + std::string(p))); };
  EXPECT_EQ(prop("Format"), "int");
  EXPECT_EQ(prop("Type"), "text/plain");
  EXPECT_EQ(prop("Size"), "3");
  EXPECT_EQ(prop("Name"), "x");
  EXPECT_EQ(prop("ACL"), "");
  EXPECT_EQ(prop("Title"), "");
  EXPECT_EQ(prop("TStamp"), "20231114T221320Z");
  EXPECT_EQ(prop("VerNo"), "0");
  const auto r = tree_.get(srv_, "./A/x?prop=Format");
  EXPECT_EQ(r.items[0].uri, "./A/x?prop=Format");
  EXPECT_EQ(r.items[0].format, Format::Chr);
  EXPECT_EQ(tree_.get(srv_, "./A?prop=Size").status, StatusCode::OptionalFeatureNotSupported);
  EXPECT_EQ(text(tree_.get(srv_, ".?prop=Name")), ".");
  EXPECT_EQ(text(tree_.get(srv_, ".?prop=ACL")), "Add=*&Delete=admin&Exec=admin&Get=*&Replace=admin");
}

TEST_F(TreeTest, PropertiesReplace) {
  ASSERT_EQ(tree_.add(admin_, "./A/x", chr("1")), StatusCode::Ok);
  EXPECT_EQ(tree_.replace(admin_, "./A/x?prop=Title", chr("The X")), StatusCode::Ok);
  EXPECT_EQ(text(tree_.get(srv_, "./A/x?prop=Title")), "The X");
  for (const char* ro : {"Format", "Type", "Size", "TStamp", "VerNo"}) {
    EXPECT_EQ(tree_.replace(admin_, std::string("./A/x?prop=") + ro, chr("1")), StatusCode::CommandNotAllowed) << ro;
  }
  EXPECT_EQ(tree_.replace(admin_, "./A/x?prop=ACL", chr("Get=")), StatusCode::BadRequest);
  EXPECT_EQ(tree_.replace(admin_, "./missing?prop=ACL", chr("Get=*")), StatusCode::NotFound);
  EXPECT_EQ(tree_.replace(admin_, ".?prop=ACL", chr("")), StatusCode::BadRequest);  // root keeps an ACL
  EXPECT_EQ(tree_.replace(admin_, ".?prop=ACL", chr("Add=*&Get=*&Replace=admin")), StatusCode::Ok);
}

TEST_F(TreeTest, RenameMovesTheSubtree) {
  ASSERT_EQ(tree_.add(admin_, "./A/B/c", chr("1")), StatusCode::Ok);
  ASSERT_EQ(tree_.add(admin_, "./Z", chr("z")), StatusCode::Ok);
  EXPECT_EQ(tree_.replace(admin_, "./A?prop=Name", chr("Z")), StatusCode::AlreadyExists);
  EXPECT_EQ(tree_.replace(admin_, "./A?prop=Name", chr("a/b")), StatusCode::BadRequest);
  EXPECT_EQ(tree_.replace(admin_, ".?prop=Name", chr("root")), StatusCode::CommandNotAllowed);
  ASSERT_EQ(tree_.replace(admin_, "./A?prop=Name", chr("R")), StatusCode::Ok);
  EXPECT_FALSE(tree_.exists("./A"));
  EXPECT_FALSE(tree_.exists("./A/B/c"));
  EXPECT_EQ(tree_.get_text("./R/B/c"), "1");
}

TEST_F(TreeTest, DdfAccessTypesAndScope) {
  NodeRule root{"./MO", kAccessGet, Scope::Permanent, Format::Node, "urn:test:mo", "", 0, 0};
  NodeRule ro{"./MO/ro", kAccessGet, Scope::Permanent, Format::Chr, "text/plain", "", 0, 0};
  NodeRule item{"./MO/*", kAccessAdd | kAccessGet | kAccessDelete, Scope::Dynamic, Format::Node, "", "", 0, 0};
  NodeRule val{"./MO/*/val", kAccessAdd | kAccessGet | kAccessReplace, Scope::Dynamic, Format::Int, "", "", 4, 0};
  NodeRule run{"./MO/*/run", kAccessExec | kAccessAdd, Scope::Dynamic, Format::Null, "", "", 0, 0};
  tree_.describe("./MO", {root, ro, item, val, run});
  ASSERT_EQ(tree_.ensure_interior("./MO", "urn:test:mo"), StatusCode::Ok);
  ASSERT_EQ(tree_.set_text("./MO/ro", "fixed"), StatusCode::Ok);
  EXPECT_EQ(tree_.find("./MO")->scope, Scope::Permanent);
  // Get-only leaf: Replace 405, Delete 405 (permanent), Get 200.
  EXPECT_EQ(tree_.replace(admin_, "./MO/ro", chr("x")), StatusCode::CommandNotAllowed);
  EXPECT_EQ(tree_.remove(admin_, "./MO/ro"), StatusCode::CommandNotAllowed);
  EXPECT_EQ(tree_.remove(admin_, "./MO"), StatusCode::CommandNotAllowed);
  EXPECT_EQ(text(tree_.get(admin_, "./MO/ro")), "fixed");
  // Nodes the DDF does not describe: 405.
  EXPECT_EQ(tree_.add(admin_, "./MO/i1/unknown", chr("x")), StatusCode::CommandNotAllowed);
  // Format not the DDF's: 415.
  EXPECT_EQ(tree_.add(admin_, "./MO/i1/val", chr("x")), StatusCode::UnsupportedMediaType);
  EXPECT_EQ(tree_.add(admin_, "./MO/i1", chr("x")), StatusCode::UnsupportedMediaType);
  // DDF max size: 413.
  EXPECT_EQ(tree_.add(admin_, "./MO/i1/val", NodeValue{Format::Int, {}, b("12345")}), StatusCode::RequestEntityTooLarge);
  ASSERT_EQ(tree_.add(admin_, "./MO/i1/val", NodeValue{Format::Int, {}, b("1234")}), StatusCode::Ok);
  EXPECT_EQ(tree_.replace(admin_, "./MO/i1/val", NodeValue{Format::Int, {}, b("7")}), StatusCode::Ok);
  // Exec only where the DDF says Exec, and only with a handler.
  EXPECT_EQ(tree_.exec(admin_, "./MO/i1/val", {}, {}), StatusCode::CommandNotAllowed);
  ASSERT_EQ(tree_.add(admin_, "./MO/i1/run", NodeValue{Format::Null, {}, {}}), StatusCode::Ok);
  EXPECT_EQ(tree_.exec(admin_, "./MO/i1/run", {}, {}), StatusCode::CommandNotAllowed);
  EXPECT_EQ(tree_.get(admin_, "./MO/i1/run").status, StatusCode::CommandNotAllowed);  // no Get in DDF
  std::string seen;
  tree_.on_exec("./MO/*/run", [&](ExecRequest& req) {
    seen = req.uri.path() + "|" + std::string(as_chars(req.data)) + "|" + std::string(req.correlator) + "|" +
           std::string(req.server_id);
    req.tree.set_text("./MO/i1/val", "9", Format::Int);
    return ExecOutcome{StatusCode::AcceptedForProcessing};
  });
  const Bytes data = b("go");
  EXPECT_EQ(tree_.exec(admin_, "./MO/i1/run", data, "corr-1"), StatusCode::AcceptedForProcessing);
  EXPECT_EQ(seen, "./MO/i1/run|go|corr-1|admin");
  EXPECT_EQ(tree_.get_text("./MO/i1/val"), "9");
  EXPECT_EQ(tree_.exec(admin_, "./MO/i2/run", {}, {}), StatusCode::NotFound);
  EXPECT_EQ(tree_.exec(srv_, "./MO/i1/run", {}, {}), StatusCode::PermissionDenied);
  // Delete of a dynamic item removes its subtree.
  EXPECT_EQ(tree_.remove(admin_, "./MO/i1"), StatusCode::Ok);
  EXPECT_FALSE(tree_.exists("./MO/i1/val"));
}

TEST_F(TreeTest, CopyLeaf) {
  ASSERT_EQ(tree_.add(admin_, "./A/src", NodeValue{Format::Int, "text/plain", b("5")}), StatusCode::Ok);
  EXPECT_EQ(tree_.copy(admin_, "./A/dst", "./A/src"), StatusCode::Ok);
  EXPECT_EQ(tree_.get_text("./A/dst"), "5");
  EXPECT_EQ(tree_.find("./A/dst")->format, Format::Int);
  ASSERT_EQ(tree_.replace(admin_, "./A/src", NodeValue{Format::Int, {}, b("6")}), StatusCode::Ok);
  EXPECT_EQ(tree_.copy(admin_, "./A/dst", "./A/src"), StatusCode::Ok);  // target exists: Replace
  EXPECT_EQ(tree_.get_text("./A/dst"), "6");
  EXPECT_EQ(tree_.copy(admin_, "./A/x", "./A/none"), StatusCode::NotFound);
  EXPECT_EQ(tree_.copy(admin_, "./B", "./A"), StatusCode::OptionalFeatureNotSupported);
  ASSERT_EQ(tree_.set_acl("./A/src", Acl::of("Replace=admin")), StatusCode::Ok);
  EXPECT_EQ(tree_.copy(admin_, "./A/y", "./A/src"), StatusCode::PermissionDenied);
}

TEST_F(TreeTest, SnapshotRestoreRollsBack) {
  ASSERT_EQ(tree_.add(admin_, "./A/x", chr("1")), StatusCode::Ok);
  const auto snap = tree_.snapshot();
  const auto before = tree_.change_count();
  ASSERT_EQ(tree_.replace(admin_, "./A/x", chr("2")), StatusCode::Ok);
  ASSERT_EQ(tree_.add(admin_, "./A/y", chr("3")), StatusCode::Ok);
  ASSERT_EQ(tree_.remove(admin_, "./A/x"), StatusCode::Ok);
  tree_.restore(snap);
  EXPECT_EQ(tree_.get_text("./A/x"), "1");
  EXPECT_FALSE(tree_.exists("./A/y"));
  EXPECT_GT(tree_.change_count(), before);
}

TEST_F(TreeTest, DeviceBypassesAclAndAccessTypesButNotStructure) {
  ASSERT_EQ(tree_.add(admin_, "./L", chr("1")), StatusCode::Ok);
  ASSERT_EQ(tree_.set_acl("./L", Acl::of("Get=nobody")), StatusCode::Ok);
  const auto dev = Caller::device();
  EXPECT_EQ(tree_.get(dev, "./L").status, StatusCode::Ok);
  EXPECT_EQ(tree_.replace(dev, "./L", chr("2")), StatusCode::Ok);
  EXPECT_EQ(tree_.add(dev, "./L/x", chr("2")), StatusCode::CommandNotAllowed);
  EXPECT_EQ(tree_.set_text("./L", "3"), StatusCode::Ok);
  EXPECT_EQ(tree_.ensure_interior("./L"), StatusCode::CommandNotAllowed);
  EXPECT_EQ(tree_.children("."), (std::vector<std::string>{"L"}));
}

TEST_F(TreeTest, AssignValidatesStructure) {
  NodeMap bad;
  bad.emplace("./A", Node{});
  EXPECT_EQ(tree_.assign(bad), StatusCode::BadRequest);  // no root
  NodeMap orphan = tree_.nodes();
  orphan.emplace("./A/B", Node{});
  EXPECT_EQ(tree_.assign(orphan), StatusCode::BadRequest);
  NodeMap leaf_no_value = tree_.nodes();
  Node leaf;
  leaf.format = Format::Chr;
  leaf_no_value.emplace("./A", leaf);
  EXPECT_EQ(tree_.assign(leaf_no_value), StatusCode::BadRequest);
  NodeMap good = tree_.nodes();
  good.emplace("./A", Node{});
  EXPECT_EQ(tree_.assign(good), StatusCode::Ok);
  EXPECT_TRUE(tree_.exists("./A"));
}

}  // namespace
}  // namespace m2mdm::mo
