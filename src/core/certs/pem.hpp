// Walking the blocks of PEM text (certificates, CRLs, keys), shared by the
// certificate and CRL parsers.
#pragma once

#include "base/pure_cpp.hpp"

#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include <openssl/x509_vfy.h>

#include "base/error.hpp"
#include "base/file_reader.hpp"

TLS_AUDIT_AREA(certs);

namespace tls_audit {

// Whether `input` contains PEM armour (else it is treated as DER).
bool looks_like_pem(std::string_view input);

// Called for each block with its 1-based number, its label ("CERTIFICATE",
// "X509 CRL", "PRIVATE KEY", ...) and its decoded bytes. The bytes are wiped
// and freed after the call (they may be a private key), so copy what you keep.
// Return an Error to stop the walk with it.
using PemVisitor =
    std::function<std::optional<Error>(int block, std::string_view label, const unsigned char *der, long len)>;

// Visit every block. A truncated block or damaged base64 is an Error (22023)
// naming the block; nothing after the last block is an error.
std::optional<Error> for_each_pem_block(std::string_view input, const PemVisitor &visit);

// Every certificate and CRL of PEM bytes into `store`, as OpenSSL's
// X509_load_cert_crl_file() loads a file. Returns the reason it failed
// (OpenSSL's, or "no certificate or crl found"), empty on success.
std::string load_pem_into_store(X509_STORE *store, std::string_view pem, const char *fallback);

// The same for the file at `path`, read by read_regular_file() (never
// blocking, regular files only, at most max_size bytes): what the extension
// does instead of handing OpenSSL a path. A file that cannot be opened gives
// strerror() alone ("No such file or directory"), as OpenSSL would; a
// cancelled read throws CoreError (57014).
std::string load_pem_file_into_store(X509_STORE *store, const std::string &path, std::size_t max_size,
                                     const CancelCheck &cancel = {});

}  // namespace tls_audit
