// Every difference between the OpenSSL releases the core is built with, in
// one place: call sites use these names and test no version themselves.
// Debian 12 ships OpenSSL 3.0 and Debian 13 OpenSSL 3.5; 1.1.1 is the oldest
// the build accepts (CMakeLists.txt), so each block says what 3.0 changed.
#pragma once

#include "base/pure_cpp.hpp"

#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
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

// The NID of an elliptic-curve key's named curve (NID_undef for any other
// key): 3.0 reads it as a parameter, before it through the EC_KEY (which 3.0
// deprecates).
inline int ec_curve_nid(EVP_PKEY *key) noexcept {
    if (key == nullptr || EVP_PKEY_base_id(key) != EVP_PKEY_EC) return NID_undef;
#if OPENSSL_VERSION_NUMBER >= 0x30000000L
    char name[80];
    size_t len = 0;
    if (EVP_PKEY_get_group_name(key, name, sizeof name, &len) != 1) return NID_undef;
    return OBJ_txt2nid(name);
#else
    const EC_KEY *ec = EVP_PKEY_get0_EC_KEY(key);
    const EC_GROUP *group = ec != nullptr ? EC_KEY_get0_group(ec) : nullptr;
    return group != nullptr ? EC_GROUP_get_curve_name(group) : NID_undef;
#endif
}

// Whether the running OpenSSL (with its loaded providers) can offer the
// key-exchange group `name` (OpenSSL's name, e.g. "X25519MLKEM768", which
// 3.5 added): a runtime test, because a provider may add groups a version
// number does not tell.
inline bool group_available(const char *name) noexcept {
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    if (ctx == nullptr) return false;
    const bool ok = SSL_CTX_set1_groups_list(ctx, name) == 1;
    SSL_CTX_free(ctx);
    ERR_clear_error();
    return ok;
}

// The running library's version, "OpenSSL 3.0.17" (without the date).
inline const char *version_text() noexcept { return OpenSSL_version(OPENSSL_VERSION); }

}  // namespace tls_audit::openssl_compat
