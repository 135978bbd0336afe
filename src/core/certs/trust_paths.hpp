// Trust-store readiness: would a client that trusts only the CA bundle B
// accept the chain a server presents? The chain is verified against each
// bundle separately, with every certificate the server sent (after the leaf)
// as untrusted intermediates, so that OpenSSL finds alternate paths through
// cross-signed intermediates exactly as a client's X509_verify_cert does.
#pragma once

#include "base/pure_cpp.hpp"

#include <string>
#include <vector>

#include <openssl/x509.h>

#include "base/error.hpp"
#include "base/openssl_ptr.hpp"

TLS_AUDIT_AREA(certs);

namespace tls_audit {

// The verdict for one bundle.
struct TrustPathReport {
    std::string bundle;          // the CA file, as given
    bool verified = false;       // X509_verify_cert succeeded (purpose ssl_server)
    std::string anchor_subject;  // the trust anchor reached (RFC 2253); empty when not verified
    std::string anchor_sha256;   // lower-case hex SHA-256 of the anchor's DER; empty when not verified
    int path_length = 0;         // certificates in the verified path, leaf and anchor included; 0 when not verified
    std::vector<std::string> path;  // subjects from the leaf to the anchor, when verified
    std::string error;           // X509_verify_cert_error_string (and depth) when not verified
};

// Largest number of bundles one call takes.
inline constexpr std::size_t kMaxTrustBundles = 64;

// A loaded bundle: its name and its store. Loading fails with 22023 for an
// unreadable file, a file without any certificate, or a name with NUL bytes.
struct TrustBundle {
    std::string name;
    X509StorePtr store;
};
Expected<TrustBundle> load_trust_bundle(const std::string &ca_file);

// Load each file (22023 for too many, duplicates are kept as given).
Expected<std::vector<TrustBundle>> load_trust_bundles(const std::vector<std::string> &ca_files);

// Verify `presented` (the server's chain as sent: [0] is the leaf, the rest
// untrusted) against `bundle` at the current time. An empty chain is a report
// with the error "server presented no certificate".
TrustPathReport verify_trust_path(const std::vector<X509 *> &presented, const TrustBundle &bundle);

// The same from DER certificates (as ChainReport::presented_der holds them);
// undecodable DER is a 22023 Error.
Expected<std::vector<TrustPathReport>> verify_trust_paths(const std::vector<std::string> &presented_der,
                                                          const std::vector<TrustBundle> &bundles);

}  // namespace tls_audit
