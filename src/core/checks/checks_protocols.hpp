// Checks of the server's protocol, cipher and key-exchange settings
// (ssl, ssl_min/max_protocol_version, ssl_ciphers, ssl_tls13_ciphers,
// ssl_groups/ssl_ecdh_curve), and the cipher analyzer they use.
// Each check_* returns its findings or one 'ok' row (see checks.hpp).
#pragma once

#include "base/pure_cpp.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <openssl/ssl.h>

#include "base/error.hpp"
#include "checks/finding.hpp"
#include "base/protocol.hpp"

TLS_AUDIT_AREA(checks);

namespace tls_audit {

// Server settings

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

// Key exchange groups (ssl_groups / ssl_ecdh_curve, colon-separated): a
// warning when no group every client supports is left (neither X25519 nor
// P-256) or when a group below 128-bit security is allowed (P-192, P-224,
// ffdhe2048), naming them; an unknown name is a warning too.
std::vector<Finding> check_key_exchange_groups(const ServerSettings &s);

// Ciphers

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

}  // namespace tls_audit
