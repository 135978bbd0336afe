// The connection census as SQL: census_entries() (behind the tls_audit.census
// view), census_info(), census_reset(), floor_readiness() and
// floor_readiness_summary().
//
// Visibility is pg::Visibility (visibility.hpp), the rule of the sessions
// view: with the privileges of pg_read_all_stats every entry; otherwise the
// entries recorded under a role the caller has the privileges of (its own
// included), so tls_rejected entries (no role is known yet) are visible to the
// former only.
#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include "census_shmem.hpp"
#include "census_visible.hpp"
#include "census/census_key.hpp"
#include "census/auth_readiness.hpp"
#include "census/census_readiness.hpp"
#include "census/pq_readiness.hpp"
#include "guard.hpp"
#include "base/protocol.hpp"
#include "row.hpp"
#include "visibility.hpp"

#include "postgres.hpp"

extern "C" {
PG_FUNCTION_INFO_V1(tls_audit_census_entries);
PG_FUNCTION_INFO_V1(tls_audit_census_info);
PG_FUNCTION_INFO_V1(tls_audit_census_reset);
PG_FUNCTION_INFO_V1(tls_audit_floor_readiness);
PG_FUNCTION_INFO_V1(tls_audit_floor_readiness_summary);
PG_FUNCTION_INFO_V1(tls_audit_auth_readiness);
PG_FUNCTION_INFO_V1(tls_audit_pq_readiness);
PG_FUNCTION_INFO_V1(tls_audit_pq_readiness_summary);
}

using namespace tls_audit;

namespace {

void timestamptz(pg::Row &row, int col, std::int64_t ts) { row.datum(col, TimestampTzGetDatum(ts)); }

// A text column holding an address, as inet; NULL when empty.
void inet_or_null(pg::Row &row, int col, const char *addr) {
    if (addr[0] == '\0') {
        row.null(col);
        return;
    }
    row.datum(col, pg::call([&] { return DirectFunctionCall1(inet_in, CStringGetDatum(addr)); }));
}

std::string text_arg(FunctionCallInfo fcinfo, int n) {
    const char *s = pg::call([&] { return static_cast<const char *>(text_to_cstring(PG_GETARG_TEXT_PP(n))); });
    return s;
}

Protocol target_arg(FunctionCallInfo fcinfo) {
    if (PG_ARGISNULL(0))
        throw CoreError(make_error(sqlstate::kInvalidParameter, "target protocol must not be NULL",
                                   std::string("Valid names: ") + valid_floor_names() + "."));
    const std::string name = text_arg(fcinfo, 0);
    const auto parsed = parse_protocol(name);
    if (!parsed || *parsed == Protocol::SSLv3)
        throw CoreError(make_error(sqlstate::kInvalidParameter,
                                   "unknown TLS protocol version \"" + name.substr(0, 64) + "\"",
                                   std::string("Valid names: ") + valid_floor_names() + "."));
    return *parsed;
}

// The target method of auth_readiness(): password, md5 or scram-sha-256.
AuthMethod auth_target_arg(FunctionCallInfo fcinfo) {
    if (PG_ARGISNULL(0))
        throw CoreError(make_error(sqlstate::kInvalidParameter, "target authentication method must not be NULL",
                                   std::string("Valid names: ") + valid_auth_target_names() + "."));
    const std::string name = text_arg(fcinfo, 0);
    const auto parsed = parse_auth_target(name);
    if (!parsed)
        throw CoreError(make_error(sqlstate::kInvalidParameter,
                                   "unknown target authentication method \"" + name.substr(0, 64) + "\"",
                                   std::string("Valid names: ") + valid_auth_target_names() + "."));
    return *parsed;
}

enum CensusColumn {
    kUsename,
    kDatname,
    kClientAddr,
    kApplicationName,
    kTransport,
    kProtocol,
    kCipher,
    kClientSubject,
    kOutcome,
    kRejectionReason,
    kConnections,
    kFirstSeen,
    kLastSeen,
    kAlpn,  // 1.1; the 1.0 definition ends before it
    kAuthMethod,
    kHbaLine,
    kClientCertVerified,
    kExtendedMasterSecret,
    kKeyExchangeGroup,  // 1.2; the 1.1 definition ends before it
    kSource,            // 1.2: NULL for the server's own connections, else the pooler's name
    kCensusColumns
};

enum InfoColumn {
    kInfoEntries,
    kInfoMaxEntries,
    kInfoEvicted,
    kInfoRejectionsDropped,
    kInfoSinceReset,
    kInfoFileLoaded,
    kInfoLoadedEntries,
    kInfoFileStatus,
    kInfoEvictedAuthenticated,  // 1.1; the 1.0 definition ends before it
    kInfoEvictedUnauthenticated,
    kInfoDroppedUnauthenticated,
    kInfoLastSaveAt,  // the periodic save (bgw_census_save.cpp)
    kInfoLastSaveError,
    kInfoLostSince,
    kInfoSelfProbesSkipped,  // the server's own probes (census_self_probe.cpp)
    kInfoColumns
};

enum ReadinessColumn {
    kRUsename,
    kRDatname,
    kRClientAddr,
    kRApplicationName,
    kRProtocol,
    kRConnections,
    kRLastSeen,
    kRReason,
    kReadinessColumns
};

enum AuthReadinessColumn {
    kAUsename,
    kADatname,
    kAClientAddr,
    kAApplicationName,
    kAAuthMethod,
    kAConnections,
    kALastSeen,
    kAReason,
    kAuthReadinessColumns
};

enum PqReadinessColumn {
    kPUsename,
    kPDatname,
    kPClientAddr,
    kPApplicationName,
    kPProtocol,
    kPKeyExchangeGroup,
    kPHybrid,
    kPConnections,
    kPLastSeen,
    kPReason,
    kPqReadinessColumns
};

enum PqSummaryColumn {
    kPSTotal,
    kPSHybrid,
    kPSShare,
    kPSTls12,
    kPSNoTls,
    kPSUnknown,
    kPSClientsNotReady,
    kPSComplete,
    kPSEvictedSince,
    kPqSummaryColumns
};

enum SummaryColumn {
    kSTarget,
    kSTotal,
    kSReady,
    kSShare,
    kSClientsNotReady,
    kSRejected,
    kSComplete,  // 1.1; the 1.0 definition ends before it
    kSEvictedSince,
    kSummaryColumns
};

// Complete unless an authenticated entry was evicted since the reset (or,
// with since, within that window): evicted clients are missing from the
// answer. Also the first authenticated eviction since the reset.
void completeness(pg::Row &row, int complete_col, int evicted_since_col, std::optional<std::int64_t> cutoff) {
    const pg::census::Info i = pg::census::info();
    const bool evicted = i.last_authenticated_eviction != 0 && (!cutoff || i.last_authenticated_eviction >= *cutoff);
    row.boolean(complete_col, !evicted);
    if (i.first_authenticated_eviction != 0)
        timestamptz(row, evicted_since_col, i.first_authenticated_eviction);
    else
        row.null(evicted_since_col);
}

}  // namespace

