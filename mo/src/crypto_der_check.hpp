// Internal: strict structural checks of the CMS envelopes, on the DER bytes, for the fields
// OpenSSL parses but does not authenticate or enforce (versions, content types, GCM parameters).
#pragma once

#include "m2mdm/mo/error.hpp"
#include "m2mdm/syncml/encoding.hpp"

namespace m2mdm::mo::detail {

/// RFC 5083 AuthEnvelopedData: version 0; KeyAgreeRecipientInfo version 3, KeyTransRecipientInfo
/// version 0 or 2; authEncryptedContentInfo content type id-data, algorithm id-aes256-GCM with a
/// 12-byte nonce and a 16-byte ICV (RFC 5084 §3.2); a 16-byte mac; definite lengths, nothing
/// trailing. Returns errc::ok, seal_malformed or seal_unsupported_algorithm.
errc check_auth_enveloped_der(ByteView der) noexcept;

/// RFC 5652 SignedData with one SignerInfo: SignedData version 1 with SignerInfo version 1
/// (issuerAndSerialNumber), or 3 with 3 (subjectKeyIdentifier). Returns errc::ok or seal_malformed.
errc check_signed_data_der(ByteView der) noexcept;

}  // namespace m2mdm::mo::detail
