#include "checks/controls.hpp"

#include <cctype>
#include <map>

namespace tls_audit {

namespace {

// Sources (URLs in doc/controls.md).
constexpr const char *kCis16 = "CIS PostgreSQL 16 Benchmark v1.0.0";
constexpr const char *kCis17 = "CIS PostgreSQL 17 Benchmark v1.0.0";
constexpr const char *kStig = "DISA Crunchy Data Postgres 16 STIG V1R2";
constexpr const char *kPci = "PCI DSS v4.0";
constexpr const char *kNist = "NIST SP 800-52 Rev. 2 (August 2019)";
constexpr const char *kMozilla = "Mozilla Server Side TLS guidelines 5.7";

}  // namespace

const std::vector<Framework> &frameworks() {
    static const std::vector<Framework> list = {
        {"CIS", "CIS-PG-16", kCis16},
        {"CIS", "CIS-PG-17", kCis17},
        {"DISA-STIG", "STIG-CD-PG16", kStig},
        {"PCI-DSS", "PCI-DSS-4.0", kPci},
        {"NIST-SP-800-52", "NIST-800-52r2", kNist},
        {"Mozilla", "MOZ-TLS-5.7", kMozilla},
    };
    return list;
}

const std::vector<Control> &controls() {
    static const std::vector<Control> list = {
        {"CIS", "CIS-PG-16", "6.8", "Ensure TLS is enabled and configured correctly",
         {"ssl_enabled", "server_cert_expiry", "server_cert_self_signed", "server_cert_chain", "hba_hostnossl",
          "hba_host_without_ssl", "hba_plaintext_reachable"}},
        {"CIS", "CIS-PG-17", "6.9", "Ensure that TLSv1.3, or later, is configured",
         {"min_protocol", "sessions_below_floor"}},
        {"DISA-STIG", "STIG-CD-PG16", "V-261891",
         "If passwords are used for authentication, store only hashed, salted representations of passwords",
         {"password_encryption", "md5_passwords"}},
        {"DISA-STIG", "STIG-CD-PG16", "V-261892",
         "If passwords are used for authentication, transmit only encrypted representations of passwords",
         {"ssl_enabled", "hba_hostnossl", "hba_host_without_ssl", "hba_weak_auth", "hba_plaintext_reachable",
          "outbound_sslmode", "outbound_password_in_conninfo", "pooler_client_tls", "pooler_server_tls"}},
        {"DISA-STIG", "STIG-CD-PG16", "V-261894", "Enforce authorized access to all PKI private keys",
         {"server_key_permissions"}},
        {"PCI-DSS", "PCI-DSS-4.0", "4.2.1",
         "Strong cryptography and security protocols safeguard PAN during transmission: only trusted keys and "
         "certificates, certificates valid and not expired or revoked, only secure protocol versions, appropriate "
         "encryption strength",
         {"ssl_enabled", "min_protocol", "weak_ciphers", "server_cert_expiry", "server_cert_key_strength",
          "server_cert_signature", "server_cert_self_signed", "server_cert_chain", "server_cert_reload_pending",
          "ca_file_expiry", "crl_expiry", "crl_coverage", "hba_hostnossl", "hba_host_without_ssl",
          "sessions_below_floor", "client_cert_expiry", "hba_plaintext_reachable", "server_tls_reload_would_fail",
          "server_tls_reload_failed", "outbound_sslmode", "outbound_root_cert", "outbound_sslkeylogfile",
          "pooler_client_tls", "pooler_server_tls", "pooler_protocols", "pooler_ciphers", "pooler_cert_expiry"}},
        {"NIST-SP-800-52", "NIST-800-52r2", "3.1", "Protocol version support (TLS 1.2 required, TLS 1.3 support, no "
                                                   "TLS 1.0/1.1 or SSL)",
         {"min_protocol", "max_protocol", "sessions_below_floor", "pooler_protocols"}},
        {"NIST-SP-800-52", "NIST-800-52r2", "3.2", "Server keys and certificates",
         {"server_cert_expiry", "server_cert_key_strength", "server_cert_signature", "server_cert_chain"}},
        {"NIST-SP-800-52", "NIST-800-52r2", "3.3.1", "Cipher suites", {"weak_ciphers", "pooler_ciphers"}},
        {"Mozilla", "MOZ-TLS-5.7", "intermediate",
         "Intermediate configuration: TLS 1.2 and 1.3, its cipher suites and key exchange groups",
         {"min_protocol", "max_protocol", "weak_ciphers", "key_exchange_groups"}},
    };
    return list;
}

std::string control_key(const Control &c) { return std::string(c.prefix) + ":" + c.id; }

std::string control_source(const Control &c) {
    for (const Framework &f : frameworks())
        if (std::string_view(f.prefix) == c.prefix) return f.source;
    return {};
}

const std::vector<std::string> &controls_for_check(std::string_view check) {
    static const std::map<std::string, std::vector<std::string>, std::less<>> by_check = [] {
        std::map<std::string, std::vector<std::string>, std::less<>> m;
        for (const Control &c : controls())
            for (const char *name : c.checks) m[name].push_back(control_key(c));
        return m;
    }();
    static const std::vector<std::string> none;
    auto it = by_check.find(check);
    return it == by_check.end() ? none : it->second;
}

namespace {
bool iequals(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (size_t i = 0; i < a.size(); ++i)
        if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i])))
            return false;
    return true;
}
}  // namespace

const Framework *find_framework(std::string_view name) {
    for (const Framework &f : frameworks())
        if (iequals(name, f.key) || iequals(name, f.prefix)) return &f;
    return nullptr;
}

}  // namespace tls_audit
