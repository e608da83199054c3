/// @file common_errc.hpp
/// @brief The error codes every component's errc above syncml begins with (m2mdm::mo::errc,
///        m2mdm::bootstrap::errc, m2mdm::client::errc, m2mdm::server::errc): the same names,
///        values, meanings and messages in each.
#pragma once

/// The first enumerators of a component's errc, written once:
/// - `ok = 0`: success ("success")
/// - `invalid_argument = 1`: a caller passed a value outside the documented domain ("invalid argument")
/// - `malformed = 2`: input bytes do not parse ("malformed input")
/// - `not_found = 3`: the named thing does not exist ("not found")
/// - `io_error = 4`: the storage or transport adapter failed ("I/O error")
///
/// Values are stable (they appear in logs). Use: `enum class errc { M2MDM_COMMON_ERRC_ENUMERATORS, ... };`
#define M2MDM_COMMON_ERRC_ENUMERATORS ok = 0, invalid_argument = 1, malformed = 2, not_found = 3, io_error = 4
