#include "checks/checks.hpp"

#include "checks/check_util.hpp"

namespace tls_audit {

using namespace check_util;

const std::vector<std::string> &check_names() {
    static const std::vector<std::string> names = {
        "ssl_enabled",          "min_protocol",          "max_protocol",
        "weak_ciphers",         "key_exchange_groups",   "pq_key_exchange",       "server_cert_expiry",    "server_cert_key_strength",
        "server_cert_signature", "server_cert_self_signed", "server_cert_chain",
        "server_key_permissions", "server_cert_reload_pending", "server_tls_reload_would_fail",
        "server_tls_reload_failed", "server_tls_auto_reload",
        "ca_file_expiry",       "crl_expiry",            "crl_coverage",          "hba_hostnossl",         "hba_host_without_ssl",
        "hba_weak_auth",        "hba_plaintext_reachable", "hba_shadowed_line", "password_encryption",   "md5_passwords",
        "sessions_below_floor", "client_cert_expiry",   "census_save_failed",    "settings_not_applied",  "role_floor_unmatched",
        "outbound_sslmode",     "outbound_password_in_conninfo", "outbound_root_cert",
        "outbound_sslkeylogfile", "weak_auth_in_use",     "census_incomplete",
        "pooler_client_tls",    "pooler_server_tls",     "pooler_protocols",      "pooler_ciphers",
        "pooler_cert_expiry",   "pooler_password_in_conninfo", "pooler_unreachable",
    };
    return names;
}

// All checks

std::vector<Finding> evaluate(const AuditFacts &f) {
    std::vector<Finding> out;
    auto add = [&](std::vector<Finding> found) {
        for (auto &x : found) out.push_back(std::move(x));
    };
    const bool ssl = f.settings.ssl;
    // Checks of the server's own TLS configuration mean nothing with ssl off.
    auto tls_check = [&](std::string_view check, auto &&run) {
        if (!ssl) {
            out.push_back(make(check, Severity::Info, {}, "not applicable: ssl is off"));
            return;
        }
        add(run());
    };
    auto missing = [&](std::string_view check, const std::string &why) { out.push_back(not_available(check, why)); };

    add(check_ssl_enabled(f.settings));
    tls_check("min_protocol", [&] { return check_min_protocol(f.settings, f.floor); });
    tls_check("max_protocol", [&] { return check_max_protocol(f.settings); });
    tls_check("weak_ciphers", [&] {
        if (!f.ciphers.value) return std::vector<Finding>{not_available("weak_ciphers", f.ciphers.missing)};
        return check_weak_ciphers(*f.ciphers.value);
    });
    tls_check("key_exchange_groups", [&] { return check_key_exchange_groups(f.settings); });
    tls_check("pq_key_exchange", [&] {
        if (!f.pq.value) return std::vector<Finding>{not_available("pq_key_exchange", f.pq.missing)};
        return check_pq_key_exchange(*f.pq.value);
    });

    using ServerRule = std::vector<Finding> (*)(const ServerCertFacts &);
    auto server_check = [&](std::string_view check, auto &&run) {
        tls_check(check, [&] {
            if (!f.server.value) return std::vector<Finding>{not_available(check, f.server.missing)};
            return run(*f.server.value);
        });
    };
    server_check("server_cert_expiry",
                 [&](const ServerCertFacts &s) { return check_server_cert_expiry(s, f.thresholds, f.now); });
    for (auto [check, rule] : {std::pair<std::string_view, ServerRule>{"server_cert_key_strength",
                                                                        check_server_cert_key_strength},
                               {"server_cert_signature", check_server_cert_signature},
                               {"server_cert_self_signed", check_server_cert_self_signed},
                               {"server_cert_chain", check_server_cert_chain},
                               {"server_key_permissions", check_server_key_permissions}})
        server_check(check, rule);
    server_check("server_cert_reload_pending", [&](const ServerCertFacts &s) {
        return check_server_cert_reload_pending(s, f.preflight.value ? &*f.preflight.value : nullptr);
    });
    tls_check("server_tls_reload_would_fail", [&] {
        if (!f.preflight.value)
            return std::vector<Finding>{not_available("server_tls_reload_would_fail", f.preflight.missing)};
        return check_server_tls_reload_would_fail(*f.preflight.value);
    });
    tls_check("server_tls_reload_failed", [&] {
        if (!f.last_reload.value)
            return std::vector<Finding>{not_available("server_tls_reload_failed", f.last_reload.missing)};
        return check_server_tls_reload_failed(*f.last_reload.value);
    });
    tls_check("server_tls_auto_reload", [&] {
        if (!f.auto_reload.value)
            return std::vector<Finding>{not_available("server_tls_auto_reload", f.auto_reload.missing)};
        return check_server_tls_auto_reload(*f.auto_reload.value);
    });
    tls_check("ca_file_expiry", [&] {
        if (f.ca_file.empty()) return check_ca_file_expiry("", {}, f.thresholds, f.now);
        if (!f.ca_certificates.value)
            return std::vector<Finding>{not_available("ca_file_expiry", f.ca_certificates.missing)};
        return check_ca_file_expiry(f.ca_file, *f.ca_certificates.value, f.thresholds, f.now);
    });
    tls_check("crl_expiry", [&] {
        if (f.crl_source.empty()) return check_crl_expiry("", {}, f.thresholds, f.now);
        if (!f.crls.value) return std::vector<Finding>{not_available("crl_expiry", f.crls.missing)};
        return check_crl_expiry(f.crl_source, *f.crls.value, f.thresholds, f.now);
    });
    tls_check("crl_coverage", [&] {
        if (f.crl_source.empty()) return check_crl_coverage("", {});
        if (f.ca_file.empty())
            return std::vector<Finding>{make("crl_coverage", Severity::Ok, {},
                                             "ssl_ca_file is not set: client certificates are not verified")};
        if (!f.ca_crl_coverage.value)
            return std::vector<Finding>{not_available("crl_coverage", f.ca_crl_coverage.missing)};
        return check_crl_coverage(f.crl_source, *f.ca_crl_coverage.value);
    });

    if (f.hba.value) {
        add(check_hba_hostnossl(*f.hba.value));
        add(check_hba_host_without_ssl(*f.hba.value, ssl));
        add(check_hba_weak_auth(*f.hba.value));
    } else {
        for (const char *check : {"hba_hostnossl", "hba_host_without_ssl", "hba_weak_auth"})
            missing(check, f.hba.missing);
    }
    if (f.hba_matrix.value) {
        add(check_hba_plaintext_reachable(*f.hba_matrix.value));
        add(check_hba_shadowed_line(*f.hba_matrix.value));
    } else {
        for (const char *check : {"hba_plaintext_reachable", "hba_shadowed_line"})
            missing(check, f.hba_matrix.missing);
    }
    add(check_password_encryption(f.settings));
    if (f.md5_roles.value)
        add(check_md5_passwords(*f.md5_roles.value));
    else
        missing("md5_passwords", f.md5_roles.missing);
    if (f.sessions.value) {
        add(check_sessions_below_floor(*f.sessions.value));
        add(check_client_cert_expiry(*f.sessions.value, f.thresholds, f.now));
    } else {
        missing("sessions_below_floor", f.sessions.missing);
        missing("client_cert_expiry", f.sessions.missing);
    }
    if (f.census_save.value)
        add(check_census_save_failed(*f.census_save.value));
    else
        missing("census_save_failed", f.census_save.missing);
    if (f.file_settings.value)
        add(check_settings_not_applied(*f.file_settings.value));
    else
        missing("settings_not_applied", f.file_settings.missing);
    if (f.role_floor.value)
        add(check_role_floor_unmatched(*f.role_floor.value));
    else
        missing("role_floor_unmatched", f.role_floor.missing);
    if (f.outbound.value) {
        add(check_outbound_sslmode(*f.outbound.value));
        add(check_outbound_password_in_conninfo(*f.outbound.value));
        add(check_outbound_root_cert(*f.outbound.value, f.thresholds, f.now));
        add(check_outbound_sslkeylogfile(*f.outbound.value));
    } else {
        for (const char *check : {"outbound_sslmode", "outbound_password_in_conninfo", "outbound_root_cert",
                                  "outbound_sslkeylogfile"})
            missing(check, f.outbound.missing);
    }
    if (f.weak_auth.value)
        add(check_weak_auth_in_use(*f.weak_auth.value, f.thresholds.warning_days));
    else
        missing("weak_auth_in_use", f.weak_auth.missing);
    if (f.census_completeness.value)
        add(check_census_incomplete(*f.census_completeness.value));
    else
        missing("census_incomplete", f.census_completeness.missing);
    if (f.poolers.value) {
        add(check_poolers(*f.poolers.value, f.floor, f.thresholds, f.now));
    } else {
        for (const char *check : {"pooler_client_tls", "pooler_server_tls", "pooler_protocols", "pooler_ciphers",
                                  "pooler_cert_expiry", "pooler_password_in_conninfo", "pooler_unreachable"})
            missing(check, f.poolers.missing);
    }
    return out;
}

}  // namespace tls_audit
