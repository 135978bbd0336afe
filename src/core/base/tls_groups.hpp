// The key-exchange groups a TLS server offers, read from its OpenSSL context
// rather than from the setting's text: OpenSSL resolves aliases (prime256v1
// is secp256r1), drops names it cannot offer and keeps its own order, and the
// hybrid post-quantum groups (X25519MLKEM768, OpenSSL 3.5) exist only when the
// linked library and its providers have them.
#pragma once

#include "base/pure_cpp.hpp"

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include <openssl/ssl.h>

#include "base/error.hpp"

TLS_AUDIT_AREA(base);

namespace tls_audit {

// The groups the context `ctx` offers, by OpenSSL's names ("x25519",
// "secp256r1", "X25519MLKEM768"), in its order; a group OpenSSL cannot name
// is "0x11ec". OpenSSL has no call that lists a context's own groups
// (SSL_get1_groups() gives the peer's), so a connection object of the context
// starts a handshake as a client into memory, and the supported_groups
// extension of that ClientHello is read: the context's list as OpenSSL
// applies it. Nothing is sent anywhere; no server callback runs. A server
// context made with TLS_method() (PostgreSQL's) can do this. Empty when
// nothing could be read.
std::vector<std::string> offered_groups(SSL_CTX *ctx);

// The group ids of the supported_groups extension of a TLS record holding a
// ClientHello; empty when the bytes are not one (bounds checked throughout).
std::vector<std::uint16_t> client_hello_groups(const unsigned char *data, std::size_t len);

// The groups a server context built from PostgreSQL's group setting offers,
// built as PostgreSQL builds its own: 18's ssl_groups is a list
// (SSL_CTX_set1_groups_list), up to 17 ssl_ecdh_curve names one curve. An
// empty value leaves OpenSSL's default. A value OpenSSL refuses is an error
// (the server itself would not have started with it).
Expected<std::vector<std::string>> offered_groups_for_setting(const std::string &value, bool is_list);

// The hybrid post-quantum groups (ML-KEM with a classic group) this
// process's OpenSSL can offer, a runtime test; empty before OpenSSL 3.5.
std::vector<std::string> available_hybrid_groups();

}  // namespace tls_audit
