#include "bgw_register.hpp"

#include <cerrno>
#include <csignal>
#include <cstdint>
#include <cstring>

#include "guard.hpp"

namespace tls_audit::pg {

namespace {

// Set by on_sighup(), taken by wait_for_work(): the configuration is read
// again in the worker's own loop, never inside the signal handler.
volatile sig_atomic_t reload_pending = false;

void on_sighup(SIGNAL_ARGS) {
    (void)postgres_signal_arg;
    const int save_errno = errno;
    reload_pending = true;
    SetLatch(MyLatch);
    errno = save_errno;
}

}  // namespace

void register_worker(const char *name, const char *function, int flags, BgWorkerStartTime start_time,
                     int restart_seconds) {
    if (!process_shared_preload_libraries_in_progress) return;
    BackgroundWorker worker;
    memset(&worker, 0, sizeof worker);
    strlcpy(worker.bgw_name, name, BGW_MAXLEN);
    strlcpy(worker.bgw_type, name, BGW_MAXLEN);
    strlcpy(worker.bgw_library_name, "pg_tls_audit", BGW_MAXLEN);
    strlcpy(worker.bgw_function_name, function, BGW_MAXLEN);
    worker.bgw_flags = flags;
    worker.bgw_start_time = start_time;
    worker.bgw_restart_time = restart_seconds;
    RegisterBackgroundWorker(&worker);
}

void set_worker_signals() {
    pqsignal(SIGHUP, on_sighup);
    pqsignal(SIGTERM, die);
    BackgroundWorkerUnblockSignals();
}

void run_worker(void (*main_loop)()) {
    set_worker_signals();
    try {
        main_loop();
    } catch (...) {
        // Ends the worker: what failed was said where it failed.
    }
    proc_exit(1);
}

bool wait_for_work(long timeout_ms) {
    return call([&] {
        const int events = WL_LATCH_SET | WL_EXIT_ON_PM_DEATH | (timeout_ms >= 0 ? WL_TIMEOUT : 0);
        (void)WaitLatch(MyLatch, events, timeout_ms, PG_WAIT_EXTENSION);
        ResetLatch(MyLatch);
        CHECK_FOR_INTERRUPTS();
        if (!reload_pending) return false;
        reload_pending = false;
        ProcessConfigFile(PGC_SIGHUP);
        return true;
    });
}

void run_every(int (*interval_seconds)(), FirstRound first, const std::function<void()> &round) {
    TimestampTz next_due = 0;
    for (;;) {
        const std::int64_t interval_us = static_cast<std::int64_t>(interval_seconds()) * USECS_PER_SEC;
        long timeout_ms = -1;
        if (interval_us > 0) {
            const TimestampTz now = call([] { return GetCurrentTimestamp(); });
            if (next_due == 0) next_due = first == FirstRound::AtOnce ? now : now + interval_us;
            // A new (shorter) interval applies from now.
            if (next_due > now + interval_us) next_due = now + interval_us;
            if (now >= next_due) {
                round();
                next_due = now + interval_us;
                continue;
            }
            timeout_ms = static_cast<long>((next_due - now + 999) / 1000);
        } else {
            next_due = 0;
        }
        (void)wait_for_work(timeout_ms);
    }
}

}  // namespace tls_audit::pg
