// DM-profile bootstrap (SyncML DM WBXML with TNDS, textual SEC): same DMAcc result as the CP path.
#include "cp_test_support.hpp"
#include "m2mdm/bootstrap/dm_profile.hpp"
#include "m2mdm/syncml/codec.hpp"

#include <gtest/gtest.h>

#include <unistd.h>

namespace m2mdm::bootstrap {
namespace {

using namespace testing;

const SecCredentials kCreds{std::string("8372"), std::string("466923103145252")};

TEST(DmProfile, BuildsSyncmlWbxmlAndYieldsTheSameAccountsAsCp) {
  const auto spec = sample_spec();
  auto dm = build_dm_bootstrap(spec);
  ASSERT_TRUE(dm) << dm.error().message();
  ASSERT_GE(dm->size(), 4u);
  EXPECT_EQ((*dm)[0], 0x03);  // WBXML 1.3
  EXPECT_EQ((*dm)[1], 0xA4);  // public id 0x1201 = SyncML 1.2 (mb_u_int32 A4 01)
  EXPECT_EQ((*dm)[2], 0x01);

  for (SecMethod m : {SecMethod::netwpin, SecMethod::userpin, SecMethod::usernetwpin}) {
    auto mac = compute_mac(m, kCreds, *dm, SecProfile::dm);
    ASSERT_TRUE(mac);
    auto vb = verify_dm_bootstrap(*dm, m, kCreds, *mac);
    ASSERT_TRUE(vb) << dm_sec_method_name(m) << ": " << vb.error().message();
    // The CP profile's MAC (no colon in the USERNETWPIN key) must not verify a DM-profile message.
    if (m == SecMethod::usernetwpin) {
      auto cp_mac = compute_mac(m, kCreds, *dm, SecProfile::cp);
      EXPECT_EQ(verify_dm_bootstrap(*dm, m, kCreds, *cp_mac).error(), make_error_code(errc::sec_mac_mismatch));
    }
    Bytes flipped = *dm;
    flipped[flipped.size() / 2] ^= 0x20;
    EXPECT_EQ(verify_dm_bootstrap(flipped, m, kCreds, *mac).error(), make_error_code(errc::sec_mac_mismatch));
  }

  auto vb = verify_dm_bootstrap(*dm, SecMethod::userpin, kCreds, *compute_mac(SecMethod::userpin, kCreds, *dm, SecProfile::dm));
  ASSERT_TRUE(vb);
  auto doc = build_bootstrap_doc(spec);
  auto cp = interpret_cp_document(*doc);
  ASSERT_TRUE(cp);
  const auto& a = vb->result().contexts;
  const auto& b = cp->contexts;
  ASSERT_EQ(a.size(), b.size());
  for (std::size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].context, b[i].context);
    EXPECT_EQ(a[i].spki_sha256, b[i].spki_sha256);
    EXPECT_EQ(a[i].account.server_id, b[i].account.server_id);
    EXPECT_EQ(a[i].account.name, b[i].account.name);
    EXPECT_EQ(a[i].account.addr, b[i].account.addr);
    EXPECT_EQ(a[i].account.addr_type, b[i].account.addr_type);
    EXPECT_EQ(a[i].account.port, b[i].account.port);
    EXPECT_EQ(a[i].account.pref_conref, b[i].account.pref_conref);
    EXPECT_EQ(a[i].account.app_auth, b[i].account.app_auth);
    EXPECT_EQ(a[i].account.acl, b[i].account.acl);
    ASSERT_TRUE(a[i].connectivity);
    EXPECT_EQ(*a[i].connectivity, *b[i].connectivity);
  }
}

