#include "checks/checks_pq.hpp"

#include "checks/check_util.hpp"

namespace tls_audit {

using namespace check_util;

namespace {

constexpr std::string_view kCheck = "pq_key_exchange";
constexpr const char *kRecommended = "X25519MLKEM768";

std::string join_groups(const std::vector<std::string> &groups) {
    std::string out;
    for (const auto &g : groups) out += (out.empty() ? "" : ":") + g;
    return out;
}

}  // namespace

bool is_hybrid_group_name(const std::string &group) { return contains(lower(group), "mlkem"); }

std::string pq_groups_setting_line(const std::string &current_value) {
    // PostgreSQL 18's default when the value is unknown or empty.
    const std::string rest = current_value.empty() ? "X25519:prime256v1" : current_value;
    return "ssl_groups = '" + std::string(kRecommended) + ":" + rest + "'";
}

std::vector<Finding> check_pq_key_exchange(const PqKeyExchangeFacts &f) {
    std::vector<std::string> hybrid;
    for (const auto &g : f.offered_groups)
        if (is_hybrid_group_name(g)) hybrid.push_back(g);
    const std::string offered = f.offered_groups.empty() ? "none read" : join_groups(f.offered_groups);
    const std::string openssl = f.openssl_version.empty() ? "the server's OpenSSL" : f.openssl_version;
    if (!hybrid.empty())
        return {make(kCheck, Severity::Info, {},
                     "the server offers the hybrid post-quantum key exchange " + join_limited(hybrid) +
                         " (groups offered: " + offered + "); clients whose TLS library has it use it")};
    if (!f.openssl_has_hybrid)
        return {make(kCheck, Severity::Info, {},
                     "no hybrid post-quantum key exchange: not supported by this " + openssl +
                         " (ML-KEM groups need OpenSSL 3.5 or newer); groups offered: " + offered)};
    if (f.server_version_num >= 180000)
        return {make(kCheck, Severity::Warning, "ssl_groups",
                     openssl + " supports hybrid post-quantum key exchange, but ssl_groups = '" + f.setting_value +
                         "' keeps it out (groups offered: " + offered +
                         "): traffic recorded today can be decrypted once quantum computers can break " +
                         "elliptic-curve key exchange",
                     "Set " + pq_groups_setting_line(f.setting_value) +
                         " in postgresql.conf and reload (SELECT pg_reload_conf()); clients without it keep "
                         "using the classic groups.")};
    return {make(kCheck, Severity::Warning, "ssl_ecdh_curve",
                 openssl + " supports hybrid post-quantum key exchange, but this PostgreSQL offers only the one "
                           "curve of ssl_ecdh_curve = '" + f.setting_value + "' (groups offered: " + offered +
                     "): PostgreSQL 18 is needed to offer it (its ssl_groups takes a list)",
                 "Upgrade to PostgreSQL 18 and set " + pq_groups_setting_line({}) + ".")};
}

}  // namespace tls_audit
