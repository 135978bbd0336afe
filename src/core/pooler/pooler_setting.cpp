#include "pooler/pooler_setting.hpp"

#include <cctype>
#include <optional>

namespace tls_audit {

namespace {

bool blank(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

std::string_view trim(std::string_view s) {
    while (!s.empty() && blank(s.front())) s.remove_prefix(1);
    while (!s.empty() && blank(s.back())) s.remove_suffix(1);
    return s;
}

Error refuse(std::size_t position, std::string_view name, const std::string &why) {
    std::string which = "entry " + std::to_string(position);
    if (!name.empty()) which += " (\"" + std::string(name) + "\")";
    return make_error(sqlstate::kInvalidParameter, "invalid tls_audit.poolers: " + which + " " + why,
                      "Write NAME=CONNINFO entries separated by ';', e.g. "
                      "'edge=host=127.0.0.1 port=6432 dbname=pgbouncer user=tls_audit_monitor'.");
}

bool valid_name(std::string_view name) {
    if (name.empty() || name.size() > 63) return false;
    if (std::isdigit(static_cast<unsigned char>(name.front()))) return false;
    for (char c : name)
        if (!(std::islower(static_cast<unsigned char>(c)) || std::isdigit(static_cast<unsigned char>(c)) || c == '_'))
            return false;
    return true;
}

// Split at ';' outside single quotes (libpq's quoting: '...' with \' and \\).
// nullopt when a quote is left open.
std::optional<std::vector<std::string_view>> split_entries(std::string_view value) {
    std::vector<std::string_view> out;
    bool quoted = false;
    std::size_t start = 0;
    for (std::size_t i = 0; i < value.size(); ++i) {
        const char c = value[i];
        if (quoted && c == '\\') {
            ++i;  // the escaped character, whatever it is
        } else if (c == '\'') {
            quoted = !quoted;
        } else if (c == ';' && !quoted) {
            out.push_back(value.substr(start, i - start));
            start = i + 1;
        }
    }
    if (quoted) return std::nullopt;
    out.push_back(value.substr(start));
    return out;
}

// libpq's connection keywords: an entry starting with one of them has
// forgotten its NAME= (e.g. "host=h port=6432").
bool is_conninfo_keyword(std::string_view name) {
    static const std::string_view keywords[] = {
        "host", "hostaddr", "port", "dbname", "user", "password", "passfile", "service", "sslmode",
        "connect_timeout", "options", "application_name", "sslcert", "sslkey", "sslrootcert",
        "sslnegotiation", "target_session_attrs", "channel_binding", "require_auth", "gssencmode"};
    for (std::string_view k : keywords)
        if (name == k) return true;
    return false;
}

}  // namespace

Expected<std::vector<PoolerEntry>> parse_poolers_setting(std::string_view value) {
    std::vector<PoolerEntry> out;
    if (trim(value).empty()) return out;
    if (value.size() > kMaxPoolersSettingLength)
        return make_error(sqlstate::kInvalidParameter,
                          "invalid tls_audit.poolers: longer than " + std::to_string(kMaxPoolersSettingLength) +
                              " characters");
    const auto entries = split_entries(value);
    if (!entries)
        return make_error(sqlstate::kInvalidParameter, "invalid tls_audit.poolers: a single quote is not closed",
                          "Close every quoted value of the connection strings ('...').");
    for (std::size_t i = 0; i < entries->size(); ++i) {
        const std::size_t position = i + 1;
        const std::string_view entry = trim((*entries)[i]);
        if (entry.empty()) {
            // A trailing ';' is harmless; an empty entry in the middle is a typo.
            if (i + 1 == entries->size() && i > 0) break;
            return refuse(position, {}, "is empty");
        }
        const std::size_t eq = entry.find('=');
        if (eq == std::string_view::npos) return refuse(position, {}, "has no NAME=");
        const std::string_view name = trim(entry.substr(0, eq));
        // The name is shown only when it is a valid name (a connection
        // string mistaken for a name must not be echoed).
        if (!valid_name(name))
            return refuse(position, {},
                          "has no valid name before '=' (lower-case letters, digits and '_', "
                          "not starting with a digit, at most 63 characters)");
        if (is_conninfo_keyword(name))
            return refuse(position, {}, "starts with the connection keyword \"" + std::string(name) +
                                            "\" instead of a name (write NAME=CONNINFO)");
        const std::string_view conninfo = trim(entry.substr(eq + 1));
        if (conninfo.empty()) return refuse(position, name, "has an empty connection string");
        for (const auto &seen : out)
            if (seen.name == name) return refuse(position, name, "repeats a name");
        if (out.size() == kMaxPoolers)
            return refuse(position, name, "is one too many (at most " + std::to_string(kMaxPoolers) + " poolers)");
        out.push_back(PoolerEntry{std::string(name), std::string(conninfo)});
    }
    return out;
}

Expected<PoolerEntry> parse_pooler_option(std::string_view value, std::size_t position,
                                          const std::vector<std::string> &keywords) {
    auto refuse_option = [&](const std::string &why) {
        return make_error(sqlstate::kInvalidParameter, "--pooler " + std::to_string(position) + ": " + why,
                          "Give [NAME=]CONNINFO, e.g. --pooler 'edge=host=127.0.0.1 port=6432 dbname=pgbouncer "
                          "user=tls_audit_monitor'.");
    };
    const std::string_view text = trim(value);
    if (text.empty()) return refuse_option("the connection string is empty");
    if (text.size() > kMaxPoolersSettingLength)
        return refuse_option("longer than " + std::to_string(kMaxPoolersSettingLength) + " characters");
    PoolerEntry entry{"pooler" + std::to_string(position), std::string(text)};
    const std::size_t eq = text.find('=');
    if (eq == std::string_view::npos) return entry;  // libpq says what is wrong with it
    const std::string_view name = trim(text.substr(0, eq));
    bool keyword = is_conninfo_keyword(name);
    for (const auto &k : keywords) keyword = keyword || name == k;
    if (!valid_name(name) || keyword) return entry;
    const std::string_view conninfo = trim(text.substr(eq + 1));
    if (conninfo.empty()) return refuse_option("\"" + std::string(name) + "\" has an empty connection string");
    return PoolerEntry{std::string(name), std::string(conninfo)};
}

}  // namespace tls_audit
