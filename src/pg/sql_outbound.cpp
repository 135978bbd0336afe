// tls_audit.outbound_connections: the connections the server itself makes.
//
//  * physical_replication: primary_conninfo (a GUC PostgreSQL shows only to
//    roles with the privileges of pg_read_all_settings, pg_monitor among
//    them), live state from pg_stat_wal_receiver;
//  * subscription: pg_subscription.subconninfo (PostgreSQL revokes the
//    column from PUBLIC: read as the caller, a caller who may not read it
//    gets the row with NULL options and the reason), live state from
//    pg_stat_subscription (the apply worker);
//  * foreign_server: servers of postgres_fdw and dblink_fdw (recognised by
//    their validator functions), options from pg_foreign_server;
//  * user_mapping: pg_user_mappings (which shows umoptions only to the mapped
//    user, the server's owner for PUBLIC, or a superuser), merged over the
//    server's options, as postgres_fdw and dblink_fdw merge them.
//
// Connection strings are parsed by libpq's own PQconninfoParse (the server's
// libpq, linked into the library); a foreign server's options are libpq
// keywords already (those that are not, e.g. fetch_size, are left out). The
// fallbacks libpq applies to unset keywords (the environment the server was
// started with, which every backend, walreceiver and apply worker inherits,
// and libpq's compiled-in defaults) come from PQconndefaults(). The decisions
// are the core's (src/core/access/outbound.hpp).
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <iterator>
#include <map>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include <pwd.h>
#include <unistd.h>

#include "guard.hpp"
#include "interrupts.hpp"
#include "hook_outbound.hpp"
#include "row.hpp"
#include "spi_query.hpp"
#include "sql_outbound.hpp"

#include "postgres.hpp"

extern "C" {
PG_FUNCTION_INFO_V1(tls_audit_outbound_connection_rows);
}

using namespace tls_audit;

namespace {

using pg::Cell;
using pg::Table;

Expected<Table> query(const char *sql, int columns) { return pg::spi_query(sql, columns); }

const std::string &text(const std::vector<Cell> &row, int col) { return pg::cell_text(row, col); }

// --- libpq -------------------------------------------------------------------

struct ConninfoFree {
    void operator()(PQconninfoOption *o) const { PQconninfoFree(o); }
};
using ConninfoPtr = std::unique_ptr<PQconninfoOption, ConninfoFree>;
struct FreeMem {
    void operator()(char *p) const { PQfreemem(p); }
};

}  // namespace

// Parse a connection string with libpq: the options, or libpq's error (its
// echoed fragments redacted: they may hold a password).
Expected<ConnOptions> pg::parse_conninfo(const std::string &conninfo) {
    char *err = nullptr;
    ConninfoPtr parsed(PQconninfoParse(conninfo.c_str(), &err));
    std::unique_ptr<char, FreeMem> err_owner(err);
    if (!parsed) {
        std::string message = err != nullptr ? redact_conninfo_error(err) : "out of memory";
        return make_error(sqlstate::kInvalidParameter, "invalid connection string: " + message);
    }
    ConnOptions out;
    for (PQconninfoOption *o = parsed.get(); o->keyword != nullptr; ++o)
        out.push_back(ConnOption{o->keyword, o->val != nullptr ? std::optional<std::string>(o->val) : std::nullopt});
    return out;
}

