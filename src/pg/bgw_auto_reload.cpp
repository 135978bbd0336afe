// The automatic-reload worker (tls_audit.auto_reload): every
// tls_audit.auto_reload_interval it stat()s the TLS files; once they changed
// and stayed unchanged for one interval, it runs the reload pre-flight in a
// transaction (the settings a reload would apply, from pg_file_settings) and
// either signals the postmaster to reload (SIGHUP, as pg_reload_conf() does),
// or refuses with one WARNING per distinct file state, or waits while other
// settings are waiting in the configuration files (a reload would apply them
// too; tls_audit.auto_reload = force reloads anyway). The decisions are the
// core's (auto_reload.hpp); this file is the loop, the catalog reads and the
// status in shared memory (tls_audit.auto_reload_status).
//
// Connects to the database "postgres" (pg_file_settings is a view: reading it
// needs a database). Starts once the server is consistent, so it runs on a
// hot standby too. An error in one round is logged and the round skipped; a
// crash restarts the worker after kRestartSeconds, never the server.
//
// States: off (tls_audit.auto_reload = off), watching (files as loaded),
// settling (changed, waiting for one stable interval), waiting (other settings
// pending), refused (the changed files would not load), error (the last round
// failed).
#include "bgw_auto_reload.hpp"

#include <csignal>
#include <string>
#include <utility>
#include <vector>

#include "certs/auto_reload.hpp"
#include "bgw_register.hpp"
#include "guard.hpp"
#include "sql_checks_role_floor.hpp"
#include "guc_auto_reload.hpp"
#include "interrupts.hpp"
#include "server_readers.hpp"
#include "certs/server_files.hpp"

#include "postgres.hpp"

extern "C" PGDLLEXPORT void tls_audit_auto_reload_main(Datum arg);

