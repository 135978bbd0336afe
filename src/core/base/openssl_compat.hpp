// Every difference between the OpenSSL releases the core is built with, in
// one place: call sites use these names and test no version themselves.
// Debian 12 ships OpenSSL 3.0 and Debian 13 OpenSSL 3.5; 1.1.1 is the oldest
// the build accepts (CMakeLists.txt), so each block says what 3.0 changed.
#pragma once

#include "base/pure_cpp.hpp"

#include <openssl/opensslv.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>

TLS_AUDIT_AREA(base);

namespace tls_audit::openssl_compat {

// 3.0 added SSL_get_negotiated_group(); before it the group of a session
// cannot be read (0 = unknown).
inline int negotiated_group(SSL *ssl) noexcept {
#if OPENSSL_VERSION_NUMBER >= 0x30000000L
    return SSL_get_negotiated_group(ssl);
#else
    (void)ssl;
    return 0;
#endif
}

// 3.0 renamed SSL_get_peer_certificate() to SSL_get1_peer_certificate()
// (the same reference-counted result, the old name deprecated).
inline X509 *get1_peer_certificate(const SSL *ssl) noexcept {
#if OPENSSL_VERSION_NUMBER >= 0x30000000L
    return SSL_get1_peer_certificate(ssl);
#else
    return SSL_get_peer_certificate(ssl);
#endif
}

// 3.0 added X509_self_signed(), which also verifies the signature.
inline bool self_signed(X509 *cert) noexcept {
#if OPENSSL_VERSION_NUMBER >= 0x30000000L
    return X509_self_signed(cert, 1) == 1;
#else
    return X509_check_issued(cert, cert) == X509_V_OK && X509_verify(cert, X509_get0_pubkey(cert)) == 1;
#endif
}

// OpenSSL's default TLS 1.3 suites: a function since 3.0, a macro before.
inline const char *default_tls13_suites() noexcept {
#if OPENSSL_VERSION_NUMBER >= 0x30000000L
    return OSSL_default_ciphersuites();
#else
    return TLS_DEFAULT_CIPHERSUITES;
#endif
}

// Loads a PEM file of certificates (and CRLs) into a store: 3.0 added
// X509_STORE_load_file(); before it, X509_STORE_load_locations() with no
// directory does the same. 1 on success, as OpenSSL returns it.
inline int store_load_file(X509_STORE *store, const char *path) noexcept {
#if OPENSSL_VERSION_NUMBER >= 0x30000000L
    return X509_STORE_load_file(store, path);
#else
    return X509_STORE_load_locations(store, path, nullptr);
#endif
}

}  // namespace tls_audit::openssl_compat
