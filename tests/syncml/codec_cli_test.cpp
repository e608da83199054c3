// `m2mdm syncml decode|encode` driven as a process (the binary of this build tree), checked on
// good and bad input: exit status, stdout bytes, one-line stderr.
#include "m2mdm/syncml/codec.hpp"
#include "m2mdm/test/files.hpp"

#include <gtest/gtest.h>

#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <string>

namespace m2mdm::syncml {
namespace {

namespace fs = std::filesystem;

struct ProcResult {
  int status = -1;
  std::string out;
  std::string err;
};

class CodecCli : public ::testing::Test {
 protected:
  void SetUp() override {
    bin_ = fs::path(M2MDM_BINARY_DIR) / "server" / "m2mdm";
    if (!fs::exists(bin_)) GTEST_SKIP() << "m2mdm binary not built at " << bin_;
    dir_ = fs::temp_directory_path() /
           ("m2mdm_cli_" + std::to_string(::getpid()) + "_" + std::to_string(std::random_device{}()));
    fs::create_directories(dir_);
  }
  void TearDown() override {
    if (!dir_.empty()) fs::remove_all(dir_);
  }

  fs::path write(const std::string& name, std::string_view bytes) {
    const fs::path p = dir_ / name;
    test::write_file(p, bytes);
    return p;
  }
  ProcResult run(const std::string& args) {
    const fs::path out = dir_ / "stdout", err = dir_ / "stderr";
    const std::string cmd = "'" + bin_.string() + "' " + args + " >'" + out.string() + "' 2>'" + err.string() + "'";
    const int rc = std::system(cmd.c_str());
    return ProcResult{WIFEXITED(rc) ? WEXITSTATUS(rc) : -1, test::slurp(out), test::slurp(err)};
  }

  fs::path bin_, dir_;
};

constexpr std::string_view kMsg =
    "<SyncML xmlns='SYNCML:SYNCML1.2'><SyncHdr><VerDTD>1.2</VerDTD><VerProto>DM/1.2</VerProto>"
    "<SessionID>7</SessionID><MsgID>1</MsgID><Target><LocURI>http://s</LocURI></Target>"
    "<Source><LocURI>IMEI:1</LocURI></Source></SyncHdr><SyncBody><Alert><CmdID>1</CmdID><Data>1201</Data>"
    "</Alert><Final/></SyncBody></SyncML>";

TEST_F(CodecCli, DecodePrintsCanonicalPrettyXml) {
  const auto in = write("m.xml", kMsg);
  const ProcResult r = run("syncml decode '" + in.string() + "'");
  ASSERT_EQ(r.status, 0) << r.err;
  const Message m = decode_xml(as_bytes(kMsg)).value();
  EXPECT_EQ(r.out, std::string(as_chars(encode_xml(m, true).value())));
  EXPECT_TRUE(r.err.empty());
}

TEST_F(CodecCli, EncodeToWbxmlIsBinarySafeAndDecodable) {
  const auto in = write("m.xml", kMsg);
  const ProcResult r = run("syncml encode --to wbxml '" + in.string() + "'");
  ASSERT_EQ(r.status, 0) << r.err;
  const Message m = decode_xml(as_bytes(kMsg)).value();
  const Bytes expected = encode_wbxml(m).value();
  EXPECT_EQ(Bytes(r.out.begin(), r.out.end()), expected);
  // and back to XML from the WBXML file
  const auto w = write("m.wbxml", r.out);
  const ProcResult x = run("syncml encode --to xml '" + w.string() + "'");
  ASSERT_EQ(x.status, 0) << x.err;
  EXPECT_EQ(x.out, std::string(as_chars(encode_xml(m).value())));
}

TEST_F(CodecCli, BadInputFailsWithOneLineReason) {
  std::string bad(kMsg);
  bad.replace(bad.find("<Final/>"), 8, "<Bogus/>");
  const auto in = write("bad.xml", bad);
  const ProcResult r = run("syncml decode '" + in.string() + "'");
  EXPECT_NE(r.status, 0);
  EXPECT_TRUE(r.out.empty());
  ASSERT_FALSE(r.err.empty());
  EXPECT_EQ(r.err.find('\n'), r.err.size() - 1) << r.err;  // exactly one line
  EXPECT_NE(r.err.find("SyncML/SyncBody/Bogus"), std::string::npos) << r.err;

  const auto w = write("trunc.wbxml", std::string("\x02\xa4\x01\x6a\x00\x6d\x6c", 7));
  const ProcResult t = run("syncml decode '" + w.string() + "'");
  EXPECT_NE(t.status, 0);
  EXPECT_NE(t.err.find("truncated"), std::string::npos) << t.err;

  const ProcResult missing = run("syncml decode '" + (dir_ / "nope.xml").string() + "'");
  EXPECT_NE(missing.status, 0);
  EXPECT_NE(missing.err.find("cannot read"), std::string::npos);
}

TEST_F(CodecCli, BinaryDataCannotBePrintedAsXml) {
  Message m = decode_xml(as_bytes(kMsg)).value();
  ItemCommand rep;
  rep.kind = CommandKind::Replace;
  rep.cmd_id = 2;
  Item it;
  it.target = Location{"./bin", std::nullopt};
  it.data = std::string("\x00\x01\xfe", 3);
  rep.items.push_back(it);
  m.body.push_back(Command{rep});
  const Bytes w = encode_wbxml(m).value();
  const auto in = write("bin.wbxml", std::string(as_chars(w)));
  const ProcResult r = run("syncml decode '" + in.string() + "'");
  EXPECT_NE(r.status, 0);
  EXPECT_NE(r.err.find("encoding failed"), std::string::npos) << r.err;
  const ProcResult same = run("syncml encode --to wbxml '" + in.string() + "'");
  ASSERT_EQ(same.status, 0) << same.err;
  EXPECT_EQ(Bytes(same.out.begin(), same.out.end()), w);
}

}  // namespace
}  // namespace m2mdm::syncml
