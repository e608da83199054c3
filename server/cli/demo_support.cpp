// `m2mdm demo` support: REST client, SHO callback inbox, agent processes, small helpers.
#include "demo_support.hpp"

#include "m2mdm/server/callback_worker.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <openssl/rand.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstring>
#include <deque>
#include <fstream>
#include <iterator>
#include <thread>

extern char** environ;

namespace m2mdm::cli::demo {

using namespace std::chrono_literals;

// ---------------------------------------------------------------- REST

std::string Rest::Reply::describe() const {
  if (status == 0) return "no response: " + error;
  std::string b = body.size() > 300 ? body.substr(0, 300) + "..." : body;
  return "HTTP " + std::to_string(status) + ": " + b;
}

Rest::Reply Rest::call(std::string_view method, const std::string& path, const std::string& token,
                       Clock::time_point deadline, std::string content_type, std::string body) const {
  Reply out;
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
  if (left <= 0ms) {
    out.error = "timed out";
    return out;
  }
  server::HttpCall c;
  c.method = std::string(method);
  c.url = base + path;
  if (!token.empty()) c.headers.emplace_back("Authorization", "Bearer " + token);
  c.content_type = std::move(content_type);
  c.body = std::move(body);
  auto r = server::http_call(c, {ca}, std::min<std::chrono::milliseconds>(left, 10s));
  out.status = r.status;
  out.error = std::move(r.error);
  out.body = std::move(r.body);
  out.json = nlohmann::json::parse(out.body, nullptr, false);
  return out;
}

// ---------------------------------------------------------------- callback inbox

server::HttpResponse CallbackInbox::handle(const server::HttpRequest& request) {
  if (request.method != "POST") return server::HttpResponse::json_error(405, "method not allowed");
  auto j = nlohmann::json::parse(request.body, nullptr, false);
  const bool job = j.is_object() && j.contains("jobId") && j["jobId"].is_number_integer();
  const bool change = j.is_object() && j.contains("operatorChangeId") && j["operatorChangeId"].is_number_integer() &&
                      j.contains("event") && j["event"].is_string();
  if (!job && !change) return server::HttpResponse::json_error(400, "bad request", "no jobId or operatorChangeId");
  {
    std::lock_guard lock(mutex_);
    if (job) {
      by_job_[j["jobId"].get<std::int64_t>()] = request.body;
      ++count_by_job_[j["jobId"].get<std::int64_t>()];
    }
    if (change)
      by_event_[{j["event"].get<std::string>(), j["operatorChangeId"].get<std::int64_t>()}] = {
          std::string(request.path()), request.body};
    ++count_;
  }
  cv_.notify_all();
  return server::HttpResponse::make(204, "application/json", "");
}

bool CallbackInbox::wait_for(std::int64_t job_id, Clock::time_point deadline, std::string& body) {
  std::unique_lock lock(mutex_);
  if (!cv_.wait_until(lock, deadline, [&] { return by_job_.contains(job_id); })) return false;
  body = by_job_[job_id];
  return true;
}

bool CallbackInbox::wait_for_event(const std::string& event, std::int64_t change_id, Clock::time_point deadline,
                                   std::string& path, std::string& body) {
  std::unique_lock lock(mutex_);
  const auto key = std::make_pair(event, change_id);
  if (!cv_.wait_until(lock, deadline, [&] { return by_event_.contains(key); })) return false;
  std::tie(path, body) = by_event_[key];
  return true;
}

std::size_t CallbackInbox::received() const {
  std::lock_guard lock(mutex_);
  return count_;
}

std::size_t CallbackInbox::received_for(std::int64_t job_id) const {
  std::lock_guard lock(mutex_);
  const auto it = count_by_job_.find(job_id);
  return it == count_by_job_.end() ? 0 : it->second;
}

// ---------------------------------------------------------------- agent processes

bool Agent::spawn(const std::vector<std::string>& argv, std::string& why, bool append) {
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&fa, 2, log.c_str(), O_WRONLY | O_CREAT | (append ? O_APPEND : O_TRUNC), 0600);
  exit_status.reset();
  posix_spawn_file_actions_adddup2(&fa, 2, 1);
  std::vector<char*> args;
  args.reserve(argv.size() + 1);
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  const int rc = posix_spawn(&pid, argv.front().c_str(), &fa, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  if (rc != 0) {
    pid = -1;
    why = "posix_spawn " + argv.front() + ": " + std::strerror(rc);
    return false;
  }
  return true;
}

namespace {
int decode_status(int st) {
  if (WIFEXITED(st)) return WEXITSTATUS(st);
  if (WIFSIGNALED(st)) return 128 + WTERMSIG(st);
  return -1;
}
}  // namespace

bool Agent::ended() {
  if (exit_status) return true;
  if (pid <= 0) return true;
  int st = 0;
  const pid_t r = waitpid(pid, &st, WNOHANG);
  if (r == pid) {
    exit_status = decode_status(st);
    return true;
  }
  return false;
}

std::optional<int> Agent::stop(Clock::time_point deadline) {
  if (ended()) return exit_status;
  ::kill(pid, SIGTERM);
  while (Clock::now() < deadline) {
    if (ended()) return exit_status;
    std::this_thread::sleep_for(50ms);
  }
  kill_now();
  return std::nullopt;
}

void Agent::kill_now() {
  if (pid <= 0 || exit_status) return;
  ::kill(pid, SIGKILL);
  int st = 0;
  if (waitpid(pid, &st, 0) == pid) exit_status = decode_status(st);
}

void Agent::read_events() {
  std::ifstream in(log, std::ios::binary);
  if (!in) return;
  in.seekg(static_cast<std::streamoff>(read_offset_));
  std::string chunk((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const auto end = chunk.rfind('\n');
  if (end == std::string::npos) return;  // no complete line yet
  read_offset_ += end + 1;
  std::size_t pos = 0;
  while (pos <= end) {
    const auto nl = chunk.find('\n', pos);
    auto j = nlohmann::json::parse(chunk.begin() + static_cast<std::ptrdiff_t>(pos),
                                   chunk.begin() + static_cast<std::ptrdiff_t>(nl), nullptr, false);
    pos = nl + 1;
    // Not JSON (e.g. the agent's last words on a fatal error) or a plain log line: not an event.
    if (j.is_object() && j.contains("event") && j["event"].is_string()) events_.push_back(std::move(j));
  }
}

bool Agent::has_event(client::DeviceEventKind kind) { return count_events(kind) > 0; }

std::size_t Agent::count_events(client::DeviceEventKind kind, std::string_view field, std::string_view value) {
  read_events();
  const std::string name(client::to_string(kind));
  return static_cast<std::size_t>(std::count_if(events_.begin(), events_.end(), [&](const nlohmann::json& e) {
    if (e.value("event", "") != name) return false;
    if (field.empty()) return true;
    const auto it = e.find(std::string(field));
    return it != e.end() && it->is_string() && it->get_ref<const std::string&>() == value;
  }));
}

std::string Agent::log_tail(std::size_t lines) const {
  std::ifstream in(log);
  std::deque<std::string> last;
  std::string line;
  while (std::getline(in, line)) {
    last.push_back(line);
    if (last.size() > lines) last.pop_front();
  }
  std::string out;
  for (const auto& l : last) out += "    " + l + "\n";
  return out;
}

// ---------------------------------------------------------------- helpers

std::optional<std::uint16_t> free_udp_port() {
  const int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return std::nullopt;
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = 0;
  socklen_t len = sizeof a;
  std::optional<std::uint16_t> port;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0)
    port = ntohs(a.sin_port);
  ::close(fd);
  return port;
}

std::string random_digits(std::size_t n) {
  std::string out;
  while (out.size() < n) {
    unsigned char b[32];
    if (RAND_bytes(b, sizeof b) != 1) return {};
    for (unsigned char c : b)
      if (c < 250 && out.size() < n) out.push_back(static_cast<char>('0' + c % 10));  // unbiased
  }
  return out;
}

}  // namespace m2mdm::cli::demo
