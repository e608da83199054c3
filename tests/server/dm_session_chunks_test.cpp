// The DPF engine receiving a device's Replace as a large object (DM_RepPro 1.2 §7), driven with
// hand-made device messages: the Meta in effect merges the item's over the command's, a b64
// object's chunks are each base64 (Size counts the decoded bytes), and another item or command
// before the last chunk drops the object with Alert 1225, as the client engine does.
#include "m2mdm/server/dm_session.hpp"
#include "m2mdm/syncml/auth.hpp"
#include "m2mdm/syncml/codec.hpp"
#include "m2mdm/syncml/encoding.hpp"
#include "m2mdm/test/memory_backend.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace m2mdm::server {
namespace {

constexpr std::string_view kDev = "IMEI:490154203237518";
constexpr std::string_view kServer = "ro.example";

/// One Replace item of ./DevInfo/<leaf>.
syncml::Item devinfo_item(std::string_view leaf, std::string data, bool more_data = false) {
  syncml::Item item;
  item.source = syncml::Location{"./DevInfo/" + std::string(leaf), std::nullopt};
  item.data = std::move(data);
  item.more_data = more_data;
  return item;
}

syncml::Command replace(std::uint32_t cmd_id, std::vector<syncml::Item> items,
                        std::optional<syncml::Meta> meta = std::nullopt) {
  syncml::ItemCommand rep;
  rep.kind = syncml::CommandKind::Replace;
  rep.cmd_id = cmd_id;
  rep.meta = std::move(meta);
  rep.items = std::move(items);
  return syncml::Command{rep};
}

class DmSessionChunks : public ::testing::Test {
 protected:
  DmSessionChunks() {
    backend_.creds = test::test_credentials(kServer, kDev);
    backend_.pfc = Bytes{1};  // known: the DPF asks the device nothing of its own
  }

  /// Sends device message @p msg_id (package 1 with its md5 credential and Alert 1201 first) and
  /// returns the server's reply, decoded.
  syncml::Message send(std::uint32_t msg_id, std::vector<syncml::Command> body, bool final) {
    syncml::Message m;
    m.hdr.session_id = "1A2B";
    m.hdr.msg_id = msg_id;
    m.hdr.target.loc_uri = "http://127.0.0.1/dm";
    m.hdr.source.loc_uri = std::string(kDev);
    if (msg_id == 1) {
      syncml::Cred cred;
      cred.meta.type = std::string(syncml::kAuthTypeMd5);
      cred.meta.format = "b64";
      cred.data = syncml::make_credential(syncml::AuthType::md5, kDev, "client-secret", {}).value();
      m.hdr.cred = cred;
      syncml::Alert alert;
      alert.cmd_id = 1;
      alert.data = 1201;
      body.insert(body.begin(), syncml::Command{alert});
    }
    m.body = std::move(body);
    m.final = final;
    auto bytes = syncml::encode(m, syncml::Encoding::Xml);
    EXPECT_TRUE(bytes);
    auto reply = session_.handle(*bytes, syncml::kContentTypeXml);
    EXPECT_TRUE(reply) << (reply ? "" : reply.error().message() + " " + session_.report().abort_reason);
    if (!reply) return {};
    auto decoded = syncml::decode(reply->body);
    EXPECT_TRUE(decoded);
    return decoded ? *decoded : syncml::Message{};
  }

  /// The Status the reply gives the device's command @p cmd_ref (-1 when there is none).
  static int status_of(const syncml::Message& reply, std::uint32_t cmd_ref) {
    for (const auto& c : reply.body)
      if (const auto* s = std::get_if<syncml::Status>(&c.value); s && s->cmd_ref == cmd_ref && s->cmd != "SyncHdr")
        return s->data;
    return -1;
  }

  /// The targets of the reply's Alerts 1225.
  static std::vector<std::string> no_end_of_data(const syncml::Message& reply) {
    std::vector<std::string> out;
    for (const auto& c : reply.body)
      if (const auto* a = std::get_if<syncml::Alert>(&c.value); a && a->data == 1225)
        for (const auto& i : a->items) out.push_back(i.target ? i.target->loc_uri : std::string{});
    return out;
  }

  /// Message 1 opens a 6-byte object: Replace (CmdID 2) of ./DevInfo/<leaf> with its first chunk
  /// @p data under a command Meta of Size 6 and @p format, answered 213.
  syncml::Message open_object(std::string_view leaf, std::string data, std::optional<std::string> format = {},
                              bool final = false) {
    syncml::Meta meta;
    meta.size = 6;
    meta.format = std::move(format);
    auto reply = send(1, {replace(2, {devinfo_item(leaf, std::move(data), true)}, meta)}, final);
    EXPECT_EQ(status_of(reply, 2), 213);
    return reply;
  }

