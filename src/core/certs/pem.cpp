#include "certs/pem.hpp"

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

}  // namespace tls_audit
