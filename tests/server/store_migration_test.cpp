// Schema migration 1 -> 2 (DRF bootstraps, package 0 retry state): a store written by a build
// with schema 1 opens, migrates in place, keeps its rows and secrets, and gains the new columns.
#include "m2mdm/server/error.hpp"
#include "m2mdm/server/store_migrations.hpp"
#include "test_util.hpp"

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>

namespace m2mdm::server {
namespace {

TEST(StoreMigration, SchemaOneStoreMigratesKeepingRowsAndSecrets) {
  test::TempDir dir;
  const auto db = dir.path() / "old.sqlite";
  {
    sqlite3* raw = nullptr;
    ASSERT_EQ(sqlite3_open(db.c_str(), &raw), SQLITE_OK);
    std::unique_ptr<sqlite3, decltype(&sqlite3_close)> h(raw, &sqlite3_close);
    // Schema 1 exactly as shipped: the frozen migration file 0001, as the store embeds it.
    ASSERT_GE(store_migrations().size(), 2u);
    EXPECT_EQ(store_migrations()[0].file, "0001_initial.sql");
    const std::string schema1(store_migrations()[0].sql);
    ASSERT_EQ(sqlite3_exec(raw, schema1.c_str(), nullptr, nullptr, nullptr), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(raw,
                           "PRAGMA user_version = 1; PRAGMA application_id = 1295142212;"
                           "INSERT INTO shos(name, token_hash, created) VALUES('sho', x'01', 1);"
                           "INSERT INTO devices(dev_id, pcid, sho_id, created, updated) VALUES('IMEI:1','0010100001',1,1,1);"
                           "INSERT INTO jobs(dev_id, sho_id, kind, payload, authorisation, correlator, state, created, updated)"
                           " VALUES('IMEI:1', 1, 'install', x'00', 'a', 'c-1', 'queued', 1, 1);",
                           nullptr, nullptr, nullptr),
              SQLITE_OK);
  }
  auto store = test::open_store(db);
  ASSERT_TRUE(store);
  EXPECT_EQ(SqliteStore::schema_version(), 11);  // every later migration ran too
  auto d = store->get_device("IMEI:1");
  ASSERT_TRUE(d) << d.error().message();
  EXPECT_EQ(d->sec_method, "USERPIN");
  EXPECT_FALSE(d->pending_dm.has_value());        // 0004
  // 0008: an SHO's import of its own migrated device, and a claim (throttle table) work.
  auto again = store->import_sho_devices(1, std::span(&*d, 1), AuditEntry{0, 2, "sho:1", "device.import", "", ""}, 2);
  ASSERT_TRUE(again) << again.error().message();
  EXPECT_EQ(again->unchanged, 1u);
  auto claim = store->claim_device(DeviceClaim{1, "IMEI:1", Bytes{'1'}}, ClaimPolicy{}, 2);
  ASSERT_TRUE(claim) << claim.error().message();
  EXPECT_EQ(claim->verdict, ClaimVerdict::refused);  // no PIN on record
  auto sho = store->get_sho(1);
  ASSERT_TRUE(sho);
  EXPECT_EQ(sho->signer_name(), "sho");           // 0003: no signer set = the name
  auto j = store->get_job_by_correlator("c-1");
  ASSERT_TRUE(j);
  EXPECT_EQ(j->notify_attempts, 0);
  EXPECT_EQ(j->next_notify_at, 0);
  // The new table works, and the secrets written after the migration read back.
  BootstrapRecord rec;
  rec.dev_id = "IMEI:1";
  rec.actor = "operator";
  rec.sec_method = "USERPIN";
  rec.delivery = "sms";
  DmCredentials dm;
  dm.server_id = "dpf";
  dm.client_password = "pw";
  dm.server_nonce = {5, 5};
  ASSERT_TRUE(test::store_nonces(*store, "IMEI:1", Bytes{1}, Bytes{2}, 4));  // 0011: the nonces' own cells
  EXPECT_EQ(store->get_device("IMEI:1")->dm.client_nonce, Bytes{2});
  auto b = store->record_bootstrap(rec, dm, DmCredentials{}, 5);
  ASSERT_TRUE(b) << b.error().message();
  store.reset();
  store = test::open_store(db);  // reopening does not migrate again
  ASSERT_TRUE(store);
  EXPECT_EQ(store->get_device("IMEI:1")->dm.client_password, "pw");
  EXPECT_EQ(store->get_device("IMEI:1")->dm.server_nonce, (Bytes{5, 5}));  // the bootstrap's account, its nonces
  EXPECT_TRUE(store->get_device("IMEI:1")->dm.client_nonce.empty());
  EXPECT_EQ(store->get_device("IMEI:1")->state, DeviceState::bootstrapped);
  auto active = store->active_bootstrap("IMEI:1");
  ASSERT_TRUE(active && *active);
  EXPECT_EQ((*active)->id, b->id);
}

TEST(StoreMigration, RecordBootstrapIsAtomic) {
  // A crash inside record_bootstrap (after the row, before the credentials) leaves neither.
  test::TempDir dir;
  const auto db = dir.path() / "s.sqlite";
  {
    auto store = test::open_store(db);
    ASSERT_TRUE(store);
    Device d = test::make_device("IMEI:1", "0010100001", std::nullopt);
    ASSERT_TRUE(store->upsert_devices(std::span(&d, 1), 1));
  }
  const pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    ::setenv("M2MDM_STORE_CRASH_AT", "record_bootstrap.mid", 1);
    auto store = test::open_store(db);
    BootstrapRecord rec{0, "IMEI:1", 0, "operator", "USERPIN", "udp", false, true};
    DmCredentials dm;
    dm.client_password = "new";
    (void)store->record_bootstrap(rec, dm, dm, 2);
    ::_exit(0);  // not reached when the crash point fires
  }
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 77);
  auto store = test::open_store(db);
  ASSERT_TRUE(store);
  auto active = store->active_bootstrap("IMEI:1");
  ASSERT_TRUE(active);
  EXPECT_FALSE(*active);
  auto d = store->get_device("IMEI:1");
  EXPECT_EQ(d->dm.client_password, "client-secret-IMEI:1");
  EXPECT_EQ(d->state, DeviceState::imported);
}

}  // namespace
}  // namespace m2mdm::server
