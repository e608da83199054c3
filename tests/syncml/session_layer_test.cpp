// The shared session layer both engines ride on: PeerAuthenticator / OwnCredential
// (DM_Security 1.2 §5), MessageBuilder (DM_RepPro 1.2 §5.1, §6.6) and the large-object pieces
// (DM_RepPro 1.2 §7). The engines' own suites (client conformance vectors, dm_engines_test) cover
// them in sessions; these pin each rule on its own.
#include "m2mdm/syncml/codec.hpp"
#include "m2mdm/syncml/large_object.hpp"
#include "m2mdm/syncml/message_builder.hpp"
#include "m2mdm/syncml/peer_auth.hpp"

#include <gtest/gtest.h>

#include <string>

namespace m2mdm::syncml {
namespace {

Bytes bytes_of(std::string_view s) { return Bytes(s.begin(), s.end()); }

Message with_cred(AuthType type, std::string_view user, std::string_view password, ByteView nonce) {
  Message m;
  Cred c;
  c.meta.type = std::string(auth_type_string(type));
  c.meta.format = "b64";
  c.data = make_credential(type, user, password, nonce).value();
  m.hdr.cred = c;
  return m;
}

// ---- PeerAuthenticator ------------------------------------------------------------------------

TEST(PeerAuthenticator, Md5Is212ThenOkWithoutCredAndRefusesWrongOnes) {
  const Bytes nonce = bytes_of("nonce-1");
  PeerAuthenticator check(AuthSecret{AuthType::md5, "dev", "secret", nonce});
  Message none;
  EXPECT_EQ(check.verify(none, {}, std::nullopt), StatusCode::MissingCredentials);
  EXPECT_EQ(check.verify(with_cred(AuthType::md5, "dev", "wrong", nonce), {}, std::nullopt),
            StatusCode::InvalidCredentials);
  EXPECT_EQ(check.verify(with_cred(AuthType::md5, "dev", "secret", bytes_of("stale")), {}, std::nullopt),
            StatusCode::InvalidCredentials);
  // Right secret, but the scheme is not the expected one (no downgrade to basic).
  EXPECT_EQ(check.verify(with_cred(AuthType::basic, "dev", "secret", nonce), {}, std::nullopt),
            StatusCode::InvalidCredentials);
  EXPECT_FALSE(check.authenticated());
  EXPECT_EQ(check.verify(with_cred(AuthType::md5, "dev", "secret", nonce), {}, std::nullopt),
            StatusCode::AuthenticationAccepted);
  EXPECT_TRUE(check.authenticated());
  EXPECT_EQ(check.verify(none, {}, std::nullopt), StatusCode::Ok);  // once accepted, Cred may be omitted
  EXPECT_EQ(check.verify(with_cred(AuthType::md5, "dev", "secret", nonce), {}, std::nullopt), StatusCode::Ok);
}

TEST(PeerAuthenticator, CredWithoutMetaTypeIsBasic) {
  PeerAuthenticator check(AuthSecret{AuthType::basic, "Bruce2", "OhBehave", {}});
  Message m;
  Cred c;
  c.data = "QnJ1Y2UyOk9oQmVoYXZl";  // DM_Protocol 1.2 §9.4.1
  m.hdr.cred = c;
  EXPECT_EQ(check.verify(m, {}, std::nullopt), StatusCode::AuthenticationAccepted);
}

TEST(PeerAuthenticator, HmacAuthenticatesEveryMessage) {
  const Bytes nonce = bytes_of("n");
  const Bytes body = bytes_of("<SyncML>...</SyncML>");
  PeerAuthenticator check(AuthSecret{AuthType::hmac, "srv", "pw", nonce});
  Message m;
  EXPECT_EQ(check.verify(m, body, std::nullopt), StatusCode::MissingCredentials);
  const auto header = hmac_header_value("srv", "pw", nonce, body).value();
  EXPECT_EQ(check.verify(m, body, header), StatusCode::AuthenticationAccepted);
  EXPECT_EQ(check.verify(m, body, header), StatusCode::Ok);
  // Still every message: none or a MAC over other bytes is refused after acceptance too.
  EXPECT_EQ(check.verify(m, body, std::nullopt), StatusCode::MissingCredentials);
  EXPECT_EQ(check.verify(m, bytes_of("other"), header), StatusCode::InvalidCredentials);
  const auto other_user = hmac_header_value("intruder", "pw", nonce, body).value();
  EXPECT_EQ(check.verify(m, body, other_user), StatusCode::InvalidCredentials);
}

TEST(PeerAuthenticator, ChallengeRotatesTheExpectedNonce) {
  PeerAuthenticator check(AuthSecret{AuthType::md5, "dev", "secret", bytes_of("old")});
  auto chal = check.challenge();
  ASSERT_TRUE(chal);
  EXPECT_EQ(chal->meta.type, "syncml:auth-md5");
  EXPECT_EQ(chal->meta.format, "b64");
  ASSERT_TRUE(chal->meta.next_nonce);
  const Bytes fresh = base64_decode(*chal->meta.next_nonce).value();
  EXPECT_EQ(fresh.size(), kDefaultNonceSize);
  EXPECT_EQ(check.expected().nonce, fresh);
  // The old nonce is no longer accepted; the new one is.
  EXPECT_EQ(check.verify(with_cred(AuthType::md5, "dev", "secret", bytes_of("old")), {}, std::nullopt),
            StatusCode::InvalidCredentials);
  EXPECT_EQ(check.verify(with_cred(AuthType::md5, "dev", "secret", fresh), {}, std::nullopt),
            StatusCode::AuthenticationAccepted);
  // basic challenges carry no nonce.
  PeerAuthenticator basic(AuthSecret{AuthType::basic, "u", "p", {}});
  auto b = basic.challenge();
  ASSERT_TRUE(b);
  EXPECT_FALSE(b->meta.next_nonce);
}

// ---- OwnCredential ----------------------------------------------------------------------------

Status hdr_status(StatusCode code, std::optional<Chal> chal = std::nullopt) {
  Status s = status_for(1, 0, "SyncHdr", code);
  s.chal = std::move(chal);
  return s;
}

Chal chal_of(AuthType type, std::string_view nonce) {
  Challenge c;
  c.type = type;
  c.next_nonce = bytes_of(nonce);
  return chal_from(c);
}

TEST(OwnCredential, CredUntilAcceptedAndNoneForHmac) {
  OwnCredential own(AuthSecret{AuthType::md5, "Bruce2", "OhBehave", bytes_of("Nonce")}, false);
  auto cred = own.cred();
  ASSERT_TRUE(cred);
  EXPECT_EQ(cred->data, "Zz6EivR3yeaaENcRN6lpAQ==");  // DM_Security 1.2 §5.1.3.2 vector
  EXPECT_EQ(cred->meta.type, "syncml:auth-md5");
  EXPECT_EQ(cred->meta.format, "b64");
  auto no_mac = own.hmac_header(bytes_of("x"));
  ASSERT_TRUE(no_mac);
  EXPECT_FALSE(*no_mac);
  EXPECT_EQ(own.on_status(hdr_status(StatusCode::AuthenticationAccepted)).outcome, OwnCredential::Outcome::accepted);
  EXPECT_TRUE(own.accepted());
  EXPECT_FALSE(own.cred());

  OwnCredential mac(AuthSecret{AuthType::hmac, "u", "p", bytes_of("n")}, false);
  EXPECT_FALSE(mac.cred());
  auto header = mac.hmac_header(bytes_of("body"));
  ASSERT_TRUE(header && *header);
  EXPECT_EQ(**header, hmac_header_value("u", "p", bytes_of("n"), bytes_of("body")).value());
}

TEST(OwnCredential, RefusalTakesTheChallengeNonceForTheRetry) {
  OwnCredential own(AuthSecret{AuthType::md5, "dev", "pw", bytes_of("first")}, false);
  auto effect = own.on_status(hdr_status(StatusCode::InvalidCredentials, chal_of(AuthType::md5, "second")));
  EXPECT_EQ(effect.outcome, OwnCredential::Outcome::refused);
  EXPECT_TRUE(effect.nonce_changed);
  EXPECT_EQ(own.secret().nonce, bytes_of("second"));
  EXPECT_EQ(own.cred()->data, md5_digest_credential("dev", "pw", bytes_of("second")).value());
  effect = own.on_status(hdr_status(StatusCode::MissingCredentials));
  EXPECT_EQ(effect.outcome, OwnCredential::Outcome::refused);
  EXPECT_FALSE(effect.nonce_changed);
  // Another code neither accepts nor refuses.
  EXPECT_EQ(own.on_status(hdr_status(StatusCode::CommandFailed)).outcome, OwnCredential::Outcome::unchanged);
}

TEST(OwnCredential, FollowsStrongerSchemesOnlyAndOnlyWhenAsked) {
  OwnCredential follow(AuthSecret{AuthType::md5, "d", "p", {}}, /*follow_scheme=*/true);
  follow.on_status(hdr_status(StatusCode::MissingCredentials, chal_of(AuthType::basic, "")));
  EXPECT_EQ(follow.secret().type, AuthType::md5);  // no downgrade
  follow.on_status(hdr_status(StatusCode::MissingCredentials, chal_of(AuthType::hmac, "n")));
  EXPECT_EQ(follow.secret().type, AuthType::hmac);
  follow.on_status(hdr_status(StatusCode::MissingCredentials, chal_of(AuthType::md5, "n")));
  EXPECT_EQ(follow.secret().type, AuthType::md5);  // back to the floor is allowed

  OwnCredential fixed(AuthSecret{AuthType::md5, "d", "p", {}}, /*follow_scheme=*/false);
  fixed.on_status(hdr_status(StatusCode::MissingCredentials, chal_of(AuthType::hmac, "n")));
  EXPECT_EQ(fixed.secret().type, AuthType::md5);
}

// ---- MessageBuilder -------------------------------------------------------------------------

TEST(MessageBuilder, HeadsNumbersAndAnswersTheSyncHdr) {
  MessageBuilder b;
  b.header() = MessageBuilder::Header{"1A", "https://srv/dm", "IMEI:1", std::nullopt, 4096, 65536};
  Message m1 = b.new_message(std::nullopt);
  EXPECT_EQ(m1.hdr.msg_id, 1u);
  EXPECT_EQ(m1.hdr.session_id, "1A");
  EXPECT_EQ(m1.hdr.target.loc_uri, "https://srv/dm");
  EXPECT_EQ(m1.hdr.source.loc_uri, "IMEI:1");
  EXPECT_FALSE(m1.hdr.resp_uri);
  ASSERT_TRUE(m1.hdr.meta);
  EXPECT_EQ(m1.hdr.meta->max_msg_size, 4096u);
  EXPECT_EQ(m1.hdr.meta->max_obj_size, 65536u);
  EXPECT_FALSE(m1.hdr.cred);
  Cred c;
  c.data = "x";
  b.header().resp_uri = "https://srv/dm?s=1";
  Message m2 = b.new_message(c);
  EXPECT_EQ(m2.hdr.msg_id, 2u);
  EXPECT_EQ(m2.hdr.cred, c);
  EXPECT_EQ(m2.hdr.resp_uri, "https://srv/dm?s=1");

  // CmdIDs: taken ones stay, missing ones on Status and Results are filled in order.
  Alert a;
  a.cmd_id = b.next_cmd_id();  // 1
  m2.body.push_back(Command{a});
  m2.body.push_back(Command{status_for(1, 3, "Get", StatusCode::Ok)});
  Results r;
  r.cmd_ref = 3;
  m2.body.push_back(Command{r});
  b.number(m2);
  EXPECT_EQ(std::get<Alert>(m2.body[0].value).cmd_id, 1u);
  EXPECT_EQ(std::get<Status>(m2.body[1].value).cmd_id, 2u);
  EXPECT_EQ(std::get<Results>(m2.body[2].value).cmd_id, 3u);

  Message received;
  received.hdr.msg_id = 7;
  received.hdr.source.loc_uri = "https://srv/dm";
  Status s = b.header_status(received, StatusCode::AuthenticationAccepted);
  EXPECT_EQ(s.msg_ref, 7u);
  EXPECT_EQ(s.cmd_ref, 0u);
  EXPECT_EQ(s.cmd, "SyncHdr");
  EXPECT_EQ(s.data, 212);
  EXPECT_EQ(s.target_refs, std::vector<std::string>{"IMEI:1"});
  EXPECT_EQ(s.source_refs, std::vector<std::string>{"https://srv/dm"});
}

TEST(PeerAuthenticator, ANextNonceGoesWith212ForEverySchemeButBasic) {
  for (AuthType t : {AuthType::md5, AuthType::hmac}) {
    const PeerAuthenticator check(AuthSecret{t, "dev", "secret", bytes_of("n")});
    EXPECT_TRUE(check.next_nonce_due(StatusCode::AuthenticationAccepted));
    EXPECT_FALSE(check.next_nonce_due(StatusCode::Ok));
    EXPECT_FALSE(check.next_nonce_due(StatusCode::InvalidCredentials));  // a challenge, not a NextNonce
  }
  const PeerAuthenticator basic(AuthSecret{AuthType::basic, "dev", "secret", {}});
  EXPECT_FALSE(basic.next_nonce_due(StatusCode::AuthenticationAccepted));
}

TEST(SessionAlerts, BuiltWithoutItemsAndTheNextMessageAskIsFound) {
  const Alert next = session_alert(4, AlertCode::NextMessage);
  EXPECT_EQ(next.cmd_id, 4u);
  EXPECT_EQ(next.data, 1222);
  EXPECT_TRUE(next.items.empty());
  Message m;
  EXPECT_FALSE(asks_next_message(m));
  m.body.push_back(Command{session_alert(1, AlertCode::ClientInitiatedMgmt)});
  EXPECT_FALSE(asks_next_message(m));
  m.body.push_back(Command{next});
  EXPECT_TRUE(asks_next_message(m));
}

// ---- large objects ------------------------------------------------------------------------------

TEST(LargeObjectAssembler, FirstChunkRules) {
  EXPECT_EQ(LargeObjectAssembler::check_first(std::nullopt, 100), StatusCode::SizeRequired);
  EXPECT_EQ(LargeObjectAssembler::check_first(101, 100), StatusCode::RequestEntityTooLarge);
  EXPECT_EQ(LargeObjectAssembler::check_first(100, 100), StatusCode::Ok);
}

TEST(LargeObjectAssembler, AssemblesExactlyTheDeclaredSize) {
  LargeObjectAssembler lo;
  EXPECT_FALSE(lo.active());
  lo.start("./a", 6);
  EXPECT_TRUE(lo.active());
  EXPECT_EQ(lo.uri(), "./a");
  EXPECT_EQ(lo.append(bytes_of("abc"), true), StatusCode::ChunkedItemAccepted);
  EXPECT_EQ(lo.append(bytes_of("def"), false), StatusCode::Ok);
  EXPECT_EQ(lo.take(), bytes_of("abcdef"));
  EXPECT_FALSE(lo.active());

  lo.start("./b", 4);
  EXPECT_EQ(lo.append(bytes_of("abc"), true), StatusCode::ChunkedItemAccepted);
  EXPECT_EQ(lo.append(bytes_of("de"), true), StatusCode::SizeMismatch);  // outgrew
  EXPECT_FALSE(lo.active());

  lo.start("./c", 4);
  EXPECT_EQ(lo.append(bytes_of("abc"), false), StatusCode::SizeMismatch);  // short at the end
  EXPECT_FALSE(lo.active());
  EXPECT_EQ(lo.append(bytes_of("x"), false), StatusCode::BadRequest);  // nothing started
}

TEST(LargeObjectAssembler, Base64ChunksAreDecodedEachOnItsOwn) {
  Meta b64;
  b64.format = "b64";
  b64.size = 6;  // Size counts the decoded bytes
  Meta chr;
  chr.size = 6;
  LargeObjectAssembler lo;
  EXPECT_EQ(lo.begin("./a", b64, 100), StatusCode::Ok);
  EXPECT_EQ(lo.append_data(base64_encode(bytes_of("abc")), true), StatusCode::ChunkedItemAccepted);
  EXPECT_EQ(lo.append_data(base64_encode(bytes_of("def")), false), StatusCode::Ok);
  EXPECT_EQ(lo.take(), bytes_of("abcdef"));

  EXPECT_EQ(lo.begin("./b", chr, 100), StatusCode::Ok);
  EXPECT_EQ(lo.append_data("abc", true), StatusCode::ChunkedItemAccepted);  // not b64: as is
  EXPECT_EQ(lo.begin("./c", b64, 100), StatusCode::Ok);
  EXPECT_EQ(lo.append_data("not*base64", false), StatusCode::BadRequest);
  EXPECT_FALSE(lo.active());  // discarded

  EXPECT_EQ(lo.begin("./d", Meta{}, 100), StatusCode::SizeRequired);  // begin() is check_first() + start()
  EXPECT_EQ(lo.begin("./d", b64, 5), StatusCode::RequestEntityTooLarge);
  EXPECT_FALSE(lo.active());
}

TEST(LargeObjectAssembler, NoEndOfDataAlertNamesTheObject) {
  const Alert a = no_end_of_data_alert(7, "./DevInfo/Ext");
  EXPECT_EQ(a.cmd_id, 7u);
  EXPECT_EQ(a.data, 1225);
  ASSERT_EQ(a.items.size(), 1u);
  ASSERT_TRUE(a.items[0].target);
  EXPECT_EQ(a.items[0].target->loc_uri, "./DevInfo/Ext");
}

TEST(EffectiveMeta, EachFieldOfTheItemsMetaOverTheCommands) {
  Meta command;
  command.format = "b64";
  command.type = "application/x";
  command.size = 10;
  Item item;
  EXPECT_EQ(effective_meta(item, command), command);
  EXPECT_EQ(effective_meta(item, std::nullopt), Meta{});
  item.meta = Meta{};
  item.meta->type = "text/plain";
  const Meta m = effective_meta(item, command);
  EXPECT_EQ(m.type, "text/plain");
  EXPECT_EQ(m.format, "b64");
  EXPECT_EQ(m.size, 10u);
  item.meta->format = "chr";
  item.meta->size = 3;
  item.meta->mark = "high";
  const Meta all = effective_meta(item, command);
  EXPECT_EQ(all.format, "chr");
  EXPECT_EQ(all.type, "text/plain");
  EXPECT_EQ(all.size, 3u);
  EXPECT_EQ(all.mark, "high");
}

TEST(ObjectChunker, SizeOnFirstMoreDataOnAllButLastEachChunkDecodesAlone) {
  Bytes object;
  for (int i = 0; i < 1000; ++i) object.push_back(static_cast<std::uint8_t>(i * 7));
  ObjectChunker chunker(object);
  Item templ;
  templ.target = Location{"./x/Package", std::nullopt};
  templ.meta = Meta{};
  templ.meta->type = "application/x-test";
  Bytes joined;
  int n = 0;
  while (!chunker.done()) {
    Item item = chunker.next(300, templ);
    ASSERT_TRUE(item.meta);
    EXPECT_EQ(item.meta->format, "b64");
    EXPECT_EQ(item.meta->type, "application/x-test");
    EXPECT_EQ(item.target, templ.target);
    if (n == 0) {
      EXPECT_EQ(item.meta->size, 1000u);
    } else {
      EXPECT_FALSE(item.meta->size);
    }
    auto part = base64_decode(*item.data);
    ASSERT_TRUE(part);
    EXPECT_LE(part->size(), 300u);
    joined.insert(joined.end(), part->begin(), part->end());
    EXPECT_EQ(item.more_data, !chunker.done());
    ++n;
  }
  EXPECT_EQ(n, 4);
  EXPECT_EQ(joined, object);
  // An empty object is one empty chunk with Size 0.
  ObjectChunker empty{Bytes{}};
  EXPECT_FALSE(empty.done());
  Item only = empty.next(300, Item{});
  EXPECT_EQ(only.meta->size, 0u);
  EXPECT_EQ(only.data, "");
  EXPECT_FALSE(only.more_data);
  EXPECT_TRUE(empty.done());
}

TEST(ChunkBudget, FloorsAndDefault) {
  EXPECT_EQ(chunk_budget(0), chunk_budget(16 * 1024));
  EXPECT_EQ(chunk_budget(100), 192u);
  EXPECT_EQ(chunk_budget(16 * 1024) % 4, 0u);
  EXPECT_LT(chunk_budget(16 * 1024) * 4 / 3, 16u * 1024);
}

Results big_results(std::size_t raw_size) {
  Bytes object(raw_size, 0x5a);
  Results r;
  r.msg_ref = 2;
  r.cmd_ref = 5;
  Item item;
  item.source = Location{"./big", std::nullopt};
  item.meta = Meta{};
  item.meta->format = "b64";
  item.data = base64_encode(object);
  r.items.push_back(item);
  return r;
}

TEST(MessagePacker, SplitsAResultsIntoChunksWithinTheLimit) {
  MessageBuilder ids;
  ids.header() = MessageBuilder::Header{"1", "https://srv", "dev", std::nullopt, 2048, 65536};
  MessagePacker packer(Encoding::Xml);
  std::vector<Command> queue{Command{status_for(2, 5, "Get", StatusCode::Ok)}, Command{big_results(6000)}};
  const std::uint64_t limit = 1500;
  Bytes assembled;
  int messages = 0;
  std::optional<std::uint64_t> declared;
  while (!queue.empty()) {
    ASSERT_LT(++messages, 50);
    Message m = ids.new_message(std::nullopt);
    ASSERT_TRUE(packer.pack(m, queue, limit, ids));
    ids.number(m);
    auto encoded = encode(m, Encoding::Xml);
    ASSERT_TRUE(encoded);
    EXPECT_LE(encoded->size() + MessagePacker::kTrailerRoom, limit);
    for (const auto& c : m.body) {
      const auto* r = std::get_if<Results>(&c.value);
      if (!r) continue;
      ASSERT_EQ(r->items.size(), 1u);
      const Item& item = r->items.front();
      if (item.meta && item.meta->size) declared = item.meta->size;
      auto part = base64_decode(*item.data);
      ASSERT_TRUE(part);
      assembled.insert(assembled.end(), part->begin(), part->end());
      // The peer asks for the rest with 213; the Status of the last chunk is an ordinary one.
      Status s = status_for(m.hdr.msg_id, r->cmd_id, "Results",
                            item.more_data ? StatusCode::ChunkedItemAccepted : StatusCode::Ok);
      EXPECT_EQ(packer.on_status(s, queue), item.more_data);
    }
  }
  EXPECT_GT(messages, 3);
  EXPECT_EQ(declared, 6000u);
  EXPECT_EQ(assembled, Bytes(6000, 0x5a));
}

TEST(MessagePacker, ARefusedChunkDropsTheRestOfItsObject) {
  MessageBuilder ids;
  MessagePacker packer(Encoding::Xml);
  std::vector<Command> queue{Command{big_results(6000)}};
  Message m = ids.new_message(std::nullopt);
  ASSERT_TRUE(packer.pack(m, queue, 1500, ids));
  ASSERT_EQ(queue.size(), 1u);  // the rest waits
  const auto& sent = std::get<Results>(m.body.back().value);
  EXPECT_TRUE(sent.items.front().more_data);
  EXPECT_FALSE(packer.on_status(status_for(1, 999, "Results", StatusCode::CommandFailed), queue));  // not ours
  EXPECT_EQ(queue.size(), 1u);
  EXPECT_TRUE(packer.on_status(status_for(1, sent.cmd_id, "Results", StatusCode::RequestEntityTooLarge), queue));
  EXPECT_TRUE(queue.empty());
}

TEST(MessagePacker, WithoutALimitEverythingGoesInOneMessage) {
  MessageBuilder ids;
  MessagePacker packer(Encoding::Wbxml);
  std::vector<Command> queue{Command{big_results(100'000)}, Command{status_for(1, 1, "Add", StatusCode::Ok)}};
  Message m = ids.new_message(std::nullopt);
  ASSERT_TRUE(packer.pack(m, queue, 0, ids));
  EXPECT_TRUE(queue.empty());
  EXPECT_EQ(m.body.size(), 2u);
}

}  // namespace
}  // namespace m2mdm::syncml
