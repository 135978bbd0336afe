#include "probe/probe_tls.hpp"

#include <sys/socket.h>

#include <cstdio>
#include <mutex>
#include <new>
#include <string_view>

#include <openssl/err.h>
#include <openssl/x509_vfy.h>

#include "base/openssl_compat.hpp"
#include "certs/pem.hpp"
#include "certs/x509.hpp"

namespace tls_audit {

Expected<SslCtxPtr> make_probe_context(std::optional<Protocol> only) {
    SslCtxPtr ctx(SSL_CTX_new(TLS_client_method()));
    if (!ctx) return make_error(sqlstate::kOutOfMemory, take_openssl_error("could not create SSL context"));
    // SSL_CTX_new applied the system openssl.cnf (system_default section);
    // everything that would hide what the server accepts is reset explicitly.
    SSL_CTX_set_security_level(ctx.get(), 0);
    SSL_CTX_clear_options(ctx.get(), SSL_OP_NO_SSL_MASK);
    // Old servers without renegotiation indication must still be describable.
    SSL_CTX_set_options(ctx.get(), SSL_OP_LEGACY_SERVER_CONNECT | SSL_OP_NO_TICKET);
    SSL_CTX_set_session_cache_mode(ctx.get(), SSL_SESS_CACHE_OFF);
    SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_NONE, nullptr);
    int min = only ? protocol_to_openssl(*only) : TLS1_VERSION;
    int max = only ? protocol_to_openssl(*only) : TLS1_3_VERSION;
    bool ok = SSL_CTX_set_min_proto_version(ctx.get(), min) == 1 &&
              SSL_CTX_set_max_proto_version(ctx.get(), max) == 1 &&
              SSL_CTX_set_cipher_list(ctx.get(), kProbeCipherList) == 1;
    ok = ok && SSL_CTX_set_ciphersuites(ctx.get(), openssl_compat::default_tls13_suites()) == 1;
    if (!ok)
        return make_error(sqlstate::kInternal,
                          "could not configure SSL context: " + take_openssl_error("unknown error"));
    return ctx;
}

namespace {

// Send what OpenSSL queued in its write BIO.
std::optional<Error> flush_output(int fd, BIO *wbio, const ProbeContext &pctx) {
    char *data = nullptr;
    long len = BIO_get_mem_data(wbio, &data);
    if (len <= 0) return std::nullopt;
    auto err = send_all(fd, reinterpret_cast<const unsigned char *>(data), static_cast<std::size_t>(len),
                        pctx, "handshaking");
    (void)BIO_reset(wbio);
    return err;
}

constexpr std::string_view kClosed = "server closed the connection during the TLS handshake";
constexpr std::string_view kNotTls = "server sent something that is not TLS during the TLS handshake";

Error closed_during_handshake() {
    return make_error(sqlstate::kConnectionFailure, std::string(kClosed));
}

Error handshake_failed(const std::string &why) {
    return make_error(sqlstate::kConnectionFailure, "TLS handshake failed: " + why);
}


Error not_tls(const unsigned char *data, std::size_t size) {
    std::string first;
    for (std::size_t i = 0; i < size && i < 8; ++i) {
        char buf[16];
        std::snprintf(buf, sizeof buf, "%s%02x", i ? " " : "", data[i]);
        first += buf;
    }
    std::string text;
    for (std::size_t i = 0; i < size && i < 16; ++i)
        text += (data[i] >= 0x20 && data[i] < 0x7f) ? static_cast<char>(data[i]) : '.';
    return make_error(sqlstate::kConnectionFailure,
                      std::string(kNotTls) + ": first bytes " + first + " (\"" + text + "\")", {},
                      "Check the port: after answering 'S' to SSLRequest a PostgreSQL server speaks TLS.");
}

}  // namespace

bool is_not_tls_answer(std::string_view message) {
    return message.substr(0, kClosed.size()) == kClosed || message.substr(0, kNotTls.size()) == kNotTls;
}

bool looks_like_tls_record(const unsigned char *data, std::size_t size) {
    if (size == 0) return false;
    if (data[0] < 20 || data[0] > 24) return false;
    return size < 2 || data[1] == 3;
}

