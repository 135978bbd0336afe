// Registering one of the extension's background workers from
// shared_preload_libraries, and what every worker does alike: every worker
// lives in this library, is named and typed alike (so ps and
// pg_stat_activity show the same words), is registered only while the
// library is being preloaded, handles SIGHUP and SIGTERM the same way and
// waits between rounds the same way.
#pragma once

#include <functional>

#include "postgres.hpp"

namespace tls_audit::pg {

// `name` is both bgw_name and bgw_type; `function` the extern "C" entry
// point; `flags` BGWORKER_*; `restart_seconds` or BGW_NEVER_RESTART. Does
// nothing outside shared_preload_libraries.
void register_worker(const char *name, const char *function, int flags, BgWorkerStartTime start_time,
                     int restart_seconds);

// First thing in a worker's entry point: SIGHUP notes a reload for
// wait_for_work() (on_sighup) and wakes the latch, SIGTERM is PostgreSQL's
// die(); then the signals are unblocked.
void set_worker_signals();

// A worker's wait between rounds: on its latch until a signal or for
// `timeout_ms` (-1: no timeout, until a signal), then the interrupts are
// served (a SIGTERM ends the worker there) and, after a SIGHUP, the
// configuration files are read again. Returns whether they were. A
// PostgreSQL error comes back as a PgError (call()).
bool wait_for_work(long timeout_ms);

// The body of the entry point of a worker that needs no database: the
// signals (set_worker_signals), then `main_loop` until an exception leaves
// it (a termination that ended a wait with a CoreError, or a PostgreSQL
// error outside a round, which reports its own), then exit code 1, so the
// postmaster restarts the worker after its restart time unless the server
// is shutting down.
[[noreturn]] void run_worker(void (*main_loop)());

enum class FirstRound { AtOnce, AfterAnInterval };

// The loop of a worker that does `round` every interval_seconds() seconds,
// read again at every wake-up: a new, shorter interval applies from now; 0
// does no round and only waits for a reload. The first round comes at once
// or after one interval. Never returns: a SIGTERM ends the worker in
// wait_for_work(), an exception of `round` or a PgError leaves it.
[[noreturn]] void run_every(int (*interval_seconds)(), FirstRound first, const std::function<void()> &round);

}  // namespace tls_audit::pg