extern "C" Datum tls_audit_census_entries(PG_FUNCTION_ARGS) {
    return pg::guarded([&]() -> Datum {
        pg::census::require();
        ReturnSetInfo *rsinfo = pg::materialize(fcinfo);
        const pg::Visibility v;
        const auto snap = pg::census::snapshot();
        for (const CensusRecord *r : pg::census::visible_records(snap, v, std::nullopt)) {
            const CensusKey &k = r->key;
            pg::Row row(rsinfo->setDesc);
            // The 1.0 and 1.1 definitions (before ALTER EXTENSION UPDATE) lack the
            // columns of the later versions.
            if (row.columns() != kKeyExchangeGroup)
                pg::check_columns(row.columns(), kCensusColumns, "tls_audit.census_entries()", kAlpn);
            row.text_or_null(kUsename, k.usename);
            row.text_or_null(kDatname, k.datname);
            inet_or_null(row, kClientAddr, k.client_addr);
            row.text_or_null(kApplicationName, k.application_name);
            row.text_or_null(kTransport, k.transport);
            row.text_or_null(kProtocol, k.protocol);
            row.text_or_null(kCipher, k.cipher);
            row.text_or_null(kClientSubject, k.client_subject);
            row.text(kOutcome, outcome_name(static_cast<Outcome>(k.outcome)));
            row.text_or_null(kRejectionReason, k.reason);
            row.int8(kConnections, r->connections);
            timestamptz(row, kFirstSeen, r->first_seen);
            timestamptz(row, kLastSeen, r->last_seen);
            if (row.columns() > kAlpn) {
                if (const char *alpn = census_alpn_name(k.alpn)) row.text(kAlpn, alpn);
                if (const char *method = auth_method_name(k.auth_method)) row.text(kAuthMethod, method);
                if (k.hba_line > 0) row.int4(kHbaLine, k.hba_line);
                if (const char *v = census_flag_name(k.client_cert_verified)) row.boolean(kClientCertVerified, *v == 't');
                if (const char *v = census_flag_name(k.extended_master_secret))
                    row.boolean(kExtendedMasterSecret, *v == 't');
            }
            if (row.columns() > kKeyExchangeGroup) {
                if (const char *group = census_group_name(k.key_exchange_group)) row.text(kKeyExchangeGroup, group);
                row.text_or_null(kSource, k.source);
            }
            row.put(rsinfo);
        }
        return Datum(0);
    });
}

