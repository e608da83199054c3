// The background thread of a PollingWorker (the loop itself is PollThread).
#include "m2mdm/server/polling_worker.hpp"

#include "m2mdm/server/poll_thread.hpp"

namespace m2mdm::server {

PollingWorker::PollingWorker(std::chrono::milliseconds poll) : poll_(poll), thread_(std::make_unique<PollThread>()) {}

PollingWorker::~PollingWorker() = default;

void PollingWorker::start() { thread_->start(poll_, [this] { (void)run_once(); }); }

void PollingWorker::poke() { thread_->poke(); }

void PollingWorker::stop() { thread_->stop(); }

}  // namespace m2mdm::server
