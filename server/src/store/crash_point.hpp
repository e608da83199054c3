// Internal: the store's crash-test hook (not part of the installed API).
#pragma once

#include <string_view>

namespace m2mdm::server {

/// For crash tests only: when the environment variable M2MDM_STORE_CRASH_AT names a point
/// ("upsert_devices.mid", "import_devices.before_commit", "record_result.after_result", "claim_next_job.mid",
/// "create_job.mid", "record_bootstrap.mid"), the store calls _exit(77) at that point inside the transaction.
void crash_point(std::string_view name) noexcept;

}  // namespace m2mdm::server
