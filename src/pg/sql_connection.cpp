// tls_audit.connection() and tls_audit.version(): the calling session's own
// transport, read from the live SSL* of this backend.
#include <optional>

#include "guard.hpp"
#include "row.hpp"
#include "sessions/session.hpp"
#include "base/version.hpp"

#include "postgres.hpp"

extern "C" {
PG_FUNCTION_INFO_V1(tls_audit_connection);
PG_FUNCTION_INFO_V1(tls_audit_version);
}

using namespace tls_audit;

namespace {

enum ConnectionColumn {
    kSsl,
    kProtocol,
    kCipher,
    kBits,
    kSni,
    kGroup,
    kReused,
    kClientCertPresent,
    kClientSubject,
    kClientIssuer,
    kClientSerial,
    kClientNotBefore,
    kClientNotAfter,
    kServerCertSha256,
    kConnectionColumns
};

// The live SSL* of this session, or null for unix sockets, plain TCP and
// background workers.
SSL *session_ssl() {
    if (MyProcPort == nullptr || !MyProcPort->ssl_in_use) return nullptr;
    return MyProcPort->ssl;
}

}  // namespace

extern "C" Datum tls_audit_connection(PG_FUNCTION_ARGS) {
    return pg::guarded([&]() -> Datum {
        pg::Row row(pg::result_descriptor(fcinfo));
        pg::check_columns(row.columns(), kConnectionColumns, "tls_audit.connection()");
        SSL *ssl = session_ssl();
        row.boolean(kSsl, ssl != nullptr);
        if (ssl == nullptr) return row.as_composite();

        const SessionTls s = describe_session(ssl);
        row.text(kProtocol, s.protocol);
        row.text_or_null(kCipher, s.cipher);
        row.int4(kBits, s.bits);
        row.text_or_null(kSni, s.sni);
        row.text_or_null(kGroup, s.key_exchange_group);
        row.boolean(kReused, s.session_reused);
        row.boolean(kClientCertPresent, s.client.has_value());
        if (s.client) {
            row.text(kClientSubject, s.client->subject);
            row.text(kClientIssuer, s.client->issuer);
            row.text(kClientSerial, s.client->serial);
            row.timestamptz(kClientNotBefore, s.client->not_before);
            row.timestamptz(kClientNotAfter, s.client->not_after);
        }
        row.text_or_null(kServerCertSha256, s.server_cert_sha256);
        return row.as_composite();
    });
}

extern "C" Datum tls_audit_version(PG_FUNCTION_ARGS) {
    (void)fcinfo;
    return pg::guarded([]() -> Datum { return pg::call([] { return CStringGetTextDatum(kVersion); }); });
}