Expected<SslPtr> tls_handshake(int fd, SSL_CTX *ctx, const std::string &sni, const ProbeContext &pctx) {
    SslPtr ssl = new_memory_client(ctx);
    if (!ssl) throw std::bad_alloc();
    BIO *rbio = SSL_get_rbio(ssl.get());
    BIO *wbio = SSL_get_wbio(ssl.get());
    if (!sni.empty() && !is_ip_literal(sni)) SSL_set_tlsext_host_name(ssl.get(), sni.c_str());

    ERR_clear_error();
    // The first bytes the server sent: a non-TLS answer is told apart from a
    // refusal (which comes as a TLS alert record).
    unsigned char first[8];
    std::size_t first_size = 0;
    for (;;) {
        if (pctx.canceled()) return canceled_error();
        int rc = SSL_do_handshake(ssl.get());
        int status = rc == 1 ? SSL_ERROR_NONE : SSL_get_error(ssl.get(), rc);
        bool failed = rc != 1 && status != SSL_ERROR_WANT_READ && status != SSL_ERROR_WANT_WRITE;
        std::string why = failed ? take_openssl_error("unknown error") : std::string();
        // Output first: the ClientHello, our Finished, or the alert that tells
        // the server why we give up.
        auto sent = flush_output(fd, wbio, pctx);
        if (failed) {
            if (first_size > 0 && !looks_like_tls_record(first, first_size)) return not_tls(first, first_size);
            return handshake_failed(why);
        }
        if (sent) return sent->message.rfind("server closed", 0) == 0 ? closed_during_handshake() : *sent;
        if (rc == 1) return ssl;
        if (status == SSL_ERROR_WANT_WRITE) continue;  // memory BIOs never block writes
        unsigned char buf[16384];
        auto n = recv_some(fd, buf, sizeof buf, pctx, "handshaking");
        // A reset (the server closed with our ClientHello unread) is a close.
        const bool reset = !n && n.error().message.rfind("connection reset by ", 0) == 0;
        if (!n && !reset) return n.error();
        if (reset || n.value() == 0) {
            if (first_size > 0 && !looks_like_tls_record(first, first_size)) return not_tls(first, first_size);
            return closed_during_handshake();
        }
        for (std::size_t i = 0; i < n.value() && first_size < sizeof first; ++i) first[first_size++] = buf[i];
        BIO_write(rbio, buf, static_cast<int>(n.value()));
    }
}

void tls_goodbye(int fd, SSL *ssl) {
    ERR_clear_error();
    if (SSL_is_init_finished(ssl) && SSL_shutdown(ssl) >= 0) {
        char *data = nullptr;
        long len = BIO_get_mem_data(SSL_get_wbio(ssl), &data);
        if (len > 0) (void)::send(fd, data, static_cast<std::size_t>(len), MSG_NOSIGNAL | MSG_DONTWAIT);
    }
    ERR_clear_error();
}

namespace {

// The system store is parsed once per process (Debian's bundle takes tens of
// milliseconds) and shared: X509_STORE is reference counted and thread-safe
// for verification.
Expected<X509StorePtr> system_store() {
    static std::mutex mu;
    static X509StorePtr cached;
    std::lock_guard<std::mutex> lock(mu);
    if (!cached) {
        X509StorePtr store(X509_STORE_new());
        if (!store) throw std::bad_alloc();
        ERR_clear_error();
        if (X509_STORE_set_default_paths(store.get()) != 1)
            return make_error(sqlstate::kIoError,
                              "could not load the system CA store: " + take_openssl_error("unknown error"));
        cached = std::move(store);
    }
    X509_STORE_up_ref(cached.get());
    return X509StorePtr(cached.get());
}

}  // namespace

Expected<X509StorePtr> load_trust_store(const std::string &ca_file) {
    if (ca_file.empty()) return system_store();
    X509StorePtr store(X509_STORE_new());
    if (!store) throw std::bad_alloc();
    ERR_clear_error();
    if (auto why = load_pem_file_into_store(store.get(), ca_file, kMaxCertificateInput); !why.empty())
        return make_error(sqlstate::kInvalidParameter, "could not load CA file \"" + ca_file + "\": " + why,
                          "Pass a readable PEM file of CA certificates.");
    return store;
}

PeerVerification verify_peer(SSL *ssl, X509_STORE *store, const std::string &name) {
    PeerVerification v;
    // On the client side the peer chain starts with the leaf.
    STACK_OF(X509) *chain = SSL_get_peer_cert_chain(ssl);
    X509 *leaf = chain != nullptr && sk_X509_num(chain) > 0 ? sk_X509_value(chain, 0) : nullptr;
    if (leaf == nullptr) {
        v.verify_error = "server presented no certificate";
        return v;
    }
    X509StoreCtxPtr ctx(X509_STORE_CTX_new());
    if (!ctx) throw std::bad_alloc();
    if (X509_STORE_CTX_init(ctx.get(), store, leaf, chain) != 1 ||
        X509_STORE_CTX_set_default(ctx.get(), "ssl_server") != 1) {
        v.verify_error = take_openssl_error("could not set up verification");
        return v;
    }
    v.verified = X509_verify_cert(ctx.get()) == 1;
    if (!v.verified) v.verify_error = X509_verify_cert_error_string(X509_STORE_CTX_get_error(ctx.get()));
    if (!name.empty()) {
        v.hostname_match = is_ip_literal(name)
                               ? X509_check_ip_asc(leaf, name.c_str(), 0) == 1
                               : X509_check_host(leaf, name.data(), name.size(), 0, nullptr) == 1;
    }
    ERR_clear_error();
    return v;
}

}  // namespace tls_audit
