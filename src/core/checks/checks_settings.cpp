#include "checks/checks_settings.hpp"

#include "checks/check_util.hpp"

#include "access/role_floor.hpp"

namespace tls_audit {

using namespace check_util;

// The extension's own settings

bool is_security_setting(std::string_view name) {
    std::string n(name);
    for (char &c : n) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return n == "tls_audit.probe_allowed_hosts" || n == "tls_audit.min_protocol" ||
           n == "tls_audit.notify_channel" || n == "tls_audit.role_min_protocol" || n == "tls_audit.enforce_floor" ||
           n == "tls_audit.poolers";
}

bool is_secret_setting(std::string_view name) {
    std::string n(name);
    for (char &c : n) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return n == "tls_audit.poolers";
}

std::vector<Finding> check_settings_not_applied(const std::vector<FileSetting> &rows) {
    constexpr std::string_view check = "settings_not_applied";
    std::vector<Finding> found;
    for (const auto &r : rows) {
        const bool security = is_security_setting(r.name);
        const std::string where = r.file.empty() ? std::string("the configuration files")
                                                 : r.file + " line " + std::to_string(r.line);
        std::string hint = "Correct the value and reload the configuration (SELECT pg_reload_conf()); the server "
                           "log says why it was refused.";
        std::string consequence;
        std::string lower_name = r.name;
        for (char &c : lower_name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        if (lower_name == "tls_audit.probe_allowed_hosts")
            consequence = "; if it was refused at server start, no host may be probed until it is fixed";
        else if (lower_name == "tls_audit.role_min_protocol" || lower_name == "tls_audit.enforce_floor")
            consequence = "; if it was refused at server start, the protocol floors fail closed until it is fixed "
                          "(see tls_audit.enforce_floor)";
        else if (lower_name == "tls_audit.poolers")
            consequence = "; if it was refused at server start, no pooler is audited and the pooler checks and "
                          "functions refuse to run until it is fixed";
        else
            consequence = "; the previous or default value applies";
        // Connection strings may hold a password: never shown.
        const std::string shown = is_secret_setting(r.name) ? std::string("(not shown)") : "'" + r.setting + "'";
        found.push_back(make(check, security ? Severity::Critical : Severity::Warning, r.name,
                             r.name + " = " + shown + " (" + where + ") is not in effect: " +
                                 (r.error.empty() ? "setting could not be applied" : r.error) + consequence,
                             hint));
    }
    return or_ok(std::move(found), check, "every tls_audit.* value in the configuration files is applied");
}

std::vector<Finding> check_role_floor_unmatched(const RoleFloorFacts &facts) {
    constexpr std::string_view check = "role_floor_unmatched";
    auto list = parse_role_floors(facts.setting);
    // The GUC's check hook refuses what does not parse: a value in effect
    // always parses; say so rather than guess if it ever does not.
    if (!list.ok())
        return {make(check, Severity::Info, "tls_audit.role_min_protocol",
                     "the setting in effect does not parse: " + list.error().message)};
    std::vector<Finding> found;
    for (const auto &u : unmatched_role_floors(list.value(), facts.roles)) {
        const std::string message = "tls_audit.role_min_protocol entry " + u.entry + " matches no role: " +
                                    (facts.enforce_on ? "sessions it was meant to refuse are admitted"
                                                      : "its floor protects nobody");
        const std::string hint =
            !u.case_variant.empty()
                ? "Role names match exactly, as in pg_hba.conf: role " + u.case_variant +
                      " differs only in case. Write the entry with that name, then reload."
                : "Correct the name (ALTER ROLE ... RENAME does not update the setting), create the role or "
                  "remove the entry, then reload.";
        found.push_back(make(check, facts.enforce_on ? Severity::Critical : Severity::Warning, u.entry, message,
                             hint));
    }
    return or_ok(std::move(found), check,
                 list.value().count == 0 ? "tls_audit.role_min_protocol is empty"
                                         : "every tls_audit.role_min_protocol entry names an existing role");
}

}  // namespace tls_audit
