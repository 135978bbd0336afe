// tls_audit.poolers: the pgbouncer admin consoles the extension audits.
//
//   tls_audit.poolers = 'edge=host=10.0.0.5 port=6432 dbname=pgbouncer user=tls_audit_monitor;
//                        batch=host=/run/pgbouncer port=6433 dbname=pgbouncer'
//
// A list of NAME=CONNINFO entries separated by ';'. NAME is what every row and
// finding about that pooler is labelled with (lower-case letters, digits and
// '_', at most 63 characters, unique); CONNINFO is a libpq connection string
// (keyword=value pairs; a ';' inside a single-quoted value does not end the
// entry). This file splits and names the entries; the glue has libpq parse
// each CONNINFO (PQconninfoParse) and refuses the whole value when one does
// not parse. Errors never echo a connection string: it may hold a password.
#pragma once

#include "base/pure_cpp.hpp"

#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/error.hpp"

TLS_AUDIT_AREA(pooler);

namespace tls_audit {

struct PoolerEntry {
    std::string name;
    std::string conninfo;  // as written, surrounding blanks removed; never shown
};

// Limits that keep one run_checks() bounded (each pooler costs up to three
// connection timeouts).
inline constexpr std::size_t kMaxPoolers = 16;
inline constexpr std::size_t kMaxPoolersSettingLength = 8192;

// The entries, in order; empty for an empty (or blank) value. An Error
// (22023) names the entry (its position, and its name when it has one) and
// what is wrong.
Expected<std::vector<PoolerEntry>> parse_poolers_setting(std::string_view value);

// One pooler given on pg_tls_check's command line (--pooler, repeatable):
// NAME=CONNINFO as in tls_audit.poolers, or a bare CONNINFO (keyword=value
// pairs or a postgresql:// URI), then named "pooler<position>". The text
// before the first '=' is a NAME when it is a valid name and not one of
// `keywords` (libpq's connection keywords, from the caller's libpq; empty:
// the common ones). An Error (22023) never echoes the connection string.
Expected<PoolerEntry> parse_pooler_option(std::string_view value, std::size_t position,
                                          const std::vector<std::string> &keywords);

}  // namespace tls_audit
