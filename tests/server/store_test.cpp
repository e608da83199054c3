// SqliteStore on real files: schema, secrets at rest, job/outbox workflows, corrupt files and
// crash consistency (a child process _exit()s inside a transaction, or is SIGKILLed mid-write).
#include "m2mdm/mo/error.hpp"
#include "m2mdm/server/error.hpp"
#include "m2mdm/server/sqlite_store.hpp"
#include "test_util.hpp"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <atomic>
#include <csignal>
#include <set>
#include <fstream>
#include <sys/stat.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

namespace m2mdm::server {
namespace {
using test::make_device;
using test::open_store;
using test::TempDir;

using test::slurp;

// Opening the store file @p db (with the test key) fails with store_corrupt.
void expect_refused_as_corrupt(const std::filesystem::path& db) {
  auto box = mo::SecretBox::from_key(test::test_key());
  auto s = SqliteStore::open(db, std::move(*box));
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error(), make_error_code(errc::store_corrupt));
}

// Runs @p sql on the file @p db with SQLite itself, beside the store.
void raw_exec(const std::filesystem::path& db, const char* sql) {
  sqlite3* raw = nullptr;
  ASSERT_EQ(sqlite3_open(db.c_str(), &raw), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(raw, sql, nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(raw);
}

struct Fixture : ::testing::Test {
  TempDir dir;
  std::filesystem::path db = dir.path() / "m2mdm.sqlite";
  std::unique_ptr<SqliteStore> store = open_store(db);
  std::int64_t sho = 0;
  void SetUp() override {
    ASSERT_TRUE(store);
    auto s = store->create_sho("sho-a", hash_token("token-a-0123456789"), 1000);
    ASSERT_TRUE(s) << s.error().message();
    sho = s->id;
  }
};

TEST_F(Fixture, SchemaVersionAndReopenKeepsData) {
  std::vector<Device> devs{make_device("IMEI:1", "001010000000001", sho)};
  ASSERT_TRUE(store->upsert_devices(devs, 1000));
  store.reset();
  sqlite3* raw = nullptr;
  ASSERT_EQ(sqlite3_open(db.c_str(), &raw), SQLITE_OK);
  sqlite3_stmt* st = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(raw, "PRAGMA user_version", -1, &st, nullptr), SQLITE_OK);
  ASSERT_EQ(sqlite3_step(st), SQLITE_ROW);
  EXPECT_EQ(sqlite3_column_int(st, 0), SqliteStore::schema_version());
  sqlite3_finalize(st);
  ASSERT_EQ(sqlite3_prepare_v2(raw, "PRAGMA journal_mode", -1, &st, nullptr), SQLITE_OK);
  ASSERT_EQ(sqlite3_step(st), SQLITE_ROW);
  EXPECT_STREQ(reinterpret_cast<const char*>(sqlite3_column_text(st, 0)), "wal");
  sqlite3_finalize(st);
  sqlite3_close(raw);
  store = open_store(db);
  ASSERT_TRUE(store);
  auto d = store->get_device("IMEI:1");
  ASSERT_TRUE(d) << d.error().message();
  EXPECT_EQ(d->pcid, "001010000000001");
  EXPECT_EQ(d->dm.client_password, "client-secret-IMEI:1");
  EXPECT_EQ(d->k, Bytes(16, 0x11));
  auto found = store->find_sho_by_token_hash(hash_token("token-a-0123456789"));
  ASSERT_TRUE(found);
  EXPECT_EQ(found->name, "sho-a");
  EXPECT_EQ(store->find_sho_by_token_hash(hash_token("wrong")).error(), make_error_code(errc::not_found));
}

TEST_F(Fixture, SecretsAreEncryptedAtRestAndBoundToTheirCell) {
  std::vector<Device> devs{make_device("IMEI:1", "001010000000001", sho), make_device("IMEI:2", "001010000000002", sho)};
  devs[1].k = Bytes(16, 0x33);
  ASSERT_TRUE(store->upsert_devices(devs, 1000));
  store.reset();
  // Plaintext secrets appear nowhere in the files (db + WAL).
  std::string all = slurp(db) + slurp(db.string() + "-wal");
  EXPECT_EQ(all.find("client-secret-IMEI:1"), std::string::npos);
  EXPECT_EQ(all.find("server-secret-IMEI:1"), std::string::npos);
  EXPECT_EQ(all.find(std::string(16, '\x11')), std::string::npos);
  EXPECT_NE(all.find("IMEI:1"), std::string::npos);  // non-secret columns are plain

  // A different key cannot open the secrets.
  auto other = open_store(db, 0x43);
  ASSERT_TRUE(other);
  EXPECT_EQ(other->get_device("IMEI:1").error(), make_error_code(errc::decrypt_failed));
  other.reset();

  // Swapping one row's K ciphertext into another row fails authentication (AAD = table|column|rowid).
  ASSERT_NO_FATAL_FAILURE(
      raw_exec(db, "UPDATE devices SET k = (SELECT k FROM devices WHERE dev_id='IMEI:2') WHERE dev_id='IMEI:1'"));
  store = open_store(db);
  ASSERT_TRUE(store);
  EXPECT_EQ(store->get_device("IMEI:1").error(), make_error_code(errc::decrypt_failed));
  EXPECT_TRUE(store->get_device("IMEI:2"));
}

TEST_F(Fixture, BulkUpsertIsIdempotentAndAtomic) {
  std::vector<Device> devs;
  for (int i = 0; i < 50; ++i) devs.push_back(make_device("IMEI:" + std::to_string(i), "0010100000" + std::to_string(10000 + i), sho));
  auto c = store->upsert_devices(devs, 1000);
  ASSERT_TRUE(c);
  EXPECT_EQ(c->inserted, 50u);
  c = store->upsert_devices(devs, 1001);
  ASSERT_TRUE(c);
  EXPECT_EQ(c->unchanged, 50u);
  EXPECT_EQ(c->inserted + c->updated, 0u);
  devs[3].dm.client_password = "changed";
  c = store->upsert_devices(devs, 1002);
  ASSERT_TRUE(c);
  EXPECT_EQ(c->updated, 1u);
  EXPECT_EQ(store->get_device("IMEI:3")->dm.client_password, "changed");

  // A batch where the last device reuses another device's PCID fails entirely.
  std::vector<Device> bad{make_device("IMEI:new1", "999990000000001", sho), make_device("IMEI:new2", devs[0].pcid, sho)};
  auto r = store->upsert_devices(bad, 1003);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), make_error_code(errc::conflict));
  EXPECT_EQ(store->get_device("IMEI:new1").error(), make_error_code(errc::not_found));

