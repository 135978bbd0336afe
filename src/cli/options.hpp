// pg_tls_check's command line: options, targets, and the targets file.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "base/error.hpp"
#include "base/protocol.hpp"

namespace tls_audit::cli {

inline constexpr const char *kToolVersion = "1.2";

enum class Format { Text, Json, Tap, Nagios, Prometheus, Html };

struct HostPort {
    std::string host;  // without IPv6 brackets
    int port = 5432;
};

struct Options {
    std::vector<HostPort> targets;
    std::string targets_file;  // --targets; its lines are appended to `targets` by the caller
    int min_days = 30;
    int critical_days = 7;
    Protocol min_protocol = Protocol::TLSv1_2;
    std::string ca_file;
    std::string sni;
    int timeout_ms = 5000;
    int jobs = 4;
    bool direct_tls = false;  // --direct-tls: one more connection per target, direct TLS
    Format format = Format::Text;
    bool enumerate = false;  // --enumerate: accepted suites per version, groups, DHE size
    std::string profile;     // --profile modern|intermediate|old (implies enumerate)
    std::string output;      // --output FILE: write the report there atomically
    bool help = false;
    bool version = false;
    // Plaintext acceptance and trust-store readiness (readiness_check.hpp).
    bool plaintext = false;                      // --plaintext (implied by --require-tls)
    bool require_tls = false;                    // --require-tls (implied by --profile)
    bool allow_plaintext = false;                // --allow-plaintext: --profile without --require-tls
    std::string plaintext_user;                  // --user; empty: kPlaintextDefaultUser
    std::string plaintext_database;              // --database; empty: not sent
    std::vector<std::string> ca_files;           // every --ca-file, in order (ca_file is the first)
    std::vector<std::string> ca_files_optional;  // every --ca-file-optional
    // Every --pooler [NAME=]CONNINFO, as given (pooler_console.hpp names and
    // checks them with libpq; never shown: a connection string may hold secrets).
    std::vector<std::string> poolers;
};

// Parse argv (without argv[0]). Errors are usage errors (22023).
Expected<Options> parse_args(const std::vector<std::string> &args);

// "host", "host:port", "[v6]", "[v6]:port" or a bare IPv6 literal.
Expected<HostPort> parse_host_port(std::string_view text);

// One target per line; '#' starts a comment; blank lines are skipped. Errors
// name the line.
Expected<std::vector<HostPort>> parse_targets_file(std::string_view text);

const char *format_name(Format f);
std::string usage();

}  // namespace tls_audit::cli
