#include "certs/trust_paths.hpp"

#include <new>

#include <openssl/err.h>
#include <openssl/x509_vfy.h>

#include "certs/pem.hpp"

#include "certs/x509.hpp"

namespace tls_audit {

namespace {

using X509StackPtr = std::unique_ptr<STACK_OF(X509), void (*)(STACK_OF(X509) *)>;

void free_stack_only(STACK_OF(X509) *s) { sk_X509_free(s); }

std::string openssl_error_text() {
    unsigned long e = ERR_peek_last_error();
    std::string out = "unknown error";
    if (e != 0) {
        char buf[256];
        ERR_error_string_n(e, buf, sizeof buf);
        out = buf;
    }
    ERR_clear_error();
    return out;
}

}  // namespace

Expected<TrustBundle> load_trust_bundle(const std::string &ca_file) {
    auto bad = [&ca_file](const std::string &why) {
        return make_error(sqlstate::kInvalidParameter, "could not load CA file \"" + ca_file + "\": " + why,
                          "Pass a readable PEM file of CA certificates.");
    };
    if (ca_file.empty()) return bad("the name is empty");
    if (ca_file.find('\0') != std::string::npos) return bad("the name contains a NUL byte");
    X509StorePtr store(X509_STORE_new());
    if (!store) throw std::bad_alloc();
    ERR_clear_error();
    if (auto why = load_pem_file_into_store(store.get(), ca_file, kMaxCertificateInput); !why.empty())
        return bad(why);
    bool any_cert = false;
    STACK_OF(X509_OBJECT) *objects = X509_STORE_get0_objects(store.get());
    for (int i = 0; i < sk_X509_OBJECT_num(objects); ++i)
        any_cert = any_cert || X509_OBJECT_get_type(sk_X509_OBJECT_value(objects, i)) == X509_LU_X509;
    if (!any_cert) return bad("it holds no certificate");
    ERR_clear_error();
    return TrustBundle{ca_file, std::move(store)};
}

Expected<std::vector<TrustBundle>> load_trust_bundles(const std::vector<std::string> &ca_files) {
    if (ca_files.size() > kMaxTrustBundles)
        return make_error(sqlstate::kProgramLimit,
                          "too many CA bundles (" + std::to_string(ca_files.size()) + ", at most " +
                              std::to_string(kMaxTrustBundles) + ")");
    std::vector<TrustBundle> out;
    for (const auto &f : ca_files) {
        auto b = load_trust_bundle(f);
        if (!b) return b.error();
        out.push_back(std::move(b).value());
    }
    return out;
}

TrustPathReport verify_trust_path(const std::vector<X509 *> &presented, const TrustBundle &bundle) {
    TrustPathReport r;
    r.bundle = bundle.name;
    if (presented.empty() || presented[0] == nullptr) {
        r.error = "server presented no certificate";
        return r;
    }
    X509StackPtr untrusted(sk_X509_new_null(), free_stack_only);
    if (!untrusted) throw std::bad_alloc();
    for (std::size_t i = 1; i < presented.size(); ++i)
        if (sk_X509_push(untrusted.get(), presented[i]) <= 0) throw std::bad_alloc();
    X509StoreCtxPtr ctx(X509_STORE_CTX_new());
    if (!ctx) throw std::bad_alloc();
    ERR_clear_error();
    if (X509_STORE_CTX_init(ctx.get(), bundle.store.get(), presented[0], untrusted.get()) != 1 ||
        X509_STORE_CTX_set_default(ctx.get(), "ssl_server") != 1) {
        r.error = "could not set up verification: " + openssl_error_text();
        return r;
    }
    r.verified = X509_verify_cert(ctx.get()) == 1;
    if (r.verified) {
        STACK_OF(X509) *chain = X509_STORE_CTX_get0_chain(ctx.get());
        int n = chain != nullptr ? sk_X509_num(chain) : 0;
        r.path_length = n;
        for (int i = 0; i < n; ++i) r.path.push_back(name_to_string(X509_get_subject_name(sk_X509_value(chain, i))));
        if (n > 0) {
            X509 *anchor = sk_X509_value(chain, n - 1);
            r.anchor_subject = name_to_string(X509_get_subject_name(anchor));
            r.anchor_sha256 = sha256_hex(anchor);
        }
    } else {
        int err = X509_STORE_CTX_get_error(ctx.get());
        r.error = std::string(X509_verify_cert_error_string(err)) + " (at depth " +
                  std::to_string(X509_STORE_CTX_get_error_depth(ctx.get())) + ")";
    }
    ERR_clear_error();
    return r;
}

Expected<std::vector<TrustPathReport>> verify_trust_paths(const std::vector<std::string> &presented_der,
                                                          const std::vector<TrustBundle> &bundles) {
    std::vector<X509Ptr> owned;
    std::vector<X509 *> chain;
    for (std::size_t i = 0; i < presented_der.size(); ++i) {
        const auto *p = reinterpret_cast<const unsigned char *>(presented_der[i].data());
        X509Ptr cert(d2i_X509(nullptr, &p, static_cast<long>(presented_der[i].size())));
        if (!cert) {
            ERR_clear_error();
            return make_error(sqlstate::kInvalidParameter,
                              "presented certificate " + std::to_string(i) + " is not valid DER");
        }
        chain.push_back(cert.get());
        owned.push_back(std::move(cert));
    }
    std::vector<TrustPathReport> out;
    out.reserve(bundles.size());
    for (const auto &b : bundles) out.push_back(verify_trust_path(chain, b));
    return out;
}

}  // namespace tls_audit
