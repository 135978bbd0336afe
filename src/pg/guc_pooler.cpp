// GUCs of the pgbouncer audit (tls_audit.pooler_*(), the pooler checks).
//
// tls_audit.poolers is superuser-only and reloaded with the configuration
// (PGC_SIGHUP): its connection strings say where the server connects, as
// whom, and may (against advice) hold a password. A malformed value is
// refused at reload (the previous value stays) and at start (then the pooler
// functions and checks refuse to run until a valid value is loaded).
//
// tls_audit.pooler_sample_interval (PGC_SIGHUP, seconds, 0 = off): how often
// the pooler sample worker counts the poolers' clients into the census. A
// value out of range is refused at reload (the previous one stays) and at
// start (the default applies, with the start settings' WARNING), so a typo
// never turns the sampling off.
#include <cstring>
#include <memory>

#include "access/outbound.hpp"
#include "bgw_pooler_sample.hpp"
#include "guc_pooler.hpp"
#include "guc_start_settings.hpp"
#include "libpq_on_demand.hpp"
#include "module.hpp"

#include "postgres.hpp"

namespace tls_audit::pg {

namespace {

char *poolers_setting = nullptr;
int timeout_ms = 5000;
int sample_interval_s = 60;
constexpr int kMaxSampleInterval = 24 * 3600;
bool refused_at_start = false;
bool defining = false;

struct FreeMem {
    void operator()(char *p) const { PQfreemem(p); }
};
struct ConninfoFree {
    void operator()(PQconninfoOption *o) const { PQconninfoFree(o); }
};

// The value's error, or "" when libpq parses every connection string.
// Never echoes a connection string (it may hold a password).
std::string validate(const char *value) {
    auto parsed = parse_poolers_setting(value != nullptr ? value : "");
    if (!parsed) return parsed.error().message;
    for (const auto &entry : parsed.value()) {
        char *err = nullptr;
        std::unique_ptr<PQconninfoOption, ConninfoFree> options(PQconninfoParse(entry.conninfo.c_str(), &err));
        std::unique_ptr<char, FreeMem> err_owner(err);
        if (!options)
            return "invalid tls_audit.poolers: the connection string of \"" + entry.name +
                   "\" is invalid: " + (err != nullptr ? redact_conninfo_error(err) : std::string("out of memory"));
    }
    return {};
}

bool check_poolers(char **newval, void **extra, GucSource source) {
    (void)extra;
    (void)source;
    char message[512] = "";
    char hint[256] = "Write NAME=CONNINFO entries separated by ';' (doc/poolers.md).";
    try {
        // libpq is loaded for the check and unloaded after it unless this
        // process had it: the postmaster checks the value at start and at
        // each reload, and every backend would inherit a libpq it kept.
        LibpqScope scope;
        const std::string error = validate(*newval);
        strlcpy(message, error.c_str(), sizeof message);
    } catch (const CoreError &e) {
        // libpq could not be loaded (its words and HINT): the value is
        // refused, as one that cannot be checked must be.
        snprintf(message, sizeof message, "could not check the value: %s", e.error().message.c_str());
        if (!e.error().hint.empty()) strlcpy(hint, e.error().hint.c_str(), sizeof hint);
    } catch (...) {
        strlcpy(message, "could not check the value", sizeof message);
    }
    if (message[0] == '\0') return true;
    // PostgreSQL's own message would quote the value, connection strings and
    // any password in them included, into the server log and to the client.
    GUC_check_errmsg("invalid value for parameter \"tls_audit.poolers\" (not shown: it may hold a password)");
    GUC_check_errdetail("%s", message);
    GUC_check_errhint("%s", hint);
    return false;
}

void assign_poolers(const char *newval, void *extra) {
    (void)newval;
    (void)extra;
    // A valid value applied after start (a reload) ends the refusal.
    if (!defining) refused_at_start = false;
}

}  // namespace

Expected<std::vector<PoolerEntry>> configured_poolers() {
    if (refused_at_start)
        return make_error(sqlstate::kInvalidParameter,
                          "the value of tls_audit.poolers in the configuration files was refused at start",
                          "Correct tls_audit.poolers (the server log says why) and reload.");
    return parse_poolers_setting(poolers_setting != nullptr ? poolers_setting : "");
}

int pooler_timeout_ms() { return timeout_ms; }

int pooler_sample_interval_seconds() { return sample_interval_s; }

void init_pooler() {
    defining = true;
    DefineCustomStringVariable(
        "tls_audit.poolers", "The pgbouncer admin consoles whose TLS pg_tls_audit audits.",
        "NAME=CONNINFO entries separated by ';': a name for the rows and findings, and a libpq connection "
        "string to the pooler's admin console (dbname=pgbouncer). Passwords belong in a passfile.",
        &poolers_setting, "", PGC_SIGHUP, GUC_SUPERUSER_ONLY, check_poolers, assign_poolers, nullptr);
    defining = false;
    refused_at_start = start_value_rejected("tls_audit.poolers");
    DefineCustomIntVariable("tls_audit.pooler_timeout",
                            "Time allowed for connecting to one pooler and for each of its answers.", nullptr,
                            &timeout_ms, 5000, 100, 60000, PGC_SUSET, GUC_UNIT_MS, nullptr, nullptr, nullptr);
    DefineCustomIntVariable("tls_audit.pooler_sample_interval",
                            "How often the clients of each pooler of tls_audit.poolers are counted into the "
                            "connection census.",
                            "0 turns the sampling off. Each client connection is counted once, however many "
                            "samples list it; a client that comes and goes between two samples is not counted.",
                            &sample_interval_s, 60, 0, kMaxSampleInterval, PGC_SIGHUP, GUC_UNIT_S, nullptr, nullptr,
                            nullptr);
    register_pooler_sample_worker();
}

}  // namespace tls_audit::pg
