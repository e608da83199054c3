// Schema migration 1 -> 2 (DRF bootstraps, package 0 retry state): a store written by a build
// with schema 1 opens, migrates in place, keeps its rows and secrets, and gains the new columns.
#include "m2mdm/server/error.hpp"
#include "test_util.hpp"

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>

namespace m2mdm::server {
namespace {

// The schema-1 DDL exactly as shipped (frozen; the store's migration 0 -> 1).
constexpr const char* kSchema1 = R"sql(
CREATE TABLE shos(
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  token_hash BLOB NOT NULL UNIQUE,
  callback_url TEXT NOT NULL DEFAULT '',
  created INTEGER NOT NULL);
CREATE TABLE devices(
  id INTEGER PRIMARY KEY,
  dev_id TEXT NOT NULL UNIQUE,
  pcid TEXT NOT NULL UNIQUE,
  sho_id INTEGER REFERENCES shos(id),
  dpf_address TEXT NOT NULL DEFAULT '',
  dm_credentials BLOB,
  device_pin BLOB,
  k BLOB,
  opc BLOB,
  sqn INTEGER NOT NULL DEFAULT 0,
  pfc_der BLOB,
  pfc_validation TEXT NOT NULL DEFAULT '',
  state TEXT NOT NULL DEFAULT 'imported',
  last_seen INTEGER NOT NULL DEFAULT 0,
  push_address TEXT NOT NULL DEFAULT '',
  created INTEGER NOT NULL,
  updated INTEGER NOT NULL);
CREATE INDEX devices_sho ON devices(sho_id, dev_id);
CREATE TABLE jobs(
  id INTEGER PRIMARY KEY,
  dev_id TEXT NOT NULL REFERENCES devices(dev_id),
  sho_id INTEGER NOT NULL REFERENCES shos(id),
  kind TEXT NOT NULL,
  payload BLOB NOT NULL,
  authorisation TEXT NOT NULL,
  correlator TEXT NOT NULL UNIQUE,
  state TEXT NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  deadline INTEGER NOT NULL DEFAULT 0,
  created INTEGER NOT NULL,
  updated INTEGER NOT NULL);
CREATE INDEX jobs_dev_state ON jobs(dev_id, state, id);
CREATE TABLE results(
  job_id INTEGER PRIMARY KEY REFERENCES jobs(id),
  code INTEGER NOT NULL,
  message TEXT NOT NULL,
  at INTEGER NOT NULL);
CREATE TABLE audit(
  id INTEGER PRIMARY KEY,
  at INTEGER NOT NULL,
  actor TEXT NOT NULL,
  action TEXT NOT NULL,
  subject TEXT NOT NULL,
  detail TEXT NOT NULL);
CREATE TABLE outbox(
  id INTEGER PRIMARY KEY,
  sho_id INTEGER NOT NULL REFERENCES shos(id),
  url TEXT NOT NULL,
  body TEXT NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  next_attempt_at INTEGER NOT NULL,
  acknowledged INTEGER NOT NULL DEFAULT 0);
CREATE INDEX outbox_due ON outbox(acknowledged, next_attempt_at);
)sql";

TEST(StoreMigration, SchemaOneStoreMigratesKeepingRowsAndSecrets) {
  test::TempDir dir;
  const auto db = dir.path() / "old.sqlite";
  {
    sqlite3* raw = nullptr;
    ASSERT_EQ(sqlite3_open(db.c_str(), &raw), SQLITE_OK);
    std::unique_ptr<sqlite3, decltype(&sqlite3_close)> h(raw, &sqlite3_close);
    ASSERT_EQ(sqlite3_exec(raw, kSchema1, nullptr, nullptr, nullptr), SQLITE_OK);
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
  EXPECT_EQ(SqliteStore::schema_version(), 2);
  auto d = store->get_device("IMEI:1");
  ASSERT_TRUE(d) << d.error().message();
  EXPECT_EQ(d->sec_method, "USERPIN");
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
  auto b = store->record_bootstrap(rec, dm, DmCredentials{}, 5);
  ASSERT_TRUE(b) << b.error().message();
  store.reset();
  store = test::open_store(db);  // reopening does not migrate again
  ASSERT_TRUE(store);
  EXPECT_EQ(store->get_device("IMEI:1")->dm.client_password, "pw");
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
