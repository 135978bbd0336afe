// tls_audit.session_rows() (under the view tls_audit.sessions) and
// tls_audit.preloaded().
//
// One pass over the backend status snapshot pg_stat_activity also reads, one
// row per client backend and walsender, joined in C with the session
// registry by (pid, backend start). Visibility is pg::Visibility
// (visibility.hpp, pg_stat_activity's rule): without the privileges of the
// session's role or of pg_read_all_stats, only pid, database, role and
// application name are shown.
#include <signal.h>

#include <cerrno>
#include <optional>
#include <string>

#include "guard.hpp"
#include "module.hpp"
#include "access/auth_method.hpp"
#include "base/protocol.hpp"
#include "sessions/registry_record.hpp"
#include "row.hpp"
#include "guc_sessions.hpp"
#include "hook_sessions.hpp"
#include "visibility.hpp"
#include "certs/x509.hpp"

#include "postgres.hpp"

extern "C" {
PG_FUNCTION_INFO_V1(tls_audit_session_rows);
PG_FUNCTION_INFO_V1(tls_audit_preloaded);
PG_FUNCTION_INFO_V1(tls_audit_registry_slots);
}

using namespace tls_audit;

namespace {

enum SessionColumn {
    kPid,
    kDatid,
    kUsesysid,
    kApplicationName,
    kClientAddr,
    kClientPort,
    kBackendType,
    kBackendStart,
    kTransport,
    kProtocol,
    kCipher,
    kBits,
    kClientSubject,
    kClientIssuer,
    kClientSerial,
    kClientNotBefore,
    kClientNotAfter,
    kClientDaysLeft,
    kClientKeyType,
    kClientKeyBits,
    kClientSignatureAlgorithm,
    kSni,
    kKeyExchangeGroup,
    kBelowFloor,
    kFloorReason,
    kAlpn,  // 1.1; the 1.0 definition ends before it
    kAuthMethod,
    kHbaFile,
    kHbaLine,
    kClientCertVerified,
    kExtendedMasterSecret,
    kSessionColumns
};

enum SlotColumn { kSlot, kSlotPid, kSlotBackendStart, kSlotColumns };

// The client address of a backend status entry, as pg_stat_activity shows it.
struct ClientAddress {
    int family;  // AF_INET, AF_INET6, AF_UNIX, or 0 when unknown
    bool has_addr;
    Datum addr;  // inet
    bool has_port;
    int port;  // -1 for unix sockets
};

ClientAddress client_address(const PgBackendStatus *be) {
    return pg::call([&] {
        ClientAddress out{0, false, Datum(0), false, 0};
        SockAddr zero;
        memset(&zero, 0, sizeof zero);
        if (memcmp(&be->st_clientaddr, &zero, sizeof zero) == 0) return out;
        const int family = be->st_clientaddr.addr.ss_family;
        if (family == AF_UNIX) {
            out.family = AF_UNIX;
            out.has_port = true;
            out.port = -1;
            return out;
        }
        if (family != AF_INET && family != AF_INET6) return out;
        out.family = family;
        char host[NI_MAXHOST] = "";
        char port[NI_MAXSERV] = "";
        if (pg_getnameinfo_all(&be->st_clientaddr.addr, be->st_clientaddr.salen, host, sizeof host, port,
                               sizeof port, NI_NUMERICHOST | NI_NUMERICSERV) != 0)
            return out;
        clean_ipv6_addr(family, host);
        out.addr = DirectFunctionCall1(inet_in, CStringGetDatum(host));
        out.has_addr = true;
        out.port = atoi(port);
        out.has_port = true;
        return out;
    });
}

const char *transport_of(const PgBackendStatus *be, int family) {
    TransportFacts t;
    t.unix_socket = family == AF_UNIX;
    t.inet = family == AF_INET || family == AF_INET6;
    t.tls = be->st_ssl;
    t.gss_encrypted = be->st_gss && be->st_gssstatus != nullptr && be->st_gssstatus->gss_enc;
    return transport_name(t);  // nullptr: unknown address, no transport, no floor verdict
}

// `record` is the backend's registry record when `found`.
void put_session(pg::Row &row, const PgBackendStatus *be, bool found, const RegistryRecord &record, Protocol floor,
                 std::int64_t now) {
    const ClientAddress address = client_address(be);
    if (address.has_addr)
        row.datum(kClientAddr, address.addr);
    if (address.has_port) row.int4(kClientPort, address.port);

    const BackendType type = be->st_backendType;
    row.text(kBackendType, pg::call([&] { return GetBackendTypeDesc(type); }));
    if (be->st_proc_start_timestamp != 0) row.datum(kBackendStart, TimestampTzGetDatum(be->st_proc_start_timestamp));

    const char *transport = transport_of(be, address.family);
    std::string protocol;
    if (transport != nullptr) row.text(kTransport, transport);
    // What only the registry knows (NULL without it).
    if (found && record.has_auth && row.columns() > kAuthMethod) {
        if (const char *method = auth_method_name(record.auth_method)) row.text(kAuthMethod, method);
        row.text_or_null(kHbaFile, field_text(record.hba_file));
        if (record.hba_line > 0) row.int4(kHbaLine, record.hba_line);
        row.boolean(kClientCertVerified, record.client_cert_verified);
        if (record.tls) row.boolean(kExtendedMasterSecret, record.extended_master_secret);
    }
    if (be->st_ssl && be->st_sslstatus != nullptr) {
        const PgBackendSSLStatus *ssl = be->st_sslstatus;
        protocol.assign(ssl->ssl_version, strnlen(ssl->ssl_version, sizeof ssl->ssl_version));
        row.text_or_null(kProtocol, protocol);
        row.text_or_null(kCipher, std::string_view(ssl->ssl_cipher, strnlen(ssl->ssl_cipher, sizeof ssl->ssl_cipher)));
        row.int4(kBits, ssl->ssl_bits);

        if (found && record.tls) {
            row.text_or_null(kSni, field_text(record.sni));
            row.text_or_null(kKeyExchangeGroup, field_text(record.key_exchange_group));
            if (row.columns() > kAlpn) row.text_or_null(kAlpn, field_text(record.alpn));
            if (record.has_client) {
                row.text(kClientSubject, field_text(record.subject));
                row.text(kClientIssuer, field_text(record.issuer));
                row.text(kClientSerial, field_text(record.serial));
                row.timestamptz(kClientNotBefore, record.not_before);
                row.timestamptz(kClientNotAfter, record.not_after);
                row.int4(kClientDaysLeft, days_left(record.not_after, now));
                row.text_or_null(kClientKeyType, field_text(record.key_type));
                row.int4(kClientKeyBits, record.key_bits);
                row.text_or_null(kClientSignatureAlgorithm, field_text(record.signature_algorithm));
            }
        }
    }

    if (transport != nullptr) {
        const std::optional<std::string> reason = below_floor_reason(transport, protocol, floor);
        row.boolean(kBelowFloor, reason.has_value());
        row.text_opt(kFloorReason, reason);
    }
}

}  // namespace

