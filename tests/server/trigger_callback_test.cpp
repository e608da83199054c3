// The package 0 trigger (a real UDP socket receives the push; the device-side decoder and digest
// check read it) and the SHO callback worker (a real loopback HTTP and HTTPS receiver that is down
// first, then up; state kept over a store reopen).
#include "m2mdm/bootstrap/wsp.hpp"
#include "m2mdm/mo/pki.hpp"
#include "m2mdm/server/callback_worker.hpp"
#include "m2mdm/server/drf_service.hpp"
#include "m2mdm/server/http_server.hpp"
#include "m2mdm/server/push.hpp"
#include "m2mdm/syncml/notification.hpp"
#include "m2mdm/test/device_fixture.hpp"
#include "test_util.hpp"
#include "udp_receiver.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <mutex>

namespace m2mdm::server {
namespace {
namespace bs = m2mdm::bootstrap;
using test::TempDir;

struct Trigger : test::StoreWithSho {
  UdpPushSender sender;
  test::UdpReceiver udp;

  void SetUp() override {
    StoreWithSho::SetUp();
    if (HasFatalFailure()) return;
    Device d = test::make_device("IMEI:1", "001010000000001", sho);
    d.dm.server_nonce = {1, 2, 3, 4};
    d.push_address = udp.address();
    Device quiet = test::make_device("IMEI:2", "001010000000002", sho);  // no push address
    std::vector<Device> v{d, quiet};
    ASSERT_TRUE(store->upsert_devices(v, t));
    ASSERT_TRUE(test::store_nonces(*store, "IMEI:1", d.dm.server_nonce, Bytes{9, 9}, t));
  }
  Job job(const std::string& dev) {
    auto j = store->create_job(NewJob{dev, sho, JobKind::install, Bytes{1, 2, 3}, "auth", "", 0}, t);
    EXPECT_TRUE(j);
    return *j;
  }
  NotifierOptions options() {
    NotifierOptions o;
    o.max_attempts = 3;
    o.retry_seconds = 10;
    o.clock = t.fn();
    return o;
  }
};

TEST_F(Trigger, Package0IsPushedWithTheServerCredentialsRetriedBoundedAndStopsOnceClaimed) {
  const Job j1 = job("IMEI:1");
  job("IMEI:2");  // no push address: waits for the device's next session
  JobNotifier n(*store, sender, options());
  EXPECT_EQ(n.run_once(), 1u);
  auto dgram = udp.receive();
  ASSERT_TRUE(dgram);
  auto push = bs::wsp::decode_push(*dgram);
  ASSERT_TRUE(push) << push.error().message();
  EXPECT_EQ(push->content_type.code, bs::wsp::kCtSyncmlNotification);
  ASSERT_TRUE(push->app_id);
  EXPECT_EQ(push->app_id->code, bs::wsp::kAppIdSyncmlDm);
  auto pkg0 = syncml::decode_notification(push->body);
  ASSERT_TRUE(pkg0) << pkg0.error().message();
  EXPECT_EQ(pkg0->fields.ui_mode, syncml::UiMode::background);
  EXPECT_EQ(pkg0->fields.initiator, syncml::Initiator::server);
  EXPECT_EQ(pkg0->fields.server_id, "m2mdm-ro");
  EXPECT_NE(pkg0->fields.session_id, 0);
  const Bytes nonce{1, 2, 3, 4};
  EXPECT_TRUE(syncml::verify_notification_digest(*pkg0, "m2mdm-ro", "server-secret-IMEI:1", nonce));
  EXPECT_FALSE(syncml::verify_notification_digest(*pkg0, "m2mdm-ro", "wrong", nonce));
  auto after = store->get_job(j1.id);
  EXPECT_EQ(after->state, JobState::notified);
  EXPECT_EQ(after->notify_attempts, 1);
  EXPECT_EQ(after->next_notify_at, t + 10);

  EXPECT_EQ(n.run_once(), 0u);  // not due yet
  t += 10;
  EXPECT_EQ(n.run_once(), 1u);
  EXPECT_TRUE(udp.receive());
  EXPECT_EQ(store->get_job(j1.id)->next_notify_at, t + 20);  // back-off doubles
  t += 20;
  EXPECT_EQ(n.run_once(), 1u);
  EXPECT_TRUE(udp.receive());
  t += 1000;
  EXPECT_EQ(n.run_once(), 0u);  // max_attempts reached: the job waits for the device
  EXPECT_EQ(store->get_job(j1.id)->notify_attempts, 3);

  // A job a session has claimed gets no package 0.
  const Job j3 = job("IMEI:1");
  auto claimed = store->claim_next_job("IMEI:1", t);  // claims j1 (oldest)
  ASSERT_TRUE(claimed && *claimed);
  EXPECT_EQ((*claimed)->id, j1.id);
  EXPECT_EQ(n.run_once(), 1u);  // j3 is still queued
  EXPECT_TRUE(udp.receive());
  EXPECT_EQ(store->get_job(j3.id)->state, JobState::notified);
  EXPECT_EQ(store->get_job(j1.id)->state, JobState::delivering);
}

// Hardening finding 4: a device that lost a session after it claimed a job (restart, power loss)
// gets a new package 0 once the claim has stalled, with a fresh retry budget; the job keeps its
// place (delivering) and is delivered again from the start in the device's next session.
TEST_F(Trigger, AStalledClaimedJobIsNotifiedAgain) {
  const Job j1 = job("IMEI:1");
  auto o = options();
  o.stall_seconds = 300;
  JobNotifier n(*store, sender, o);
  for (int i = 0; i < 3; ++i) {  // the device was off: the retry budget is used up
    EXPECT_EQ(n.run_once(), 1u);
    EXPECT_TRUE(udp.receive());
    t += 1000;
  }
  EXPECT_EQ(n.run_once(), 0u);
  auto claimed = store->claim_next_job("IMEI:1", t);  // the device came; then it died mid-session
  ASSERT_TRUE(claimed && *claimed);
  EXPECT_EQ(n.run_once(), 0u);  // a live session is not disturbed
  t += 299;
  EXPECT_EQ(n.run_once(), 0u);
  t += 1;
  EXPECT_EQ(n.run_once(), 1u);  // stalled: pushed again
  auto dgram = udp.receive();
  ASSERT_TRUE(dgram);
  EXPECT_TRUE(bs::wsp::decode_push(*dgram));
  auto after = store->get_job(j1.id);
  EXPECT_EQ(after->state, JobState::delivering);
  EXPECT_EQ(after->notify_attempts, 1);
  EXPECT_EQ(n.run_once(), 0u);  // and backs off as before
  t += 10;
  EXPECT_EQ(n.run_once(), 1u);
  EXPECT_TRUE(udp.receive());
  // The same for a job whose Exec was sent (delivered) but never answered.
  t += 20;
  ASSERT_TRUE(store->transition_job(j1.id, JobState::delivering, JobState::delivered, t));
  EXPECT_EQ(n.run_once(), 0u);  // due, but the session just made progress
  t += 300;
  EXPECT_EQ(n.run_once(), 1u);
  EXPECT_TRUE(udp.receive());
  EXPECT_EQ(store->get_job(j1.id)->state, JobState::delivered);
  // A job awaiting its result is never re-notified: the device has it and will report.
  ASSERT_TRUE(store->transition_job(j1.id, JobState::delivered, JobState::awaiting_result, t));
  t += 100000;
  EXPECT_EQ(n.run_once(), 0u);
}

// Issue 13 (the notifier's scan after every submission walked every job of every device without a
// push address: O(N) per submission): such jobs are parked once and leave the scan; a push address
// brings them back, and a page of parked jobs does not hide a due one behind it.
TEST_F(Trigger, JobsThatCannotBeNotifiedAreParkedUntilTheDeviceHasAPushAddress) {
  std::vector<Job> quiet;
  for (int i = 0; i < 5; ++i) quiet.push_back(job("IMEI:2"));  // before j1: they fill the first page
  const Job j1 = job("IMEI:1");
  JobNotifier n(*store, sender, options());
  auto due = store->jobs_to_notify(t, 3, 2, t);  // pages of 2: 3 pages of parked jobs, then j1
  ASSERT_TRUE(due) << due.error().message();
  ASSERT_EQ(due->size(), 1u);
  EXPECT_EQ(due->front().id, j1.id);
  for (const Job& q : quiet) {
    auto after = store->get_job(q.id);
    EXPECT_EQ(after->state, JobState::queued);
    EXPECT_EQ(after->notify_attempts, 0) << "parking is not an attempt";
    EXPECT_GT(after->next_notify_at, t + 1000000000) << "parked";
  }
  EXPECT_EQ(n.run_once(), 1u);  // j1 only
  EXPECT_TRUE(udp.receive());

  // The device gets a push address (PATCH /api/v1/devices/...): its jobs are due again.
  ASSERT_TRUE(store->patch_device("IMEI:2", DevicePatch{udp.address(), std::nullopt}, t));
  EXPECT_EQ(store->get_job(quiet.front().id)->next_notify_at, 0);
  EXPECT_EQ(n.run_once(), 5u);
  for (int i = 0; i < 5; ++i) EXPECT_TRUE(udp.receive());
  EXPECT_EQ(store->get_job(quiet.back().id)->state, JobState::notified);

  // Retries used up: parked too, until a claim gives the job a fresh budget.
  for (int round = 0; round < 2; ++round) {
    t += 100000;
    EXPECT_EQ(n.run_once(), 6u);
    for (int i = 0; i < 6; ++i) EXPECT_TRUE(udp.receive());
  }
  t += 100000;
  EXPECT_EQ(n.run_once(), 0u);
  EXPECT_GT(store->get_job(j1.id)->next_notify_at, t + 1000000000);
  auto claimed = store->claim_next_job("IMEI:1", t);
  ASSERT_TRUE(claimed && *claimed);
  EXPECT_EQ(store->get_job(j1.id)->next_notify_at, 0);
}

TEST_F(Trigger, TheThreadWakesOnPoke) {
  auto o = options();
  o.poll = std::chrono::minutes(10);  // only a poke can wake it within the test
  JobNotifier n(*store, sender, o);
  n.start();
  job("IMEI:1");
  n.poke();
  EXPECT_TRUE(udp.receive(std::chrono::milliseconds(5000)));
  n.stop();
}

// ---------------------------------------------------------------- callbacks

/// Records POSTed bodies; answers with `status`.
struct Receiver final : HttpHandler {
  std::mutex m;
  std::vector<std::string> bodies;
  int status = 200;
  HttpResponse handle(const HttpRequest& r) override {
    std::lock_guard lock(m);
    if (r.method == "POST" && r.header("Content-Type") == "application/json") bodies.push_back(r.body);
    return HttpResponse::make(status, "text/plain", status == 204 ? "" : "ok");  // 204 has no body
  }
  std::size_t count() {
    std::lock_guard lock(m);
    return bodies.size();
  }
};

HttpServerOptions receiver_options(std::uint16_t port) {
  HttpServerOptions o;
  o.port = port;
  o.threads = 1;
  return o;
}

struct Callbacks : test::StoreWithSho {
  CallbackOptions options() {
    CallbackOptions o;
    o.retry_seconds = 2;
    o.max_retry_seconds = 5;
    o.timeout = std::chrono::milliseconds(2000);
    o.clock = t.fn();
    return o;
  }
};

TEST_F(Callbacks, ReceiverDownThenUpDeliveredOnceStateSurvivesReopen) {
  Receiver rx;
  // Find a free port, then close it: the SHO's endpoint is down.
  std::uint16_t port = 0;
  {
    auto probe = HttpServer::start(receiver_options(0), rx);
    ASSERT_TRUE(probe);
    port = (*probe)->port();
  }
  const std::string url = "http://127.0.0.1:" + std::to_string(port) + "/sho/callback";
  auto id = store->enqueue_callback(sho, url, R"({"event":"job.result","jobId":1})", t);
  ASSERT_TRUE(id);
  {
    CallbackWorker w(*store, options());
    EXPECT_EQ(w.run_once(), 0u);
    EXPECT_EQ(w.stats().failed_attempts, 1u);
    auto due = store->due_callbacks(t + 10, 10);
    ASSERT_EQ(due->size(), 1u);
    EXPECT_EQ((*due)[0].attempts, 1);
    EXPECT_EQ((*due)[0].next_attempt_at, t + 2);
    EXPECT_EQ(w.run_once(), 0u);  // not due before the back-off
    t += 2;
    EXPECT_EQ(w.run_once(), 0u);
    due = store->due_callbacks(t + 10, 10);
    EXPECT_EQ((*due)[0].next_attempt_at, t + 4);  // doubled
    t += 4;
    EXPECT_EQ(w.run_once(), 0u);
    due = store->due_callbacks(t + 10, 10);
    EXPECT_EQ((*due)[0].next_attempt_at, t + 5);  // capped
    EXPECT_EQ(w.backoff(10), 5);
  }
  // The RO restarts: the outbox is in the store.
  store.reset();
  store = test::open_store(dir.path() / "s.sqlite");
  ASSERT_TRUE(store);
  auto up = HttpServer::start(receiver_options(port), rx);
  ASSERT_TRUE(up) << up.error().message();
  t += 5;
  CallbackWorker w(*store, options());
  EXPECT_EQ(w.run_once(), 1u);
  ASSERT_EQ(rx.count(), 1u);
  EXPECT_EQ(rx.bodies[0], R"({"event":"job.result","jobId":1})");
  EXPECT_EQ(store->due_callbacks(t + 1000, 10)->size(), 0u);
  EXPECT_EQ(store->stats()->outbox_pending, 0);
  t += 1000;
  EXPECT_EQ(w.run_once(), 0u);  // never delivered twice
  EXPECT_EQ(rx.count(), 1u);
}

TEST_F(Callbacks, Non2xxIsRetriedAndTheThreadDelivers) {
  Receiver rx;
  rx.status = 503;
  auto up = HttpServer::start(receiver_options(0), rx);
  ASSERT_TRUE(up);
  const std::string url = "http://127.0.0.1:" + std::to_string((*up)->port()) + "/cb";
  ASSERT_TRUE(store->enqueue_callback(sho, url, R"({"n":1})", t));
  auto o = options();
  o.poll = std::chrono::milliseconds(50);
  CallbackWorker w(*store, o);
  EXPECT_EQ(w.run_once(), 0u);
  EXPECT_EQ(rx.count(), 1u);
  {
    std::lock_guard lock(rx.m);
    rx.status = 204;
  }
  t += 2;
  w.start();
  for (int i = 0; i < 100 && w.stats().delivered == 0; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  w.stop();
  EXPECT_EQ(w.stats().delivered, 1u);
  EXPECT_EQ(rx.count(), 2u);
}

TEST_F(Callbacks, HttpsWithTheShoCaAndRefusedWithoutIt) {
  auto pki = mo::init_test_pki(dir.path() / "pki");
  ASSERT_TRUE(pki) << pki.error().message();
  auto file = [&](std::string_view name) { return m2mdm::test::pki_file(*pki, name); };
  Receiver rx;
  auto o = receiver_options(0);
  o.tls = TlsFiles{file("tls-cert"), file("tls-key")};
  auto up = HttpServer::start(o, rx);
  ASSERT_TRUE(up) << up.error().message();
  const std::string url = "https://127.0.0.1:" + std::to_string((*up)->port()) + "/cb";
  auto wrong = post_json(url, "{}", {file("sho-ca")}, std::chrono::milliseconds(2000));
  EXPECT_EQ(wrong.status, 0);
  EXPECT_NE(wrong.error.find("tls"), std::string::npos) << wrong.error;
  EXPECT_EQ(rx.count(), 0u);
  auto ok = post_json(url, "{}", {file("tls-ca")}, std::chrono::milliseconds(2000));
  EXPECT_EQ(ok.status, 200) << ok.error;
  EXPECT_EQ(rx.count(), 1u);
  EXPECT_FALSE(post_json("ftp://x/", "{}", {}, std::chrono::milliseconds(100)).error.empty());
  EXPECT_FALSE(post_json("http://[::1/", "{}", {}, std::chrono::milliseconds(100)).error.empty());
}

}  // namespace
}  // namespace m2mdm::server
