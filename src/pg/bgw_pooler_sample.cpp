// The pooler sample worker: every tls_audit.pooler_sample_interval it reads
// SHOW CLIENTS of each pooler of tls_audit.poolers (pooler_console.cpp: the
// server's libpq, non-blocking, each step bounded by
// tls_audit.pooler_timeout) and counts the client connections it has not
// seen before into the census, under the pooler's name as their source
// (src/core/census/pooler_census.hpp: which rows count, their keys, the
// bounded set of connections already counted).
//
// Fail open: a pooler that cannot be read gives no sample and no error; the
// worker says so in the server log once when a pooler's state changes
// (readable -> not, one reason -> another, not -> readable again), not at
// every sample. Needs shared memory only (no database), so it starts with
// the postmaster. SIGTERM ends a wait on a pooler at once (pooler_console.cpp
// looks at ProcDiePending in every wait), so the worker never delays a
// shutdown by more than one latch wake-up. A crash restarts it after
// kRestartSeconds; its seen sets start empty then, so connections open
// across the restart are counted once more.
#include "bgw_pooler_sample.hpp"

#include <map>
#include <string>
#include <vector>

#include "census/pooler_census.hpp"
#include "census_shmem.hpp"
#include "bgw_register.hpp"
#include "guard.hpp"
#include "guc_pooler.hpp"
#include "pooler_console.hpp"

#include "postgres.hpp"

extern "C" PGDLLEXPORT void tls_audit_pooler_sample_main(Datum arg);

namespace tls_audit::pg {

namespace {

constexpr int kRestartSeconds = 10;

struct PoolerState {
    PoolerSeenSet seen;
    bool sampled = false;  // the last attempt succeeded
    std::string error;     // why the last attempt failed ("" when it did not)
};

// Log a pooler's new state, only when it differs from the last one.
void log_state(const std::string &name, PoolerState &state, const std::string &error) {
    if (error.empty()) {
        if (!state.sampled && !state.error.empty())
            call([&] { ereport(LOG, (errmsg("pg_tls_audit: pooler \"%s\" is sampled again", name.c_str()))); });
        state.sampled = true;
        state.error.clear();
        return;
    }
    if (error != state.error)
        call([&] {
            ereport(LOG, (errmsg("pg_tls_audit: pooler \"%s\" could not be sampled: %s", name.c_str(), error.c_str()),
                          errdetail("Its clients are not counted in the census until it answers again.")));
        });
    state.sampled = false;
    state.error = error;
}

// One sample of one pooler: count the connections not seen before. False
// when the census was reset since `generation` (nothing counted).
bool sample(const PoolerEntry &pooler, PoolerState &state, std::uint64_t generation) {
    const TimestampTz started = call([] { return GetCurrentTimestamp(); });
    auto answers = read_console(pooler.conninfo, {"SHOW CLIENTS"});
    Expected<std::vector<PoolerConnection>> clients =
        answers ? pooler_connections(answers.value()[0].columns, answers.value()[0].rows)
                : Expected<std::vector<PoolerConnection>>(answers.error());
    if (!clients) {
        log_state(pooler.name, state, clients.error().message);
        return true;
    }
    const std::vector<const PoolerConnection *> fresh = state.seen.new_connections(clients.value());
    std::vector<CensusKey> keys(fresh.size());
    for (std::size_t i = 0; i < fresh.size(); ++i) pooler_census_key(*fresh[i], pooler.name, keys[i]);
    const TimestampTz now = call([] { return GetCurrentTimestamp(); });
    if (!census::count_sampled(keys, now, generation)) return false;
    log_state(pooler.name, state, "");
    // What one sample costs (bench/pooler_sample.sh reads it at DEBUG1).
    call([&] {
        ereport(DEBUG1, (errmsg("pg_tls_audit: sampled pooler \"%s\": %zu clients, %zu new, %.3f ms",
                                pooler.name.c_str(), clients.value().size(), fresh.size(),
                                static_cast<double>(now - started) / 1000.0)));
    });
    return true;
}

// One round over every pooler; the states of poolers no longer configured
// are dropped, and every seen set is emptied after a census reset.
void sample_all(std::map<std::string, PoolerState> &states, std::string &setting_error,
                std::uint64_t &generation) {
    auto poolers = configured_poolers();
    if (!poolers) {
        if (poolers.error().message != setting_error)
            call([&] {
                ereport(LOG, (errmsg("pg_tls_audit: no pooler is sampled: %s", poolers.error().message.c_str())));
            });
        setting_error = poolers.error().message;
        return;
    }
    setting_error.clear();
    std::map<std::string, PoolerState> kept;
    for (const PoolerEntry &p : poolers.value()) {
        auto it = states.find(p.name);
        if (it != states.end()) kept.emplace(p.name, std::move(it->second));
    }
    states.swap(kept);
    for (const PoolerEntry &p : poolers.value()) {
        const std::uint64_t current = census::reset_generation();
        if (current != generation) {
            for (auto &entry : states) entry.second.seen.clear();
            generation = current;
        }
        // Reset while this sample was read: forget it, sample again at once.
        if (!sample(p, states[p.name], generation)) {
            states[p.name].seen.clear();
            generation = census::reset_generation();
            for (auto &entry : states) entry.second.seen.clear();
            (void)sample(p, states[p.name], generation);
        }
    }
}

void main_loop() {
    std::map<std::string, PoolerState> states;
    std::string setting_error;
    std::uint64_t generation = census::reset_generation();
    run_every(pooler_sample_interval_seconds, FirstRound::AtOnce,
              [&] { sample_all(states, setting_error, generation); });
}

}  // namespace

void register_pooler_sample_worker() {
    register_worker("pg_tls_audit pooler sample", "tls_audit_pooler_sample_main", BGWORKER_SHMEM_ACCESS,
                    BgWorkerStart_PostmasterStart, kRestartSeconds);
}

}  // namespace tls_audit::pg

extern "C" void tls_audit_pooler_sample_main(Datum arg) {
    (void)arg;
    tls_audit::pg::run_worker(tls_audit::pg::main_loop);
}
