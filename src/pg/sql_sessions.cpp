// tls_audit.session_view_rows() (the view tls_audit.sessions),
// tls_audit.session_rows() (its columns with OIDs for names, which the
// metrics read) and tls_audit.preloaded().
//
// One pass over the backend status snapshot pg_stat_activity also reads, one
// row per client backend and walsender, joined in C with the session
// registry by (pid, backend start). Visibility is pg::Visibility
// (visibility.hpp, pg_stat_activity's rule): without the privileges of the
// session's role or of pg_read_all_stats, only pid, database, role and
// application name (and the role's floor) are shown.
//
// The view is one call of session_view_rows(), which returns its rows whole,
// names and role floors included: a join with pg_authid and pg_database and
// a call of session_floor() per row cost more than the scan itself
// (doc/benchmarks.md, "The sessions view"). What rows of one role or
// database share is looked up once per call (session_lookups.hpp); each row
// is built in a memory context reset after the row is stored.
#include <arpa/inet.h>
#include <netinet/in.h>

#include <array>
#include <cstddef>
#include <optional>
#include <string>

#include "guard.hpp"
#include "module.hpp"
#include "access/auth_method.hpp"
#include "access/role_floor.hpp"
#include "base/protocol.hpp"
#include "sessions/registry_record.hpp"
#include "row.hpp"
#include "guc_sessions.hpp"
#include "hook_sessions.hpp"
#include "session_lookups.hpp"
#include "visibility.hpp"
#include "certs/x509.hpp"

#include "postgres.hpp"

extern "C" {
PG_FUNCTION_INFO_V1(tls_audit_session_rows);
PG_FUNCTION_INFO_V1(tls_audit_session_view_rows);
PG_FUNCTION_INFO_V1(tls_audit_preloaded);
PG_FUNCTION_INFO_V1(tls_audit_registry_slots);
}

using namespace tls_audit;

namespace {

// What a session row can hold. Each function orders (a subset of) them as
// its OUT parameters say: kRowsOrder and kViewOrder below.
enum Field {
    fPid,
    fDatid,
    fUsesysid,
    fUsename,
    fDatname,
    fApplicationName,
    fClientAddr,
    fClientPort,
    fBackendType,
    fBackendStart,
    fTransport,
    fProtocol,
    fCipher,
    fBits,
    fClientSubject,
    fClientIssuer,
    fClientSerial,
    fClientNotBefore,
    fClientNotAfter,
    fClientDaysLeft,
    fClientKeyType,
    fClientKeyBits,
    fClientSignatureAlgorithm,
    fSni,
    fKeyExchangeGroup,
    fAlpn,
    fBelowFloor,
    fFloorReason,
    fAuthMethod,
    fHbaFile,
    fHbaLine,
    fClientCertVerified,
    fExtendedMasterSecret,
    fRoleFloor,
    kFields
};

// session_rows(): below_floor and floor_reason follow tls_audit.min_protocol
// only. The 1.0 definition ends before alpn (kRowsColumns10 columns).
constexpr Field kRowsOrder[] = {
    fPid,           fDatid,          fUsesysid,         fApplicationName,
    fClientAddr,    fClientPort,     fBackendType,      fBackendStart,
    fTransport,     fProtocol,       fCipher,           fBits,
    fClientSubject, fClientIssuer,   fClientSerial,     fClientNotBefore,
    fClientNotAfter, fClientDaysLeft, fClientKeyType,   fClientKeyBits,
    fClientSignatureAlgorithm,       fSni,              fKeyExchangeGroup,
    fBelowFloor,    fFloorReason,    fAlpn,             fAuthMethod,
    fHbaFile,       fHbaLine,        fClientCertVerified, fExtendedMasterSecret,
};
constexpr int kRowsColumns = sizeof kRowsOrder / sizeof kRowsOrder[0];
constexpr int kRowsColumns10 = 25;
static_assert(kRowsOrder[kRowsColumns10] == fAlpn, "the 1.0 definition ends before alpn");

// session_view_rows(): the columns of tls_audit.sessions, in its order; the
// floor columns as session_floor() gives them.
constexpr Field kViewOrder[] = {
    fPid,           fUsename,        fDatname,          fApplicationName,
    fClientAddr,    fClientPort,     fBackendType,      fBackendStart,
    fTransport,     fProtocol,       fCipher,           fBits,
    fClientSubject, fClientIssuer,   fClientSerial,     fClientNotBefore,
    fClientNotAfter, fClientDaysLeft, fClientKeyType,   fClientKeyBits,
    fClientSignatureAlgorithm,       fSni,              fKeyExchangeGroup,
    fAlpn,          fBelowFloor,     fFloorReason,      fAuthMethod,
    fHbaFile,       fHbaLine,        fClientCertVerified, fExtendedMasterSecret,
    fRoleFloor,
};
constexpr int kViewColumns = sizeof kViewOrder / sizeof kViewOrder[0];

// The column of each field in a result row; -1 when it has none.
using Layout = std::array<int, kFields>;

template <std::size_t N> constexpr Layout layout_of(const Field (&order)[N]) {
    Layout at{};
    for (int &column : at) column = -1;
    for (std::size_t i = 0; i < N; ++i) at[order[i]] = static_cast<int>(i);
    return at;
}

constexpr Layout kRowsLayout = layout_of(kRowsOrder);
constexpr Layout kViewLayout = layout_of(kViewOrder);

enum SlotColumn { kSlot, kSlotPid, kSlotBackendStart, kSlotColumns };

// A pg::Row addressed by field: a field the layout (or the installed
// definition, for 1.0's session_rows()) lacks is skipped.
class SessionRow {
  public:
    SessionRow(pg::Row &row, const Layout &at) : row_(row), at_(at) {}

