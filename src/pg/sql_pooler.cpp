// tls_audit.pooler_clients(), pooler_servers(), pooler_settings(): the
// pgbouncer admin consoles of tls_audit.poolers, read with the server's libpq
// (pooler_console.cpp), parsed by the core (src/core/pooler/); and
// pooler_certificates(): the chain each pooler serves, probed over STARTTLS
// with the core probe (the chain the pooler_cert_expiry check judges). A pooler that
// cannot be read gives one row with only its name and the error: the other
// poolers are still listed (fail open), and run_checks() reports it as
// pooler_unreachable.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "access/outbound.hpp"
#include "guard.hpp"
#include "guc_pooler.hpp"
#include "interrupts.hpp"
#include "probe/probe.hpp"
#include "pooler/pooler_config.hpp"
#include "pooler/pooler_connections.hpp"
#include "pooler/pooler_conninfo.hpp"
#include "pooler_console.hpp"
#include "row.hpp"
#include "sql_outbound.hpp"
#include "sql_pooler.hpp"

#include "postgres.hpp"

extern "C" {
PG_FUNCTION_INFO_V1(tls_audit_pooler_clients);
PG_FUNCTION_INFO_V1(tls_audit_pooler_servers);
PG_FUNCTION_INFO_V1(tls_audit_pooler_settings);
PG_FUNCTION_INFO_V1(tls_audit_pooler_certificates);
}

using namespace tls_audit;

