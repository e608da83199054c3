/// @file alert_outbox.hpp
/// @brief The persisted outbox of Generic Alerts (1226) the device owes its DM servers.
///
/// An Exec that completes asynchronously is answered 202 and its outcome travels later as a
/// Generic Alert with the Exec's Correlator (DM_Protocol 1.2 §8.7, DM_RepPro 1.2 §6.6.2). The
/// outbox keeps each such alert until the server acknowledges it with a 200 Status, across
/// sessions and restarts, so that a result is never lost.
#pragma once

#include "m2mdm/mo/m2msim_object.hpp"
#include "m2mdm/syncml/result.hpp"

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace m2mdm::client {

/// One Generic Alert waiting for its acknowledgement.
struct PendingAlert {
  std::uint64_t id = 0;        ///< outbox-local identifier, assigned by add()
  std::string server_id;       ///< the DM server it is for
  mo::GenericAlertPayload payload;
  std::uint32_t attempts = 0;  ///< how many times it was sent without acknowledgement
};

/// Where pending Generic Alerts live. Implementations must make add() and acknowledge()
/// durable before they return (a power loss afterwards keeps the change).
class AlertOutbox {
 public:
  virtual ~AlertOutbox() = default;
  /// Stores an alert; returns its id.
  virtual Result<std::uint64_t> add(std::string_view server_id, const mo::GenericAlertPayload& payload) = 0;
  /// The alerts pending for @p server_id, oldest first.
  virtual std::vector<PendingAlert> pending(std::string_view server_id) const = 0;
  /// Records one more sending attempt.
  virtual Result<void> mark_sent(std::uint64_t id) = 0;
  /// Removes an alert the server acknowledged. Unknown ids are ignored (idempotent).
  virtual Result<void> acknowledge(std::uint64_t id) = 0;
};

/// An outbox in memory only (tests, or devices that persist elsewhere).
class MemoryAlertOutbox final : public AlertOutbox {
 public:
  Result<std::uint64_t> add(std::string_view server_id, const mo::GenericAlertPayload& payload) override;
  std::vector<PendingAlert> pending(std::string_view server_id) const override;
  Result<void> mark_sent(std::uint64_t id) override;
  Result<void> acknowledge(std::uint64_t id) override;
  /// Everything held, for inspection.
  const std::vector<PendingAlert>& all() const noexcept { return alerts_; }

 private:
  std::vector<PendingAlert> alerts_;
  std::uint64_t next_id_ = 1;
};

/// An outbox kept in one JSON file, rewritten atomically (new file, fsync, rename, fsync dir)
/// on every change, so that a power loss leaves either the old or the new content.
class FileAlertOutbox final : public AlertOutbox {
 public:
  /// Opens (or creates empty) the outbox at @p path. Fails on a file that does not parse.
  static Result<FileAlertOutbox> open(std::filesystem::path path);

  Result<std::uint64_t> add(std::string_view server_id, const mo::GenericAlertPayload& payload) override;
  std::vector<PendingAlert> pending(std::string_view server_id) const override;
  Result<void> mark_sent(std::uint64_t id) override;
  Result<void> acknowledge(std::uint64_t id) override;

 private:
  explicit FileAlertOutbox(std::filesystem::path path) : path_(std::move(path)) {}
  Result<void> save(const std::vector<PendingAlert>& alerts, std::uint64_t next_id) const;
  std::filesystem::path path_;
  std::vector<PendingAlert> alerts_;
  std::uint64_t next_id_ = 1;
};

}  // namespace m2mdm::client