namespace {

using pg::parse_conninfo;

struct LibpqFacts {
    ConnDefaults defaults;
    std::vector<std::string> keywords;  // every keyword this libpq knows
};

std::string home_directory() {
    const char *home = std::getenv("HOME");
    if (home != nullptr && home[0] != '\0') return home;
    struct passwd pw {};
    struct passwd *result = nullptr;
    char buf[1024];
    if (getpwuid_r(geteuid(), &pw, buf, sizeof buf, &result) == 0 && result != nullptr) return pw.pw_dir;
    return {};
}

LibpqFacts libpq_facts() {
    LibpqFacts f;
    ConninfoPtr defaults(PQconndefaults());
    if (!defaults) throw CoreError(make_error(sqlstate::kOutOfMemory, "PQconndefaults() failed: out of memory"));
    for (PQconninfoOption *o = defaults.get(); o->keyword != nullptr; ++o) {
        f.keywords.emplace_back(o->keyword);
        if (o->envvar != nullptr) {
            if (const char *v = std::getenv(o->envvar)) {
                // The value of a secret is never kept, only that it is set.
                f.defaults.environment.emplace_back(o->keyword, is_secret_keyword(o->keyword) ? "(set)" : v);
            }
        }
        if (o->compiled != nullptr) f.defaults.compiled.emplace_back(o->keyword, o->compiled);
    }
    f.defaults.default_socket_dir = DEFAULT_PGSOCKET_DIR;
    const std::string home = home_directory();
    if (!home.empty()) f.defaults.default_root_cert = home + "/.postgresql/root.crt";
    f.defaults.libpq_version = PQlibVersion();
    return f;
}

bool known_keyword(const LibpqFacts &libpq, const std::string &k) {
    for (const auto &x : libpq.keywords)
        if (x == k) return true;
    return false;
}

// --- one link ------------------------------------------------------------------

RootCertFacts read_root_cert(const LinkAssessment &a) {
    RootCertFacts r;
    r.file = a.sslrootcert;
    if (a.sslrootcert == "system") {
        r.system = true;
        return r;
    }
    if (r.file.empty()) {
        r.read_error = "no file: the home directory of the server's OS user is not known";
        return r;
    }
    // Through the one reader: a FIFO or device named by sslrootcert is
    // reported, never waited on.
    FileReadResult read = read_regular_file(r.file, kMaxCertificateInput, pg::cancel_requested());
    if (read.failure == FileReadFailure::Cancelled) throw CoreError(read.error);
    if (!read.ok()) {
        r.read_error = read.failure == FileReadFailure::Open && read.error_number != 0
                           ? std::string(strerror(read.error_number))
                           : read.error.message;
        return r;
    }
    const std::string &data = read.bytes;
    auto certs = certificate_infos(data);
    if (!certs.ok()) {
        r.read_error = certs.error().message;
        return r;
    }
    r.certs = std::move(certs).value();
    return r;
}

pg::OutboundRow make_row(std::string kind, std::string name, const Expected<ConnOptions> &options,
                         const LibpqFacts &libpq, bool read_root_certs) {
    pg::OutboundRow row;
    row.facts.kind = std::move(kind);
    row.facts.name = std::move(name);
    if (!options.ok()) {
        row.facts.error = options.error().message;
        return row;
    }
    row.facts.link = assess_link(options.value(), libpq.defaults);
    if (read_root_certs && row.facts.link->verifies_server) row.facts.root_cert = read_root_cert(*row.facts.link);
    return row;
}

// The options of a foreign server or user mapping (keyword, value rows),
// keeping libpq's keywords only.
ConnOptions fdw_options(const std::vector<std::pair<std::string, std::string>> &kv, const LibpqFacts &libpq) {
    ConnOptions out;
    for (const auto &[k, v] : kv)
        if (known_keyword(libpq, k)) out.push_back(ConnOption{k, v});
    return out;
}

// --- the kinds of link -------------------------------------------------------------

// What the process `pid` recorded about its replication connection
// (hook_outbound.cpp): "; TLSv1.3, TLS_AES_256_GCM_SHA384 (256 bits)". A
// replication process records every TLS handshake it finishes, so one with
// no TLS recorded is connected without it.
std::string recorded_tls(const std::string &pid) {
    if (!pg::outbound_live_active())
        return "; its TLS protocol is recorded only with shared_preload_libraries = 'pg_tls_audit'";
    auto live = pg::outbound_live(std::atoi(pid.c_str()));
    if (!live || !live->ssl) return "; connected without TLS";
    return "; " + live->protocol + ", " + live->cipher + " (" + std::to_string(live->bits) + " bits)";
}

bool in_recovery() {
    auto r = query("SELECT pg_catalog.pg_is_in_recovery()", 1);
    return r.ok() && !r.value().empty() && text(r.value()[0], 0) == "t";
}

void physical_replication(std::vector<pg::OutboundRow> &rows, const LibpqFacts &libpq, bool read_root_certs) {
    const Oid me = GetUserId();
    const bool may_read = pg::call([me] { return has_privs_of_role(me, ROLE_PG_READ_ALL_SETTINGS); });
    if (!may_read) {
        pg::OutboundRow row;
        row.facts.kind = "physical_replication";
        row.facts.name = "primary_conninfo";
        row.facts.error = "primary_conninfo is shown only to roles with the privileges of pg_read_all_settings";
        rows.push_back(std::move(row));
        return;
    }
    const char *value = pg::call([] { return GetConfigOption("primary_conninfo", true, false); });
    if (value == nullptr || value[0] == '\0') return;
    pg::OutboundRow row = make_row("physical_replication", "primary_conninfo", parse_conninfo(value), libpq,
                                   read_root_certs);

    // The walreceiver: pg_stat_wal_receiver shows its state, and in conninfo
    // the options of its live connection as libpq resolved them (service
    // file and environment included; the password masked). Its TLS protocol
    // and cipher are what the walreceiver recorded itself when it connected
    // (hook_outbound.cpp).
    auto wal = query("SELECT pid, status, sender_host, sender_port, conninfo FROM pg_catalog.pg_stat_wal_receiver", 5);
    if (!in_recovery()) {
        row.live_tls = "not a standby: primary_conninfo is not in use";
    } else if (!wal.ok()) {
        row.live_tls = "pg_stat_wal_receiver: " + wal.error().message;
    } else if (wal.value().empty()) {
        row.live_tls = "no walreceiver is running";
    } else {
        const auto &w = wal.value()[0];
        std::string live = "walreceiver pid " + text(w, 0) + " " + text(w, 1);
        if (!w[2] && !w[4]) {
            live += "; its connection is shown only to roles with the privileges of pg_read_all_stats";
        } else {
            if (w[2]) live += " from " + text(w, 2) + (w[3] ? ":" + text(w, 3) : std::string());
            auto used = parse_conninfo(text(w, 4));
            if (used.ok()) {
                const auto mode = option_value(used.value(), "sslmode").value_or("?");
                live += "; live connection sslmode=" + mode;
                if (mode == "require" || mode == "verify-ca" || mode == "verify-full")
                    live += " (TLS is in use: libpq refuses plaintext in this mode)";
                else if (mode == "disable")
                    live += " (no TLS)";
                else
                    live += " (TLS is not guaranteed: the mode falls back to plaintext)";
                if (auto min = option_value(used.value(), "ssl_min_protocol_version"))
                    live += ", ssl_min_protocol_version=" + *min;
            }
        }
        // A walreceiver still starting has not connected yet: nothing to record.
        row.live_tls = text(w, 1) == "starting" ? live : live + recorded_tls(text(w, 0));
    }
    rows.push_back(std::move(row));
}

void subscriptions(std::vector<pg::OutboundRow> &rows, const LibpqFacts &libpq, bool read_root_certs) {
    // Names first (readable by everyone), then the connection strings,
    // which PostgreSQL shows only to roles it granted the column to.
    auto subs = query("SELECT s.oid, s.subname::text, s.subenabled, d.datname::text "
                      "FROM pg_catalog.pg_subscription s "
                      "LEFT JOIN pg_catalog.pg_database d ON d.oid = s.subdbid ORDER BY s.subname, s.oid",
                      4);
    if (!subs.ok()) {
        pg::OutboundRow row;
        row.facts.kind = "subscription";
        row.facts.error = "pg_subscription: " + subs.error().message;
        rows.push_back(std::move(row));
        return;
    }
    if (subs.value().empty()) return;
    auto conninfo = query("SELECT oid, subconninfo FROM pg_catalog.pg_subscription", 2);
    std::map<std::string, std::string> by_oid;
    if (conninfo.ok())
        for (const auto &r : conninfo.value()) by_oid[text(r, 0)] = text(r, 1);
    auto workers = query("SELECT subid, min(pid), max(last_msg_receipt_time) FROM pg_catalog.pg_stat_subscription "
                         "WHERE relid IS NULL AND pid IS NOT NULL GROUP BY subid",
                         3);
    std::map<std::string, std::vector<Cell>> worker_by_oid;
    if (workers.ok())
        for (const auto &r : workers.value()) worker_by_oid[text(r, 0)] = r;

    for (const auto &s : subs.value()) {
        const std::string &oid = text(s, 0);
        Expected<ConnOptions> options = make_error(
            sqlstate::kInsufficientPrivilege,
            "subconninfo is not readable by this role (PostgreSQL shows pg_subscription.subconninfo only to "
            "superusers and roles granted SELECT on it)");
        if (conninfo.ok()) {
            auto it = by_oid.find(oid);
            if (it != by_oid.end()) options = parse_conninfo(it->second);
        }
        pg::OutboundRow row = make_row("subscription", text(s, 1), options, libpq, read_root_certs);
        if (text(s, 2) != "t") {
            row.live_tls = "subscription disabled: no apply worker";
        } else if (!workers.ok()) {
            row.live_tls = "pg_stat_subscription: " + workers.error().message;
        } else if (auto w = worker_by_oid.find(oid); w != worker_by_oid.end()) {
            row.live_tls = "apply worker pid " + text(w->second, 1) + " running" + recorded_tls(text(w->second, 1)) +
                           (w->second[2] ? "; last message " + text(w->second, 2) : std::string());
        } else {
            row.live_tls = "no apply worker running";
        }
        rows.push_back(std::move(row));
    }
}

// Foreign servers of postgres_fdw and dblink_fdw and their user mappings.
void foreign_servers(std::vector<pg::OutboundRow> &rows, const LibpqFacts &libpq, bool read_root_certs) {
    static const char *const kServers =
        "SELECT s.oid, s.srvname::text, o.option_name, o.option_value "
        "FROM pg_catalog.pg_foreign_server s "
        "JOIN pg_catalog.pg_foreign_data_wrapper w ON w.oid = s.srvfdw "
        "JOIN pg_catalog.pg_proc p ON p.oid = w.fdwvalidator "
        "LEFT JOIN LATERAL pg_catalog.pg_options_to_table(s.srvoptions) o ON true "
        "WHERE p.proname IN ('postgres_fdw_validator', 'dblink_fdw_validator') ORDER BY s.srvname, s.oid";
    auto servers = query(kServers, 4);
    if (!servers.ok()) {
        pg::OutboundRow row;
        row.facts.kind = "foreign_server";
        row.facts.error = "pg_foreign_server: " + servers.error().message;
        rows.push_back(std::move(row));
        return;
    }
    struct Server {
        std::string name;
        std::vector<std::pair<std::string, std::string>> options;
    };
    std::vector<std::string> order;
    std::map<std::string, Server> by_oid;
    for (const auto &r : servers.value()) {
        const std::string &oid = text(r, 0);
        if (!by_oid.count(oid)) order.push_back(oid);
        Server &s = by_oid[oid];
        s.name = text(r, 1);
        if (r[2]) s.options.emplace_back(text(r, 2), text(r, 3));
    }
    if (order.empty()) return;
    // pg_user_mappings applies PostgreSQL's rule: umoptions is NULL unless
    // the caller is the mapped user, the server's owner (for PUBLIC), or a
    // superuser.
    // A mapping without options has NULL umoptions too: hidden is the
    // negation of the view's own condition.
    auto mappings = query(
        "SELECT m.srvid, m.umid, m.usename::text, "
        "NOT (m.umoptions IS NOT NULL "
        "  OR (m.umuser <> 0 AND m.usename = CURRENT_USER "
        "      AND (pg_catalog.pg_has_role(s.srvowner, 'USAGE') OR pg_catalog.has_server_privilege(s.oid, 'USAGE'))) "
        "  OR (m.umuser = 0 AND pg_catalog.pg_has_role(s.srvowner, 'USAGE')) "
        "  OR (SELECT r.rolsuper FROM pg_catalog.pg_roles r WHERE r.rolname = CURRENT_USER)), "
        "o.option_name, o.option_value "
        "FROM pg_catalog.pg_user_mappings m JOIN pg_catalog.pg_foreign_server s ON s.oid = m.srvid "
        "LEFT JOIN LATERAL pg_catalog.pg_options_to_table(m.umoptions) o ON true "
        "ORDER BY m.usename, m.umid",
        6);
    for (const auto &oid : order) {
        const Server &s = by_oid[oid];
        const ConnOptions server_options = fdw_options(s.options, libpq);
        rows.push_back(make_row("foreign_server", s.name, server_options, libpq, read_root_certs));
        if (!mappings.ok()) {
            pg::OutboundRow row;
            row.facts.kind = "user_mapping";
            row.facts.name = "?@" + s.name;
            row.facts.error = "pg_user_mappings: " + mappings.error().message;
            rows.push_back(std::move(row));
            continue;
        }
        struct Mapping {
            std::string user;
            bool hidden = false;
            std::vector<std::pair<std::string, std::string>> options;
        };
        std::vector<std::string> morder;
        std::map<std::string, Mapping> maps;
        for (const auto &r : mappings.value()) {
            if (text(r, 0) != oid) continue;
            const std::string &umid = text(r, 1);
            if (!maps.count(umid)) morder.push_back(umid);
            Mapping &m = maps[umid];
            m.user = text(r, 2);
            m.hidden = text(r, 3) == "t";
            if (r[4]) m.options.emplace_back(text(r, 4), text(r, 5));
        }
        for (const auto &umid : morder) {
            const Mapping &m = maps[umid];
            const std::string name = m.user + "@" + s.name;
            if (m.hidden) {
                rows.push_back(make_row("user_mapping", name,
                                        make_error(sqlstate::kInsufficientPrivilege,
                                                   "the user mapping's options are not visible to this role "
                                                   "(pg_user_mappings shows them to the mapped user, the "
                                                   "server's owner for PUBLIC, and superusers)"),
                                        libpq, read_root_certs));
                continue;
            }
            // The mapping's options over the server's, as the FDWs merge them.
            ConnOptions merged = server_options;
            for (auto &o : fdw_options(m.options, libpq)) {
                bool replaced = false;
                for (auto &x : merged)
                    if (x.keyword == o.keyword) {
                        x.value = o.value;
                        replaced = true;
                    }
                if (!replaced) merged.push_back(std::move(o));
            }
            rows.push_back(make_row("user_mapping", name, merged, libpq, read_root_certs));
        }
    }
}

enum Column {
    kKind,
    kName,
    kHost,
    kPort,
    kSslmode,
    kSslmodeSource,
    kSslrootcert,
    kSslcertPresent,
    kSslnegotiation,
    kSslMinProtocol,
    kChannelBinding,
    kVerifiesServer,
    kPasswordInConninfo,
    kLiveTls,
    kError,
    kNotes,
    kColumns
};

}  // namespace

