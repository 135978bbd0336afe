// Certificate parsing into plain structs.
#pragma once

#include "base/pure_cpp.hpp"

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <openssl/x509.h>

#include "base/error.hpp"
#include "base/openssl_ptr.hpp"

TLS_AUDIT_AREA(certs);

namespace tls_audit {

// Largest certificate input accepted by the parsers (bytes).
inline constexpr std::size_t kMaxCertificateInput = 1024 * 1024;

// Everything the SQL surface shows about one certificate. Times are seconds
// since the Unix epoch (UTC).
struct CertInfo {
    std::string subject;  // RFC 2253, never truncated
    std::string issuer;   // RFC 2253
    std::string serial;   // upper-case hex, no separators
    std::int64_t not_before = 0;
    std::int64_t not_after = 0;
    std::string key_type;  // RSA, EC, Ed25519, Ed448, DSA, ...
    int key_bits = 0;
    std::string key_curve;            // EC curve name (e.g. secp384r1), else empty
    std::string signature_algorithm;  // e.g. sha256WithRSAEncryption
    std::string sha256;               // lower-case hex of the DER's SHA-256
    std::vector<std::string> san;     // "DNS:host", "IP:127.0.0.1", "email:..", "URI:.."
    bool is_ca = false;
    bool self_signed = false;  // issuer == subject and the signature verifies with its own key
};

CertInfo describe_certificate(X509 *cert);

// The same without sha256, san and self_signed (no digest, no signature
// verification): for hot paths that only show names, dates and key facts.
CertInfo describe_certificate_brief(X509 *cert);

// Whole days from `now` until `not_after`, rounded down (negative once expired).
std::int64_t days_left(std::int64_t not_after, std::int64_t now);

// Parse input that is either DER (one certificate) or PEM (one or more
// CERTIFICATE blocks; other PEM blocks such as keys are skipped without being
// decoded). Empty, oversized, garbage or truncated input gives an Error with
// SQLSTATE 22023 and a message saying which.
Expected<std::vector<X509Ptr>> parse_certificates(std::string_view input);

// Same, returning described certificates.
Expected<std::vector<CertInfo>> certificate_infos(std::string_view input);

// Name helpers shared by the session and file readers.
std::string name_to_string(const X509_NAME *name);  // RFC 2253
std::string sha256_hex(X509 *cert);

}  // namespace tls_audit
