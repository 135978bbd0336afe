#include "certs/pem.hpp"

#include <cstring>
#include <new>
#include <string>

#include <openssl/err.h>
#include <openssl/pem.h>

#include "base/openssl_ptr.hpp"

namespace tls_audit {

namespace {

// Decoded block bytes: wiped before they are freed.
struct BlockBytes {
    unsigned char *data = nullptr;
    long len = 0;
    ~BlockBytes() { OPENSSL_clear_free(data, static_cast<std::size_t>(len > 0 ? len : 0)); }
};
}  // namespace

bool looks_like_pem(std::string_view input) { return input.find("-----BEGIN ") != std::string_view::npos; }

std::optional<Error> for_each_pem_block(std::string_view input, const PemVisitor &visit) {
    BioPtr bio(BIO_new_mem_buf(input.data(), static_cast<int>(input.size())));
    if (!bio) throw std::bad_alloc();
    ERR_clear_error();
    for (int block = 1;; ++block) {
        char *name = nullptr;
        char *header = nullptr;
        BlockBytes bytes;
        if (PEM_read_bio(bio.get(), &name, &header, &bytes.data, &bytes.len) != 1) {
            const unsigned long err = ERR_peek_last_error();
            const bool at_end = ERR_GET_LIB(err) == ERR_LIB_PEM && ERR_GET_REASON(err) == PEM_R_NO_START_LINE;
            std::string why = take_openssl_error("unreadable PEM block");
            if (at_end) return std::nullopt;
            return make_error(sqlstate::kInvalidParameter,
                              "invalid PEM input in block " + std::to_string(block) + ": " + why,
                              "The PEM block is truncated or its base64 is damaged.");
        }
        OpenSslString label(name), headers(header);
        if (auto stop = visit(block, label.get(), bytes.data, bytes.len)) return stop;
    }
}

namespace {

std::string first_openssl_reason(const char *fallback) {
    const unsigned long code = ERR_get_error();
    ERR_clear_error();
    if (code == 0) return fallback;
    if (const char *reason = ERR_reason_error_string(code)) return reason;
    return "SSL error code " + std::to_string(code);
}

}  // namespace

std::string load_pem_into_store(X509_STORE *store, std::string_view pem, const char *fallback) {
    if (store == nullptr) return fallback;
    ERR_clear_error();
    BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
    if (!bio) throw std::bad_alloc();
    STACK_OF(X509_INFO) *infos = PEM_X509_INFO_read_bio(bio.get(), nullptr, nullptr, nullptr);
    if (infos == nullptr) return first_openssl_reason(fallback);
    int count = 0;
    bool ok = true;
    for (int i = 0; ok && i < sk_X509_INFO_num(infos); ++i) {
        X509_INFO *info = sk_X509_INFO_value(infos, i);
        if (info->x509 != nullptr) {
            ok = X509_STORE_add_cert(store, info->x509) == 1;
            ++count;
        }
        if (ok && info->crl != nullptr) {
            ok = X509_STORE_add_crl(store, info->crl) == 1;
            ++count;
        }
    }
    sk_X509_INFO_pop_free(infos, X509_INFO_free);
    if (!ok) return first_openssl_reason(fallback);
    ERR_clear_error();
    if (count == 0) return "no certificate or crl found";  // X509_R_NO_CERTIFICATE_OR_CRL_FOUND's words
    return {};
}

std::string load_pem_file_into_store(X509_STORE *store, const std::string &path, std::size_t max_size,
                                     const CancelCheck &cancel) {
    FileReadResult r = read_regular_file(path, max_size, cancel);
    if (r.failure == FileReadFailure::Cancelled) throw CoreError(r.error);
    if (r.failure == FileReadFailure::Open && r.error_number != 0) return std::strerror(r.error_number);
    if (!r.ok()) return r.error.message;
    return load_pem_into_store(store, r.bytes, "could not load the file");
}

}  // namespace tls_audit
