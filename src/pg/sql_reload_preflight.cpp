// tls_audit.reload_preflight() and tls_audit.reload_would_succeed(): the
// settings a reload would apply (the current ones, overridden by those
// changed in the configuration files and not applied yet, read from
// pg_file_settings through SPI) handed to the core's pre-flight, which builds
// a throw-away SSL_CTX in this backend. The running server's TLS state is
// never touched; the passphrase command is never run.
#include <optional>
#include <string>
#include <vector>

#include <unistd.h>

#include "guard.hpp"
#include "reload_preflight.hpp"
#include "row.hpp"

#include "postgres.hpp"

extern "C" {
PG_FUNCTION_INFO_V1(tls_audit_reload_preflight);
PG_FUNCTION_INFO_V1(tls_audit_reload_would_succeed);
}

using namespace tls_audit;

namespace {

std::string setting(const char *name) {
    const char *value = pg::call([name] { return GetConfigOption(name, true, false); });
    return value != nullptr ? value : "";
}

struct Pending {
    std::vector<std::pair<std::string, std::string>> values;  // lower-case name, value
    std::string unreadable;  // why pg_file_settings could not be read
};

// The TLS settings as the configuration files name them now (a reload
// applies them): the last line of each name, when it can be applied and no
// command-line option overrides it. Read in a subtransaction: a caller who may not
// read pg_file_settings gets the current settings only (said at DEBUG1:
// run_checks() calls this for pg_monitor members on every run).
Pending pending_settings() {
    Pending out;
    MemoryContext outer_context = CurrentMemoryContext;
    ResourceOwner outer_owner = CurrentResourceOwner;
    pg::call([&] {
        if (SPI_connect() != SPI_OK_CONNECT) elog(ERROR, "SPI_connect failed");
    });
    pg::call([&] {
        BeginInternalSubTransaction(nullptr);
        MemoryContextSwitchTo(outer_context);
    });
    try {
        const int rc = pg::call([] {
            // The last line of each name is the one a reload applies ("applied"
            // says it can be, not that it was); a command-line value wins
            // over the files.
            return SPI_execute("SELECT f.n, f.setting FROM ("
                               "SELECT DISTINCT ON (pg_catalog.lower(name)) pg_catalog.lower(name) AS n, setting, "
                               "applied, error FROM pg_catalog.pg_file_settings "
                               "WHERE pg_catalog.lower(name) LIKE 'ssl%' "
                               "ORDER BY pg_catalog.lower(name), seqno DESC) AS f "
                               "WHERE f.applied AND f.error IS NULL AND NOT EXISTS ("
                               "SELECT 1 FROM pg_catalog.pg_settings AS s "
                               "WHERE s.name = f.n AND s.source = 'command line')",
                               true, 0);
        });
        if (rc != SPI_OK_SELECT || SPI_tuptable == nullptr || SPI_tuptable->tupdesc->natts != 2)
            throw CoreError(make_error(sqlstate::kInternal, "unexpected result from pg_file_settings"));
        for (uint64 r = 0; r < SPI_processed; ++r) {
            HeapTuple tuple = SPI_tuptable->vals[r];
            TupleDesc desc = SPI_tuptable->tupdesc;
            auto cell = [&](int c) -> std::optional<std::string> {
                char *v = pg::call([&] { return SPI_getvalue(tuple, desc, c); });
                if (v == nullptr) return std::nullopt;
                return std::string(v);
            };
            const auto name = cell(1), value = cell(2);
            if (!name || !value) continue;
            out.values.emplace_back(*name, *value);
        }
        pg::call([&] {
            ReleaseCurrentSubTransaction();
            MemoryContextSwitchTo(outer_context);
            CurrentResourceOwner = outer_owner;
        });
    } catch (const pg::PgError &e) {
        out.unreadable = e.what();
        pg::call([&] {
            RollbackAndReleaseCurrentSubTransaction();
            MemoryContextSwitchTo(outer_context);
            CurrentResourceOwner = outer_owner;
        });
    } catch (...) {
        pg::call([&] {
            RollbackAndReleaseCurrentSubTransaction();
            MemoryContextSwitchTo(outer_context);
            CurrentResourceOwner = outer_owner;
        });
        throw;
    }
    pg::call([] { SPI_finish(); });
    return out;
}

struct ReloadPlan {
    bool ssl = false;
    PreflightSettings settings;
};

ReloadPlan reload_plan() {
    const Pending pending = pending_settings();
    if (!pending.unreadable.empty()) {
        const std::string why = pending.unreadable;
        pg::call([&] {
            ereport(DEBUG1, (errmsg("tls_audit.reload_preflight(): settings changed in the configuration files "
                                    "are not seen: %s",
                                    why.c_str()),
                             errhint("Only the current settings are checked. Superusers, or roles granted "
                                     "SELECT on pg_file_settings and EXECUTE on pg_show_all_file_settings(), "
                                     "see the pending ones.")));
        });
    }
    auto value = [&](const char *name) {
        for (const auto &[n, v] : pending.values)
            if (n == name) return v;
        return setting(name);
    };
    auto on = [&](const char *name) {
        // parse_bool()'s spellings (a pending value is as written in the file).
        bool result = false;
        const std::string v = value(name);
        return pg::call([&] { return parse_bool(v.c_str(), &result); }) && result;
    };
    ReloadPlan p;
    p.ssl = on("ssl");
    auto &s = p.settings;
    s.cert_file = value("ssl_cert_file");
    s.key_file = value("ssl_key_file");
    s.ca_file = value("ssl_ca_file");
    s.crl_file = value("ssl_crl_file");
    s.crl_dir = value("ssl_crl_dir");
    s.dh_params_file = value("ssl_dh_params_file");
    s.ciphers = value("ssl_ciphers");
    if (pg::compat::kHasTls13Ciphers) s.tls13_ciphers = value("ssl_tls13_ciphers");
    s.groups = value(pg::compat::kGroupsSetting);
    s.groups_is_list = pg::compat::kGroupsIsList;
    s.min_protocol = value("ssl_min_protocol_version");
    s.max_protocol = value("ssl_max_protocol_version");
    s.passphrase_command = !value("ssl_passphrase_command").empty();
    s.passphrase_supports_reload = on("ssl_passphrase_command_supports_reload");
    s.server_uid = static_cast<std::uint32_t>(::geteuid());
    return p;
}

}  // namespace

