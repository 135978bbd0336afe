// The TLS facts of one pgbouncer connection, read from the `tls` column of
// its admin console's SHOW CLIENTS / SHOW SERVERS.
//
// pgbouncer (1.18 through 1.25, libusual's tls_get_connection_info) writes
//   PROTOCOL/CIPHER[/ECDH=CURVE | /DH=BITS | /DH=?][/OCSP=RESULT]
// e.g. "TLSv1.3/TLS_AES_256_GCM_SHA384/ECDH=X25519", and an empty string
// for a plaintext connection; "-/-" for a TLS connection whose handshake has
// not finished. CIPHER is OpenSSL's name (as tls_audit.sessions shows it);
// CURVE is OpenSSL's short object name (X25519, prime256v1), which is turned
// into the name tls_audit.sessions uses for the same group (x25519,
// secp256r1). From 1.25 on, pgbouncer prints the first TLS 1.3 suite of its
// own list for a TLS 1.3 connection, not necessarily the negotiated one.
#pragma once

#include "base/pure_cpp.hpp"

#include <optional>
#include <string>
#include <string_view>

#include "base/error.hpp"

TLS_AUDIT_AREA(pooler);

namespace tls_audit {

struct PoolerTls {
    std::string protocol;            // "TLSv1.3"; empty while the handshake is unfinished ("-")
    std::string cipher;              // OpenSSL name; empty while the handshake is unfinished
    std::string key_exchange_group;  // tls_audit.sessions' name (x25519, secp256r1, DH-2048); empty when not shown
    std::string ocsp;                // the OCSP result pgbouncer recorded; empty when none
};

// nullopt for a plaintext connection (the column is empty); an Error for a
// value that is not pgbouncer's format (never guessed at). The value is
// shown in the error only up to 64 printable characters.
Expected<std::optional<PoolerTls>> parse_pooler_tls(std::string_view column);

// OpenSSL's short name of an elliptic curve as pgbouncer prints it, as the
// TLS group name OpenSSL's SSL_group_to_name gives (what tls_audit.sessions
// shows): X25519 -> x25519, prime256v1 -> secp256r1; other names unchanged.
std::string group_from_curve_name(std::string_view curve);

}  // namespace tls_audit
