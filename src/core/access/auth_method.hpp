// How a session authenticated: the pg_hba method that admitted it, as one
// byte of the census key and of the session registry, and which methods are
// weaker than a target (tls_audit.auth_readiness(), check weak_auth_in_use).
#pragma once

#include "base/pure_cpp.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

TLS_AUDIT_AREA(access);

namespace tls_audit {

// The numbers are stored in the census file: never renumber, only append.
// Zero is "unknown" (census files written before 1.1 have zero there).
enum class AuthMethod : std::uint8_t {
    Unknown = 0,
    Trust = 1,
    Reject = 2,
    Md5 = 3,
    Password = 4,
    ScramSha256 = 5,
    Gss = 6,
    Sspi = 7,
    Pam = 8,
    Bsd = 9,
    Ldap = 10,
    Cert = 11,
    Radius = 12,
    Peer = 13,
    Ident = 14,
    Oauth = 15,  // PostgreSQL 18
};

// The pg_hba.conf keyword ("scram-sha-256", "md5", ...); nullptr for Unknown
// and for values no release of this extension wrote.
const char *auth_method_name(AuthMethod m) noexcept;
const char *auth_method_name(std::uint8_t raw) noexcept;

// The method of a pg_hba.conf keyword (as PostgreSQL's hba_authname() spells
// it); Unknown for anything else. Never allocates (the hook calls it).
AuthMethod parse_auth_method(const char *name) noexcept;

// True for every value auth_method_name() names, and for Unknown (zero).
bool valid_auth_method(std::uint8_t raw) noexcept;

// What ran on the wire for an `md5` line: PostgreSQL runs SCRAM when the
// role's secret is a SCRAM verifier (and, for a role without a secret, the
// mock exchange follows password_encryption), MD5 otherwise.
AuthMethod effective_password_method(AuthMethod line_method, bool scram_secret) noexcept;

// How one connection authenticated, as the ClientAuthentication_hook sees
// it (filled by the glue without allocating; see hook_auth.cpp).
struct SessionAuth {
    AuthMethod method = AuthMethod::Unknown;  // what ran (md5 lines: see effective_password_method())
    int hba_line = 0;                         // line number of the pg_hba.conf rule; 0 when unknown
    const char *hba_file = nullptr;           // its file (PostgreSQL 16+); nullptr when not known
    bool client_cert_verified = false;        // cert method or clientcert=verify-*, and the chain verified
    bool tls = false;                         // a TLS connection: extended_master_secret is meaningful
    bool extended_master_secret = false;      // RFC 7627 negotiated (always for TLS 1.3)
};

// The targets of auth_readiness(), weakest first: "password", "md5",
// "scram-sha-256" (the password methods PostgreSQL can be moved between).
std::optional<AuthMethod> parse_auth_target(std::string_view name);
const char *valid_auth_target_names();  // "password, md5, scram-sha-256"

// Why `method` over `transport` ("unix", "tcp", "tls", "gss") is weaker than
// `target`, or nullopt when it is not (or is outside the password ladder:
// cert, gss, sspi, peer, ident, ldap, pam, radius, bsd, oauth are not
// compared; reject admits nobody):
//   trust over TCP (any transport but unix) -> "trust over TCP"
//   password below target                   -> "password < scram-sha-256"
//   md5 below scram-sha-256                 -> "md5 < scram-sha-256"
// Trust over a unix-domain socket is not reported (local access is governed
// by the socket's file permissions).
std::optional<std::string> auth_weakness(AuthMethod method, std::string_view transport, AuthMethod target);

}  // namespace tls_audit
