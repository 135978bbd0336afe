// The checks behind tls_audit.run_checks(): plain facts in, findings out.
//
// Every check_* function returns at least one Finding: the problems it found,
// or a single 'ok' row saying what was checked. A check whose input could not
// be gathered reports one 'info' row instead (see not_available()). Nothing
// here reads files, settings or catalogs: the PostgreSQL glue gathers the
// facts and passes them in, so every rule is unit-tested on its own.
#pragma once

#include "pure_cpp.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <openssl/ssl.h>

#include "error.hpp"
#include "protocol.hpp"
#include "reload_preflight.hpp"
#include "x509.hpp"

namespace tls_audit {

// Ordered from harmless to worst, so that max() is "the worst".
enum class Severity { Ok = 0, Info = 1, Warning = 2, Critical = 3 };

const char *severity_name(Severity s);  // "ok", "info", "warning", "critical"
std::optional<Severity> parse_severity(std::string_view name);

struct Finding {
    std::string check;     // one of check_names()
    Severity severity = Severity::Ok;
    std::string object;    // what the finding is about; empty for 'ok' rows
    std::string message;
    std::string hint;      // how to fix it; empty when there is nothing to do
};

// The stable check names, in the order run_checks() reports them.
const std::vector<std::string> &check_names();

// The worst severity of a set of findings (Ok for none).
Severity worst_severity(const std::vector<Finding> &findings);

// One 'info' row for a check whose input is missing ("not available: why").
Finding not_available(std::string_view check, std::string_view why);

// Certificate and CRL expiry windows, in days (tls_audit.expiry_*_days).
struct Thresholds {
    int warning_days = 30;
    int critical_days = 7;
};

// ---------------------------------------------------------------------------
// Server settings
// ---------------------------------------------------------------------------

// The server's own settings, as SHOW prints them.
struct ServerSettings {
    bool ssl = false;
    std::string listen_addresses;
    std::string min_protocol;  // ssl_min_protocol_version ('' = any)
    std::string max_protocol;  // ssl_max_protocol_version ('' = no limit)
    std::string ciphers;       // ssl_ciphers
    std::string password_encryption;
    // PostgreSQL 18: ssl_tls13_ciphers ('' before 18 and when unset: OpenSSL's
    // default TLS 1.3 suites) and ssl_groups (before 18: ssl_ecdh_curve).
    std::string tls13_ciphers;
    std::string groups;
    bool md5_deprecated = false;  // PostgreSQL 18+ deprecates MD5 passwords
};

std::vector<Finding> check_ssl_enabled(const ServerSettings &s);
// `floor` is tls_audit.min_protocol.
std::vector<Finding> check_min_protocol(const ServerSettings &s, Protocol floor);
std::vector<Finding> check_max_protocol(const ServerSettings &s);
std::vector<Finding> check_password_encryption(const ServerSettings &s);

// Key exchange groups (ssl_groups / ssl_ecdh_curve, colon-separated): a
// warning when no group every client supports is left (neither X25519 nor
// P-256) or when a group below 128-bit security is allowed (P-192, P-224,
// ffdhe2048), naming them; an unknown name is a warning too.
std::vector<Finding> check_key_exchange_groups(const ServerSettings &s);

// ---------------------------------------------------------------------------
// Ciphers
// ---------------------------------------------------------------------------

// One cipher suite as OpenSSL describes it.
struct CipherFacts {
    std::string name;           // OpenSSL name, e.g. ECDHE-RSA-AES128-GCM-SHA256
    std::string standard_name;  // IANA name, e.g. TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256
    std::string min_version;    // oldest protocol it is defined for ("TLSv1", "TLSv1.3", ...)
    int kx_nid = 0;             // SSL_CIPHER_get_kx_nid
    int auth_nid = 0;           // SSL_CIPHER_get_auth_nid
    int cipher_nid = 0;         // SSL_CIPHER_get_cipher_nid (NID_undef: no encryption)
    int digest_nid = 0;         // SSL_CIPHER_get_digest_nid (NID_undef for AEAD)
    int bits = 0;               // symmetric strength in bits
};

// Why a cipher suite is weak: NULL encryption, anonymous (aNULL), EXPORT,
// RC4, DES, 3DES, MD5 MAC, RSA key exchange (no forward secrecy). Empty when
// it is fine.
struct CipherWeakness {
    std::string label;  // e.g. "3DES (64-bit block, Sweet32)"
    Severity severity = Severity::Warning;
    std::string token;  // the OpenSSL cipher-string keyword that selects it, e.g. "3DES", "kRSA"
};
std::vector<CipherWeakness> cipher_weaknesses(const CipherFacts &c);

// The verdict on one suite from the same table: 'insecure' when a weakness is
// critical, 'weak' when the worst is a warning, 'strong' otherwise. Used by
// the probe's enumeration (tls_audit.probe_ciphers, pg_tls_check --enumerate).
enum class CipherStrength { Strong, Weak, Insecure };
CipherStrength cipher_strength(const CipherFacts &c);
const char *cipher_strength_name(CipherStrength s);  // "strong", "weak", "insecure"

CipherFacts describe_cipher(const SSL_CIPHER *cipher);

// The cipher suites a server really enables for `cipher_list` (ssl_ciphers)
// between `min_protocol` and `max_protocol` (names as in postgresql.conf; ''
// leaves OpenSSL's default), after OpenSSL's security level and the protocol
// range have removed what cannot be negotiated. Built the way PostgreSQL
// builds its own SSL_CTX, in the calling process (so the process's OpenSSL
// configuration applies). A list OpenSSL refuses gives an Error.
// `tls13_ciphers` is ssl_tls13_ciphers (PostgreSQL 18; '' keeps OpenSSL's
// default TLS 1.3 suites, as every server before 18 does).
Expected<std::vector<CipherFacts>> enabled_ciphers(std::string_view cipher_list,
                                                   std::string_view min_protocol,
                                                   std::string_view max_protocol,
                                                   std::string_view tls13_ciphers = {});

// One finding per weakness (object: the OpenSSL keyword to exclude, e.g.
// "kRSA"), listing the enabled suites that have it.
std::vector<Finding> check_weak_ciphers(const std::vector<CipherFacts> &enabled);

// ---------------------------------------------------------------------------
// Server certificate files
// ---------------------------------------------------------------------------

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

// ---------------------------------------------------------------------------
// pg_hba.conf (rows of pg_hba_file_rules) and passwords
// ---------------------------------------------------------------------------

struct HbaRule {
    int line_number = 0;
    std::string type;         // local, host, hostssl, hostnossl, hostgssenc, hostnogssenc
    std::string database;     // as pg_hba_file_rules prints the array, e.g. {all}
    std::string user_name;
    std::string address;      // IP, host name, all, samehost, samenet; empty for local
    std::string netmask;
    std::string auth_method;  // trust, md5, scram-sha-256, reject, ...
    std::string error;        // non-empty for a line PostgreSQL could not parse
};

// True for an address/netmask pair that only covers loopback addresses.
bool is_loopback_rule(const HbaRule &rule);

std::vector<Finding> check_hba_hostnossl(const std::vector<HbaRule> &rules);
std::vector<Finding> check_hba_host_without_ssl(const std::vector<HbaRule> &rules, bool ssl);
std::vector<Finding> check_hba_weak_auth(const std::vector<HbaRule> &rules);

// Roles whose password is stored as an MD5 hash (names, sorted).
std::vector<Finding> check_md5_passwords(const std::vector<std::string> &md5_roles);

// ---------------------------------------------------------------------------
// Sessions (rows of tls_audit.sessions)
// ---------------------------------------------------------------------------

struct SessionFacts {
    int pid = 0;
    std::string usename, datname, client_addr;
    std::string transport;  // unix, tcp, tls
    std::string protocol;
    bool below_floor = false;
    std::string floor_reason;
    std::string client_subject;
    std::optional<std::int64_t> client_not_after;
};

std::vector<Finding> check_sessions_below_floor(const std::vector<SessionFacts> &sessions);
std::vector<Finding> check_client_cert_expiry(const std::vector<SessionFacts> &sessions,
                                              const Thresholds &t, std::int64_t now);

// ---------------------------------------------------------------------------
// The extension's own settings (rows of pg_file_settings)
// ---------------------------------------------------------------------------

// A tls_audit.* line of the configuration files that PostgreSQL could not
// apply (pg_file_settings.error is set).
struct FileSetting {
    std::string name;     // e.g. tls_audit.probe_allowed_hosts
    std::string setting;  // the value as written
    std::string file;     // sourcefile; empty when unknown
    int line = 0;
    std::string error;    // e.g. "setting could not be applied"
};

// Settings whose refusal weakens what the extension enforces or reveals:
// critical when not applied; the others are warnings.
bool is_security_setting(std::string_view name);

std::vector<Finding> check_settings_not_applied(const std::vector<FileSetting> &rows);

// ---------------------------------------------------------------------------
// All checks at once
// ---------------------------------------------------------------------------

// One gathered input: its value, or why it could not be gathered.
template <class T> struct Input {
    std::optional<T> value;
    std::string missing;  // e.g. "permission denied for view pg_hba_file_rules"

    static Input of(T v) { return Input{std::move(v), {}}; }
    static Input none(std::string why) { return Input{std::nullopt, std::move(why)}; }
};

struct AuditFacts {
    ServerSettings settings;
    std::string ca_file;   // ssl_ca_file
    // Where the server's CRLs come from, for messages: ssl_crl_file, ssl_crl_dir,
    // or both as "FILE and DIR"; empty when neither is set.
    std::string crl_source;
    Protocol floor = Protocol::TLSv1_2;  // tls_audit.min_protocol
    Thresholds thresholds;
    std::int64_t now = 0;
    Input<std::vector<CipherFacts>> ciphers;     // enabled_ciphers() of the settings
    Input<ServerCertFacts> server;               // server_tls() + server_certificates
    Input<std::vector<CertInfo>> ca_certificates;  // ca_certificates
    Input<std::vector<CrlFacts>> crls;           // the CRLs of ssl_crl_file and ssl_crl_dir
    Input<std::vector<CaCrlCoverage>> ca_crl_coverage;  // ca_certificates (crl_present)
    Input<std::vector<PreflightStage>> preflight;  // reload_preflight()
    Input<std::vector<HbaRule>> hba;             // pg_hba_file_rules
    Input<std::vector<std::string>> md5_roles;   // roles with MD5 hashes (superuser only)
    Input<std::vector<SessionFacts>> sessions;   // tls_audit.sessions
    Input<std::vector<FileSetting>> file_settings;  // tls_audit.* rows of pg_file_settings with an error
};

// Every check of check_names(), in that order: the findings of each, or its
// 'ok' row, or one 'info' row when its input is missing. With ssl off, the
// checks of the server's TLS configuration report 'info' (not applicable).
std::vector<Finding> evaluate(const AuditFacts &facts);

// "2026-11-30 12:00:00 UTC"
std::string format_utc(std::int64_t epoch_seconds);

}  // namespace tls_audit