namespace tls_audit::pg {

std::vector<OutboundRow> gather_outbound(bool read_root_certs) {
    const LibpqFacts libpq = libpq_facts();
    std::vector<OutboundRow> rows;
    physical_replication(rows, libpq, read_root_certs);
    subscriptions(rows, libpq, read_root_certs);
    foreign_servers(rows, libpq, read_root_certs);
    return rows;
}

}  // namespace tls_audit::pg

extern "C" Datum tls_audit_outbound_connection_rows(PG_FUNCTION_ARGS) {
    return pg::guarded([&]() -> Datum {
        ReturnSetInfo *rsinfo = pg::materialize(fcinfo);
        pg::check_columns(rsinfo->setDesc->natts, kColumns, "tls_audit.outbound_connection_rows()");
        pg::call([] {
            if (SPI_connect() != SPI_OK_CONNECT) elog(ERROR, "SPI_connect failed");
        });
        std::vector<pg::OutboundRow> rows = pg::gather_outbound(false);
        pg::call([] { SPI_finish(); });
        for (const auto &r : rows) {
            pg::Row row(rsinfo->setDesc);
            row.text(kKind, r.facts.kind);
            row.text_or_null(kName, r.facts.name);
            row.text_or_null(kError, r.facts.error);
            row.text_or_null(kLiveTls, r.live_tls);
            if (!r.facts.link) {
                for (int c : {kHost, kPort, kSslmode, kSslmodeSource, kSslrootcert, kSslcertPresent, kSslnegotiation,
                              kSslMinProtocol, kChannelBinding, kVerifiesServer, kPasswordInConninfo, kNotes})
                    row.null(c);
                row.put(rsinfo);
                continue;
            }
            const LinkAssessment &a = *r.facts.link;
            row.text_or_null(kHost, a.host);
            row.text_or_null(kPort, a.port);
            row.text(kSslmode, a.sslmode);
            row.text(kSslmodeSource, setting_source_name(a.sslmode_source));
            row.text_or_null(kSslrootcert, a.sslrootcert);
            row.boolean(kSslcertPresent, a.sslcert_present);
            row.text_or_null(kSslnegotiation, a.sslnegotiation);
            row.text_or_null(kSslMinProtocol, a.ssl_min_protocol_version);
            row.text_or_null(kChannelBinding, a.channel_binding);
            row.boolean(kVerifiesServer, a.verifies_server);
            row.boolean(kPasswordInConninfo, a.password_in_conninfo);
            std::vector<std::string> notes = a.notes;
            if (a.sslrootcert_default && a.verifies_server)
                notes.push_back("sslrootcert is not set: libpq reads " +
                                (a.sslrootcert.empty() ? std::string("~/.postgresql/root.crt") : a.sslrootcert));
            row.text_array(kNotes, notes);
            row.put(rsinfo);
        }
        return Datum(0);
    });
}
