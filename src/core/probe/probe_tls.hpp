// The TLS half of a probe: client contexts, a handshake driven over any
// connected socket, and verification of what the server presented.
#pragma once

#include "base/pure_cpp.hpp"

#include <optional>
#include <string>
#include <string_view>

#include <openssl/ssl.h>

#include "base/error.hpp"
#include "base/openssl_ptr.hpp"
#include "probe/probe_io.hpp"
#include "base/protocol.hpp"

TLS_AUDIT_AREA(probe);

namespace tls_audit {

// Cipher list for probes: everything OpenSSL has, including what its default
// security level would refuse, so that the probe sees what the server accepts.
inline constexpr const char *kProbeCipherList = "ALL:@SECLEVEL=0";

// A client context that never verifies during the handshake (verification is
// done afterwards, so an unknown CA still yields the chain) and accepts weak
// parameters. `only` pins min = max to one version; nullopt allows TLSv1 to
// TLSv1.3 and lets the server choose.
Expected<SslCtxPtr> make_probe_context(std::optional<Protocol> only);

// The TLS handshake over `fd` (after 'S'). `sni` may be empty. The SSL object
// reads and writes through memory BIOs and this code does the socket I/O, so
// the deadline and the cancel check apply to every wait and no write can raise
// SIGPIPE. Timeouts and cancel give the usual errors; a refused handshake
// gives 08006 "TLS handshake failed: <reason>".
Expected<SslPtr> tls_handshake(int fd, SSL_CTX *ctx, const std::string &sni, const ProbeContext &pctx);

// The errors of tls_handshake() that say the peer is not a TLS server at all
// rather than that it refused this handshake: it closed the connection
// without a TLS record ("server closed the connection during the TLS
// handshake"), or its first bytes are not a TLS record ("server sent
// something that is not TLS during the TLS handshake: ..."). A server that
// refuses a version answers with a TLS alert instead.
bool is_not_tls_answer(std::string_view message);

// Do the first bytes a server sent after 'S' start a TLS record (content
// type 20..24, major version 3)? Fewer than two bytes: only the type is judged.
bool looks_like_tls_record(const unsigned char *data, std::size_t size);

// The CA certificates to verify against: `ca_file` (PEM) or, when empty, the
// system default store. An unreadable file gives 22023.
Expected<X509StorePtr> load_trust_store(const std::string &ca_file);

struct PeerVerification {
    bool verified = false;
    std::string verify_error;  // empty when verified
    bool hostname_match = false;
};

// Verify the chain the server presented against `store` for TLS server use,
// and whether the leaf matches `name` (DNS name or IP literal).
PeerVerification verify_peer(SSL *ssl, X509_STORE *store, const std::string &name);

// Send close_notify without waiting for anything; politeness only.
void tls_goodbye(int fd, SSL *ssl);

}  // namespace tls_audit