  auto page = store->list_devices(sho, "", 10);
  ASSERT_TRUE(page);
  EXPECT_EQ(page->size(), 10u);
  auto next = store->list_devices(sho, page->back().dev_id, 100);
  ASSERT_TRUE(next);
  EXPECT_EQ(next->size(), 40u);
  auto other_sho = store->create_sho("sho-b", hash_token("token-b-0123456789"), 1000);
  ASSERT_TRUE(other_sho);
  EXPECT_TRUE(store->list_devices(other_sho->id, "", 100)->empty());
}

TEST_F(Fixture, JobLifecycleClaimOnceResultOnceCallbackEnqueued) {
  ASSERT_TRUE(store->upsert_devices(std::vector<Device>{make_device("IMEI:1", "001010000000001", sho)}, 1000));
  ASSERT_TRUE(store->set_sho_callback(sho, "http://127.0.0.1:9/cb"));
  NewJob nj{"IMEI:1", sho, JobKind::install, Bytes{1, 2, 3}, "auth", "", 5000};
  auto j1 = store->create_job(nj, 1000);
  ASSERT_TRUE(j1) << j1.error().message();
  auto j2 = store->create_job(nj, 1001);
  ASSERT_TRUE(j2);
  EXPECT_NE(j1->correlator, j2->correlator);
  EXPECT_TRUE(j1->correlator.starts_with("job-" + std::to_string(j1->id) + "-"));
  EXPECT_EQ(store->create_job(NewJob{"IMEI:nope", sho, JobKind::install, {}, "", "", 0}, 1000).error(),
            make_error_code(errc::not_found));
  NewJob dup = nj;
  dup.correlator = j1->correlator;
  EXPECT_EQ(store->create_job(dup, 1000).error(), make_error_code(errc::conflict));

  auto c1 = store->claim_next_job("IMEI:1", 1100);
  ASSERT_TRUE(c1 && *c1);
  EXPECT_EQ((*c1)->id, j1->id);
  EXPECT_EQ((*c1)->state, JobState::delivering);
  EXPECT_EQ((*c1)->attempts, 1);
  // While j1 is in flight nothing else can be claimed (never two installs at once).
  auto c2 = store->claim_next_job("IMEI:1", 1100);
  ASSERT_TRUE(c2);
  EXPECT_FALSE(*c2);
  auto active = store->active_job("IMEI:1");
  ASSERT_TRUE(active && *active);
  EXPECT_EQ((*active)->id, j1->id);
  EXPECT_TRUE(*store->transition_job(j1->id, JobState::delivering, JobState::awaiting_result, 1101));
  EXPECT_FALSE(*store->transition_job(j1->id, JobState::delivering, JobState::delivered, 1101));

  auto rec = store->record_result(j1->correlator, 200, "installed", 1200);
  ASSERT_TRUE(rec);
  EXPECT_EQ(*rec, RecordOutcome::recorded);
  rec = store->record_result(j1->correlator, 500, "late duplicate", 1201);
  ASSERT_TRUE(rec);
  EXPECT_EQ(*rec, RecordOutcome::duplicate);
  auto res = store->get_result(j1->id);
  ASSERT_TRUE(res && *res);
  EXPECT_EQ((*res)->code, 200);
  EXPECT_EQ((*res)->message, "installed");
  EXPECT_EQ(store->get_job(j1->id)->state, JobState::succeeded);
  EXPECT_EQ(store->get_device("IMEI:1")->state, DeviceState::provisioned);
  EXPECT_EQ(store->record_result("no-such", 200, "", 1).error(), make_error_code(errc::not_found));

  auto due = store->due_callbacks(1200, 10);
  ASSERT_TRUE(due);
  ASSERT_EQ(due->size(), 1u);
  EXPECT_EQ((*due)[0].url, "http://127.0.0.1:9/cb");
  EXPECT_NE((*due)[0].body.find(j1->correlator), std::string::npos);
  ASSERT_TRUE(store->reschedule_callback((*due)[0].id, 1300));
  EXPECT_TRUE(store->due_callbacks(1299, 10)->empty());
  ASSERT_EQ(store->due_callbacks(1300, 10)->size(), 1u);
  ASSERT_TRUE(store->mark_callback_acked((*due)[0].id));
  EXPECT_TRUE(store->due_callbacks(99999, 10)->empty());

  // Now j2 can be claimed; then it expires.
  auto c3 = store->claim_next_job("IMEI:1", 1300);
  ASSERT_TRUE(c3 && *c3);
  EXPECT_EQ((*c3)->id, j2->id);
  EXPECT_EQ(*store->expire_jobs(6000), 1u);
  EXPECT_EQ(store->get_job(j2->id)->state, JobState::expired);

  auto stats = store->stats();
  ASSERT_TRUE(stats);
  EXPECT_EQ(stats->jobs_by_state["succeeded"], 1);
  EXPECT_EQ(stats->jobs_by_state["expired"], 1);
  EXPECT_EQ(stats->devices_by_state["provisioned"], 1);
  EXPECT_EQ(stats->outbox_pending, 0);
  auto audit = store->list_audit(10);
  ASSERT_TRUE(audit);
  ASSERT_GE(audit->size(), 3u);
  EXPECT_EQ((*audit)[0].action, "job.result");
}

