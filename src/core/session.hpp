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

// Read the details of a handshaken connection. `ssl` must be non-null.
SessionTls describe_session(SSL *ssl);

// Name of a negotiated key-exchange group (OpenSSL NID or TLS group id).
std::string group_name(SSL *ssl);

}  // namespace tls_audit
