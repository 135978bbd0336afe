// tls_audit.pooler_clients(), pooler_servers(), pooler_settings(): the
// pgbouncer admin consoles of tls_audit.poolers, read with the server's libpq
// (pooler_console.cpp), parsed by the core (src/core/pooler/). A pooler that
// cannot be read gives one row with only its name and the error: the other
// poolers are still listed (fail open), and run_checks() reports it as
// pooler_unreachable.
#include <memory>
#include <optional>
#include <string>
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

// Does the connection string set a non-empty password? (It parsed when the
// setting was accepted; a string that no longer parses holds none we know of.)
bool has_password(const std::string &conninfo) {
    auto options = pg::parse_conninfo(conninfo);
    return options && pooler_conninfo_has_password(options.value());
}

// The certificate chain the pooler serves, probed over STARTTLS at the host
// and port of its admin console (pooler/pooler_conninfo.hpp). A cancel
// propagates.
void probe_served_chain(const std::string &conninfo, PoolerFacts &f) {
    auto options = pg::parse_conninfo(conninfo);
    if (!options) {
        f.cert_error = "the connection string does not parse";
        return;
    }
    auto address = pooler_probe_address(options.value());
    if (!address) {
        f.cert_error = address.error().message;
        return;
    }
    ProbeTarget target;
    target.host = address.value().host;
    target.port = address.value().port;
    target.timeout_ms = pg::pooler_timeout_ms();
    auto chain = probe_chain(target, pg::cancel_requested());
    if (!chain) {
        if (chain.error().sqlstate == sqlstate::kQueryCanceled) throw CoreError(chain.error());
        f.cert_error = chain.error().message;
        return;
    }
    f.served_chain = chain.value().certificates;
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
            if (pooler_serves_tls(*f.config)) probe_served_chain(p.conninfo, f);
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