TEST_F(Fixture, SqnReservationAndNonces) {
  auto d = make_device("IMEI:1", "001010000000001", sho);
  d.sqn = 32;
  ASSERT_TRUE(store->upsert_devices(std::vector<Device>{d}, 1000));
  EXPECT_EQ(*store->reserve_sqn("001010000000001", 3, 1001), 32u);
  EXPECT_EQ(*store->reserve_sqn("001010000000001", 1, 1001), 35u);
  EXPECT_EQ(store->reserve_sqn("nope", 1, 1001).error(), make_error_code(errc::not_found));
  ASSERT_TRUE(store->set_sqn("001010000000001", (std::uint64_t{1} << 48) - 2, 1002));
  EXPECT_FALSE(store->reserve_sqn("001010000000001", 5, 1003));  // would pass 2^48-1
  ASSERT_TRUE(test::store_nonces(*store, "IMEI:1", Bytes{1, 2}, Bytes{3, 4, 5}, 1004));
  auto got = store->get_device("IMEI:1");
  ASSERT_TRUE(got);
  EXPECT_EQ(got->dm.server_nonce, (Bytes{1, 2}));
  EXPECT_EQ(got->dm.client_nonce, (Bytes{3, 4, 5}));
  EXPECT_EQ(got->dm.client_password, "client-secret-IMEI:1");
  // Re-import keeps nonces and SQN (registry data vs progress).
  ASSERT_TRUE(store->upsert_devices(std::vector<Device>{d}, 1005));
  got = store->get_device("IMEI:1");
  EXPECT_EQ(got->dm.client_nonce, (Bytes{3, 4, 5}));
  EXPECT_EQ(got->sqn, (std::uint64_t{1} << 48) - 2);
  // The nonces have their own cells (migration 0011); a write of the whole DM account brings its
  // own nonces and they win over the ones set before; empty nonces stay empty, not absent.
  EXPECT_EQ(test::store_nonces(*store, "IMEI:none", Bytes{1}, Bytes{2}, 1005).error(), make_error_code(errc::not_found));
  DmCredentials account = got->dm;
  account.server_nonce = {7};
  account.client_nonce = {8, 8};
  ASSERT_TRUE(store->set_dm_credentials("IMEI:1", account, 1005));
  got = store->get_device("IMEI:1");
  EXPECT_EQ(got->dm.server_nonce, (Bytes{7}));
  EXPECT_EQ(got->dm.client_nonce, (Bytes{8, 8}));
  ASSERT_TRUE(test::store_nonces(*store, "IMEI:1", Bytes{}, Bytes{9}, 1005));
  got = store->get_device("IMEI:1");
  EXPECT_TRUE(got->dm.server_nonce.empty());
  EXPECT_EQ(got->dm.client_nonce, (Bytes{9}));
  EXPECT_EQ(got->dm.client_password, "client-secret-IMEI:1");
  ASSERT_TRUE(test::store_nonces(*store, "IMEI:1", Bytes{1, 2}, Bytes{3, 4, 5}, 1005));
  ASSERT_TRUE(store->patch_device("IMEI:1", DevicePatch{"127.0.0.1:4000", std::nullopt}, 1006));
  DmMessageWrites seen;
  seen.seen = true;
  ASSERT_TRUE(store->record_dm_message("IMEI:1", seen, 1006));
  ASSERT_TRUE(store->set_device_pfc("IMEI:1", Bytes{0x30, 0x03}, 1007));
  got = store->get_device("IMEI:1");
  EXPECT_EQ(got->push_address, "127.0.0.1:4000");
  EXPECT_EQ(got->last_seen, 1006);
  EXPECT_EQ(got->pfc_der, (Bytes{0x30, 0x03}));
  EXPECT_EQ(store->record_dm_message("nope", seen, 1).error(), make_error_code(errc::not_found));
}

