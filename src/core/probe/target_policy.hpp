// Which hosts and ports tls_audit.probe*() may connect to
// (tls_audit.probe_allowed_hosts).
#pragma once

#include "base/pure_cpp.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/error.hpp"

TLS_AUDIT_AREA(probe);

namespace tls_audit {

// One entry of the allow-list: a host name, an IP literal, or a "*.suffix"
// wildcard (lower case; an IPv6 literal without its brackets), and the one
// port it allows, or every port when none was written.
struct AllowedHost {
    std::string host;
    std::optional<int> port;

    bool operator==(const AllowedHost &other) const { return host == other.host && port == other.port; }
};

// The entry as it can be written in the list again: "db.example.com",
// "*.example.com:5432", "::1", "[::1]:5432".
std::string to_string(const AllowedHost &entry);

// Parse a comma-separated allow-list of entries HOST or HOST:PORT, where HOST
// is a host name, an IP literal or a "*.suffix" wildcard (one or more labels)
// and an IPv6 literal with a port is written in brackets ("[::1]:5432"; a
// bare "::1" or "[::1]" allows every port). Empty or blank means "no
// restriction". Entries are lower-cased and trimmed. An entry with spaces
// inside, an empty entry between commas, a bare "*", or a port that is not a
// number from 1 to 65535 is an error.
Expected<std::vector<AllowedHost>> parse_allowed_hosts(std::string_view list);

// Whether `host` (as the caller wrote it) on `port` is allowed. Matching is on
// the name given, case-insensitive; "*.example.com" matches "db.example.com"
// and "a.b.example.com" but not "example.com"; an entry with a port allows
// only that port. An empty list allows everything.
bool host_allowed(std::string_view host, int port, const std::vector<AllowedHost> &allowed);

}  // namespace tls_audit