namespace tls_audit::pg {

namespace {

constexpr int kRestartSeconds = 10;
constexpr std::size_t kTextSize = 512;

struct SharedStatus {
    slock_t mutex;
    pid_t pid;
    char mode[8];
    char state[16];
    int files_watched;
    TimestampTz last_check_at;
    TimestampTz last_change_at;
    TimestampTz last_action_at;
    char last_action[kTextSize];
    char last_error[kTextSize];
};

SharedStatus *status = nullptr;

template <class Fn> void update(Fn &&fn) {
    if (status == nullptr) return;
    SpinLockAcquire(&status->mutex);
    fn(*status);
    SpinLockRelease(&status->mutex);
}

void set_text(char *out, const std::string &value) { strlcpy(out, value.c_str(), kTextSize); }

WatchedSettings watched_settings() {
    WatchedSettings w;
    w.cert_file = setting("ssl_cert_file");
    w.key_file = setting("ssl_key_file");
    w.ca_file = setting("ssl_ca_file");
    w.crl_file = setting("ssl_crl_file");
    w.crl_dir = setting("ssl_crl_dir");
    return w;
}

// A file value as written against the current value of the same setting:
// the same once parsed the way the GUC parses it.
bool same_value(const std::string &vartype, const std::string &name, const std::string &file_value,
                const std::string &current) {
    if (vartype == "bool") {
        bool a = false, b = false;
        const bool pa = call([&] { return parse_bool(file_value.c_str(), &a); });
        const bool pb = call([&] { return parse_bool(current.c_str(), &b); });
        return pa && pb ? a == b : file_value == current;
    }
    if (vartype == "integer" || vartype == "real") {
        const int flags = call([&] { return GetConfigOptionFlags(name.c_str(), true); });
        if (vartype == "integer") {
            int a = 0, b = 0;
            const bool pa = call([&] { return parse_int(file_value.c_str(), &a, flags, nullptr); });
            const bool pb = call([&] { return parse_int(current.c_str(), &b, flags, nullptr); });
            return pa && pb ? a == b : file_value == current;
        }
        double a = 0, b = 0;
        const bool pa = call([&] { return parse_real(file_value.c_str(), &a, flags, nullptr); });
        const bool pb = call([&] { return parse_real(current.c_str(), &b, flags, nullptr); });
        return pa && pb ? a == b || (b != 0 && std::abs(a / b - 1) < 1e-9) : file_value == current;
    }
    // enum, and strings: a string GUC's check hook may canonicalise the value
    // (DateStyle 'iso, mdy' is shown as 'ISO, MDY'); a change of case only is
    // not seen as pending.
    return pg_strcasecmp(file_value.c_str(), current.c_str()) == 0;
}

// The settings other than ssl* that a reload would change: the last line of
// each name in the configuration files (applicable, not overridden on the
// command line, not needing a restart) whose value differs from the current one.
std::vector<std::string> pending_other_settings() {
    std::vector<std::string> out;
    call([] {
        if (SPI_connect() != SPI_OK_CONNECT) elog(ERROR, "SPI_connect failed");
    });
    const int rc = call([] {
        return SPI_execute("SELECT s.name, f.setting, s.vartype, s.setting FROM ("
                           "SELECT DISTINCT ON (pg_catalog.lower(name)) pg_catalog.lower(name) AS n, setting, "
                           "applied, error FROM pg_catalog.pg_file_settings ORDER BY pg_catalog.lower(name), "
                           "seqno DESC) AS f JOIN pg_catalog.pg_settings AS s ON pg_catalog.lower(s.name) = f.n "
                           "WHERE f.applied AND f.error IS NULL AND f.n NOT LIKE 'ssl%' "
                           "AND s.source <> 'command line' AND s.context NOT IN ('postmaster', 'internal') "
                           "ORDER BY 1",
                           true, 0);
    });
    if (rc != SPI_OK_SELECT || SPI_tuptable == nullptr || SPI_tuptable->tupdesc->natts != 4) {
        call([] { SPI_finish(); });
        throw CoreError(make_error(sqlstate::kInternal, "unexpected result from pg_file_settings"));
    }
    for (uint64 r = 0; r < SPI_processed; ++r) {
        HeapTuple tuple = SPI_tuptable->vals[r];
        TupleDesc desc = SPI_tuptable->tupdesc;
        auto cell = [&](int c) -> std::string {
            char *v = call([&] { return SPI_getvalue(tuple, desc, c); });
            return v != nullptr ? v : "";
        };
        const std::string name = cell(1), file_value = cell(2), vartype = cell(3), current = cell(4);
        if (!same_value(vartype, name, file_value, current)) out.push_back(name);
    }
    call([] { SPI_finish(); });
    return out;
}

struct Checked {
    ReloadPlan plan;
    std::vector<PreflightStage> stages;  // empty when ssl would be off
    std::vector<std::string> pending;
};

// One transaction: the pre-flight and the pending settings.
Checked check_in_transaction() {
    return in_own_transaction([] {
        Checked c;
        c.plan = reload_plan();
        if (c.plan.ssl) c.stages = run_reload_preflight(c.plan.settings, cancel_requested());
        c.pending = pending_other_settings();
        return c;
    });
}

const char *state_of(const AutoReloadTracker &t, AutoReloadAction last) {
    if (!t.changed()) return "watching";
    if (last == AutoReloadAction::Refuse) return "refused";
    if (last == AutoReloadAction::WaitSettings) return "waiting";
    return "settling";
}

void log_decision(const AutoReloadDecision &d) {
    const std::string message = d.message;
    switch (d.action) {
        case AutoReloadAction::Reload:
            call([&] { ereport(LOG, (errmsg("tls_audit.auto_reload: %s", message.c_str()))); });
            break;
        case AutoReloadAction::Refuse:
            call([&] {
                ereport(WARNING,
                        (errmsg("tls_audit.auto_reload: %s", message.c_str()),
                         errhint("Fix the file named, check with SELECT * FROM tls_audit.reload_preflight(); the "
                                 "files are tried again when they change.")));
            });
            break;
        case AutoReloadAction::WaitSettings:
            call([&] {
                ereport(LOG, (errmsg("tls_audit.auto_reload: %s", message.c_str()),
                              errhint("Reload the configuration yourself (SELECT pg_reload_conf()) when those "
                                      "settings may be applied, or set tls_audit.auto_reload = force.")));
            });
            break;
        case AutoReloadAction::None:
            break;
    }
}

// One round. Plain bookkeeping is kept in `t` across rounds.
void round(AutoReloadTracker &t, AutoReloadAction &last) {
    const AutoReloadMode mode = auto_reload_mode();
    const std::int64_t interval_ms = static_cast<std::int64_t>(auto_reload_interval_seconds()) * 1000;
    const TimestampTz now = GetCurrentTimestamp();
    const std::int64_t now_ms = static_cast<std::int64_t>(now / 1000);
    const bool was_changed = t.changed();
    WatchedState now_files;
    if (mode == AutoReloadMode::Off) {
        // Off: nothing is read or stat'ed. What is on disk when it is turned
        // on counts as loaded (the first look sets the baseline).
        t = AutoReloadTracker();
        last = AutoReloadAction::None;
    } else {
        const WatchedState *previous = t.has_baseline() ? &t.current() : nullptr;
        now_files = observe_files(watched_settings(), previous, cancel_requested());
    }
    const bool ready = mode != AutoReloadMode::Off && t.observe(now_files, now_ms, interval_ms);
    if (!t.changed()) last = AutoReloadAction::None;
    AutoReloadDecision decision;
    std::string error;
    if (ready) {
        const Checked c = check_in_transaction();
        if (!c.plan.ssl) {
            decision.action = AutoReloadAction::None;
            t.set_baseline(now_files);  // ssl would be off: no TLS file is loaded
        } else {
            // The chain of the new certificate file, as server_tls() judges it.
            std::string chain_problem;
            if (preflight_would_succeed(c.stages)) {
                ServerFileSettings files;
                files.cert_file = c.plan.settings.cert_file;
                files.key_file = c.plan.settings.key_file;
                files.ca_file = c.plan.settings.ca_file;
                files.crl_file = c.plan.settings.crl_file;
                files.crl_dir = c.plan.settings.crl_dir;
                files.server_uid = c.plan.settings.server_uid;
                ServerFilesReader reader;
                const ServerFilesReport report = reader.read(files, cancel_requested());
                if (report.chain_complete && !*report.chain_complete)
                    chain_problem = report.chain_error.empty() ? "the chain is incomplete" : report.chain_error;
            }
            decision = t.decide(c.stages, c.pending, mode, chain_problem);
            if (decision.action == AutoReloadAction::Reload) {
                if (kill(PostmasterPid, SIGHUP) != 0) {
                    const std::string why = strerror(errno);
                    throw CoreError(make_error(sqlstate::kInternal, "could not signal the postmaster: " + why));
                }
            }
            if (decision.log) log_decision(decision);
            if (decision.action == AutoReloadAction::Refuse) error = decision.message;
            if (decision.action != AutoReloadAction::Reload) last = decision.action;
        }
    }
    const bool changed_now = t.changed() && !was_changed;
    const auto since = t.changed_since_ms();
    update([&](SharedStatus &s) {
        s.pid = MyProcPid;
        strlcpy(s.mode, auto_reload_mode_name(mode), sizeof s.mode);
        strlcpy(s.state, mode == AutoReloadMode::Off ? "off" : state_of(t, last), sizeof s.state);
        s.files_watched = static_cast<int>(watched_count(now_files));
        s.last_check_at = now;
        if (changed_now && since) s.last_change_at = static_cast<TimestampTz>(*since) * 1000;
        if (ready && decision.action != AutoReloadAction::None) {
            s.last_action_at = now;
            set_text(s.last_action, std::string(auto_reload_action_name(decision.action)) + ": " + decision.message);
            set_text(s.last_error, error);
        }
    });
}

void record_error(const std::string &message) {
    update([&](SharedStatus &s) {
        strlcpy(s.state, "error", sizeof s.state);
        set_text(s.last_error, message);
        s.last_check_at = GetCurrentTimestamp();
    });
}

void main_loop() {
    AutoReloadTracker tracker;
    AutoReloadAction last = AutoReloadAction::None;
    bool configuration_read = true;  // at start and after each reload
    for (;;) {
        if (std::exchange(configuration_read, false)) report_unmatched_role_floors();
        try {
            round(tracker, last);
        } catch (const PgError &e) {
            const std::string message = e.what();
            record_error(message);
            call([&] { ereport(LOG, (errmsg("tls_audit.auto_reload: round skipped: %s", message.c_str()))); });
        } catch (const CoreError &e) {
            const std::string message = e.error().message;
            record_error(message);
            call([&] { ereport(LOG, (errmsg("tls_audit.auto_reload: round skipped: %s", message.c_str()))); });
        }
        const long timeout_ms = static_cast<long>(auto_reload_interval_seconds()) * 1000L;
        if (wait_for_work(timeout_ms)) configuration_read = true;
    }
}

}  // namespace

std::size_t auto_reload_shmem_size() { return MAXALIGN(sizeof(SharedStatus)); }

void auto_reload_shmem_startup() {
    bool found = false;
    status = static_cast<SharedStatus *>(
        ShmemInitStruct("pg_tls_audit auto reload status", sizeof(SharedStatus), &found));
    if (!found) {
        memset(status, 0, sizeof *status);
        SpinLockInit(&status->mutex);
    }
}

std::optional<AutoReloadStatus> auto_reload_status() {
    if (status == nullptr) return std::nullopt;
    SharedStatus copy;
    SpinLockAcquire(&status->mutex);
    memcpy(&copy, status, sizeof copy);
    SpinLockRelease(&status->mutex);
    AutoReloadStatus out;
    out.running = copy.pid != 0 && kill(copy.pid, 0) == 0;
    out.mode = copy.mode[0] != '\0' ? copy.mode : auto_reload_mode_name(auto_reload_mode());
    out.state = !out.running ? "not running" : copy.state;
    out.files_watched = copy.files_watched;
    out.last_check_at = copy.last_check_at;
    out.last_change_at = copy.last_change_at;
    out.last_action_at = copy.last_action_at;
    out.last_action = copy.last_action;
    out.last_error = copy.last_error;
    return out;
}

void register_auto_reload_worker() {
    register_worker("pg_tls_audit auto reload", "tls_audit_auto_reload_main",
                    BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION,
                    BgWorkerStart_ConsistentState,  // also on a hot standby
                    kRestartSeconds);
}

}  // namespace tls_audit::pg

extern "C" void tls_audit_auto_reload_main(Datum arg) {
    (void)arg;
    tls_audit::pg::set_worker_signals();
    BackgroundWorkerInitializeConnection("postgres", nullptr, 0);
    pgstat_report_appname("pg_tls_audit auto reload");
    try {
        tls_audit::pg::main_loop();
    } catch (...) {
        // Not reached for PostgreSQL errors (main_loop catches them); anything
        // else ends the worker, which the postmaster restarts.
    }
    proc_exit(1);
}