// Group commit (server/src/store/wal_sync.hpp): a write returns only after an fdatasync of the
// write-ahead log that began after its commit; concurrent writers may share one.
TEST_F(Fixture, EveryWriteWaitsForItsOwnSyncWhenAlone) {
  auto before = store->stats();
  ASSERT_TRUE(before);
  EXPECT_GT(before->wal_syncs, 0u) << "a file store in WAL mode runs group commit";
  for (int i = 0; i < 10; ++i) {
    AuditEntry e;
    e.at = 2000 + i;
    e.actor = "system";
    e.action = "test.alone";
    e.subject = std::to_string(i);
    ASSERT_TRUE(store->append_audit(e));
  }
  ASSERT_TRUE(store->get_sho(sho));  // a read: no commit, no sync
  auto after = store->stats();
  ASSERT_TRUE(after);
  // One writer at a time: nothing to share, so each commit had its own sync.
  EXPECT_EQ(after->commits - before->commits, 10u);
  EXPECT_EQ(after->wal_syncs - before->wal_syncs, 10u);
}

// Issue 13: a DM message asks for the next job and the next management command; with nothing
// queued (most messages) neither takes SQLite's write lock nor commits (an empty COMMIT still
// counts as a commit and would wait for a sync of the -wal file).
TEST_F(Fixture, ClaimsWithNothingQueuedCommitNothing) {
  ASSERT_TRUE(store->upsert_devices(std::vector<Device>{make_device("IMEI:1", "001010000000001", sho)}, 1000));
  auto before = store->stats();
  ASSERT_TRUE(before);
  for (int i = 0; i < 5; ++i) {
    auto job = store->claim_next_job("IMEI:1", 1001);
    ASSERT_TRUE(job) << job.error().message();
    EXPECT_FALSE(job->has_value());
    auto cmd = store->claim_next_command("IMEI:1", 1001);
    ASSERT_TRUE(cmd) << cmd.error().message();
    EXPECT_FALSE(cmd->has_value());
  }
  auto after = store->stats();
  ASSERT_TRUE(after);
  EXPECT_EQ(after->commits, before->commits);
  EXPECT_EQ(after->wal_syncs, before->wal_syncs);
  // With something queued, the claim is a write as before.
  auto queued = store->create_job(NewJob{"IMEI:1", sho, JobKind::install, Bytes{1}, "auth", "", 0}, 1002);
  ASSERT_TRUE(queued);
  auto job = store->claim_next_job("IMEI:1", 1003);
  ASSERT_TRUE(job && *job);
  EXPECT_EQ((*job)->id, queued->id);
  EXPECT_EQ((*job)->state, JobState::delivering);
  EXPECT_GT(store->stats()->commits, after->commits);
}

// A DM session reads its device without the SIM secrets: nothing it does not use is unsealed.
TEST_F(Fixture, TheSessionReadLeavesTheSimSecretsSealed) {
  Device d = make_device("IMEI:1", "001010000000001", sho);
  ASSERT_FALSE(d.k.empty());
  ASSERT_FALSE(d.device_pin.empty());
  ASSERT_TRUE(store->upsert_devices(std::vector<Device>{d}, 1000));
  ASSERT_TRUE(test::store_nonces(*store, "IMEI:1", Bytes{1}, Bytes{2}, 1001));
  auto full = store->get_device("IMEI:1");
  auto account = store->get_device_account("IMEI:1");
  ASSERT_TRUE(full && account);
  EXPECT_TRUE(account->k.empty());
  EXPECT_TRUE(account->opc.empty());
  EXPECT_TRUE(account->device_pin.empty());
  EXPECT_EQ(full->k, d.k);  // still there for the ICF and the DRF
  Device expected = *full;
  expected.k.clear();
  expected.opc.clear();
  expected.device_pin.clear();
  EXPECT_EQ(account->dm.client_password, expected.dm.client_password);
  EXPECT_EQ(account->dm.client_nonce, (Bytes{2}));
  EXPECT_EQ(account->state, expected.state);
  EXPECT_EQ(account->pfc_der, expected.pfc_der);
  EXPECT_EQ(account->pending_dm.has_value(), expected.pending_dm.has_value());
  EXPECT_EQ(store->get_device_account("IMEI:9").error(), make_error_code(errc::not_found));
}

