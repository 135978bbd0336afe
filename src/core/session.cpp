#include "session.hpp"

#include <openssl/err.h>

namespace tls_audit {

std::string group_name(SSL *ssl) {
#if OPENSSL_VERSION_NUMBER >= 0x30000000L
    int nid = SSL_get_negotiated_group(ssl);
    if (nid == 0 || nid == NID_undef) return {};
    // OpenSSL 3 returns a NID, or TLSEXT_nid_unknown | group-id for groups it has no NID for.
    if ((nid & TLSEXT_nid_unknown) != 0) return "0x" + std::to_string(nid & 0xffff);
    const char *name = SSL_group_to_name(ssl, nid);
    if (name == nullptr) name = OBJ_nid2sn(nid);
    return name != nullptr ? name : std::string();
#else
    (void)ssl;
    return {};
#endif
}

SessionTls describe_session(SSL *ssl, SessionDetail detail) {
    const bool full = detail == SessionDetail::kFull;
    SessionTls s;
    s.protocol = SSL_get_version(ssl);
    const SSL_CIPHER *cipher = SSL_get_current_cipher(ssl);
    if (cipher != nullptr) {
        s.cipher = SSL_CIPHER_get_name(cipher);
        s.bits = SSL_CIPHER_get_bits(cipher, nullptr);
    }
    if (const char *sni = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name)) s.sni = sni;
    s.key_exchange_group = group_name(ssl);
    s.session_reused = SSL_session_reused(ssl) == 1;
#if OPENSSL_VERSION_NUMBER >= 0x30000000L
    X509Ptr peer(SSL_get1_peer_certificate(ssl));
#else
    X509Ptr peer(SSL_get_peer_certificate(ssl));
#endif
    if (peer) s.client = full ? describe_certificate(peer.get()) : describe_certificate_brief(peer.get());
    if (X509 *own = SSL_get_certificate(ssl); own != nullptr && full) s.server_cert_sha256 = sha256_hex(own);
    ERR_clear_error();
    return s;
}

}  // namespace tls_audit
