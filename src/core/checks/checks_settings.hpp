// Checks of the extension's own settings as written in the configuration
// files (rows of pg_file_settings).
#pragma once

#include "base/pure_cpp.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "checks/finding.hpp"

TLS_AUDIT_AREA(checks);

namespace tls_audit {

// The extension's own settings (rows of pg_file_settings)

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

// Settings whose value may hold a secret (tls_audit.poolers: connection
// strings): findings and warnings name them without their value.
bool is_secret_setting(std::string_view name);

std::vector<Finding> check_settings_not_applied(const std::vector<FileSetting> &rows);

// tls_audit.role_min_protocol against the roles that exist.
struct RoleFloorFacts {
    std::string setting;             // tls_audit.role_min_protocol as in effect
    bool enforce_on = false;         // tls_audit.enforce_floor = on
    std::vector<std::string> roles;  // every role's name (pg_authid.rolname)
};

// One finding per entry that matches no role (warning; critical with
// enforce_floor = on, where the entry was meant to refuse sessions), with a
// hint naming a role that differs only in case; 'ok' when every entry matches.
std::vector<Finding> check_role_floor_unmatched(const RoleFloorFacts &facts);

}  // namespace tls_audit
