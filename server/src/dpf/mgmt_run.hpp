// One generic management command (m2mdm/server/mgmt_command.hpp) inside a DM server session:
// its SyncML commands, and the Statuses and Results that answer them, large-object Results
// reassembled (DM_Protocol 1.2 §6.10, DM_RepPro 1.2 §7). No I/O.
#pragma once
#include "m2mdm/server/mgmt_command.hpp"
#include "m2mdm/syncml/large_object.hpp"
#include "m2mdm/syncml/message.hpp"

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <utility>
#include <vector>

namespace m2mdm::server {

class MgmtRun {
 public:
  explicit MgmtRun(MgmtCommand cmd) : cmd_(std::move(cmd)) {}

  /// The SyncML commands to send (one container, or one command per op); @p next_id numbers them.
  std::vector<syncml::Command> build(const std::function<std::uint32_t()>& next_id);

  /// True when @p cmd_ref is one of the commands build() made.
  bool owns(std::uint32_t cmd_ref) const { return index_of_.contains(cmd_ref); }

  /// Records a Status for one of our commands.
  void on_status(const syncml::Status& st);

  /// Takes a Results for one of our Gets. Returns the Status code the Results needs back, when
  /// it came in chunks: 213 for each chunk but the last, 200 when complete, 424 when the object
  /// did not match its declared Size, 413 when its Size exceeds @p max_obj_size (411 without Size).
  std::optional<syncml::StatusCode> on_results(const syncml::Results& res, std::uint64_t max_obj_size);

  /// Every command has its Status, every Get the device accepted has its Results (they may come
  /// in a later message than the Status, DM_RepPro 1.2 §6.6.12 / §7), and no large object is
  /// half received.
  bool done() const { return statuses_due_ == 0 && results_due_.empty() && !assembler_.active(); }

  /// Every command has its Status (what is still missing, if anything, is Results data).
  bool statuses_complete() const { return statuses_due_ == 0; }

  /// The command with what came back so far.
  MgmtCommand& command() { return cmd_; }

 private:
  void results_arrived(int index);

  MgmtCommand cmd_;
  std::map<std::uint32_t, int> index_of_;  // our CmdID -> op index (-1: the container)
  std::size_t statuses_due_ = 0;
  std::set<int> results_due_;   // Gets answered 2xx whose Results have not come (whole) yet
  std::set<int> results_seen_;  // ops whose Results came whole (before or after their Status)
  syncml::LargeObjectAssembler assembler_;
  MgmtResult pending_;  // the large object being received
};

}  // namespace m2mdm::server
