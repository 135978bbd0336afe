// Walking the blocks of PEM text (certificates, CRLs, keys), shared by the
// certificate and CRL parsers.
#pragma once

#include "base/pure_cpp.hpp"

#include <functional>
#include <optional>
#include <string_view>

#include "base/error.hpp"

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

}  // namespace tls_audit
