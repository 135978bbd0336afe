// The server's TLS state as the SQL functions and run_checks() read it, in
// C++: the TLS settings, the files they name (ServerFilesReader), the
// certificate actually served (handshake capture or self-probe), and the
// settings a reload would apply (for the pre-flight). One reader for each,
// shared by tls_audit.server_tls(), server_certificates(), ca_certificates(),
// reload_preflight() and run_checks(), so none of them calls another back
// through SQL.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "certs/reload_preflight.hpp"
#include "certs/server_files.hpp"
#include "certs/x509.hpp"

namespace tls_audit::pg {

// GetConfigOption(name) ("" when unset or unknown).
std::string setting(const char *name);

struct TlsSettings {
    bool ssl_enabled = false;
    ServerFileSettings files;
    std::string min_protocol, max_protocol, ciphers;
    std::string tls13_ciphers, groups;  // 18's ssl_tls13_ciphers ('' before 18); ssl_groups / ssl_ecdh_curve
};
TlsSettings read_tls_settings();

// The files the settings name, through this backend's cached reader.
ServerFilesReport read_server_files(const TlsSettings &s);

// The key-exchange groups the running server offers (OpenSSL's names, in its
// order). From this backend's own TLS connection when it has one and no
// reload happened since it started (source "session": the server's context
// itself); otherwise from a context this process builds from the setting as
// PostgreSQL builds its own (source "settings"). `error` says why none could
// be read (groups empty then).
struct OfferedGroups {
    std::vector<std::string> groups;
    std::string source;
    std::string error;
};
OfferedGroups read_offered_groups(const TlsSettings &s);

// The chain the server presents.
struct Served {
    std::string source = "none";  // handshake | self_probe | none
    std::vector<CertInfo> certs;  // [0] = leaf
    std::optional<std::int64_t> at;
    std::string error;
};
// Sets `interrupted` (and returns nothing useful) when a self-probe stopped
// for a query cancel or termination: the caller then leaves its C++ frames and
// calls service_self_probe_interrupt().
Served served_certificates(bool ssl_enabled, bool &interrupted);

// Let PostgreSQL service the interrupt that stopped a self-probe, with its own
// message (outside any C++ frame: it raises).
[[noreturn]] void service_self_probe_interrupt();

// What pg_reload_conf() would apply now: the current settings overridden by
// those changed in the configuration files and not applied yet.
struct ReloadPlan {
    bool ssl = false;
    PreflightSettings settings;
};
ReloadPlan reload_plan();

}  // namespace tls_audit::pg