extern "C" Datum tls_audit_census_info(PG_FUNCTION_ARGS) {
    return pg::guarded([&]() -> Datum {
        pg::census::require();
        pg::Row row(pg::result_descriptor(fcinfo));
        // The 1.0 definition (before ALTER EXTENSION UPDATE) lacks the 1.1 columns.
        pg::check_columns(row.columns(), kInfoColumns, "tls_audit.census_info()", kInfoEvictedAuthenticated);
        const pg::census::Info i = pg::census::info();
        row.int8(kInfoEntries, i.entries);
        row.int4(kInfoMaxEntries, i.max_entries);
        row.int8(kInfoEvicted, i.evicted);
        row.int8(kInfoRejectionsDropped, i.rejections_dropped);
        timestamptz(row, kInfoSinceReset, i.since_reset);
        row.boolean(kInfoFileLoaded, i.file_loaded);
        row.int8(kInfoLoadedEntries, i.loaded_entries);
        row.text_or_null(kInfoFileStatus, i.file_status);
        if (row.columns() > kInfoEvictedAuthenticated) {
            row.int8(kInfoEvictedAuthenticated, i.evicted_authenticated);
            row.int8(kInfoEvictedUnauthenticated, i.evicted_unauthenticated);
            row.int8(kInfoDroppedUnauthenticated, i.dropped_unauthenticated);
        }
        if (row.columns() > kInfoSelfProbesSkipped) {
            if (i.last_save_at != 0) timestamptz(row, kInfoLastSaveAt, i.last_save_at);
            if (i.last_save_error[0] != '\0') row.text(kInfoLastSaveError, i.last_save_error);
            if (i.lost_since != 0) timestamptz(row, kInfoLostSince, i.lost_since);
            row.int8(kInfoSelfProbesSkipped, i.self_probes_skipped);
        }
        return row.as_composite();
    });
}

extern "C" Datum tls_audit_census_reset(PG_FUNCTION_ARGS) {
    (void)fcinfo;
    return pg::guarded([&]() -> Datum {
        pg::census::reset();
        return Datum(0);
    });
}

extern "C" Datum tls_audit_floor_readiness(PG_FUNCTION_ARGS) {
    return pg::guarded([&]() -> Datum {
        pg::census::require();
        const Protocol floor = target_arg(fcinfo);
        const auto cutoff = pg::census::since_arg(fcinfo, 1);
        ReturnSetInfo *rsinfo = pg::materialize(fcinfo);
        const pg::Visibility v;
        const auto snap = pg::census::snapshot();

        for (const ReadinessRow &r : floor_readiness(pg::census::visible_records(snap, v, cutoff), floor)) {
            pg::Row row(rsinfo->setDesc);
            pg::check_columns(row.columns(), kReadinessColumns, "tls_audit.floor_readiness()");
            row.text_or_null(kRUsename, r.usename);
            row.text_or_null(kRDatname, r.datname);
            inet_or_null(row, kRClientAddr, r.client_addr.c_str());
            row.text_or_null(kRApplicationName, r.application_name);
            row.text_or_null(kRProtocol, r.protocol);
            row.int8(kRConnections, r.connections);
            timestamptz(row, kRLastSeen, r.last_seen);
            row.text(kRReason, r.reason);
            row.put(rsinfo);
        }
        return Datum(0);
    });
}

extern "C" Datum tls_audit_floor_readiness_summary(PG_FUNCTION_ARGS) {
    return pg::guarded([&]() -> Datum {
        pg::census::require();
        const Protocol floor = target_arg(fcinfo);
        const auto cutoff = pg::census::since_arg(fcinfo, 1);
        pg::Row row(pg::result_descriptor(fcinfo));
        pg::check_columns(row.columns(), kSummaryColumns, "tls_audit.floor_readiness_summary()", kSComplete);
        const pg::Visibility v;
        const auto snap = pg::census::snapshot();

        const ReadinessSummary sum = floor_readiness_summary(pg::census::visible_records(snap, v, cutoff), floor);
        row.text(kSTarget, protocol_name(floor));
        row.int8(kSTotal, sum.total);
        row.int8(kSReady, sum.ready);
        if (sum.ready_share)
            row.float8(kSShare, *sum.ready_share);
        else
            row.null(kSShare);
        row.int8(kSClientsNotReady, sum.clients_not_ready);
        row.int8(kSRejected, sum.rejected);
        if (row.columns() > kSComplete) completeness(row, kSComplete, kSEvictedSince, cutoff);
        return row.as_composite();
    });
}

