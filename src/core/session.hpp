// What a live TLS connection (a server-side SSL*) says about itself.
#pragma once

#include <optional>
#include <string>

#include <openssl/ssl.h>

#include "x509.hpp"

namespace tls_audit {

struct SessionTls {
    std::string protocol;  // "TLSv1.3"
    std::string cipher;    // OpenSSL name, e.g. TLS_AES_256_GCM_SHA384
    int bits = 0;          // symmetric key bits of the cipher
    std::string sni;       // server name the client asked for; empty when none
    std::string key_exchange_group;  // e.g. x25519, secp256r1; empty when unknown
    bool session_reused = false;
    std::optional<CertInfo> client;  // the client's certificate, when it sent one
    std::string server_cert_sha256;  // fingerprint of the certificate this server presented
};

// How much describe_session() works out. The connection hook needs no
// fingerprints, SANs or self-signature check (a public-key verification), so
// it asks for kForRegistry and keeps the per-connection cost low.
enum class SessionDetail { kFull, kForRegistry };

// Read the details of a handshaken connection. `ssl` must be non-null.
// With kForRegistry, server_cert_sha256 is empty and the client certificate's
// sha256, san and self_signed are left at their defaults.
SessionTls describe_session(SSL *ssl, SessionDetail detail = SessionDetail::kFull);

// Name of a negotiated key-exchange group (OpenSSL NID or TLS group id).
std::string group_name(SSL *ssl);

}  // namespace tls_audit
