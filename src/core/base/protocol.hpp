// TLS protocol versions: names, ordering and the floor comparison.
#pragma once

#include "base/pure_cpp.hpp"

#include <optional>
#include <string>
#include <string_view>

TLS_AUDIT_AREA(base);

namespace tls_audit {

// Ordered oldest to newest, so that comparisons mean "older than".
enum class Protocol { SSLv3 = 0, TLSv1 = 1, TLSv1_1 = 2, TLSv1_2 = 3, TLSv1_3 = 4 };

// The names PostgreSQL and OpenSSL use ("TLSv1", "TLSv1.1", ...).
const char *protocol_name(Protocol p);

// Parse a protocol name; exact, case-insensitive match of the names above.
std::optional<Protocol> parse_protocol(std::string_view name);

// From OpenSSL's version number (TLS1_2_VERSION, ...).
std::optional<Protocol> protocol_from_openssl(int version);
int protocol_to_openssl(Protocol p);

// The valid floor names, for error messages: "TLSv1, TLSv1.1, TLSv1.2, TLSv1.3".
const char *valid_floor_names();

// What carries a connection, as sessions and the census name it.
struct TransportFacts {
    bool unix_socket = false;    // a unix-domain socket
    bool inet = false;           // a TCP address (IPv4 or IPv6)
    bool tls = false;            // TLS in use
    bool gss_encrypted = false;  // GSSAPI encryption in use
};

// The one transport vocabulary of sessions and the census: "unix", "tls",
// "gss" (GSSAPI encryption, no TLS), "tcp" (TCP without encryption), or
// nullptr when the address is unknown. Never allocates (connection hooks).
const char *transport_name(const TransportFacts &facts) noexcept;

// Why a session is below the floor, or nullopt when it is not.
// `transport` is a transport_name(); `protocol` the negotiated name for tls.
// Everything but unix and tls is "no TLS".
std::optional<std::string> below_floor_reason(std::string_view transport, std::string_view protocol,
                                              Protocol floor);

}  // namespace tls_audit
