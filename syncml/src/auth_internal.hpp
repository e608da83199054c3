// Private helpers shared by auth.cpp and notification.cpp (not installed).
#pragma once

#include "m2mdm/syncml/auth.hpp"

#include <initializer_list>
#include <string_view>

namespace m2mdm::syncml::auth_detail {

/// MD5 over the concatenation of @p parts (EVP, one context).
Result<Md5Digest> md5_parts(std::initializer_list<ByteView> parts);

/// H(key ":" nonce ":" B64(H(body))) — the syncml:auth-MAC digest (DM_Security 1.2 §5.1.4.2),
/// also the package 0 digest with key = B64(H(server-id ":" password)) and body = trigger
/// (DM_Notification 1.2 §6.2.2.2).
Result<Md5Digest> mac_digest(std::string_view user_key_b64, ByteView nonce, ByteView body);

/// ASCII case-insensitive equality.
bool iequals(std::string_view a, std::string_view b) noexcept;

}  // namespace m2mdm::syncml::auth_detail
