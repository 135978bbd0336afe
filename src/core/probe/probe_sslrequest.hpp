// PostgreSQL's SSLRequest exchange: the 8 bytes a client sends before TLS and
// what the server's answer means. The parsing half is pure (bytes in, Error
// out) so it can be unit-tested and fuzzed without sockets.
#pragma once

#include "base/pure_cpp.hpp"

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "base/error.hpp"
#include "probe/probe_io.hpp"

TLS_AUDIT_AREA(probe);

namespace tls_audit {

// int32 length 8, int32 request code 80877103 (1234 << 16 | 5679), big-endian.
inline constexpr unsigned char kSslRequest[8] = {0x00, 0x00, 0x00, 0x08, 0x04, 0xd2, 0x16, 0x2f};

// Largest ErrorResponse body read after an 'E' answer, to quote its message.
inline constexpr std::size_t kMaxErrorResponse = 8192;

// Why the first answer byte `reply` is not 'S' ('N', 'E' or anything else).
// For 'E', `error_body` is what followed (the rest of an ErrorResponse), if any.
// `where` is "host:port" for the message.
Error ssl_refusal_error(unsigned char reply, std::string_view error_body, const std::string &where);

// The 'M' (message) field of an ErrorResponse, starting at its int32 length;
// empty when the bytes are not a well-formed ErrorResponse. The text is made
// printable (other bytes become '?') and cut at 200 characters.
std::string error_response_message(std::string_view response);

// Send SSLRequest on a connected socket and read exactly one answer byte, so
// that nothing the server sends later is read as cleartext. Success means the
// server answered 'S' and the TLS handshake may start.
std::optional<Error> negotiate_ssl_request(int fd, const ProbeContext &ctx);

}  // namespace tls_audit