    bool has(Field f) const { return at_[f] >= 0 && at_[f] < row_.columns(); }
    void datum(Field f, Datum value) {
        if (has(f)) row_.datum(at_[f], value);
    }
    void text(Field f, std::string_view value) {
        if (has(f)) row_.text(at_[f], value);
    }
    void text_or_null(Field f, std::string_view value) {
        if (has(f)) row_.text_or_null(at_[f], value);
    }
    void text_opt(Field f, const std::optional<std::string> &value) {
        if (has(f)) row_.text_opt(at_[f], value);
    }
    void int4(Field f, std::int64_t value) {
        if (has(f)) row_.int4(at_[f], value);
    }
    void boolean(Field f, bool value) {
        if (has(f)) row_.boolean(at_[f], value);
    }
    void timestamptz(Field f, std::int64_t epoch_seconds) {
        if (has(f)) row_.timestamptz(at_[f], epoch_seconds);
    }

  private:
    pg::Row &row_;
    const Layout &at_;
};

// The client address of a backend status entry, as pg_stat_activity shows it.
struct ClientAddress {
    int family;  // AF_INET, AF_INET6, AF_UNIX, or 0 when unknown
    bool has_addr;
    Datum addr;  // inet
    bool has_port;
    int port;  // -1 for unix sockets
};

// The inet value of an address of `size` bytes. pg_stat_activity prints the
// address with getnameinfo() and parses the text with inet_in(); the result
// is this value (the whole address, the full mask), built without the
// round trip through text, which cost more than any other column.
Datum inet_datum(unsigned char family, const void *address, std::size_t size) {
    auto *ip = static_cast<inet *>(pg::call([] { return palloc0(sizeof(inet)); }));
    ip->inet_data.family = family;
    ip->inet_data.bits = static_cast<unsigned char>(size * 8);
    memcpy(ip->inet_data.ipaddr, address, size);
    SET_INET_VARSIZE(ip);
    return InetPGetDatum(ip);
}

ClientAddress client_address(const PgBackendStatus *be) {
    ClientAddress out{0, false, Datum(0), false, 0};
    SockAddr zero;
    memset(&zero, 0, sizeof zero);
    if (memcmp(&be->st_clientaddr, &zero, sizeof zero) == 0) return out;
    const sockaddr_storage &addr = be->st_clientaddr.addr;
    out.family = addr.ss_family;
    if (addr.ss_family == AF_UNIX) {
        out.has_port = true;
        out.port = -1;
    } else if (addr.ss_family == AF_INET) {
        const auto *in4 = reinterpret_cast<const sockaddr_in *>(&addr);
        out.addr = inet_datum(PGSQL_AF_INET, &in4->sin_addr, sizeof in4->sin_addr);
        out.port = ntohs(in4->sin_port);
    } else if (addr.ss_family == AF_INET6) {
        const auto *in6 = reinterpret_cast<const sockaddr_in6 *>(&addr);
        out.addr = inet_datum(PGSQL_AF_INET6, &in6->sin6_addr, sizeof in6->sin6_addr);
        out.port = ntohs(in6->sin6_port);
    } else {
        out.family = 0;
        return out;
    }
    out.has_addr = out.family != AF_UNIX;
    out.has_port = true;
    return out;
}

const char *transport_of(const PgBackendStatus *be, int family) {
    TransportFacts t;
    t.unix_socket = family == AF_UNIX;
    t.inet = family == AF_INET || family == AF_INET6;
    t.tls = be->st_ssl;
    t.gss_encrypted = be->st_gss && be->st_gssstatus != nullptr && be->st_gssstatus->gss_enc;
    return transport_name(t);  // nullptr: unknown address, no transport, no floor verdict
}

// What one call needs besides the snapshot: read once.
struct ScanContext {
    pg::Visibility visibility;
    Protocol floor = pg::min_protocol();
    std::int64_t now = pg::now_epoch();
    pg::RegistryReader registry;
    pg::SessionLookups lookups;

