// What a live TLS connection (a server-side SSL*) says about itself.
#pragma once

#include "base/pure_cpp.hpp"

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include <openssl/ssl.h>

#include "certs/x509.hpp"

TLS_AUDIT_AREA(sessions);

namespace tls_audit {

// The connection-level facts of a session as views: into OpenSSL's own
// strings, which live as long as the SSL object, or into a caller's buffer.
// Reading them allocates nothing, which is what the connection hook needs: a
// fresh backend's first heap allocation through libstdc++ costs lazy symbol
// bindings and page faults on every connection.
struct SessionTlsView {
    std::string_view protocol;            // "TLSv1.3"
    std::string_view cipher;              // OpenSSL name, e.g. TLS_AES_256_GCM_SHA384
    int bits = 0;                         // symmetric key bits of the cipher
    std::string_view sni;                 // server name the client asked for; empty when none
    std::string_view key_exchange_group;  // e.g. x25519, secp256r1; empty when unknown
    std::string_view alpn;                // ALPN protocol the server selected ("postgresql"); empty when none
};

// The ALPN protocol selected in the handshake: "postgresql" when the client
// offered it and the server (PostgreSQL 17+) accepted it; empty otherwise
// (a 15 server selects none). A view into OpenSSL's own buffer.
std::string_view alpn_selected(const SSL *ssl) noexcept;

// Room for a group name that OpenSSL has no name for ("0x" and four hex digits).
using GroupNameBuffer = char[16];

// The connection-level facts of a handshaken connection (`ssl` non-null).
// `group_buffer` must outlive the result. Never allocates or throws.
SessionTlsView view_session(SSL *ssl, GroupNameBuffer &group_buffer) noexcept;

// The client's certificate without the costly parts (sha256, san and
// self_signed left at their defaults); nullopt when the client sent none.
// Allocates only when there is a certificate.
std::optional<CertInfo> client_certificate_brief(SSL *ssl);

struct SessionTls {
    std::string protocol;  // "TLSv1.3"
    std::string cipher;    // OpenSSL name, e.g. TLS_AES_256_GCM_SHA384
    int bits = 0;          // symmetric key bits of the cipher
    std::string sni;       // server name the client asked for; empty when none
    std::string key_exchange_group;  // e.g. x25519, secp256r1; empty when unknown
    std::string alpn;                // ALPN protocol selected; empty when none
    bool session_reused = false;
    std::optional<CertInfo> client;  // the client's certificate, when it sent one
    std::string server_cert_sha256;  // fingerprint of the certificate this server presented
};

// Read every detail of a handshaken connection. `ssl` must be non-null.
SessionTls describe_session(SSL *ssl);

// Name of a negotiated key-exchange group (OpenSSL NID or TLS group id).
std::string group_name(SSL *ssl);

}  // namespace tls_audit
