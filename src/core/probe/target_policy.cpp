#include "probe/target_policy.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <algorithm>
#include <cctype>

namespace tls_audit {

namespace {
std::string lower(std::string_view s) {
    std::string out(s);
    std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::tolower(c); });
    return out;
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
    return s;
}

Error bad_list(const std::string &why) {
    return make_error(sqlstate::kInvalidParameter, "invalid tls_audit.probe_allowed_hosts: " + why,
                      "Use a comma-separated list of host names, IP addresses or *.domain wildcards, each "
                      "optionally followed by :port (IPv6 with a port in brackets: [::1]:5432).");
}

// "5432" -> 5432; nullopt unless 1..65535 in plain digits.
std::optional<int> parse_port(std::string_view s) {
    if (s.empty() || s.size() > 5) return std::nullopt;
    int port = 0;
    for (char c : s) {
        if (c < '0' || c > '9') return std::nullopt;
        port = port * 10 + (c - '0');
    }
    if (port < 1 || port > 65535) return std::nullopt;
    return port;
}

// One trimmed, non-empty entry without white space.
Expected<AllowedHost> parse_entry(std::string_view entry) {
    const std::string quoted = "\"" + std::string(entry) + "\"";
    std::string_view host = entry;
    std::string_view port_text;
    bool has_port = false;
    if (entry.front() == '[') {
        const std::size_t close = entry.find(']');
        if (close == std::string_view::npos) return bad_list(quoted + ": \"[\" without \"]\"");
        host = entry.substr(1, close - 1);
        std::string_view rest = entry.substr(close + 1);
        if (host.find(':') == std::string_view::npos)
            return bad_list(quoted + ": brackets are only for IPv6 addresses");
        if (!rest.empty()) {
            if (rest.front() != ':') return bad_list(quoted + ": expected \":port\" after \"]\"");
            port_text = rest.substr(1);
            has_port = true;
        }
    } else {
        const std::size_t colon = entry.find(':');
        if (colon != std::string_view::npos && entry.find(':', colon + 1) == std::string_view::npos) {
            host = entry.substr(0, colon);
            port_text = entry.substr(colon + 1);
            has_port = true;
        }
        // Two or more colons: an IPv6 literal without a port.
    }
    if (host.empty()) return bad_list(quoted + ": no host");
    if (host.find_first_of("[]") != std::string_view::npos) return bad_list(quoted + ": misplaced bracket");
    if (host.find(':') != std::string_view::npos) {
        // Only a real IPv6 address (":" or "[:]" are not; nor is "[1::2::3]").
        in6_addr addr{};
        const std::string text(host);
        if (!std::all_of(host.begin(), host.end(),
                         [](unsigned char c) { return std::isxdigit(c) || c == ':' || c == '.'; }) ||
            inet_pton(AF_INET6, text.c_str(), &addr) != 1)
            return bad_list(quoted + ": a host with \":\" in it must be an IPv6 address (with a port: [addr]:port)");
    }
    AllowedHost out;
    if (has_port) {
        out.port = parse_port(port_text);
        if (!out.port) return bad_list(quoted + ": the port must be a number from 1 to 65535");
    }
    if (host == "*" || host == "*.") return bad_list("a bare \"*\" is not allowed (leave the list empty instead)");
    if (host.find('*') != std::string_view::npos && (host.rfind("*.", 0) != 0 || host.find('*', 1) != std::string_view::npos))
        return bad_list(quoted + ": a wildcard must be a leading \"*.\"");
    out.host = lower(host);
    return out;
}
}  // namespace

std::string to_string(const AllowedHost &entry) {
    if (!entry.port) return entry.host;
    const bool ipv6 = entry.host.find(':') != std::string::npos;
    return (ipv6 ? "[" + entry.host + "]" : entry.host) + ":" + std::to_string(*entry.port);
}

Expected<std::vector<AllowedHost>> parse_allowed_hosts(std::string_view list) {
    std::vector<AllowedHost> out;
    if (trim(list).empty()) return out;
    std::size_t start = 0;
    while (start <= list.size()) {
        std::size_t comma = list.find(',', start);
        if (comma == std::string_view::npos) comma = list.size();
        std::string_view entry = trim(list.substr(start, comma - start));
        if (entry.empty()) return bad_list("empty entry");
        if (std::any_of(entry.begin(), entry.end(), [](unsigned char c) { return std::isspace(c) || c < 0x20; }))
            return bad_list("entry \"" + std::string(entry) + "\" contains white space");
        auto parsed = parse_entry(entry);
        if (!parsed.ok()) return parsed.error();
        out.push_back(std::move(parsed).take());
        start = comma + 1;
    }
    return out;
}

bool host_allowed(std::string_view host, int port, const std::vector<AllowedHost> &allowed) {
    if (allowed.empty()) return true;
    const std::string h = lower(trim(host));
    for (const AllowedHost &entry : allowed) {
        if (entry.port && *entry.port != port) continue;
        if (entry.host.rfind("*.", 0) == 0) {
            const std::string suffix = entry.host.substr(1);  // ".example.com"
            if (h.size() > suffix.size() && h.compare(h.size() - suffix.size(), suffix.size(), suffix) == 0)
                return true;
        } else if (h == entry.host) {
            return true;
        }
    }
    return false;
}

}  // namespace tls_audit