namespace {

// Columns of pooler_clients() and pooler_servers() (src/sql/76_pooler.sql).
enum ConnectionColumn {
    kPooler, kUser, kDatabase, kState, kAddr, kPort, kApplicationName, kConnectTime, kPtr, kTransport,
    kProtocol, kCipher, kGroup, kTls, kError, kConnectionColumns
};
// Columns of pooler_settings().
enum SettingColumn { kSPooler, kSSetting, kSValue, kSDefault, kSError, kSettingColumns };
// Columns of pooler_certificates(): the pooler, the certificate description
// (position, then pg::Row::certificate()'s columns), how the chain verified.
enum CertificateColumn {
    kCPooler,
    kCPosition,
    kCCertificate,
    kCVerified = kCCertificate + pg::kCertificateColumns,
    kCVerifyError,
    kCHostnameMatch,
    kCVerifiedAgainst,
    kCProtocol,
    kCCipher,
    kCError,
    kCertificateColumnsAll
};

// Does the connection string set a non-empty password? (It parsed when the
// setting was accepted; a string that no longer parses holds none we know of.)
bool has_password(const std::string &conninfo) {
    auto options = pg::parse_conninfo(conninfo);
    return options && pooler_conninfo_has_password(options.value());
}

// The pooler's served certificate chain, probed over STARTTLS at the host and
// port of its admin console (pgbouncer serves one certificate on its port),
// as a client of the pooler would see it: the name matched is the console's
// host (even when hostaddr gives the address), and the chain is verified
// against the connection string's sslrootcert, else the system store.
// Shared by pooler_certificates() and the pooler_cert_expiry check. Not for a
// unix socket (an Error). A cancel propagates (throws 57014).
struct ServedChain {
    ChainReport report;
    bool with_sslrootcert = false;  // verified against sslrootcert (else the system store)
};
Expected<ServedChain> probe_served_chain(const std::string &conninfo) {
    auto options = pg::parse_conninfo(conninfo);
    if (!options) return make_error(sqlstate::kInvalidParameter, "the connection string does not parse");
    auto where = pooler_cert_target(options.value());
    if (!where) return where.error();
    ServedChain out;
    ProbeTarget target;
    target.host = where.value().address;
    target.sni = where.value().name;
    target.port = where.value().port;
    target.ca_file = where.value().ca_file;
    target.timeout_ms = pg::pooler_timeout_ms();
    out.with_sslrootcert = !target.ca_file.empty();
    if (auto bad = validate_target(target)) return *bad;
    auto chain = probe_chain(target, pg::cancel_requested());
    if (!chain) {
        if (chain.error().sqlstate == sqlstate::kQueryCanceled) throw CoreError(chain.error());
        return chain.error();
    }
    out.report = std::move(chain.value());
    return out;
}

std::vector<PoolerEntry> poolers_or_throw() { return pg::configured_poolers().take(); }

// pgbouncer's connect_time ("2026-12-06 02:00:00 UTC", its local zone) as
// timestamptz; NULL when PostgreSQL cannot read it.
void connect_time(pg::Row &row, const std::string &text) {
    if (text.empty()) {
        row.null(kConnectTime);
        return;
    }
    try {
        row.datum(kConnectTime, pg::call([&] {
                      return DirectFunctionCall3(timestamptz_in, CStringGetDatum(text.c_str()),
                                                 ObjectIdGetDatum(InvalidOid), Int32GetDatum(-1));
                  }));
    } catch (const pg::PgError &) {
        row.null(kConnectTime);
    }
}

Datum connection_rows(FunctionCallInfo fcinfo, const char *command, const char *function) {
    const std::vector<PoolerEntry> poolers = poolers_or_throw();
    ReturnSetInfo *rsinfo = pg::materialize(fcinfo);
    pg::check_columns(rsinfo->setDesc->natts, kConnectionColumns, function);
    for (const PoolerEntry &p : poolers) {
        auto answers = pg::read_console(p.conninfo, {command});
        Expected<std::vector<PoolerConnection>> connections =
            answers ? pooler_connections(answers.value()[0].columns, answers.value()[0].rows)
                    : Expected<std::vector<PoolerConnection>>(answers.error());
        if (!connections) {
            pg::Row row(rsinfo->setDesc);
            for (int c = 0; c < kConnectionColumns; ++c) row.null(c);
            row.text(kPooler, p.name);
            row.text(kError, connections.error().message);
            row.put(rsinfo);
            continue;
        }
        for (const PoolerConnection &c : connections.value()) {
            pg::Row row(rsinfo->setDesc);
            row.text(kPooler, p.name);
            row.text_or_null(kUser, c.user);
            row.text_or_null(kDatabase, c.database);
            row.text_or_null(kState, c.state);
            if (c.address)
                row.datum(kAddr, pg::call([&] { return DirectFunctionCall1(inet_in, CStringGetDatum(c.address->c_str())); }));
            else
                row.null(kAddr);
            if (c.port) row.int4(kPort, *c.port); else row.null(kPort);
            row.text_or_null(kApplicationName, c.application_name);
            connect_time(row, c.connect_time);
            row.text_or_null(kPtr, c.ptr);
            row.text(kTransport, c.transport);
            if (c.tls) {
                row.text_or_null(kProtocol, c.tls->protocol);
                row.text_or_null(kCipher, c.tls->cipher);
                row.text_or_null(kGroup, c.tls->key_exchange_group);
            } else {
                row.null(kProtocol);
                row.null(kCipher);
                row.null(kGroup);
            }
            row.text_or_null(kTls, c.tls_column);
            row.text_or_null(kError, c.tls_error);
            row.put(rsinfo);
        }
    }
    return static_cast<Datum>(0);
}

// SHOW CONFIG's rows, or the Error.
Expected<std::vector<PoolerConfigRow>> show_config(const std::string &conninfo) {
    auto answers = pg::read_console(conninfo, {"SHOW CONFIG"});
    if (!answers) return answers.error();
    return pooler_config_rows(answers.value()[0].columns, answers.value()[0].rows);
}

}  // namespace

