#include "target_policy.hpp"

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
                      "Use a comma-separated list of host names, IP addresses or *.domain wildcards.");
}
}  // namespace

Expected<std::vector<std::string>> parse_allowed_hosts(std::string_view list) {
    std::vector<std::string> out;
    if (trim(list).empty()) return out;
    std::size_t start = 0;
    while (start <= list.size()) {
        std::size_t comma = list.find(',', start);
        if (comma == std::string_view::npos) comma = list.size();
        std::string_view entry = trim(list.substr(start, comma - start));
        if (entry.empty()) return bad_list("empty entry");
        if (std::any_of(entry.begin(), entry.end(), [](unsigned char c) { return std::isspace(c) || c < 0x20; }))
            return bad_list("entry \"" + std::string(entry) + "\" contains white space");
        if (entry == "*" || entry == "*.") return bad_list("a bare \"*\" is not allowed (leave the list empty instead)");
        if (entry.find('*') != std::string_view::npos && (entry.rfind("*.", 0) != 0 || entry.find('*', 1) != std::string_view::npos))
            return bad_list("\"" + std::string(entry) + "\": a wildcard must be a leading \"*.\"");
        out.push_back(lower(entry));
        start = comma + 1;
    }
    return out;
}

bool host_allowed(std::string_view host, const std::vector<std::string> &allowed) {
    if (allowed.empty()) return true;
    const std::string h = lower(trim(host));
    for (const std::string &entry : allowed) {
        if (entry.rfind("*.", 0) == 0) {
            const std::string suffix = entry.substr(1);  // ".example.com"
            if (h.size() > suffix.size() && h.compare(h.size() - suffix.size(), suffix.size(), suffix) == 0)
                return true;
        } else if (h == entry) {
            return true;
        }
    }
    return false;
}

}  // namespace tls_audit
