#include "access/outbound.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <cctype>
#include <cstring>

namespace tls_audit {

namespace {

std::string lower(std::string_view s) {
    std::string out(s);
    for (char &c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

std::optional<std::string> lookup(const std::vector<std::pair<std::string, std::string>> &list,
                                  std::string_view keyword) {
    for (const auto &[k, v] : list)
        if (k == keyword) return v;
    return std::nullopt;
}

// libpq's comma-separated host/hostaddr/port lists.
std::vector<std::string> split_list(const std::string &s) {
    std::vector<std::string> out;
    std::string cur;
    for (char c : s) {
        if (c == ',') {
            out.push_back(cur);
            cur.clear();
        } else {
            cur += c;
        }
    }
    out.push_back(cur);
    return out;
}

struct Resolved {
    std::string value;
    SettingSource source = SettingSource::LibpqDefault;
    bool set = false;  // found anywhere (conninfo, environment or compiled default)
};

// A keyword as libpq resolves it: the link's own value, else the
// environment, else the compiled-in default.
Resolved resolve(const ConnOptions &options, const ConnDefaults &d, std::string_view keyword) {
    if (auto v = option_value(options, keyword)) return {*v, SettingSource::ConnectionString, true};
    if (auto v = lookup(d.environment, keyword)) return {*v, SettingSource::Environment, true};
    if (auto v = lookup(d.compiled, keyword)) return {*v, SettingSource::LibpqDefault, true};
    return {};
}

}  // namespace

const char *setting_source_name(SettingSource s) {
    switch (s) {
    case SettingSource::ConnectionString: return "connection string";
    case SettingSource::Environment: return "environment";
    case SettingSource::LibpqDefault: return "libpq default";
    }
    return "unknown";
}

std::optional<std::string> option_value(const ConnOptions &options, std::string_view keyword) {
    for (const auto &o : options)
        if (o.keyword == keyword && o.value) return o.value;
    return std::nullopt;
}

bool is_secret_keyword(std::string_view keyword) {
    return keyword == "password" || keyword == "sslpassword" || keyword == "passfile_contents";
}

std::string redact_conninfo_error(std::string_view message) {
    const std::size_t first = message.find('"');
    std::string out;
    if (first == std::string_view::npos) {
        out = std::string(message);
    } else {
        const std::size_t last = message.rfind('"');
        out = std::string(message.substr(0, first)) + "\"...\"";
        if (last != first) out += std::string(message.substr(last + 1));
    }
    const std::size_t end_of_line = out.find('\n');
    if (end_of_line != std::string::npos) out.erase(end_of_line);
    while (!out.empty() && (out.back() == ' ' || out.back() == '\r')) out.pop_back();
    return out;
}

bool is_loopback_host(std::string_view host) {
    if (host.empty()) return false;
    if (host.front() == '/' || host.front() == '@') return true;  // unix socket (path or abstract)
    if (lower(host) == "localhost") return true;
    std::string h(host);
    if (h.size() > 2 && h.front() == '[' && h.back() == ']') h = h.substr(1, h.size() - 2);
    unsigned char buf[16];
    if (inet_pton(AF_INET, h.c_str(), buf) == 1) return buf[0] == 127;
    if (inet_pton(AF_INET6, h.c_str(), buf) == 1) {
        static const unsigned char loopback6[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
        if (std::memcmp(buf, loopback6, 16) == 0) return true;
        static const unsigned char mapped_prefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
        return std::memcmp(buf, mapped_prefix, 12) == 0 && buf[12] == 127;
    }
    return false;
}

LinkAssessment assess_link(const ConnOptions &options, const ConnDefaults &d) {
    LinkAssessment a;

    // Hosts: host and hostaddr are parallel lists; a hostaddr entry is the
    // address really connected to. With neither: the default socket directory.
    const Resolved host = resolve(options, d, "host");
    const Resolved hostaddr = resolve(options, d, "hostaddr");
    std::vector<std::string> hosts = split_list(host.set ? host.value : std::string());
    std::vector<std::string> addrs = split_list(hostaddr.set ? hostaddr.value : std::string());
    const std::size_t n = std::max(hosts.size(), addrs.size());
    hosts.resize(n);
    addrs.resize(n);
    bool all_loopback = true, all_socket = true;
    std::string shown;
    for (std::size_t i = 0; i < n; ++i) {
        std::string where;
        std::string target;  // what decides loopback
        if (!addrs[i].empty()) {
            target = addrs[i];
            where = hosts[i].empty() ? addrs[i] : hosts[i] + " (hostaddr " + addrs[i] + ")";
        } else if (!hosts[i].empty()) {
            target = hosts[i];
            where = hosts[i];
        } else {
            target = d.default_socket_dir;
            where = d.default_socket_dir;
        }
        if (!shown.empty()) shown += ",";
        shown += where;
        if (!is_loopback_host(target)) all_loopback = false;
        if (target.empty() || (target.front() != '/' && target.front() != '@')) all_socket = false;
    }
    a.host = shown;
    a.loopback_only = all_loopback;
    a.unix_socket_only = all_socket;
    const Resolved port = resolve(options, d, "port");
    a.port = port.value;

    // sslmode: the link's, else PGSSLMODE, else (libpq 16+) verify-full when
    // sslrootcert=system, else the deprecated requiressl, else the default.
    const Resolved rootcert = resolve(options, d, "sslrootcert");
    const bool system_roots = rootcert.set && rootcert.value == "system" && d.libpq_version >= 160000;
    const Resolved mode = resolve(options, d, "sslmode");
    if (mode.set && mode.source != SettingSource::LibpqDefault) {
        a.sslmode = mode.value;
        a.sslmode_source = mode.source;
    } else if (system_roots) {
        a.sslmode = "verify-full";
        a.sslmode_source = SettingSource::LibpqDefault;
        a.notes.push_back("sslmode defaults to verify-full with sslrootcert=system");
    } else {
        const Resolved requiressl = resolve(options, d, "requiressl");
        if (requiressl.set && requiressl.source != SettingSource::LibpqDefault && !requiressl.value.empty() &&
            requiressl.value[0] == '1') {
            a.sslmode = "require";
            a.sslmode_source = requiressl.source;
            a.notes.push_back("sslmode comes from the deprecated requiressl");
        } else {
            a.sslmode = mode.set ? mode.value : "prefer";
            a.sslmode_source = SettingSource::LibpqDefault;
            a.notes.push_back("sslmode is not set: libpq's default " + a.sslmode + " applies");
        }
    }
    if (a.sslmode_source == SettingSource::Environment)
        a.notes.push_back("sslmode comes from PGSSLMODE in the server's environment");

    // A service file can set any keyword the link leaves unset; it is not read.
    const Resolved service = resolve(options, d, "service");
    if (service.set && !service.value.empty() && a.sslmode_source != SettingSource::ConnectionString) {
        a.service = service.value;
        a.notes.push_back("service '" + service.value +
                          "' is used: its entry in the service file may set sslmode and the other "
                          "options, which is not read; shown is what applies if it does not");
    }

    a.verifies_server = a.sslmode == "verify-ca" || a.sslmode == "verify-full";
    a.checks_host_name = a.sslmode == "verify-full";
    if (a.sslmode == "verify-ca") a.notes.push_back("verify-ca does not check the server's host name");

    if (rootcert.set && !rootcert.value.empty()) {
        a.sslrootcert = rootcert.value;
    } else {
        a.sslrootcert = d.default_root_cert;
        a.sslrootcert_default = true;
    }
    if (rootcert.set && rootcert.value == "system" && d.libpq_version < 160000)
        a.notes.push_back("sslrootcert=system needs libpq 16 or newer: this libpq reads a file named 'system'");

    const Resolved cert = resolve(options, d, "sslcert");
    a.sslcert_present = cert.set && cert.source != SettingSource::LibpqDefault && !cert.value.empty();
    a.sslnegotiation = resolve(options, d, "sslnegotiation").value;
    a.ssl_min_protocol_version = resolve(options, d, "ssl_min_protocol_version").value;
    a.channel_binding = resolve(options, d, "channel_binding").value;

    if (auto p = option_value(options, "password")) a.password_in_conninfo = !p->empty();
    // Judged whatever the libpq version: an older libpq refuses the keyword
    // (the link fails), which the finding says; it is never silently fine.
    if (const Resolved keylog = resolve(options, d, "sslkeylogfile"); keylog.set && !keylog.value.empty()) {
        a.sslkeylogfile = keylog.value;
        a.sslkeylogfile_source = keylog.source;
    }
    a.libpq_version = d.libpq_version;
    a.password_in_environment = lookup(d.environment, "password").has_value();
    if (a.password_in_environment) a.notes.push_back("PGPASSWORD is set in the server's environment");

    if (a.unix_socket_only) a.notes.push_back("unix socket only: libpq does not use TLS there");
    return a;
}

}  // namespace tls_audit
