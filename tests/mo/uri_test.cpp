#include "m2mdm/mo/uri.hpp"

#include <gtest/gtest.h>

#include <string>

namespace m2mdm::mo {
namespace {

StatusCode status_of(std::string_view text, const UriLimits& limits = {}) {
  const auto u = Uri::parse(text, limits);
  return u ? StatusCode::Ok : u.error();
}

TEST(Uri, RootForms) {
  const auto root = Uri::parse(".");
  ASSERT_TRUE(root);
  EXPECT_TRUE(root->is_root());
  EXPECT_EQ(root->path(), ".");
  EXPECT_EQ(root->depth(), 0u);
  EXPECT_EQ(root->parent(), *root);
}

TEST(Uri, AbsoluteAndRelativeNormaliseToTheSameUri) {
  const auto a = Uri::parse("./DMAcc/srv1/AppID");
  const auto b = Uri::parse("DMAcc/srv1/AppID");
  ASSERT_TRUE(a);
  ASSERT_TRUE(b);
  EXPECT_EQ(*a, *b);
  EXPECT_EQ(a->path(), "./DMAcc/srv1/AppID");
  EXPECT_EQ(b->str(), "./DMAcc/srv1/AppID");
  EXPECT_EQ(a->depth(), 3u);
  EXPECT_EQ(a->name(), "AppID");
  EXPECT_EQ(a->parent().path(), "./DMAcc/srv1");
  EXPECT_EQ(a->parent().child("Name").path(), "./DMAcc/srv1/Name");
  EXPECT_TRUE(a->is_under(a->parent()));
  EXPECT_TRUE(a->is_under(Uri{}));
  EXPECT_FALSE(a->parent().is_under(*a));
}

TEST(Uri, MalformedGives400) {
  for (const char* bad : {"", "/", "/A", "./", "A/", "./A/", "A//B", "./A/./B", "./A/../B", "..", "../A",
                          "A/..", "./.", "A\tB", "A\nB", "A?", "A?x=1", "A?prop=", "A?list=", "./A?prop=ACL?x",
                          "A?prop=AC\x01L", "?prop=ACL", ".//A", "A/B/"}) {
    EXPECT_EQ(status_of(bad), StatusCode::BadRequest) << "'" << bad << "'";
  }
}

TEST(Uri, PropertyAndListQueries) {
  const auto p = Uri::parse("./DMAcc/x?prop=ACL");
  ASSERT_TRUE(p);
  EXPECT_EQ(p->query(), UriQuery::Prop);
  EXPECT_EQ(p->property(), Property::Acl);
  EXPECT_EQ(p->str(), "./DMAcc/x?prop=ACL");
  EXPECT_EQ(p->path(), "./DMAcc/x");
  EXPECT_EQ(p->without_query().query(), UriQuery::None);
  for (const char* name : {"ACL", "Format", "Type", "Size", "Name", "Title", "TStamp", "VerNo"}) {
    const auto u = Uri::parse(std::string("A?prop=") + name);
    ASSERT_TRUE(u) << name;
    EXPECT_EQ(property_name(u->property()), name);
  }
  EXPECT_EQ(Uri::parse("A?list=Struct")->query(), UriQuery::ListStruct);
  EXPECT_EQ(Uri::parse("A?list=StructData")->query(), UriQuery::ListStructData);
  EXPECT_EQ(Uri::parse(".?list=TNDS")->query(), UriQuery::ListTnds);
  EXPECT_EQ(Uri::parse("A?list=StructData")->str(), "./A?list=StructData");
  // Unknown property or list form: 406 (DM_TND 1.2 §7.3).
  EXPECT_EQ(status_of("A?prop=Owner"), StatusCode::OptionalFeatureNotSupported);
  EXPECT_EQ(status_of("A?prop=acl"), StatusCode::OptionalFeatureNotSupported);
  EXPECT_EQ(status_of("A?list=Tree"), StatusCode::OptionalFeatureNotSupported);
}

TEST(Uri, DepthLimit) {
  std::string at_limit = ".";
  for (int i = 0; i < 16; ++i) at_limit += "/n";
  EXPECT_EQ(status_of(at_limit), StatusCode::Ok);
  EXPECT_EQ(status_of(at_limit + "/n"), StatusCode::UriTooLong);
  EXPECT_EQ(status_of(at_limit + "/n", UriLimits{17, 255, 64}), StatusCode::Ok);
  EXPECT_EQ(status_of(at_limit + "/n", UriLimits{0, 0, 0}), StatusCode::Ok);
  EXPECT_EQ(status_of("A/B/C", UriLimits{2, 255, 64}), StatusCode::UriTooLong);
}

TEST(Uri, SegmentLengthLimit) {
  const std::string seg64(64, 'a');
  EXPECT_EQ(status_of("./" + seg64), StatusCode::Ok);
  EXPECT_EQ(status_of("./" + seg64 + "b"), StatusCode::UriTooLong);
  EXPECT_EQ(status_of("./A/" + std::string(10, 'x'), UriLimits{16, 255, 9}), StatusCode::UriTooLong);
}

TEST(Uri, TotalLengthLimitCountsCanonicalFormAndQuery) {
  // "./" + 4 segments of 62 + 3 slashes = 2 + 248 + 3 = 253 characters.
  const std::string s(62, 'x');
  const std::string u = "./" + s + "/" + s + "/" + s + "/" + s;
  ASSERT_EQ(u.size(), 253u);
  EXPECT_EQ(status_of(u), StatusCode::Ok);
  EXPECT_EQ(status_of(u + "/a"), StatusCode::Ok);    // 255
  EXPECT_EQ(status_of(u + "/ab"), StatusCode::UriTooLong);  // 256
  // The relative form is measured as its canonical form (2 more characters).
  EXPECT_EQ(status_of(u.substr(2) + "/ab"), StatusCode::UriTooLong);
  EXPECT_EQ(status_of(u + "?prop=ACL"), StatusCode::UriTooLong);
  EXPECT_EQ(status_of(u + "?prop=ACL", UriLimits{16, 300, 64}), StatusCode::Ok);
}

TEST(Uri, HugeUriIsRefusedWithoutBlowingUp) {
  std::string big = ".";
  for (int i = 0; i < 100000; ++i) big += "/a";
  EXPECT_EQ(status_of(big), StatusCode::UriTooLong);
}

TEST(Uri, FromSegmentsValidates) {
  EXPECT_TRUE(Uri::from_segments({"A", "B"}));
  EXPECT_EQ(Uri::from_segments({"A", ""}).error(), StatusCode::BadRequest);
  EXPECT_EQ(Uri::from_segments({"A/B"}).error(), StatusCode::BadRequest);
  EXPECT_EQ(Uri::from_segments({".."}).error(), StatusCode::BadRequest);
  EXPECT_EQ(Uri::from_segments({std::string(65, 'a')}).error(), StatusCode::UriTooLong);
}

TEST(Uri, PatternMatching) {
  const auto u = *Uri::parse("./DMAcc/srv1/AppAddr/1/Addr");
  EXPECT_TRUE(uri_matches(u, "./DMAcc/*/AppAddr/*/Addr"));
  EXPECT_TRUE(uri_matches(u, "./DMAcc/srv1/AppAddr/1/Addr"));
  EXPECT_FALSE(uri_matches(u, "./DMAcc/*/AppAddr/*"));
  EXPECT_FALSE(uri_matches(u, "./DMAcc/*/AppAddr/*/Addr/*"));
  EXPECT_FALSE(uri_matches(u, "./DMAcc/srv2/AppAddr/*/Addr"));
  EXPECT_TRUE(uri_matches(Uri{}, "."));
  EXPECT_FALSE(uri_matches(u, "DMAcc/*/AppAddr/*/Addr"));
}

TEST(Uri, SegmentsMayHoldNonAsciiAndPunctuation) {
  EXPECT_EQ(status_of("./Vendor/ACME-Corp_1.0/n\xC3\xA9"), StatusCode::Ok);
  EXPECT_EQ(status_of("./a b"), StatusCode::Ok);
  EXPECT_EQ(status_of("./a..b"), StatusCode::Ok);
}

}  // namespace
}  // namespace m2mdm::mo
