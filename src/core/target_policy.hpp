// Which hosts tls_audit.probe*() may connect to (tls_audit.probe_allowed_hosts).
#pragma once

#include "pure_cpp.hpp"

#include <string>
#include <string_view>
#include <vector>

#include "error.hpp"

namespace tls_audit {

// Parse a comma-separated allow-list: host names, IP literals, or "*.suffix"
// wildcards (one or more labels). Empty or blank means "no restriction".
// Entries are lower-cased and trimmed. An entry with spaces inside, an empty
// entry between commas, or a bare "*" is an error.
Expected<std::vector<std::string>> parse_allowed_hosts(std::string_view list);

// Whether `host`, as the caller wrote it, is allowed. Matching is on the name
// given, case-insensitive; "*.example.com" matches "db.example.com" and
// "a.b.example.com" but not "example.com". An empty list allows everything.
bool host_allowed(std::string_view host, const std::vector<std::string> &allowed);

}  // namespace tls_audit
