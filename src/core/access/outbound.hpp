// Outbound links: the connections the server itself makes (a standby's
// primary_conninfo, logical replication subscriptions, postgres_fdw and
// dblink foreign servers and their user mappings).
//
// The glue parses each link's connection string with libpq's own
// PQconninfoParse (or takes a foreign server's options as they are) and
// hands the core the (keyword, value) pairs, plus what libpq would fall back
// to for a keyword the link does not set: the server process's environment
// (PGSSLMODE, ...; every backend, the walreceiver and the apply workers
// inherit the postmaster's) and libpq's compiled-in defaults. The core
// decides what libpq will do with them: the effective sslmode and where it
// comes from, whether the server's certificate is verified, whether every
// host is loopback, whether a password is stored. No DNS and no file access
// here.
#pragma once

#include "base/pure_cpp.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

TLS_AUDIT_AREA(access);

namespace tls_audit {

// One keyword of a link's options. `value` is nullopt when the link does not
// set the keyword (PQconninfoParse reports every keyword, NULL when unset).
struct ConnOption {
    std::string keyword;
    std::optional<std::string> value;
};
using ConnOptions = std::vector<ConnOption>;

// What libpq falls back to for an unset keyword.
struct ConnDefaults {
    // From the environment of the server's processes: keyword -> value (e.g.
    // "sslmode" -> value of PGSSLMODE). Only variables that are set.
    std::vector<std::pair<std::string, std::string>> environment;
    // libpq's compiled-in defaults (PQconndefaults()->compiled): keyword -> value.
    std::vector<std::pair<std::string, std::string>> compiled;
    // The unix socket directory used when no host is given anywhere.
    std::string default_socket_dir = "/tmp";
    // The root certificate file libpq reads when sslrootcert is unset
    // (~/.postgresql/root.crt of the server's OS user); empty when unknown.
    std::string default_root_cert;
    // PQlibVersion() of the libpq the server uses (e.g. 150018, 180006).
    int libpq_version = 0;
};

// Where the effective sslmode comes from.
enum class SettingSource { ConnectionString, Environment, LibpqDefault };
const char *setting_source_name(SettingSource s);  // "connection string", "environment", "libpq default"

// What the core decides about one link.
struct LinkAssessment {
    std::string host;  // the host list as libpq will use it (hostaddr shown as "host (hostaddr)")
    std::string port;
    std::string sslmode;
    SettingSource sslmode_source = SettingSource::LibpqDefault;
    // A service (conninfo `service` or PGSERVICE) is in use and the link sets
    // no sslmode itself: the service file may set one, which is not read.
    std::string service;
    std::string sslrootcert;     // effective; "system" kept as written
    bool sslrootcert_default = false;  // sslrootcert unset: libpq's default file
    bool sslcert_present = false;
    std::string sslnegotiation;  // '' when unset and libpq has no such keyword
    std::string ssl_min_protocol_version;
    std::string channel_binding;
    bool verifies_server = false;      // verify-ca or verify-full
    bool checks_host_name = false;     // verify-full
    bool password_in_conninfo = false;  // a password keyword with a non-empty value
    bool password_in_environment = false;  // PGPASSWORD is set for the server's processes
    // libpq 18's sslkeylogfile (the link's, or from the environment): libpq
    // writes every TLS session's keys there (NSS key log), so anyone who can
    // read the file can decrypt captured traffic. Empty when unset.
    std::string sslkeylogfile;
    SettingSource sslkeylogfile_source = SettingSource::LibpqDefault;
    int libpq_version = 0;  // ConnDefaults::libpq_version (0: unknown)
    bool loopback_only = false;  // every host is a unix socket, localhost or a loopback address
    bool unix_socket_only = false;
    std::vector<std::string> notes;  // human-readable remarks, in order
};

LinkAssessment assess_link(const ConnOptions &options, const ConnDefaults &defaults);

// One host of a link: a unix socket path (starts with '/' or '@'), the name
// "localhost", or a numeric address in 127.0.0.0/8 or ::1 (also written as
// an IPv4-mapped IPv6 address). Host names are not resolved: any other name
// is not loopback.
bool is_loopback_host(std::string_view host);

// The value of `keyword` in `options` (nullopt when absent or unset).
std::optional<std::string> option_value(const ConnOptions &options, std::string_view keyword);

// The keywords that are secrets: their values are never shown.
bool is_secret_keyword(std::string_view keyword);

// libpq's message for a connection string PQconninfoParse refused, safe to
// show. When parsing fails there are no parsed options to tell a password
// from the rest, and libpq's messages echo fragments of the string in double
// quotes (`missing "=" after "%s" in connection info string`) that may
// themselves hold quotes (password=correct"horse battery"staple). So
// everything from the first double quote to the last is one "..." and only
// libpq's own words around it remain; a newline ends the message. The quotes
// are found in the whole message before it is cut at its first newline: an
// echoed fragment may itself hold a newline, and cutting first would keep the
// part of it before the newline.
std::string redact_conninfo_error(std::string_view message);

}  // namespace tls_audit