TEST(DmProfile, PlainItemsWithoutTndsAndCrossCheckWithXml2wbxml) {
  if (!have_tool("xml2wbxml")) GTEST_SKIP() << "libwbxml2-utils not installed";
  const auto dir = std::filesystem::temp_directory_path() / ("m2mdm_dm_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "dm.xml")
      << "<?xml version=\"1.0\"?>\n<!DOCTYPE SyncML PUBLIC \"-//SYNCML//DTD SyncML 1.2//EN\" "
         "\"http://www.openmobilealliance.org/tech/DTD/OMA-TS-SyncML_RepPro_DTD-V1_2.dtd\">\n"
         "<SyncML xmlns=\"SYNCML:SYNCML1.2\"><SyncHdr><VerDTD>1.2</VerDTD><VerProto>DM/1.2</VerProto>"
         "<SessionID>1</SessionID><MsgID>1</MsgID><Target><LocURI>IMEI:1</LocURI></Target>"
         "<Source><LocURI>srv</LocURI></Source></SyncHdr><SyncBody>"
         "<Add><CmdID>1</CmdID><Item><Target><LocURI>./DMAcc/a/ServerID</LocURI></Target><Data>srv1</Data></Item>"
         "<Item><Target><LocURI>./DMAcc/a/AppAddr/x/Addr</LocURI></Target><Data>http://srv1/dm</Data></Item></Add>"
         "<Replace><CmdID>2</CmdID><Item><Target><LocURI>./DMAcc/a/AppAuth/c/AAuthLevel</LocURI></Target>"
         "<Data>CLCRED</Data></Item><Item><Target><LocURI>./DMAcc/a/AppAuth/c/AAuthData</LocURI></Target>"
         "<Data>AQID</Data></Item></Replace><Final/></SyncBody></SyncML>\n";
  ASSERT_EQ(run("xml2wbxml -o " + (dir / "dm.wbxml").string() + " " + (dir / "dm.xml").string() + " >/dev/null 2>&1"), 0);
  const Bytes wbxml = slurp_bytes(dir / "dm.wbxml");
  std::filesystem::remove_all(dir);
  auto r = interpret_dm_bootstrap(wbxml);
  ASSERT_TRUE(r) << r.error().message();
  ASSERT_EQ(r->contexts.size(), 1u);
  EXPECT_EQ(r->contexts[0].account.server_id, "srv1");
  EXPECT_EQ(r->contexts[0].account.addr, "http://srv1/dm");
  ASSERT_NE(r->contexts[0].account.credential("CLCRED"), nullptr);
  EXPECT_EQ(r->contexts[0].account.credential("CLCRED")->data, (Bytes{1, 2, 3}));
}

// A DM-profile bootstrap of one account whose AppAddr port is @p port, as WBXML (our own codec).
Bytes dm_profile_with_port(std::string_view port) {
  syncml::Message m;
  m.hdr.session_id = "1";
  m.hdr.msg_id = 1;
  m.hdr.target.loc_uri = "IMEI:1";
  m.hdr.source.loc_uri = "srv";
  syncml::ItemCommand add;
  add.kind = syncml::CommandKind::Add;
  add.cmd_id = 1;
  for (const auto& [uri, data] : {std::pair<std::string, std::string>{"./DMAcc/a/ServerID", "srv1"},
                                  {"./DMAcc/a/AppAddr/x/Addr", "https://srv1/dm"},
                                  {"./DMAcc/a/AppAddr/x/Port/p/PortNbr", std::string(port)}}) {
    syncml::Item item;
    item.target = syncml::Location{uri, std::nullopt};
    item.data = data;
    add.items.push_back(std::move(item));
  }
  m.body.push_back(syncml::Command{add});
  m.final = true;
  return syncml::encode_wbxml(m).value();
}

// The port is read as the CP path reads PORTNBR: decimal digits only, 1..65535 (the DM profile
// used to take whatever std::stoul took, so "+443" and "443abc" were port 443).
TEST(DmProfile, APortIsDecimalDigitsOnlyLikeInCp) {
  auto ok = interpret_dm_bootstrap(dm_profile_with_port("8443"));
  ASSERT_TRUE(ok) << ok.error().message();
  ASSERT_EQ(ok->contexts.size(), 1u);
  EXPECT_EQ(ok->contexts[0].account.port, 8443);
  for (const char* bad : {"443abc", "+443", "0x1bb", "0", "65536", "", "-1"}) {
    auto r = interpret_dm_bootstrap(dm_profile_with_port(bad));
    ASSERT_FALSE(r) << bad;
    EXPECT_EQ(r.error(), make_error_code(errc::cp_invalid_w7)) << bad;
  }
}

TEST(DmProfile, RejectsGarbage) {
  EXPECT_FALSE(interpret_dm_bootstrap(Bytes{0x03, 0xA4, 0x01, 0x6A, 0x00, 0x6D, 0x01}));
  EXPECT_FALSE(interpret_dm_bootstrap(Bytes{0x07, 0x00}));
  EXPECT_EQ(verify_dm_bootstrap(Bytes{0x03, 0xA4, 0x01, 0x6A}, SecMethod::userpinmac, kCreds, std::nullopt).error(),
            make_error_code(errc::sec_unknown_method));
}

}  // namespace
}  // namespace m2mdm::bootstrap
