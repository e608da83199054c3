// Round trips XML→model→XML, WBXML→model→WBXML, XML↔WBXML, and cross-checks against Debian's
// xml2wbxml / wbxml2xml (libwbxml2-utils) as an independent implementation: what we encode they
// decode to equivalent XML, and what they encode we decode to the same model.
#include "m2mdm/syncml/codec.hpp"
#include "m2mdm/test/files.hpp"
#include "m2mdm/test/syncml_samples.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <string>
#include <unistd.h>

namespace m2mdm::syncml {
namespace {

namespace fs = std::filesystem;

Item leaf_item(std::string uri, std::optional<std::string> data, std::optional<std::string> format = std::nullopt) {
  Item it;
  it.source = Location{std::move(uri), std::nullopt};
  if (format) {
    it.meta = Meta{};
    it.meta->format = std::move(format);
  }
  it.data = std::move(data);
  return it;
}

// An Item with only a Target: @p uri, LocName @p name when given.
Item target_item(std::string uri, std::optional<std::string> name = std::nullopt) {
  Item it;
  it.target = Location{std::move(uri), std::move(name)};
  return it;
}

// A @p kind command (Add, Copy, Delete, Exec, Get, Replace), CmdID @p cmd_id, of @p items.
ItemCommand item_command(CommandKind kind, std::uint32_t cmd_id, std::vector<Item> items) {
  ItemCommand c;
  c.kind = kind;
  c.cmd_id = cmd_id;
  c.items = std::move(items);
  return c;
}

Message header_only(std::uint32_t msg_id) {
  Message m = test::sample_message(msg_id);
  m.hdr.source.loc_name = "m2m-dev-1";
  return m;
}

// A set of messages that uses every element the model has.
std::vector<Message> corpus() {
  std::vector<Message> out;
  {  // package 1
    Message m = header_only(1);
    test::start_package1(m);
    m.hdr.meta->max_obj_size = 1048576;
    ItemCommand rep = item_command(CommandKind::Replace, 2, {});
    for (auto [k, v] : {std::pair{"DevId", "IMEI:493005100592800"}, {"Man", "Acme M2M & Co <test>"}, {"Mod", "MX-1"},
                        {"DmV", "1.2"}, {"Lang", "en-US"}})
      rep.items.push_back(leaf_item(std::string("./DevInfo/") + k, v));
    m.body.push_back(Command{rep});
    m.final = true;
    out.push_back(m);
  }
  {  // server package 2: statuses, challenge, Get, Atomic, Sequence, Exec, Alert 1222
    Message m = header_only(2);
    m.hdr.resp_uri = "https://dm.example.net:8443/dm?s=4E2";
    m.body.push_back(Command{test::synchdr_challenge(1, "https://dm.example.net:8443/dm", "IMEI:493005100592800",
                                                     "bm9uY2UtMTIz", 212)});
    ItemCommand get = item_command(CommandKind::Get, 2, {target_item("./DevDetail/SwV")});
    get.lang = "en";
    m.body.push_back(Command{get});
    Container atomic;
    atomic.kind = CommandKind::Atomic;
    atomic.cmd_id = 3;
    ItemCommand add = item_command(CommandKind::Add, 4, {target_item("./M2MSIM/MCIM/1/Name", "name")});
    add.meta = Meta{};
    add.meta->format = "chr";
    add.meta->type = "text/plain";
    add.items[0].data = "caf\xc3\xa9 \xe2\x82\xac";
    ItemCommand del = item_command(CommandKind::Delete, 5, {target_item("./M2MSIM/Old")});
    del.no_resp = true;
    atomic.commands = {Command{add}, Command{del}};
    m.body.push_back(Command{atomic});
    Container seq;
    seq.kind = CommandKind::Sequence;
    seq.cmd_id = 6;
    ItemCommand exec = item_command(CommandKind::Exec, 7, {target_item("./M2MSIM/MCIM/1/Operations/Activate")});
    exec.correlator = "corr-1";
    Item copied = target_item("./a");
    copied.source = Location{"./b", std::nullopt};
    seq.commands = {Command{exec}, Command{item_command(CommandKind::Copy, 8, {copied})}};
    m.body.push_back(Command{seq});
    Alert next;
    next.cmd_id = 9;
    next.data = 1222;
    Item ni = target_item("https://dm.example.net");
    ni.source = Location{"IMEI:493005100592800", std::nullopt};
    next.items.push_back(ni);
    m.body.push_back(Command{next});
    out.push_back(m);
  }
  {  // client: Results with 10 items, Generic Alert, large-object chunk with MoreData
    Message m = header_only(3);
    m.hdr.no_resp = false;
    Results r;
    r.cmd_id = 1;
    r.msg_ref = 2;
    r.cmd_ref = 2;
    r.meta = Meta{};
    r.meta->format = "chr";
    r.target_ref = "./DevDetail";
    for (int i = 0; i < 10; ++i) {
      Item it = leaf_item("./DevDetail/Ext/" + std::to_string(i), "value-" + std::to_string(i));
      it.meta = Meta{};
      it.meta->type = "text/plain";
      it.meta->size = 7;
      r.items.push_back(it);
    }
    m.body.push_back(Command{r});
    Alert ga;
    ga.cmd_id = 2;
    ga.data = 1226;
    ga.correlator = "corr-1";
    Item gi = leaf_item("./M2MSIM/MCIM/1/Operations/Activate", "0");
    gi.meta = Meta{};
    gi.meta->type = "urn:oma:at:m2msim:1.0:activation";
    gi.meta->format = "int";
    gi.meta->mark = "informational";
    ga.items.push_back(gi);
    m.body.push_back(Command{ga});
    ItemCommand chunk = test::replace_one(3, "./M2MSIM/MCIM/1/Data", "b64", "QUJDREVGR0g=");
    Item& li = chunk.items[0];
    li.meta->size = 4096;
    li.meta->version = "1.0";
    li.meta->emi = {"vendor-ext"};
    li.more_data = true;
    m.body.push_back(Command{chunk});
    m.final = true;
    out.push_back(m);
  }
  return out;
}

// Every corpus message through @p encode and back through @p decode: the same model, and the
// same bytes when encoded again.
template <typename Encode, typename Decode>
void round_trips_the_corpus(Encode encode, Decode decode) {
  for (const Message& m : corpus()) {
    auto bytes = encode(m);
    ASSERT_TRUE(bytes);
    auto back = decode(*bytes);
    ASSERT_TRUE(back);
    EXPECT_EQ(*back, m);
    EXPECT_EQ(encode(*back).value(), *bytes);
  }
}

TEST(CodecRoundTrip, XmlModelXml) {
  round_trips_the_corpus([](const Message& m) { return encode_xml(m); }, [](ByteView b) { return decode_xml(b); });
}

TEST(CodecRoundTrip, WbxmlModelWbxml) {
  round_trips_the_corpus([](const Message& m) { return encode_wbxml(m); }, [](ByteView b) { return decode_wbxml(b); });
}

TEST(CodecRoundTrip, XmlToWbxmlAndBack) {
  for (const Message& m : corpus()) {
    const Bytes x = encode_xml(m).value();
    const Message from_xml = decode(x).value();
    const Bytes w = encode(from_xml, Encoding::Wbxml).value();
    const Message from_wbxml = decode(w).value();
    EXPECT_EQ(from_wbxml, m);
    EXPECT_EQ(encode(from_wbxml, Encoding::Xml).value(), x);
  }
}

// ----- against libwbxml2-utils -----------------------------------------------------------------

class Tools : public ::testing::Test {
 protected:
  void SetUp() override {
    if (std::system("command -v xml2wbxml >/dev/null 2>&1 && command -v wbxml2xml >/dev/null 2>&1") != 0)
      GTEST_SKIP() << "xml2wbxml/wbxml2xml (libwbxml2-utils) not installed";
    dir_ = fs::temp_directory_path() / ("m2mdm_codec_" + std::to_string(::getpid()) + "_" +
                                        std::to_string(std::random_device{}()));
    fs::create_directories(dir_);
  }
  void TearDown() override {
    if (!dir_.empty()) fs::remove_all(dir_);
  }
  // Runs a tool: in -> out; returns its exit status.
  int run(const std::string& tool, const fs::path& in, const fs::path& out) {
    const std::string cmd = tool + " -o '" + out.string() + "' '" + in.string() + "' >/dev/null 2>&1";
    return std::system(cmd.c_str());
  }
  // Each corpus message as @p encode writes it (file ours<n>.<ours_ext>) through @p tool (file
  // theirs<n>.<theirs_ext>, at least @p min_size bytes) and back through @p decode: the same model.
  template <typename Encode, typename Decode>
  void through_the_tool(const std::string& tool, const std::string& ours_ext, const std::string& theirs_ext,
                        std::size_t min_size, Encode encode, Decode decode) {
    int n = 0;
    for (const Message& m : corpus()) {
      const fs::path ours = dir_ / ("ours" + std::to_string(n) + "." + ours_ext);
      const fs::path theirs = dir_ / ("theirs" + std::to_string(n) + "." + theirs_ext);
      ++n;
      test::write_file(ours, encode(m).value());
      ASSERT_EQ(run(tool, ours, theirs), 0) << tool << " refused our " << ours_ext;
      const Bytes theirs_bytes = test::slurp_bytes(theirs);
      ASSERT_GE(theirs_bytes.size(), min_size);
      DecodeError err;
      auto back = decode(theirs_bytes, &err);
      ASSERT_TRUE(back) << err.what << " at " << err.where;
      EXPECT_EQ(*back, m);
    }
  }
  fs::path dir_;
};

TEST_F(Tools, WhatWeEncodeTheyDecodeToEquivalentXml) {
  through_the_tool(
      "wbxml2xml", "wbxml", "xml", 0, [](const Message& m) { return encode_wbxml(m); },
      [](ByteView b, DecodeError* err) { return decode_xml(b, {}, err); });
}

TEST_F(Tools, WhatTheyEncodeWeDecodeToTheSameModel) {
  through_the_tool(
      "xml2wbxml", "xml", "wbxml", 6, [](const Message& m) { return encode_xml(m, true); },
      [](ByteView b, DecodeError* err) { return decode_wbxml(b, {}, err); });
}

TEST_F(Tools, OurTokensMatchXml2wbxmlForTheSameDocument) {
  // Same document, both encoders, without a string table on their side: the element tokens must
  // agree (their header is WBXML 1.3; ours 1.2 — compare from the root element on).
  for (const Message& m : corpus()) {
    const fs::path x = dir_ / "doc.xml";
    const fs::path w = dir_ / "doc.wbxml";
    test::write_file(x, encode_xml(m).value());
    const std::string cmd = "xml2wbxml -n -o '" + w.string() + "' '" + x.string() + "' >/dev/null 2>&1";
    ASSERT_EQ(std::system(cmd.c_str()), 0);
    const Bytes theirs = test::slurp_bytes(w);
    const Bytes ours = encode_wbxml(m).value();
    ASSERT_GT(theirs.size(), 5u);
    // Their Item Data may be OPAQUE where ours is STR_I, so compare the tag token sequence only
    // via decoding: both must give the same model, and our header must be the SyncML 1.2 one.
    EXPECT_EQ(decode_wbxml(theirs).value(), decode_wbxml(ours).value());
    EXPECT_EQ(Bytes(ours.begin(), ours.begin() + 5), (Bytes{0x02, 0xA4, 0x01, 0x6A, 0x00}));
  }
}

TEST_F(Tools, BinaryDataInOurWbxmlIsOpaqueForThemToo) {
  Message m = header_only(5);
  m.body.push_back(Command{
      item_command(CommandKind::Replace, 1, {leaf_item("./bin", std::string("\x01\x02\x03\x80\xff", 5), "bin")})});
  const fs::path w = dir_ / "bin.wbxml";
  const fs::path x = dir_ / "bin.xml";
  test::write_file(w, encode_wbxml(m).value());
  // libwbxml accepts the OPAQUE token (it cannot print raw binary as XML text faithfully, which
  // is exactly why our XML encoder refuses such data).
  EXPECT_EQ(run("wbxml2xml", w, x), 0);
  auto back = decode_wbxml(test::slurp_bytes(w));
  ASSERT_TRUE(back);
  EXPECT_EQ(*back, m);
}

}  // namespace
}  // namespace m2mdm::syncml
