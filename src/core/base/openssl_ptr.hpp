// unique_ptr aliases that free OpenSSL objects with their own free functions.
#pragma once

#include "base/pure_cpp.hpp"

#include <memory>
#include <string>

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

TLS_AUDIT_AREA(base);

namespace tls_audit {

template <class T, void (*Free)(T *)> struct OpenSslDeleter {
    void operator()(T *p) const noexcept { Free(p); }
};

using BioPtr = std::unique_ptr<BIO, OpenSslDeleter<BIO, BIO_free_all>>;
using X509Ptr = std::unique_ptr<X509, OpenSslDeleter<X509, X509_free>>;
using X509CrlPtr = std::unique_ptr<X509_CRL, OpenSslDeleter<X509_CRL, X509_CRL_free>>;
using EvpPkeyPtr = std::unique_ptr<EVP_PKEY, OpenSslDeleter<EVP_PKEY, EVP_PKEY_free>>;
using SslCtxPtr = std::unique_ptr<SSL_CTX, OpenSslDeleter<SSL_CTX, SSL_CTX_free>>;
using SslPtr = std::unique_ptr<SSL, OpenSslDeleter<SSL, SSL_free>>;
using X509StorePtr = std::unique_ptr<X509_STORE, OpenSslDeleter<X509_STORE, X509_STORE_free>>;
using X509StoreCtxPtr =
    std::unique_ptr<X509_STORE_CTX, OpenSslDeleter<X509_STORE_CTX, X509_STORE_CTX_free>>;

inline void free_general_names(GENERAL_NAMES *names) { GENERAL_NAMES_free(names); }
using GeneralNamesPtr =
    std::unique_ptr<GENERAL_NAMES, OpenSslDeleter<GENERAL_NAMES, free_general_names>>;

inline void free_openssl_string(char *p) { OPENSSL_free(p); }
// A string allocated by OpenSSL (BN_bn2hex, PEM names, ...).
using OpenSslString = std::unique_ptr<char, OpenSslDeleter<char, free_openssl_string>>;

// Take ownership of a new reference to an X509 owned elsewhere.
inline X509Ptr share(X509 *cert) {
    if (cert != nullptr) X509_up_ref(cert);
    return X509Ptr(cert);
}

// A client-side SSL over two memory BIOs it owns (read: SSL_get_rbio, write:
// SSL_get_wbio): the caller moves the bytes between them and a socket, or
// only looks at what was written. An empty read BIO means "wait for more",
// not end of stream. Null when OpenSSL cannot allocate.
inline SslPtr new_memory_client(SSL_CTX *ctx) {
    SslPtr ssl(SSL_new(ctx));
    BIO *rbio = BIO_new(BIO_s_mem());
    BIO *wbio = BIO_new(BIO_s_mem());
    if (!ssl || rbio == nullptr || wbio == nullptr) {
        BIO_free(rbio);
        BIO_free(wbio);
        return nullptr;
    }
    BIO_set_mem_eof_return(rbio, -1);
    SSL_set_bio(ssl.get(), rbio, wbio);  // ssl owns both now
    SSL_set_connect_state(ssl.get());
    return ssl;
}

// The text of OpenSSL's most recent error on this thread (and clear the queue),
// or `fallback` when the queue is empty.
std::string take_openssl_error(const char *fallback);

}  // namespace tls_audit
