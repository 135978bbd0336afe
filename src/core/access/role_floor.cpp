#include "access/role_floor.hpp"

#include <cstdio>
#include <cstring>

#include "base/hot_path.hpp"

namespace tls_audit {

namespace {

constexpr const char *kHint =
    "Write a comma-separated list of name=protocol items: a role name, +group for the members of a role, or * "
    "for every other role; the protocol is one of TLSv1, TLSv1.1, TLSv1.2, TLSv1.3. Example: "
    "etl=TLSv1.3, +reporting=TLSv1.3, *=TLSv1.2";

bool blank(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

std::string_view trim(std::string_view s) {
    while (!s.empty() && blank(s.front())) s.remove_prefix(1);
    while (!s.empty() && blank(s.back())) s.remove_suffix(1);
    return s;
}

Error item_error(std::size_t number, std::string_view item, const std::string &what) {
    std::string shown(item.substr(0, 200));
    return make_error(sqlstate::kInvalidParameter,
                      "invalid entry " + std::to_string(number) + " \"" + shown + "\": " + what, kHint);
}

// Split at commas outside double quotes. Returns false on an unterminated quote.
template <class F> bool split_items(std::string_view text, F &&each) {
    bool quoted = false;
    std::size_t start = 0;
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (text[i] == '"') quoted = !quoted;
        if (text[i] == ',' && !quoted) {
            if (!each(text.substr(start, i - start))) return true;
            start = i + 1;
        }
    }
    if (quoted) return false;
    each(text.substr(start));
    return true;
}

struct ParsedName {
    FloorScope scope = FloorScope::Role;
    std::string name;
    std::string_view rest;  // after the name: "= protocol"
};

// Parse the name part of an item; on error return the message.
std::optional<std::string> parse_name(std::string_view item, ParsedName &out) {
    std::string_view s = item;
    if (!s.empty() && s.front() == '*') {
        out.scope = FloorScope::Default;
        out.rest = s.substr(1);
        return std::nullopt;
    }
    if (!s.empty() && s.front() == '+') {
        out.scope = FloorScope::Group;
        s.remove_prefix(1);
        while (!s.empty() && blank(s.front())) s.remove_prefix(1);
    }
    if (!s.empty() && s.front() == '"') {
        std::size_t i = 1;
        for (;;) {
            if (i >= s.size()) return std::string("unterminated quoted name");
            if (s[i] == '"') {
                if (i + 1 < s.size() && s[i + 1] == '"') {
                    out.name.push_back('"');
                    i += 2;
                    continue;
                }
                break;
            }
            out.name.push_back(s[i++]);
        }
        out.rest = s.substr(i + 1);
    } else {
        const std::size_t eq = s.find('=');
        const std::string_view name = trim(s.substr(0, eq));
        if (name.find('"') != std::string_view::npos)
            return std::string("a quote may only enclose the whole name");
        out.name.assign(name);
        out.rest = eq == std::string_view::npos ? std::string_view() : s.substr(eq);
    }
    if (out.name.empty()) return std::string("empty role name");
    if (out.name.size() >= kRoleFloorNameLen)
        return "role name longer than " + std::to_string(kRoleFloorNameLen - 1) + " bytes";
    if (out.name.find('\0') != std::string::npos) return std::string("role name contains a NUL byte");
    return std::nullopt;
}

const char *scope_prefix(FloorScope scope) { return scope == FloorScope::Group ? "+" : ""; }

// A name as the setting must spell it: quoted when it would not read back.
std::string spelled(const RoleFloorEntry &e) {
    if (e.scope == FloorScope::Default) return "*";
    const std::string_view name(e.name);
    bool plain = !name.empty() && name.front() != '*' && name.front() != '+';
    for (char c : name)
        if (c == ',' || c == '=' || c == '"' || blank(c)) plain = false;
    std::string out = scope_prefix(e.scope);
    if (plain) return out + std::string(name);
    out.push_back('"');
    for (char c : name) {
        if (c == '"') out.push_back('"');
        out.push_back(c);
    }
    out.push_back('"');
    return out;
}

// snprintf that tolerates a zero capacity and never reports truncation.
template <class... Args> void put(char *out, std::size_t capacity, const char *format, Args... args) noexcept {
    if (capacity == 0) return;
    // NOLINTNEXTLINE(cppcoreguidelines-pro-type-vararg): fixed formats, no allocation
    std::snprintf(out, capacity, format, args...);
}

}  // namespace

Expected<RoleFloorList> parse_role_floors(std::string_view text) {
    RoleFloorList list;
    std::memset(static_cast<void *>(&list), 0, sizeof list);
    if (trim(text).empty()) return list;
    std::optional<Error> error;
    std::size_t number = 0;
    const bool terminated = split_items(text, [&](std::string_view raw) {
        ++number;
        const std::string_view item = trim(raw);
        if (item.empty()) {
            error = item_error(number, item, "empty item (two commas in a row, or a comma at an end)");
            return false;
        }
        ParsedName parsed;
        if (auto bad = parse_name(item, parsed)) {
            error = item_error(number, item, *bad);
            return false;
        }
        const std::string_view rest = trim(parsed.rest);
        if (rest.empty() || rest.front() != '=') {
            error = item_error(number, item, "expected name=protocol");
            return false;
        }
        const std::string_view proto_text = trim(rest.substr(1));
        const auto proto = parse_protocol(proto_text);
        if (!proto) {
            error = item_error(number, item,
                               proto_text.empty() ? std::string("missing protocol")
                                                  : "unknown protocol \"" + std::string(proto_text.substr(0, 32)) +
                                                        "\" (valid: " + valid_floor_names() + ")");
            return false;
        }
        if (*proto < Protocol::TLSv1) {
            error = item_error(number, item, std::string("SSLv3 is not a floor (valid: ") + valid_floor_names() + ")");
            return false;
        }
        for (std::uint32_t i = 0; i < list.count; ++i) {
            const RoleFloorEntry &e = list.entries[i];
            if (e.scope == parsed.scope && parsed.name == e.name) {
                error = item_error(number, item,
                                   parsed.scope == FloorScope::Default ? std::string("* is given twice")
                                                                       : "duplicate entry for " + spelled(e));
                return false;
            }
        }
        if (list.count >= kRoleFloorMaxEntries) {
            error = item_error(number, item, "more than " + std::to_string(kRoleFloorMaxEntries) + " items");
            return false;
        }
        RoleFloorEntry &e = list.entries[list.count++];
        std::memcpy(e.name, parsed.name.data(), parsed.name.size());
        e.scope = parsed.scope;
        e.floor = *proto;
        if (e.scope == FloorScope::Group) list.has_groups = true;
        return true;
    });
    if (!terminated)
        return make_error(sqlstate::kInvalidParameter, "unterminated double quote in the list", kHint);
    if (error) return *error;
    return list;
}

std::string format_role_floors(const RoleFloorList &list) {
    std::string out;
    for (std::uint32_t i = 0; i < list.count; ++i) {
        if (i > 0) out += ", ";
        out += spelled(list.entries[i]);
        out += "=";
        out += protocol_name(list.entries[i].floor);
    }
    return out;
}

const RoleFloorEntry *resolve_role_floor(const RoleFloorList &list, std::string_view role, RoleMemberFn member,
                                         void *context) noexcept {
    const RoleFloorEntry *fallback = nullptr;
    for (std::uint32_t i = 0; i < list.count; ++i) {
        const RoleFloorEntry &e = list.entries[i];
        if (e.scope == FloorScope::Role && !role.empty() && role == e.name) return &e;
        if (e.scope == FloorScope::Default) fallback = &e;
    }
    if (list.has_groups && member != nullptr && !role.empty()) {
        const RoleFloorEntry *best = nullptr;
        for (std::uint32_t i = 0; i < list.count; ++i) {
            const RoleFloorEntry &e = list.entries[i];
            if (e.scope != FloorScope::Group) continue;
            if (best != nullptr && e.floor <= best->floor) continue;  // cannot raise the floor: skip the lookup
            if (member(e.name, context)) best = &e;
        }
        if (best != nullptr) return best;
    }
    return fallback;
}

TLS_AUDIT_HOT FloorDecision decide_role_floor(const RoleFloorEntry *entry, const char *transport,
                                              const char *protocol) noexcept {
    if (transport == nullptr || transport[0] == '\0') return FloorDecision::NoFloor;
    // string_view comparisons compile to immediate compares: no page of
    // string constants touched on the connection path.
    const std::string_view t(transport);
    if (t == "unix") return FloorDecision::UnixSocket;
    if (entry == nullptr) return FloorDecision::NoFloor;
    if (t != "tls") return FloorDecision::NoTls;
    const auto negotiated = parse_protocol(protocol != nullptr ? protocol : "");
    if (!negotiated || *negotiated < entry->floor) return FloorDecision::BelowFloor;
    return FloorDecision::Ok;
}

TLS_AUDIT_HOT bool floor_violation_possible(const RoleFloorList &list, std::string_view role, const char *transport,
                              const char *protocol) noexcept {
    // The same precedence as resolve_role_floor: an entry of its own decides
    // alone; otherwise any group may apply, or `*`, or nothing (never violated).
    bool possible = false;
    for (std::uint32_t i = 0; i < list.count; ++i) {
        const RoleFloorEntry &e = list.entries[i];
        if (e.scope == FloorScope::Role) {
            if (!role.empty() && role == e.name) return floor_violated(decide_role_floor(&e, transport, protocol));
            continue;
        }
        if (e.scope == FloorScope::Group && role.empty()) continue;  // groups never apply to an unnamed role
        possible = possible || floor_violated(decide_role_floor(&e, transport, protocol));
    }
    return possible;
}

void describe_floor_entry(const RoleFloorEntry &entry, char *out, std::size_t capacity) noexcept {
    switch (entry.scope) {
    case FloorScope::Role:
        put(out, capacity, "role %s", entry.name);
        return;
    case FloorScope::Group:
        put(out, capacity, "group %s", entry.name);
        return;
    case FloorScope::Default:
        break;
    }
    put(out, capacity, "%s", "all roles");
}

void floor_reason(FloorDecision decision, const RoleFloorEntry &entry, const char *protocol, char *out,
                  std::size_t capacity) noexcept {
    if (capacity == 0) return;
    out[0] = '\0';
    char which[kRoleFloorNameLen + 16];
    describe_floor_entry(entry, which, sizeof which);
    if (decision == FloorDecision::NoTls) {
        put(out, capacity, "no TLS (%s)", which);
    } else if (decision == FloorDecision::BelowFloor) {
        const auto negotiated = parse_protocol(protocol != nullptr ? protocol : "");
        if (negotiated)
            put(out, capacity, "%s < %s (%s)", protocol_name(*negotiated), protocol_name(entry.floor), which);
        else
            put(out, capacity, "unknown protocol %.20s < %s (%s)", protocol != nullptr ? protocol : "",
                protocol_name(entry.floor), which);
    }
}

std::optional<std::string> floor_reason(FloorDecision decision, const RoleFloorEntry &entry,
                                        std::string_view protocol) {
    if (!floor_violated(decision)) return std::nullopt;
    const std::string proto(protocol);
    char out[kRoleFloorNameLen + 96];
    floor_reason(decision, entry, proto.c_str(), out, sizeof out);
    return std::string(out);
}

std::optional<std::string> session_floor_reason(const RoleFloorEntry *entry, std::string_view transport,
                                                std::string_view protocol, Protocol fallback) {
    if (entry == nullptr) return below_floor_reason(transport, protocol, fallback);
    const std::string t(transport), p(protocol);
    return floor_reason(decide_role_floor(entry, t.c_str(), p.c_str()), *entry, protocol);
}

namespace {
bool equal_ignoring_ascii_case(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
        const auto x = static_cast<unsigned char>(a[i]), y = static_cast<unsigned char>(b[i]);
        const auto lx = (x >= 'A' && x <= 'Z') ? x + 32 : x, ly = (y >= 'A' && y <= 'Z') ? y + 32 : y;
        if (lx != ly) return false;
    }
    return true;
}
}  // namespace

std::vector<UnmatchedFloorEntry> unmatched_role_floors(const RoleFloorList &list,
                                                       const std::vector<std::string> &roles) {
    std::vector<UnmatchedFloorEntry> out;
    for (std::uint32_t i = 0; i < list.count && i < kRoleFloorMaxEntries; ++i) {
        const RoleFloorEntry &e = list.entries[i];
        if (e.scope == FloorScope::Default) continue;
        const std::string_view name(e.name);
        bool exact = false;
        std::string variant;
        for (const std::string &role : roles) {
            if (role == name) {
                exact = true;
                break;
            }
            if (variant.empty() && equal_ignoring_ascii_case(role, name)) variant = role;
        }
        if (exact) continue;
        out.push_back(UnmatchedFloorEntry{spelled(e) + "=" + protocol_name(e.floor), std::string(name), variant});
    }
    return out;
}

std::string describe_unmatched_role_floors(const std::vector<UnmatchedFloorEntry> &unmatched) {
    std::string out;
    for (const auto &u : unmatched) {
        if (!out.empty()) out += "; ";
        out += u.entry;
        if (!u.case_variant.empty()) out += " (role " + u.case_variant + " differs only in case)";
    }
    return out;
}

}  // namespace tls_audit
