// session_auth(): the authentication facts of a connection, for the session
// registry and the census (both ask ConnectionFacts in their
// ClientAuthentication_hook); connection_transport(): what carries it, for
// the census and the role floor.
//
// What ran on an `md5` line. PostgreSQL (auth.c, CheckPWChallengeAuth) runs
// SCRAM when the role's secret is a SCRAM verifier, MD5 when it is an MD5
// hash, and for a role without a usable secret a mock exchange of the kind
// password_encryption names. How we know which, without new catalog I/O:
//  * 18: after a successful SCRAM exchange the Port holds the SCRAM keys
//    (has_scram_keys): exact, no lookup at all (compat::scram_keys_known).
//  * 15-17, and failed attempts: the role's pg_authid row through the
//    syscache. CheckPWChallengeAuth has just looked the same row up
//    (get_role_password), so this is a hit in this backend's catalog cache,
//    not a catalog read. Only `md5` lines pay it.
#include "hook_auth.hpp"

#include <openssl/ssl.h>

#include "guard.hpp"
#include "base/hot_path.hpp"

namespace tls_audit::pg {

namespace {

// True when the role's secret is a SCRAM verifier (or, without a secret,
// when password_encryption is scram-sha-256, as the mock exchange does).
// false also when the lookup fails (logged).
TLS_AUDIT_HOT bool scram_secret(const char *role) {
    MemoryContext context = CurrentMemoryContext;
    volatile bool scram = false;
    PG_TRY();
    {
        int type = Password_encryption;
        if (role != nullptr && IsTransactionState()) {
            HeapTuple tuple = SearchSysCache1(AUTHNAME, PointerGetDatum(role));
            if (HeapTupleIsValid(tuple)) {
                bool isnull = true;
                Datum secret = SysCacheGetAttr(AUTHNAME, tuple, Anum_pg_authid_rolpassword, &isnull);
                if (!isnull) {
                    char *shadow = TextDatumGetCString(secret);
                    type = get_password_type(shadow);
                    pfree(shadow);
                }
                ReleaseSysCache(tuple);
            }
        }
        scram = type == PASSWORD_TYPE_SCRAM_SHA_256;
    }
    PG_CATCH();
    {
        log_caught_error(context, "password secret kind unknown, md5 line reported as md5");
    }
    PG_END_TRY();
    return scram;
}

}  // namespace

TLS_AUDIT_HOT SessionAuth session_auth(Port *port, int status) noexcept {
    SessionAuth a;
    if (port == nullptr) return a;
    const HbaLine *hba = port->hba;
    if (hba != nullptr) {
        a.method = parse_auth_method(hba_authname(hba->auth_method));
        a.hba_line = hba->linenumber;
        a.hba_file = compat::hba_source_file(hba);
        if (a.method == AuthMethod::Md5) {
            const int known = status == STATUS_OK ? compat::scram_keys_known(port) : -1;
            a.method = effective_password_method(a.method, known >= 0 ? known == 1 : scram_secret(port->user_name));
        }
    }
    if (port->ssl_in_use && port->ssl != nullptr) {
        SSL *ssl = static_cast<SSL *>(port->ssl);
        a.tls = true;
        a.extended_master_secret = SSL_version(ssl) >= TLS1_3_VERSION || SSL_get_extms_support(ssl) == 1;
        const bool required = hba != nullptr && (hba->auth_method == uaCert || hba->clientcert != clientCertOff);
        a.client_cert_verified = required && port->peer_cert_valid;
    }
    return a;
}

// SSL_get_version() returns one of OpenSSL's constant names: nothing to copy.
TLS_AUDIT_HOT ConnectionTransport connection_transport(Port *port) noexcept {
    ConnectionTransport t;
    if (port == nullptr) return t;
    const int family = port->raddr.addr.ss_family;
    t.facts.unix_socket = family == AF_UNIX;
    t.facts.inet = family == AF_INET || family == AF_INET6;
    t.facts.tls = port->ssl_in_use && port->ssl != nullptr;
    t.facts.gss_encrypted = compat::gss_encrypted(port);
    t.name = transport_name(t.facts);
    if (t.facts.tls) t.protocol = SSL_get_version(static_cast<SSL *>(port->ssl));
    return t;
}

}  // namespace tls_audit::pg