  test::MemoryDmBackend backend_;
  DmServerSession session_{backend_, DmServerConfig{}};
};

TEST_F(DmSessionChunks, TheCommandsSizeHoldsUnderAnItemMetaThatGivesOnlyTheType) {
  syncml::Meta command_meta;
  command_meta.size = 6;
  syncml::Item first = devinfo_item("Mod", "abc", true);
  first.meta = syncml::Meta{};
  first.meta->type = "text/plain";  // no Size here: the command's is in effect (before: 411)
  const auto r1 = send(1, {replace(2, {first}, command_meta)}, false);
  EXPECT_EQ(status_of(r1, 2), 213);

  const auto r2 = send(2, {replace(3, {devinfo_item("Mod", "def")}, command_meta)}, true);
  EXPECT_EQ(status_of(r2, 3), 200);
  EXPECT_EQ(backend_.devinfo["Mod"], "abcdef");
}

TEST_F(DmSessionChunks, ABase64ObjectIsAssembledFromDecodedChunksAndKeptAsBase64Text) {
  open_object("Ext", base64_encode(as_bytes("abc")), "b64");  // Size 6: the decoded bytes "abc" + "def"
  syncml::Meta meta;
  meta.format = "b64";
  const auto r2 = send(2, {replace(3, {devinfo_item("Ext", base64_encode(as_bytes("def")))}, meta)}, true);
  EXPECT_EQ(status_of(r2, 3), 200);
  EXPECT_EQ(backend_.devinfo["Ext"], base64_encode(as_bytes("abcdef")));  // as an unchunked b64 value
}

TEST_F(DmSessionChunks, AChunkThatIsNotBase64IsRefusedAndTheObjectDropped) {
  open_object("Ext", base64_encode(as_bytes("abc")), "b64");
  const auto r2 = send(2, {replace(3, {devinfo_item("Ext", "not*base64")})}, true);
  EXPECT_EQ(status_of(r2, 3), 400);
  EXPECT_FALSE(backend_.devinfo.contains("Ext"));
}

TEST_F(DmSessionChunks, AnItemForAnotherNodeBeforeTheLastChunkDropsTheObjectWithAlert1225) {
  open_object("Mod", "abc");
  const auto r2 = send(2, {replace(3, {devinfo_item("Man", "m2mdm")})}, true);
  EXPECT_EQ(no_end_of_data(r2), std::vector<std::string>{"./DevInfo/Mod"});
  EXPECT_EQ(status_of(r2, 3), 200);
  EXPECT_EQ(backend_.devinfo["Man"], "m2mdm");
  EXPECT_FALSE(backend_.devinfo.contains("Mod"));
}

TEST_F(DmSessionChunks, AnotherCommandBeforeTheLastChunkDropsTheObjectWithAlert1225) {
  open_object("Mod", "abc");
  syncml::ItemCommand add;
  add.kind = syncml::CommandKind::Add;
  add.cmd_id = 3;
  add.items.push_back(devinfo_item("Mod", "x"));
  const auto r2 = send(2, {syncml::Command{add}}, true);
  EXPECT_EQ(no_end_of_data(r2), std::vector<std::string>{"./DevInfo/Mod"});
  EXPECT_EQ(status_of(r2, 3), 405);  // the DPF takes no Add from a device
  EXPECT_FALSE(backend_.devinfo.contains("Mod"));
  // The Alert is owed a Status: this Final reply, with nothing else asked, does not end the
  // session; the device's next message (its Statuses) does.
  EXPECT_TRUE(r2.final);
  EXPECT_EQ(session_.state(), DmServerState::Running);
  send(3, {}, true);
  EXPECT_EQ(session_.state(), DmServerState::Completed);
}

TEST_F(DmSessionChunks, AFinalMessageThatLeavesAnObjectOpenDropsItWithAlert1225) {
  const auto r1 = open_object("Mod", "abc", std::nullopt, /*final=*/true);  // MoreData and Final
  EXPECT_EQ(no_end_of_data(r1), std::vector<std::string>{"./DevInfo/Mod"});
  EXPECT_EQ(session_.state(), DmServerState::Running);
  // The object is gone: a stray "last chunk" is a whole value of its own, not its end.
  const auto r2 = send(2, {replace(3, {devinfo_item("Mod", "def")})}, true);
  EXPECT_EQ(status_of(r2, 3), 200);
  EXPECT_EQ(backend_.devinfo["Mod"], "def");
}

}  // namespace
}  // namespace m2mdm::server