    explicit ScanContext(bool names_and_floors) : lookups(visibility, names_and_floors) {}
};

// The columns shown only to callers who may see the session's role.
// `record` is the backend's registry record, or nullptr.
void put_details(SessionRow &row, const PgBackendStatus *be, const RegistryRecord *record,
                 const pg::RoleFacts &role, ScanContext &scan) {
    const ClientAddress address = client_address(be);
    if (address.has_addr) row.datum(fClientAddr, address.addr);
    if (address.has_port) row.int4(fClientPort, address.port);

    row.text(fBackendType, GetBackendTypeDesc(be->st_backendType));  // a constant name: cannot fail
    if (be->st_proc_start_timestamp != 0) row.datum(fBackendStart, TimestampTzGetDatum(be->st_proc_start_timestamp));

    const char *transport = transport_of(be, address.family);
    std::string_view protocol;
    if (transport != nullptr) row.text(fTransport, transport);
    // What only the registry knows (NULL without it).
    if (record != nullptr && record->has_auth) {
        if (const char *method = auth_method_name(record->auth_method)) row.text(fAuthMethod, method);
        row.text_or_null(fHbaFile, field_text(record->hba_file));
        if (record->hba_line > 0) row.int4(fHbaLine, record->hba_line);
        row.boolean(fClientCertVerified, record->client_cert_verified);
        if (record->tls) row.boolean(fExtendedMasterSecret, record->extended_master_secret);
    }
    if (be->st_ssl && be->st_sslstatus != nullptr) {
        const PgBackendSSLStatus *ssl = be->st_sslstatus;
        protocol = std::string_view(ssl->ssl_version, strnlen(ssl->ssl_version, sizeof ssl->ssl_version));
        row.text_or_null(fProtocol, protocol);
        row.text_or_null(fCipher, std::string_view(ssl->ssl_cipher, strnlen(ssl->ssl_cipher, sizeof ssl->ssl_cipher)));
        row.int4(fBits, ssl->ssl_bits);

        if (record != nullptr && record->tls) {
            row.text_or_null(fSni, field_text(record->sni));
            row.text_or_null(fKeyExchangeGroup, field_text(record->key_exchange_group));
            row.text_or_null(fAlpn, field_text(record->alpn));
            if (record->has_client) {
                row.text(fClientSubject, field_text(record->subject));
                row.text(fClientIssuer, field_text(record->issuer));
                row.text(fClientSerial, field_text(record->serial));
                row.timestamptz(fClientNotBefore, record->not_before);
                row.timestamptz(fClientNotAfter, record->not_after);
                row.int4(fClientDaysLeft, days_left(record->not_after, scan.now));
                row.text_or_null(fClientKeyType, field_text(record->key_type));
                row.int4(fClientKeyBits, record->key_bits);
                row.text_or_null(fClientSignatureAlgorithm, field_text(record->signature_algorithm));
            }
        }
    }

    if (transport != nullptr) {
        // The view judges by the role's floor when an entry applies (as
        // session_floor() does); session_rows() by tls_audit.min_protocol.
        const std::optional<std::string> reason =
            session_floor_reason(row.has(fRoleFloor) ? role.floor : nullptr, transport, protocol, scan.floor);
        row.boolean(fBelowFloor, reason.has_value());
        row.text_opt(fFloorReason, reason);
    }
}

// Both functions: one row per visible session, the fields placed by `at`.
void session_scan(FunctionCallInfo fcinfo, const Layout &at, int columns, const char *function, int also) {
    ReturnSetInfo *rsinfo = pg::materialize(fcinfo);
    pg::check_columns(rsinfo->setDesc->natts, columns, function, also);
    // The backends' status snapshot first, the registry's pids after it: a
    // session in the snapshot wrote its registry slot before PostgreSQL
    // showed it (the slot is written at authentication), so it is in the
    // registry read after. The other order missed a session that started
    // in between, and showed it without its registry columns.
    const int backends = pg::call([] { return pgstat_fetch_stat_numbackends(); });
    ScanContext scan(at[fUsename] >= 0);
    pg::Row out(rsinfo->setDesc);
    SessionRow row(out, at);
    pg::RowMemory row_memory;

    for (int i = 1; i <= backends; ++i) {
        LocalPgBackendStatus *local = pg::call([&] { return pg::compat::local_beentry_by_index(i); });
        if (local == nullptr) continue;
        const PgBackendStatus *be = &local->backendStatus;
        if (be->st_backendType != B_BACKEND && be->st_backendType != B_WAL_SENDER) continue;
        // Not yet (or no longer) a session: no pid.
        if (be->st_procpid <= 0) continue;

        // Every session has a registry slot (how it authenticated). A TLS
        // session's row is complete or absent: leave it out when its slot
        // says it is exiting or cannot be read whole, or when it has none
        // and the backend is gone (it exited after the status snapshot was
        // taken). Gone means out of the process array, not a dead process:
        // an exiting backend leaves the array before it frees its backend
        // slot, whose registry slot a new backend may then take while the
        // old process is still ending (or not yet reaped).
        const RegistryRecord *record = nullptr;
        if (pg::registry_active()) {
            const RegistryLookup lookup = scan.registry.find(be->st_procpid, be->st_proc_start_timestamp, record);
            if (lookup != RegistryLookup::Found) record = nullptr;
            if (be->st_ssl) {
                const int pid = be->st_procpid;
                const bool alive =
                    record != nullptr || pg::call([pid] { return BackendPidGetProc(pid) != nullptr; });
                if (!show_session_row(lookup, alive)) continue;
            }
        }

        // Looked up once per role and database, outside the row's memory.
        const pg::RoleFacts &role = scan.lookups.role(be->st_userid);
        const std::optional<Datum> datname =
            row.has(fDatname) ? scan.lookups.database_name(be->st_databaseid) : std::nullopt;

        const pg::RowMemory::Scope in_row(row_memory);
        out.clear();
        // Shown to everybody, as in pg_stat_activity.
        row.int4(fPid, be->st_procpid);
        if (be->st_databaseid != InvalidOid) row.datum(fDatid, ObjectIdGetDatum(be->st_databaseid));
        if (be->st_userid != InvalidOid) row.datum(fUsesysid, ObjectIdGetDatum(be->st_userid));
        if (role.name) row.datum(fUsename, *role.name);
        if (datname) row.datum(fDatname, *datname);
        if (be->st_appname != nullptr)
            row.text(fApplicationName, std::string_view(be->st_appname, strlen(be->st_appname)));
        // The role's floor, as session_floor() shows it whatever the caller sees.
        if (role.floor_text) row.datum(fRoleFloor, *role.floor_text);

        if (role.seen) put_details(row, be, record, role, scan);
        out.put(rsinfo);
    }
}

}  // namespace

extern "C" Datum tls_audit_session_rows(PG_FUNCTION_ARGS) {
    return pg::guarded([&]() -> Datum {
        // The 1.0 definition (before ALTER EXTENSION UPDATE) lacks the 1.1 columns.
        session_scan(fcinfo, kRowsLayout, kRowsColumns, "tls_audit.session_rows()", kRowsColumns10);
        return Datum(0);
    });
}

extern "C" Datum tls_audit_session_view_rows(PG_FUNCTION_ARGS) {
    return pg::guarded([&]() -> Datum {
        session_scan(fcinfo, kViewLayout, kViewColumns, "tls_audit.session_view_rows()", -1);
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
