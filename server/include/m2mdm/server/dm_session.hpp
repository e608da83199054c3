/// @file dm_session.hpp
/// @brief The DPF's DM server session engine: bytes in, bytes out, no I/O.
///
/// One `DmServerSession` runs one OMA DM 1.2 session with one device, across as many HTTP
/// exchanges as it takes (the caller pins them together with the RespURI it hands out).
/// It authenticates the device with the credentials of the DMAcc it was bootstrapped with
/// (MD5 digest, basic or HMAC; fresh nonces by challenge, DM_Security 1.2 §5), authenticates
/// itself to the device, reads DevInfo from package 1, reads the PfC from the M2MSIMMobj, runs
/// the device's pending jobs (the sealed MCIM is delivered with Add, in large-object chunks
/// within the device's MaxMsgSize/MaxObjSize, then Exec Install with the job's Correlator),
/// then its queued generic management commands (Get/Replace/Add/Delete/Exec/Copy, in Atomic or
/// Sequence if asked; their Statuses and Results — large-object Results reassembled — go back to
/// the backend), takes Statuses, Results and Generic Alerts, and aborts with 1223 on protocol errors.
///
/// Storage stays behind `DmBackend`, implemented over the Store by the DPF.
#pragma once

#include "m2mdm/server/store.hpp"
#include "m2mdm/syncml/auth.hpp"
#include "m2mdm/syncml/codec.hpp"
#include "m2mdm/syncml/result.hpp"
#include "m2mdm/syncml/status.hpp"

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace m2mdm::server {

/// A Generic Alert (1226) a device sent (DM_RepPro 1.2 §6.6.2).
struct DeviceAlert {
  std::string correlator;
  std::string source_uri;
  std::string type;    ///< Meta Type: the alert type URN
  std::string format;  ///< Meta Format
  std::string mark;    ///< Meta Mark
  std::string data;
};

/// What the session engine needs from the DPF around it. Calls are synchronous; the engine
/// makes them only from handle().
class DmBackend {
 public:
  virtual ~DmBackend() = default;
  /// The DM credentials of the device with this DevId (SyncHdr Source LocURI).
  virtual Result<DmCredentials> credentials(std::string_view dev_id) = 0;
  /// The credentials of a re-bootstrap the device has not used yet (accepted beside the current
  /// ones). Default: none.
  virtual std::optional<DmCredentials> pending_credentials(std::string_view /*dev_id*/) { return std::nullopt; }
  /// The device authenticated with the pending credentials: they become the current ones.
  virtual void on_pending_credentials_used(std::string_view /*dev_id*/) {}
  /// Persists nonces after they changed (server_nonce: what the device expects from us next;
  /// client_nonce: what we expect from the device next).
  virtual void save_nonces(std::string_view dev_id, ByteView server_nonce, ByteView client_nonce) = 0;
  /// The device authenticated and reported ./DevInfo (name -> value).
  virtual void on_device_info(std::string_view dev_id, const std::map<std::string, std::string>& devinfo) = 0;
  /// True while the RO still needs the device's PfC.
  virtual bool wants_pfc(std::string_view dev_id) = 0;
  /// The device returned ./M2MSIMMobj/PfC (DER).
  virtual void on_pfc(std::string_view dev_id, ByteView der) = 0;
  /// Claims the next job to run for this device, if any (never the same job twice).
  virtual std::optional<Job> next_job(std::string_view dev_id) = 0;
  /// A job moved on (delivering -> delivered -> awaiting_result).
  virtual void on_job_state(const Job& job, JobState to) = 0;
  /// A job failed before the device could report (a refused Add or Exec): its final result.
  virtual void on_job_failed(const Job& job, int code, std::string_view message) = 0;
  /// A job whose Exec completed at once with @p code (e.g. 200 for arm_rebootstrap): its result.
  /// Default: recorded like a failure report (the result decides success by its code).
  virtual void on_job_completed(const Job& job, int code, std::string_view message) { on_job_failed(job, code, message); }
  /// A Generic Alert; the returned code is the Status the device gets for it. Ok once it is
  /// durably recorded (the device then forgets it); CommandFailed (500) when it could not be
  /// recorded now, so that the device sends it again later; another 4xx refuses it for good
  /// (e.g. Forbidden: a Correlator of a job whose Exec this server never sent).
  virtual syncml::StatusCode on_generic_alert(std::string_view dev_id, const DeviceAlert& alert) = 0;
  /// Claims the device's next generic management command, if any (sent once no job is being
  /// delivered). Default: none.
  virtual std::optional<MgmtCommand> next_command(std::string_view /*dev_id*/) { return std::nullopt; }
  /// A management command ended (completed: every command has its Status, the Results
  /// reassembled; failed: the session ended before). Default: dropped.
  virtual void on_command_finished(const MgmtCommand& /*cmd*/) {}
};

/// Settings of the DPF's DM sessions.
struct DmServerConfig {
  std::string server_uri = "http://127.0.0.1/dm";  ///< our LocURI (SyncHdr Source)
  syncml::Encoding default_encoding = syncml::Encoding::Xml;  ///< until the device's choice is known
  std::uint64_t max_msg_size = 64 * 1024;  ///< our MaxMsgSize
  std::uint64_t max_obj_size = 4 * 1024 * 1024;
  unsigned max_messages = 200;             ///< a session longer than this is aborted
  std::string resp_uri;                    ///< RespURI to hand the device (pins the session), "" = none
  syncml::DecodeLimits decode_limits{};
  /// Until the device has authenticated, a message is refused before decoding above this many
  /// bytes, and decoded with at most unauthenticated_max_commands commands: whoever merely
  /// knows a DevId gets only bounded work (package 1 is an Alert, DevInfo and a few Generic
  /// Alerts). 0 = the decode_limits alone.
  std::size_t unauthenticated_max_bytes = 128 * 1024;
  std::size_t unauthenticated_max_commands = 512;
};

/// One reply to send back on the HTTP response.
struct DmReply {
  Bytes body;
  std::string content_type;
  std::optional<std::string> hmac_header;  ///< x-syncml-hmac value when HMAC is in use
  bool session_over = false;               ///< the device will not send another message
};

/// Where a server session stands.
enum class DmServerState { New, Running, Completed, Aborted };

/// What a server session did, for logs, metrics and tests.
struct DmServerReport {
  std::string dev_id;
  bool device_authenticated = false;
  bool server_authenticated = false;  ///< the device accepted our credentials
  unsigned messages = 0;
  unsigned jobs_delivered = 0;        ///< Exec accepted (202/200)
  unsigned jobs_failed = 0;
  unsigned alerts_recorded = 0;
  unsigned commands_completed = 0;    ///< generic management commands answered in full
  std::string abort_reason;
};

/// The DPF's DM session engine (see the file comment). Not thread-safe; one per session.
class DmServerSession {
 public:
  DmServerSession(DmBackend& backend, DmServerConfig config);
  ~DmServerSession();
  DmServerSession(const DmServerSession&) = delete;
  DmServerSession& operator=(const DmServerSession&) = delete;

  /// Handles one message from the device and returns the reply. Errors are returned only
  /// when no SyncML reply can be formed (undecodable first message); protocol errors after
  /// that are answered with Alert 1223 and end the session.
  Result<DmReply> handle(ByteView body, std::string_view content_type,
                         std::optional<std::string_view> hmac_header = std::nullopt);

  DmServerState state() const noexcept;
  const DmServerReport& report() const noexcept;
  /// The SessionID the device chose (empty before the first message).
  const std::string& session_id() const noexcept;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace m2mdm::server