namespace tls_audit::pg {

std::vector<PoolerFacts> gather_poolers() {
    std::vector<PoolerFacts> out;
    for (const PoolerEntry &p : poolers_or_throw()) {
        PoolerFacts f;
        f.name = p.name;
        f.password_in_conninfo = has_password(p.conninfo);
        auto rows = show_config(p.conninfo);
        if (rows) {
            f.config = pooler_config_from_config_rows(rows.value());
            if (pooler_serves_tls(*f.config)) {
                auto served = probe_served_chain(p.conninfo);
                if (served)
                    f.served_chain = served.value().report.certificates;
                else
                    f.cert_error = served.error().message;
            }
        } else {
            f.error = rows.error().message;
        }
        out.push_back(std::move(f));
    }
    return out;
}

}  // namespace tls_audit::pg

extern "C" Datum tls_audit_pooler_clients(PG_FUNCTION_ARGS) {
    return pg::guarded([&]() -> Datum { return connection_rows(fcinfo, "SHOW CLIENTS", "tls_audit.pooler_clients()"); });
}

extern "C" Datum tls_audit_pooler_servers(PG_FUNCTION_ARGS) {
    return pg::guarded([&]() -> Datum { return connection_rows(fcinfo, "SHOW SERVERS", "tls_audit.pooler_servers()"); });
}

extern "C" Datum tls_audit_pooler_settings(PG_FUNCTION_ARGS) {
    return pg::guarded([&]() -> Datum {
        const std::vector<PoolerEntry> poolers = poolers_or_throw();
        ReturnSetInfo *rsinfo = pg::materialize(fcinfo);
        pg::check_columns(rsinfo->setDesc->natts, kSettingColumns, "tls_audit.pooler_settings()");
        for (const PoolerEntry &p : poolers) {
            auto rows = show_config(p.conninfo);
            if (!rows) {
                pg::Row row(rsinfo->setDesc);
                for (int c = 0; c < kSettingColumns; ++c) row.null(c);
                row.text(kSPooler, p.name);
                row.text(kSError, rows.error().message);
                row.put(rsinfo);
                continue;
            }
            for (const auto &r : rows.value()) {
                if (!is_pooler_tls_setting(r.key)) continue;
                pg::Row row(rsinfo->setDesc);
                row.text(kSPooler, p.name);
                row.text(kSSetting, r.key);
                row.text(kSValue, r.value);
                row.text(kSDefault, r.default_value);
                row.null(kSError);
                row.put(rsinfo);
            }
        }
        return static_cast<Datum>(0);
    });
}

extern "C" Datum tls_audit_pooler_certificates(PG_FUNCTION_ARGS) {
    return pg::guarded([&]() -> Datum {
        const std::vector<PoolerEntry> poolers = poolers_or_throw();
        ReturnSetInfo *rsinfo = pg::materialize(fcinfo);
        pg::check_columns(rsinfo->setDesc->natts, kCertificateColumnsAll, "tls_audit.pooler_certificates()");
        for (const PoolerEntry &p : poolers) {
            auto served = probe_served_chain(p.conninfo);
            if (!served) {
                pg::Row row(rsinfo->setDesc);
                for (int c = 0; c < kCertificateColumnsAll; ++c) row.null(c);
                row.text(kCPooler, p.name);
                row.text(kCError, served.error().message);
                row.put(rsinfo);
                continue;
            }
            const ChainReport &report = served.value().report;
            const std::int64_t now = pg::now_epoch();
            int position = 0;
            for (const CertInfo &cert : report.certificates) {
                pg::Row row(rsinfo->setDesc);
                row.text(kCPooler, p.name);
                row.int4(kCPosition, position++);
                row.certificate(kCCertificate, cert, now);
                row.boolean(kCVerified, report.verified);
                row.text_or_null(kCVerifyError, report.verify_error);
                row.boolean(kCHostnameMatch, report.hostname_match);
                row.text(kCVerifiedAgainst, served.value().with_sslrootcert ? "sslrootcert" : "system");
                row.text_or_null(kCProtocol, report.protocol);
                row.text_or_null(kCCipher, report.cipher);
                row.null(kCError);
                row.put(rsinfo);
            }
        }
        return static_cast<Datum>(0);
    });
}