// tls_audit.auth_readiness(target, since): the census clients that
// authenticated with something weaker than target.
extern "C" Datum tls_audit_auth_readiness(PG_FUNCTION_ARGS) {
    return pg::guarded([&]() -> Datum {
        pg::census::require();
        const AuthMethod target = auth_target_arg(fcinfo);
        const auto cutoff = pg::census::since_arg(fcinfo, 1);
        ReturnSetInfo *rsinfo = pg::materialize(fcinfo);
        const pg::Visibility v;
        const auto snap = pg::census::snapshot();

        for (const AuthReadinessRow &r : auth_readiness(pg::census::visible_records(snap, v, cutoff), target)) {
            pg::Row row(rsinfo->setDesc);
            pg::check_columns(row.columns(), kAuthReadinessColumns, "tls_audit.auth_readiness()");
            row.text_or_null(kAUsename, r.usename);
            row.text_or_null(kADatname, r.datname);
            inet_or_null(row, kAClientAddr, r.client_addr.c_str());
            row.text_or_null(kAApplicationName, r.application_name);
            row.text(kAAuthMethod, r.auth_method);
            row.int8(kAConnections, r.connections);
            timestamptz(row, kALastSeen, r.last_seen);
            row.text(kAReason, r.reason);
            row.put(rsinfo);
        }
        return Datum(0);
    });
}

// tls_audit.pq_readiness(since): every authenticated census client, hybrid
// post-quantum key exchange or not (why not), grouped by the core.
extern "C" Datum tls_audit_pq_readiness(PG_FUNCTION_ARGS) {
    return pg::guarded([&]() -> Datum {
        pg::census::require();
        const auto cutoff = pg::census::since_arg(fcinfo, 0);
        ReturnSetInfo *rsinfo = pg::materialize(fcinfo);
        pg::check_columns(rsinfo->setDesc->natts, kPqReadinessColumns, "tls_audit.pq_readiness()");
        const pg::Visibility v;
        const auto snap = pg::census::snapshot();

        for (const PqReadinessRow &r : pq_readiness(pg::census::visible_records(snap, v, cutoff))) {
            pg::Row row(rsinfo->setDesc);
            row.text_or_null(kPUsename, r.usename);
            row.text_or_null(kPDatname, r.datname);
            inet_or_null(row, kPClientAddr, r.client_addr.c_str());
            row.text_or_null(kPApplicationName, r.application_name);
            row.text_or_null(kPProtocol, r.protocol);
            row.text_or_null(kPKeyExchangeGroup, r.key_exchange_group);
            row.boolean(kPHybrid, r.hybrid);
            row.int8(kPConnections, r.connections);
            timestamptz(row, kPLastSeen, r.last_seen);
            row.text_or_null(kPReason, r.reason);
            row.put(rsinfo);
        }
        return Datum(0);
    });
}

// tls_audit.pq_readiness_summary(since): one row for dashboards.
extern "C" Datum tls_audit_pq_readiness_summary(PG_FUNCTION_ARGS) {
    return pg::guarded([&]() -> Datum {
        pg::census::require();
        const auto cutoff = pg::census::since_arg(fcinfo, 0);
        pg::Row row(pg::result_descriptor(fcinfo));
        pg::check_columns(row.columns(), kPqSummaryColumns, "tls_audit.pq_readiness_summary()");
        const pg::Visibility v;
        const auto snap = pg::census::snapshot();

        const PqReadinessSummary sum = pq_readiness_summary(pg::census::visible_records(snap, v, cutoff));
        row.int8(kPSTotal, sum.total);
        row.int8(kPSHybrid, sum.hybrid);
        if (sum.hybrid_share)
            row.float8(kPSShare, *sum.hybrid_share);
        else
            row.null(kPSShare);
        row.int8(kPSTls12, sum.tls12);
        row.int8(kPSNoTls, sum.no_tls);
        row.int8(kPSUnknown, sum.unknown);
        row.int8(kPSClientsNotReady, sum.clients_not_ready);
        completeness(row, kPSComplete, kPSEvictedSince, cutoff);
        return row.as_composite();
    });
}
