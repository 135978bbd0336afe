#include "sessions/session.hpp"
#include "base/hot_path.hpp"

#include <cstdio>

#include <openssl/err.h>

#include "base/openssl_compat.hpp"
#include "base/openssl_ptr.hpp"

namespace tls_audit {

namespace {

TLS_AUDIT_HOT std::string_view view(const char *s) noexcept { return s != nullptr ? std::string_view(s) : std::string_view(); }

// The group's name: OpenSSL's static string, or "0x..." written to `buffer`.
TLS_AUDIT_HOT std::string_view group_name_view(SSL *ssl, GroupNameBuffer &buffer) noexcept {
    const int nid = openssl_compat::negotiated_group(ssl);
    if (nid == 0 || nid == NID_undef) return {};
    // OpenSSL 3 returns a NID, or TLSEXT_nid_unknown | group-id for groups it has no NID for.
    if ((nid & TLSEXT_nid_unknown) != 0) {
        std::snprintf(buffer, sizeof buffer, "0x%04x", static_cast<unsigned>(nid & 0xffff));
        return buffer;
    }
    const char *name = SSL_group_to_name(ssl, nid);
    if (name == nullptr) name = OBJ_nid2sn(nid);
    return view(name);
}

}  // namespace

TLS_AUDIT_HOT std::string_view alpn_selected(const SSL *ssl) noexcept {
    const unsigned char *data = nullptr;
    unsigned int len = 0;
    SSL_get0_alpn_selected(ssl, &data, &len);
    if (data == nullptr || len == 0) return {};
    return std::string_view(reinterpret_cast<const char *>(data), len);
}

TLS_AUDIT_HOT SessionTlsView view_session(SSL *ssl, GroupNameBuffer &group_buffer) noexcept {
    SessionTlsView v;
    v.protocol = view(SSL_get_version(ssl));
    if (const SSL_CIPHER *cipher = SSL_get_current_cipher(ssl); cipher != nullptr) {
        v.cipher = view(SSL_CIPHER_get_name(cipher));
        v.bits = SSL_CIPHER_get_bits(cipher, nullptr);
    }
    v.sni = view(SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name));
    v.key_exchange_group = group_name_view(ssl, group_buffer);
    v.alpn = alpn_selected(ssl);
    return v;
}

namespace {

TLS_AUDIT_HOT X509Ptr peer_certificate(SSL *ssl) {
    return X509Ptr(openssl_compat::get1_peer_certificate(ssl));
}

}  // namespace

TLS_AUDIT_HOT std::optional<CertInfo> client_certificate_brief(SSL *ssl) {
    X509Ptr peer = peer_certificate(ssl);
    if (!peer) return std::nullopt;
    CertInfo info = describe_certificate_brief(peer.get());
    ERR_clear_error();
    return info;
}

std::string group_name(SSL *ssl) {
    GroupNameBuffer buffer;
    return std::string(group_name_view(ssl, buffer));
}

SessionTls describe_session(SSL *ssl) {
    GroupNameBuffer group;
    const SessionTlsView v = view_session(ssl, group);
    SessionTls s;
    s.protocol = v.protocol;
    s.cipher = v.cipher;
    s.bits = v.bits;
    s.sni = v.sni;
    s.key_exchange_group = v.key_exchange_group;
    s.alpn = v.alpn;
    s.session_reused = SSL_session_reused(ssl) == 1;
    if (X509Ptr peer = peer_certificate(ssl)) s.client = describe_certificate(peer.get());
    if (X509 *own = SSL_get_certificate(ssl); own != nullptr) s.server_cert_sha256 = sha256_hex(own);
    ERR_clear_error();
    return s;
}

}  // namespace tls_audit