extern "C" Datum tls_audit_reload_preflight(PG_FUNCTION_ARGS) {
    return pg::guarded([&]() -> Datum {
        ReturnSetInfo *rsinfo = pg::materialize(fcinfo);
        if (rsinfo->setDesc->natts != 4)
            throw CoreError(make_error(sqlstate::kInternal, "tls_audit.reload_preflight(): unexpected result columns",
                                       "The installed SQL script does not match the library; run ALTER "
                                       "EXTENSION pg_tls_audit UPDATE."));
        const ReloadPlan plan = reload_plan();
        // With ssl off (after the reload too) the server loads no TLS files.
        if (!plan.ssl) return Datum(0);
        for (const PreflightStage &stage : run_reload_preflight(plan.settings)) {
            pg::Row row(rsinfo->setDesc);
            row.text(0, stage.stage);
            row.text_or_null(1, stage.file);
            if (stage.ok) row.boolean(2, *stage.ok);
            row.text_or_null(3, stage.error);
            row.put(rsinfo);
        }
        return Datum(0);
    });
}

extern "C" Datum tls_audit_reload_would_succeed(PG_FUNCTION_ARGS) {
    (void)fcinfo;
    return pg::guarded([&]() -> Datum {
        const ReloadPlan plan = reload_plan();
        if (!plan.ssl) return BoolGetDatum(true);
        return BoolGetDatum(preflight_would_succeed(run_reload_preflight(plan.settings)));
    });
}
