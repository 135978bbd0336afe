#include "access/auth_method.hpp"

#include <cstring>

#include "base/hot_path.hpp"

namespace tls_audit {

namespace {
struct MethodRow {
    AuthMethod method;
    char name[14];
};
// In the order of PostgreSQL's UserAuth (hba.h), most common first would not
// matter: the hook compares at most 15 short strings once per connection.
// The names are held in the table itself, kept with the connection path's
// code (TLS_AUDIT_HOT_RODATA), not in a page of string constants that each
// new backend would fault in.
TLS_AUDIT_HOT_RODATA const MethodRow kMethods[] = {
    {AuthMethod::Trust, "trust"},         {AuthMethod::Reject, "reject"}, {AuthMethod::Md5, "md5"},
    {AuthMethod::Password, "password"},   {AuthMethod::ScramSha256, "scram-sha-256"},
    {AuthMethod::Gss, "gss"},             {AuthMethod::Sspi, "sspi"},     {AuthMethod::Pam, "pam"},
    {AuthMethod::Bsd, "bsd"},             {AuthMethod::Ldap, "ldap"},     {AuthMethod::Cert, "cert"},
    {AuthMethod::Radius, "radius"},       {AuthMethod::Peer, "peer"},     {AuthMethod::Ident, "ident"},
    {AuthMethod::Oauth, "oauth"},
};

// Position on the password ladder; -1 outside it.
int strength(AuthMethod m) noexcept {
    switch (m) {
        case AuthMethod::Trust: return 0;
        case AuthMethod::Password: return 1;
        case AuthMethod::Md5: return 2;
        case AuthMethod::ScramSha256: return 3;
        default: return -1;
    }
}
}  // namespace

const char *auth_method_name(AuthMethod m) noexcept {
    for (const auto &row : kMethods)
        if (row.method == m) return row.name;
    return nullptr;
}

const char *auth_method_name(std::uint8_t raw) noexcept { return auth_method_name(static_cast<AuthMethod>(raw)); }

TLS_AUDIT_HOT AuthMethod parse_auth_method(const char *name) noexcept {
    if (name == nullptr) return AuthMethod::Unknown;
    for (const auto &row : kMethods)
        if (std::strcmp(row.name, name) == 0) return row.method;
    return AuthMethod::Unknown;
}

bool valid_auth_method(std::uint8_t raw) noexcept {
    return raw == 0 || auth_method_name(raw) != nullptr;
}

TLS_AUDIT_HOT AuthMethod effective_password_method(AuthMethod line_method, bool scram_secret) noexcept {
    if (line_method == AuthMethod::Md5 && scram_secret) return AuthMethod::ScramSha256;
    return line_method;
}

std::optional<AuthMethod> parse_auth_target(std::string_view name) {
    for (AuthMethod m : {AuthMethod::Password, AuthMethod::Md5, AuthMethod::ScramSha256})
        if (name == auth_method_name(m)) return m;
    return std::nullopt;
}

const char *valid_auth_target_names() { return "password, md5, scram-sha-256"; }

std::optional<std::string> auth_weakness(AuthMethod method, std::string_view transport, AuthMethod target) {
    const int have = strength(method);
    const int want = strength(target);
    if (have < 0 || want < 0 || have >= want) return std::nullopt;
    if (method == AuthMethod::Trust) {
        if (transport == "unix" || transport.empty()) return std::nullopt;
        return std::string("trust over TCP");
    }
    return std::string(auth_method_name(method)) + " < " + auth_method_name(target);
}

}  // namespace tls_audit
