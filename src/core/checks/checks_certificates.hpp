// Checks of the server's certificate files: the served and on-disk chain,
// key, CA file, CRLs and whether a reload would load them.
#pragma once

#include "base/pure_cpp.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "checks/checks_protocols.hpp"
#include "checks/finding.hpp"
#include "certs/reload_preflight.hpp"
#include "certs/x509.hpp"

TLS_AUDIT_AREA(checks);

namespace tls_audit {

// Server certificate files

// A certificate and where it was seen.
struct SeenCertificate {
    CertInfo cert;
    int position = 0;     // 0 = leaf
    bool served = false;  // presented by the running server
    bool in_file = false; // read from ssl_cert_file
};

// What tls_audit.server_tls() and tls_audit.server_certificates say.
struct ServerCertFacts {
    std::string cert_file, key_file, ca_file, crl_file;
    // The served chain and the chain in ssl_cert_file, merged by fingerprint.
    std::vector<SeenCertificate> chain;
    std::optional<bool> key_matches_cert;
    std::optional<bool> key_permissions_ok;
    std::string key_file_mode;   // e.g. "0644"
    std::string key_file_owner;
    std::optional<bool> chain_complete;
    std::string chain_error;
    std::optional<bool> reload_pending;
    std::string served_sha256, file_sha256;
};

// Merge a certificate into `chain`, de-duplicating by SHA-256.
void add_seen_certificate(std::vector<SeenCertificate> &chain, const CertInfo &cert, int position,
                          bool served);

std::vector<Finding> check_server_cert_expiry(const ServerCertFacts &f, const Thresholds &t,
                                              std::int64_t now);
std::vector<Finding> check_server_cert_key_strength(const ServerCertFacts &f);
std::vector<Finding> check_server_cert_signature(const ServerCertFacts &f);
std::vector<Finding> check_server_cert_self_signed(const ServerCertFacts &f);
std::vector<Finding> check_server_cert_chain(const ServerCertFacts &f);
std::vector<Finding> check_server_key_permissions(const ServerCertFacts &f);
// With the reload pre-flight's stages (nullptr: not known), the finding says
// whether a reload would fix it (load the file on disk) or fail.
std::vector<Finding> check_server_cert_reload_pending(const ServerCertFacts &f,
                                                      const std::vector<PreflightStage> *preflight = nullptr);

// The reload pre-flight (run_reload_preflight()): critical when a stage
// fails (the next reload keeps the previous configuration and the next
// restart fails), naming the stage, its file and OpenSSL's reason.
std::vector<Finding> check_server_tls_reload_would_fail(const std::vector<PreflightStage> &stages);

// The last TLS (re)initialisation of the server (tls_audit.reload_history).
struct LastReload {
    std::int64_t at = 0;   // epoch seconds
    std::string kind;      // start | reload
    std::optional<bool> ok;  // nullopt: in progress
    std::string error;     // the server's reason when it kept the previous configuration
};
// Critical when the last reload kept the previous TLS configuration (the
// files on disk did not load: the server serves the old certificate until it
// expires, and the next restart fails); ok otherwise. nullopt: none recorded.
std::vector<Finding> check_server_tls_reload_failed(const std::optional<LastReload> &last);

// The automatic reload worker (tls_audit.auto_reload_status).
struct AutoReloadFacts {
    std::string mode;   // off | on | force
    std::string state;  // off, watching, settling, waiting, refused, error, not running
    std::string last_error;
    std::string last_action;
};
// Warning when the renewed files were refused (they would not load) or the
// worker is not running or failed; info while it waits for other pending
// settings; ok otherwise (also when it is off).
std::vector<Finding> check_server_tls_auto_reload(const AutoReloadFacts &f);

// The certificates of ssl_ca_file.
std::vector<Finding> check_ca_file_expiry(std::string_view ca_file, const std::vector<CertInfo> &ca,
                                          const Thresholds &t, std::int64_t now);

// One CRL of ssl_crl_file (or of ssl_crl_dir).
struct CrlFacts {
    std::string source;  // file name
    std::string issuer;
    std::optional<std::int64_t> next_update;  // epoch seconds; nullopt when the CRL has none
};
std::vector<Finding> check_crl_expiry(std::string_view crl_source, const std::vector<CrlFacts> &crls,
                                      const Thresholds &t, std::int64_t now);

// One CA certificate of ssl_ca_file and whether a CRL it issued is loaded
// (ssl_crl_file or ssl_crl_dir).
struct CaCrlCoverage {
    std::string subject;
    bool crl_present = false;
};
// Once any CRL is configured the server checks CRLs for the whole client
// chain (X509_V_FLAG_CRL_CHECK_ALL): every CA of ssl_ca_file (each may issue
// client certificates or intermediates) needs a CRL of its own, else the
// client certificates below it fail with "unable to get certificate CRL".
// Critical per CA without one; ok when no CRL is configured.
std::vector<Finding> check_crl_coverage(std::string_view crl_source, const std::vector<CaCrlCoverage> &cas);

// Key strength of one certificate: the weakness, or nullopt when strong enough.
// RSA/DSA/DH below 2048 bits and EC below 256 bits are weak.
std::optional<std::string> weak_key_reason(const CertInfo &cert);
// SHA-1 (warning) or MD5/MD4/MD2 (critical) signatures; nullopt otherwise.
std::optional<CipherWeakness> weak_signature(const CertInfo &cert);

}  // namespace tls_audit