TEST_F(Fixture, WhatADmMessageChangedIsOneTransaction) {
  ASSERT_TRUE(store->upsert_devices(std::vector<Device>{make_device("IMEI:1", "001010000000001", sho)}, 1000));
  EXPECT_TRUE(store->record_dm_message("IMEI:1", DmMessageWrites{}, 1001));  // nothing: no transaction
  const auto before = store->stats().value();
  DmMessageWrites w;
  w.server_nonce = Bytes{1, 2};
  w.client_nonce = Bytes{3};
  w.seen = true;
  w.registered = true;
  w.audit.push_back(AuditEntry{0, 1002, "device:IMEI:1", "dm.session", "IMEI:1", "peer=x"});
  w.audit.push_back(AuditEntry{0, 1002, "device:IMEI:1", "job.deliver", "IMEI:1", "job 1"});
  ASSERT_TRUE(store->record_dm_message("IMEI:1", w, 1002));
  EXPECT_EQ(store->stats()->commits - before.commits, 1u);
  auto d = store->get_device("IMEI:1");
  ASSERT_TRUE(d);
  EXPECT_EQ(d->dm.server_nonce, (Bytes{1, 2}));
  EXPECT_EQ(d->dm.client_nonce, (Bytes{3}));
  EXPECT_EQ(d->last_seen, 1002);
  EXPECT_EQ(d->state, DeviceState::registered);
  auto log = store->list_audit(2).value();
  ASSERT_EQ(log.size(), 2u);
  EXPECT_EQ(log[0].action, "job.deliver");  // newest first
  EXPECT_EQ(log[1].action, "dm.session");
  // `registered` moves only imported/bootstrapped devices; `state` sets as is.
  DmMessageWrites provisioning;
  provisioning.state = DeviceState::provisioning;
  ASSERT_TRUE(store->record_dm_message("IMEI:1", provisioning, 1003));
  DmMessageWrites again;
  again.registered = true;
  ASSERT_TRUE(store->record_dm_message("IMEI:1", again, 1004));
  EXPECT_EQ(store->get_device("IMEI:1")->state, DeviceState::provisioning);
  // An unknown device: not_found, and nothing written (its audit entries neither).
  DmMessageWrites stray;
  stray.audit.push_back(AuditEntry{0, 1005, "device:IMEI:9", "dm.session", "IMEI:9", ""});
  EXPECT_EQ(store->record_dm_message("IMEI:9", stray, 1005).error(), make_error_code(errc::not_found));
  EXPECT_EQ(store->list_audit(1)->front().subject, "IMEI:1");
}

