// What a pgbouncer says about itself through its admin console: the TLS
// settings of its two legs (SHOW CONFIG), and the facts the checks judge per
// pooler (checks/checks_pooler.hpp).
//
// pgbouncer's legs are independent: client -> pooler (client_tls_*; sslmode
// default disable) and pooler -> server (server_tls_*; default prefer, which
// verifies nothing).
#pragma once

#include "base/pure_cpp.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/error.hpp"
#include "base/protocol.hpp"
#include "certs/x509.hpp"
#include "pooler/pooler_connections.hpp"

TLS_AUDIT_AREA(pooler);

namespace tls_audit {

// One leg's TLS settings, as SHOW CONFIG prints them.
struct PoolerLegConfig {
    std::string sslmode;        // client_tls_sslmode / server_tls_sslmode
    std::string protocols;      // *_tls_protocols (pgbouncer's default: secure)
    std::string ciphers;        // *_tls_ciphers (default: default)
    std::string tls13_ciphers;  // *_tls13_ciphers (pgbouncer 1.25+; empty: OpenSSL's default)
    std::string cert_file;      // *_tls_cert_file
    std::string ca_file;        // *_tls_ca_file
};

struct PoolerConfig {
    PoolerLegConfig client;  // client -> pooler
    PoolerLegConfig server;  // pooler -> server
};

// One row of SHOW CONFIG.
struct PoolerConfigRow {
    std::string key, value, default_value;  // default_value: empty when the pooler has no such column
};

// SHOW CONFIG's answer (column names and text cells, as the admin console
// sent them) as rows; columns are found by name. An Error when the key or
// value column is missing, or there are more rows than kMaxPoolerRows.
Expected<std::vector<PoolerConfigRow>> pooler_config_rows(const std::vector<std::string> &columns,
                                                          const std::vector<std::vector<PoolerCell>> &rows);

// The TLS settings among SHOW CONFIG's (key, value) rows; a key the pooler
// does not have keeps pgbouncer's default (older versions lack some).
PoolerConfig pooler_config_from_rows(const std::vector<std::pair<std::string, std::string>> &rows);
PoolerConfig pooler_config_from_config_rows(const std::vector<PoolerConfigRow> &rows);

// Does the pooler serve TLS to its clients (client_tls_sslmode is not
// disable)? Only then is its certificate probed.
bool pooler_serves_tls(const PoolerConfig &config);

// Is `key` one of the TLS settings pooler_settings() reports
// (client_tls_*, client_tls13_*, server_tls_*, server_tls13_*)?
bool is_pooler_tls_setting(std::string_view key);

// The protocol versions a *_tls_protocols value allows, oldest first, as
// pgbouncer reads it (libusual's tls_config_parse_protocols): names
// separated by ',' or ':', case-insensitive: tlsv1.0 .. tlsv1.3, tlsv1 (all
// four), all, secure/default (TLSv1.2 and TLSv1.3); '!' removes. An Error
// for a name pgbouncer would refuse.
Expected<std::vector<Protocol>> parse_pooler_protocols(std::string_view value);

// The OpenSSL cipher list a *_tls_ciphers value stands for: "DEFAULT"
// (OpenSSL's default list, which pgbouncer keeps by not setting one) for
// pgbouncer's keywords default, secure, normal and fast, else the value.
std::string pooler_cipher_list(std::string_view value);

// Everything the checks need about one configured pooler.
struct PoolerFacts {
    std::string name;                      // from tls_audit.poolers
    bool password_in_conninfo = false;     // the connection string holds a password (never shown)
    std::optional<PoolerConfig> config;    // nullopt: unreachable (see error)
    std::string error;                     // why the admin console could not be read
    // The certificate chain the pooler serves its clients (probed over
    // STARTTLS when client_tls_sslmode is not disable and the admin console
    // is reached over TCP): nullopt when not probed, see cert_error.
    std::optional<std::vector<CertInfo>> served_chain;
    std::string cert_error;                // why it could not be probed (empty: not attempted)
};

}  // namespace tls_audit