extern "C" Datum tls_audit_session_rows(PG_FUNCTION_ARGS) {
    return pg::guarded([&]() -> Datum {
        ReturnSetInfo *rsinfo = pg::materialize(fcinfo);
        // The 1.0 definition (before ALTER EXTENSION UPDATE) lacks the 1.1 columns.
        pg::check_columns(rsinfo->setDesc->natts, kSessionColumns, "tls_audit.session_rows()", kAlpn);
        const pg::Visibility visibility;
        const Protocol floor = pg::min_protocol();
        const std::int64_t now = pg::now_epoch();
        const pg::RegistryReader registry;
        const int backends = pg::call([] { return pgstat_fetch_stat_numbackends(); });

        for (int i = 1; i <= backends; ++i) {
            LocalPgBackendStatus *local = pg::call([&] { return pg::compat::local_beentry_by_index(i); });
            if (local == nullptr) continue;
            const PgBackendStatus *be = &local->backendStatus;
            if (be->st_backendType != B_BACKEND && be->st_backendType != B_WAL_SENDER) continue;
            // Not yet (or no longer) a session: no pid.
            if (be->st_procpid <= 0) continue;

            // A TLS session's row is complete or absent: leave it
            // out when its registry slot says it is exiting or cannot be read
            // whole, or when it has none and the process is gone (it exited
            // after the status snapshot was taken).
            // Every session has a slot (how it authenticated); only a TLS
            // row is left out when its slot cannot be read whole.
            static RegistryRecord record;
            bool found = false;
            if (pg::registry_active()) {
                const RegistryLookup lookup = registry.find(be->st_procpid, be->st_proc_start_timestamp, record);
                found = lookup == RegistryLookup::Found;
                if (be->st_ssl) {
                    const bool alive = found || kill(be->st_procpid, 0) == 0 || errno == EPERM;
                    if (!show_session_row(lookup, alive)) continue;
                }
            }

            pg::Row row(rsinfo->setDesc);
            // Shown to everybody, as in pg_stat_activity.
            row.int4(kPid, be->st_procpid);
            if (be->st_databaseid != InvalidOid) row.datum(kDatid, ObjectIdGetDatum(be->st_databaseid));
            if (be->st_userid != InvalidOid) row.datum(kUsesysid, ObjectIdGetDatum(be->st_userid));
            if (be->st_appname != nullptr)
                row.text(kApplicationName, std::string_view(be->st_appname, strlen(be->st_appname)));

            if (visibility.sees(be->st_userid)) put_session(row, be, found, record, floor, now);
            row.put(rsinfo);
        }
        return Datum(0);
    });
}

extern "C" Datum tls_audit_preloaded(PG_FUNCTION_ARGS) {
    (void)fcinfo;
    return pg::guarded([]() -> Datum { return BoolGetDatum(pg::loaded_at_startup() && pg::registry_active()); });
}

// Diagnostics: the registry slots in use, live or not. Every slot should
// belong to a live backend (pg_stat_activity has the same pid and
// backend_start); a slot that does not is stale and is never shown by
// tls_audit.sessions.
extern "C" Datum tls_audit_registry_slots(PG_FUNCTION_ARGS) {
    return pg::guarded([&]() -> Datum {
        ReturnSetInfo *rsinfo = pg::materialize(fcinfo);
        pg::check_columns(rsinfo->setDesc->natts, kSlotColumns, "tls_audit.registry_slots()");
        const int count = pg::registry_slot_count();
        for (int i = 0; i < count; ++i) {
            int pid = 0;
            TimestampTz start = 0;
            if (!pg::registry_slot_owner(i, pid, start)) continue;
            pg::Row row(rsinfo->setDesc);
            row.int4(kSlot, i + 1);
            row.int4(kSlotPid, pid);
            row.datum(kSlotBackendStart, TimestampTzGetDatum(start));
            row.put(rsinfo);
        }
        return Datum(0);
    });
}