TEST_F(Fixture, ConcurrentWritersShareSyncsAndKeepEveryWrite) {
  constexpr int kThreads = 8, kEach = 40;
  auto before = store->stats();
  ASSERT_TRUE(before);
  std::atomic<int> failures{0};
  {
    std::vector<std::jthread> writers;
    for (int t = 0; t < kThreads; ++t)
      writers.emplace_back([&, t] {
        for (int i = 0; i < kEach; ++i) {
          AuditEntry e;
          e.at = 3000;
          e.actor = "system";
          e.action = "test.concurrent";
          e.subject = std::to_string(t) + "/" + std::to_string(i);
          if (!store->append_audit(e)) ++failures;
        }
      });
  }
  EXPECT_EQ(failures.load(), 0);
  auto after = store->stats();
  ASSERT_TRUE(after);
  const auto commits = after->commits - before->commits;
  const auto syncs = after->wal_syncs - before->wal_syncs;
  EXPECT_EQ(commits, static_cast<std::uint64_t>(kThreads * kEach));
  EXPECT_GE(syncs, 1u);
  EXPECT_LE(syncs, commits);
  // Every acknowledged write is there after the store is closed and opened again.
  store.reset();
  store = open_store(db);
  ASSERT_TRUE(store);
  auto audit = store->list_audit(10'000);
  ASSERT_TRUE(audit);
  std::set<std::string> seen;
  for (const auto& e : *audit)
    if (e.action == "test.concurrent") seen.insert(e.subject);
  EXPECT_EQ(seen.size(), static_cast<std::size_t>(kThreads * kEach));
}

TEST(StoreFiles, NonDatabaseFileIsRefusedAndLeftIntact) {
  TempDir dir;
  auto db = dir.path() / "m2mdm.sqlite";
  const std::string junk(8192, 'x');
  std::ofstream(db, std::ios::binary) << junk;
  ASSERT_NO_FATAL_FAILURE(expect_refused_as_corrupt(db));
  EXPECT_EQ(slurp(db), junk);
}

TEST(StoreFiles, ForeignSqliteDatabaseIsRefused) {
  TempDir dir;
  auto db = dir.path() / "other.sqlite";
  ASSERT_NO_FATAL_FAILURE(raw_exec(db, "CREATE TABLE t(x); PRAGMA user_version = 1;"));
  expect_refused_as_corrupt(db);
}

TEST(StoreFiles, CorruptPagesAreReportedNotRewritten) {
  TempDir dir;
  auto db = dir.path() / "m2mdm.sqlite";
  {
    auto store = open_store(db);
    ASSERT_TRUE(store);
    auto sho = store->create_sho("s", hash_token("t-0123456789abcdef"), 1);
    std::vector<Device> devs;
    for (int i = 0; i < 200; ++i) devs.push_back(make_device("IMEI:" + std::to_string(i), std::to_string(100000 + i), sho->id));
    ASSERT_TRUE(store->upsert_devices(devs, 1));
  }
  // Checkpoint the WAL into the main file, then scribble over a page in the middle.
  ASSERT_NO_FATAL_FAILURE(raw_exec(db, "PRAGMA wal_checkpoint(TRUNCATE); PRAGMA journal_mode=DELETE;"));
  std::string bytes = slurp(db);
  ASSERT_GT(bytes.size(), 4 * 4096u);
  for (std::size_t i = 2 * 4096; i < 3 * 4096; ++i) bytes[i] = static_cast<char>(0xA5);
  std::ofstream(db, std::ios::binary | std::ios::trunc) << bytes;
  ASSERT_NO_FATAL_FAILURE(expect_refused_as_corrupt(db));
  EXPECT_EQ(slurp(db), bytes);
}

// The store's key file (load_store_key over mo::SecretBox, whose own tests are in
// tests/mo/secret_box_test.cpp): created private, read back, a loose one refused as config_error.
TEST(StoreKeyFile, CreatesPrivateKeyFileAndRefusesLooseOnes) {
  TempDir dir;
  auto key = dir.path() / "store.key";
  auto a = load_store_key(key);
  ASSERT_TRUE(a);
  struct stat st {};
  ASSERT_EQ(::stat(key.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_EQ(st.st_size, 32);
  auto sealed = a->seal(as_bytes("secret"), "aad");
  ASSERT_TRUE(sealed);
  auto b = load_store_key(key);
  ASSERT_TRUE(b);
  auto opened = b->open(*sealed, "aad");
  ASSERT_TRUE(opened);
  EXPECT_EQ(as_chars(opened->view()), "secret");
  EXPECT_EQ(b->open(*sealed, "other").error(), make_error_code(mo::errc::seal_tag_mismatch));
  // In the store such a secret fails with errc::decrypt_failed (SecretsAreEncryptedAtRestAndBoundToTheirCell above).
  ::chmod(key.c_str(), 0644);
  EXPECT_EQ(load_store_key(key).error(), make_error_code(errc::config_error));
}

// ---------------------------------------------------------------- crash consistency

/// Runs @p body in a child process with M2MDM_STORE_CRASH_AT=@p point; returns its exit status.
int run_child_crashing_at(const char* point, const std::function<void()>& body) {
  pid_t pid = ::fork();
  if (pid == 0) {
    ::setenv("M2MDM_STORE_CRASH_AT", point, 1);
    body();
    ::_exit(0);  // the crash point was not reached
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/// The crash tests' store file db, in a fresh directory, with one SHO (id sho).
struct StoreCrash : ::testing::Test {
  void SetUp() override {
    auto s = open_store(db);
    ASSERT_TRUE(s);
    auto created = s->create_sho("s", hash_token("t-0123456789abcdef"), 1);
    ASSERT_TRUE(created);
    sho = created->id;
  }
  TempDir dir;
  std::filesystem::path db = dir.path() / "m2mdm.sqlite";
  std::int64_t sho = 0;
};

TEST_F(StoreCrash, ImportKilledMidwayLeavesNoPartialBatch) {
  const int rc = run_child_crashing_at("upsert_devices.mid", [&] {
    auto s = open_store(db);
    std::vector<Device> devs;
    for (int i = 0; i < 10; ++i) devs.push_back(make_device("IMEI:" + std::to_string(i), std::to_string(500 + i), sho));
    (void)s->upsert_devices(devs, 2);
  });
  ASSERT_EQ(rc, 77);
  auto s = open_store(db);
  ASSERT_TRUE(s);
  EXPECT_TRUE(s->list_devices(sho, "", 100)->empty());
  EXPECT_EQ(s->get_device("IMEI:0").error(), make_error_code(errc::not_found));
}

// Hardening finding 6: the audit entry of an import is written in the import's own transaction:
// a kill just before the commit leaves neither the devices nor the entry; a commit leaves both.
TEST_F(StoreCrash, ImportAndItsAuditEntryCommitTogether) {
  const auto import = [&](Store& s) {
    std::vector<Device> devs{make_device("IMEI:1", "501", sho), make_device("IMEI:2", "502", sho)};
    return s.import_devices(devs, AuditEntry{0, 2, "operator", "device.import", "2 devices", ""}, 2);
  };
  const int rc = run_child_crashing_at("import_devices.before_commit", [&] {
    auto s = open_store(db);
    (void)import(*s);
  });
  ASSERT_EQ(rc, 77);
  auto s = open_store(db);
  ASSERT_TRUE(s);
  EXPECT_EQ(s->get_device("IMEI:1").error(), make_error_code(errc::not_found));
  EXPECT_TRUE(s->list_audit(10)->empty());
  auto counts = import(*s);
  ASSERT_TRUE(counts) << counts.error().message();
  EXPECT_EQ(counts->inserted, 2u);
  auto audit = s->list_audit(10);
  ASSERT_TRUE(audit);
  ASSERT_EQ(audit->size(), 1u);
  EXPECT_EQ(audit->front().action, "device.import");
  EXPECT_EQ(audit->front().detail, "inserted 2, updated 0, unchanged 0");
  EXPECT_TRUE(s->get_device("IMEI:2"));
}

TEST_F(StoreCrash, ResultKilledBeforeCommitIsRecordedOnRetryExactlyOnce) {
  std::string correlator;
  std::int64_t job_id = 0;
  {
    auto s = open_store(db);
    ASSERT_TRUE(s->set_sho_callback(sho, "http://127.0.0.1:1/cb"));
    ASSERT_TRUE(s->upsert_devices(std::vector<Device>{make_device("IMEI:1", "500", sho)}, 1));
    auto j = s->create_job(NewJob{"IMEI:1", sho, JobKind::install, Bytes{9}, "a", "", 0}, 1);
    ASSERT_TRUE(j);
    correlator = j->correlator;
    job_id = j->id;
    ASSERT_TRUE(s->claim_next_job("IMEI:1", 2));
  }
  ASSERT_EQ(run_child_crashing_at("record_result.after_result",
                                  [&] { (void)open_store(db)->record_result(correlator, 200, "ok", 3); }),
            77);
  auto s = open_store(db);
  ASSERT_TRUE(s);
  EXPECT_FALSE(*s->get_result(job_id));  // rolled back as a whole
  EXPECT_EQ(s->get_job(job_id)->state, JobState::delivering);
  EXPECT_TRUE(s->due_callbacks(100, 10)->empty());
  // The device repeats its Generic Alert: recorded once, callback enqueued once.
  EXPECT_EQ(*s->record_result(correlator, 200, "ok", 4), RecordOutcome::recorded);
  EXPECT_EQ(*s->record_result(correlator, 200, "ok", 5), RecordOutcome::duplicate);
  EXPECT_EQ(s->due_callbacks(100, 10)->size(), 1u);
  EXPECT_EQ(s->get_job(job_id)->state, JobState::succeeded);
}

TEST_F(StoreCrash, ClaimKilledMidwayLeavesJobQueued) {
  std::int64_t job_id = 0;
  {
    auto s = open_store(db);
    ASSERT_TRUE(s->upsert_devices(std::vector<Device>{make_device("IMEI:1", "500", sho)}, 1));
    job_id = s->create_job(NewJob{"IMEI:1", sho, JobKind::install, Bytes{9}, "a", "", 0}, 1)->id;
  }
  ASSERT_EQ(run_child_crashing_at("claim_next_job.mid", [&] { (void)open_store(db)->claim_next_job("IMEI:1", 2); }), 77);
  auto s = open_store(db);
  auto j = s->get_job(job_id);
  ASSERT_TRUE(j);
  EXPECT_EQ(j->state, JobState::queued);
  EXPECT_EQ(j->attempts, 0);
  auto c = s->claim_next_job("IMEI:1", 3);
  ASSERT_TRUE(c && *c);
  EXPECT_EQ((*c)->attempts, 1);
}

TEST_F(StoreCrash, CreateJobKilledBeforeCorrelatorLeavesNoHalfJob) {
  ASSERT_TRUE(open_store(db)->upsert_devices(std::vector<Device>{make_device("IMEI:1", "500", sho)}, 1));
  ASSERT_EQ(run_child_crashing_at("create_job.mid", [&] {
              (void)open_store(db)->create_job(NewJob{"IMEI:1", sho, JobKind::install, Bytes{9}, "a", "", 0}, 2);
            }),
            77);
  auto s = open_store(db);
  EXPECT_TRUE(s->list_jobs("IMEI:1")->empty());
}

TEST_F(StoreCrash, WriterSigkilledAtRandomPointsLeavesAConsistentStore) {
  for (int round = 0; round < 3; ++round) {
    int ready[2];
    ASSERT_EQ(::pipe(ready), 0);
    pid_t pid = ::fork();
    if (pid == 0) {
      ::close(ready[0]);
      auto s = open_store(db);
      for (int i = 0;; ++i) {
        const std::string id = "IMEI:" + std::to_string(round) + "-" + std::to_string(i);
        std::vector<Device> devs{make_device(id, std::to_string(round * 1000000 + i), sho)};
        if (!s->upsert_devices(devs, i)) ::_exit(3);
        auto j = s->create_job(NewJob{id, sho, JobKind::install, Bytes(64, 1), "a", "", 0}, i);
        if (!j) ::_exit(4);
        if (!s->claim_next_job(id, i)) ::_exit(5);
        if (!s->record_result(j->correlator, 200, "ok", i)) ::_exit(6);
        if (i == 0 && ::write(ready[1], "r", 1) != 1) ::_exit(7);
      }
    }
    ::close(ready[1]);
    char c = 0;
    ASSERT_EQ(::read(ready[0], &c, 1), 1);  // the writer has committed at least one round
    ::close(ready[0]);
    std::this_thread::sleep_for(std::chrono::milliseconds(20 + 37 * round));
    ::kill(pid, SIGKILL);
    int status = 0;
    ::waitpid(pid, &status, 0);
    ASSERT_TRUE(WIFSIGNALED(status)) << "writer exited early with " << WEXITSTATUS(status);
  }
  auto s = open_store(db);
  ASSERT_TRUE(s);
  auto devices = s->list_devices(sho, "", 100000);
  ASSERT_TRUE(devices);
  EXPECT_GT(devices->size(), 0u);
  for (const auto& d : *devices) {
    // Every device decrypts, and each job is either done with exactly one result or untouched.
    auto full = s->get_device(d.dev_id);
    ASSERT_TRUE(full) << d.dev_id;
    auto jobs = s->list_jobs(d.dev_id);
    ASSERT_TRUE(jobs);
    for (const auto& j : *jobs) {
      EXPECT_FALSE(j.correlator.starts_with("pending-"));
      auto r = s->get_result(j.id);
      ASSERT_TRUE(r);
      if (j.state == JobState::succeeded) EXPECT_TRUE(*r);
      else EXPECT_FALSE(*r);
    }
  }
}

TEST_F(Fixture, ManagementCommandsAreClaimedOnceFinishedOnceAndExpire) {
  ASSERT_TRUE(store->upsert_devices(std::vector<Device>{make_device("IMEI:1", "001010000000001", sho)}, 1000));
  MgmtCommand c;
  c.dev_id = "IMEI:1";
  c.submitted_by = "operator";
  c.wrap = MgmtWrap::sequence;
  MgmtOp get;
  get.target = "./DevInfo/Mod";
  MgmtOp rep;
  rep.verb = MgmtVerb::replace;
  rep.target = "./Vendor/X";
  rep.data = "";  // empty data is kept as data, not dropped
  rep.format = "chr";
  c.ops = {get, rep};
  c.deadline = 2000;
  const AuditEntry audit{0, 0, "operator", "command.submit", {}, "test"};
  auto c1 = store->create_command(c, audit, 1000);
  ASSERT_TRUE(c1) << c1.error().message();
  MgmtCommand late = c;
  late.deadline = 1500;
  auto c2 = store->create_command(late, audit, 1001);
  ASSERT_TRUE(c2);
  MgmtCommand nowhere = c;
  nowhere.dev_id = "IMEI:nope";
  EXPECT_EQ(store->create_command(nowhere, audit, 1000).error(), make_error_code(errc::not_found));
  EXPECT_EQ(store->has_queued_command("IMEI:1", 1000).value_or(false), true);

  auto got = store->get_command(c1->id);
  ASSERT_TRUE(got);
  EXPECT_EQ(got->state, MgmtState::queued);
  EXPECT_EQ(got->wrap, MgmtWrap::sequence);
  ASSERT_EQ(got->ops.size(), 2u);
  EXPECT_EQ(got->ops[0].verb, MgmtVerb::get);
  EXPECT_FALSE(got->ops[0].data);
  ASSERT_TRUE(got->ops[1].data);
  EXPECT_EQ(*got->ops[1].data, "");
  EXPECT_EQ(got->ops[1].format, "chr");

  // Finishing a command that was not delivered changes nothing.
  MgmtCommand early = *got;
  early.state = MgmtState::completed;
  EXPECT_EQ(store->finish_command(early, 1100).value_or(true), false);

  auto claimed = store->claim_next_command("IMEI:1", 1100);
  ASSERT_TRUE(claimed && *claimed);
  EXPECT_EQ((*claimed)->id, c1->id);
  EXPECT_EQ((*claimed)->state, MgmtState::delivered);
  MgmtCommand done = **claimed;
  done.state = MgmtState::completed;
  done.statuses = {{-1, "Sequence", 200}, {0, "Get", 200}, {1, "Replace", 425}};
  done.results = {{0, "./DevInfo/Mod", "chr", "text/plain", std::string("m\0d", 3)}};
  EXPECT_EQ(store->finish_command(done, 1200).value_or(false), true);
  EXPECT_EQ(store->finish_command(done, 1201).value_or(true), false);  // once
  got = store->get_command(c1->id);
  ASSERT_TRUE(got);
  EXPECT_EQ(got->state, MgmtState::completed);
  ASSERT_EQ(got->statuses.size(), 3u);
  EXPECT_EQ(got->statuses[2].code, 425);
  ASSERT_EQ(got->results.size(), 1u);
  EXPECT_EQ(got->results[0].data, std::string("m\0d", 3));

  // The second one's deadline passed before a session came: expired, never handed out.
  auto none = store->claim_next_command("IMEI:1", 1600);
  ASSERT_TRUE(none);
  EXPECT_FALSE(*none);
  got = store->get_command(c2->id);
  ASSERT_TRUE(got);
  EXPECT_EQ(got->state, MgmtState::expired);
  EXPECT_FALSE(got->error.empty());
}

TEST_F(Fixture, CommandsLeftDeliveredByAnEarlierRunFailWithTheReason) {
  ASSERT_TRUE(store->upsert_devices(std::vector<Device>{make_device("IMEI:1", "001010000000001", sho)}, 1000));
  MgmtCommand c;
  c.dev_id = "IMEI:1";
  c.submitted_by = "operator";
  MgmtOp get;
  get.target = "./DevInfo/Mod";
  c.ops = {get};
  const AuditEntry audit{0, 0, "operator", "command.submit", {}, "test"};
  auto sent = store->create_command(c, audit, 1000);
  auto waiting = store->create_command(c, audit, 1001);
  ASSERT_TRUE(sent && waiting);
  auto claimed = store->claim_next_command("IMEI:1", 1100);
  ASSERT_TRUE(claimed && *claimed);
  ASSERT_EQ((*claimed)->id, sent->id);

  auto n = store->fail_orphaned_commands("the server restarted before the device answered", 1200);
  ASSERT_TRUE(n) << n.error().message();
  EXPECT_EQ(*n, 1u);
  auto got = store->get_command(sent->id);
  ASSERT_TRUE(got);
  EXPECT_EQ(got->state, MgmtState::failed);
  EXPECT_EQ(got->error, "the server restarted before the device answered");
  // The late answer of the lost session changes nothing; the queued one is still queued.
  MgmtCommand late = **claimed;
  late.state = MgmtState::completed;
  EXPECT_EQ(store->finish_command(late, 1300).value_or(true), false);
  got = store->get_command(waiting->id);
  ASSERT_TRUE(got);
  EXPECT_EQ(got->state, MgmtState::queued);
  EXPECT_EQ(store->fail_orphaned_commands("again", 1400).value_or(99), 0u);
}

}  // namespace
}  // namespace m2mdm::server
