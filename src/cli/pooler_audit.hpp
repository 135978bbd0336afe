// pg_tls_check --pooler: the audit of a pgbouncer from the outside, as the
// extension's pooler functions and run_checks() do it from inside: its
// admin console's SHOW CLIENTS, SHOW SERVERS and SHOW CONFIG, parsed by the
// core (src/core/pooler/), judged by the core's pooler checks
// (checks/checks_pooler.hpp), plus the certificate it serves its clients,
// probed over STARTTLS with the tool's own probe (expiry, chain, key).
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "evaluate.hpp"
#include "options.hpp"
#include "pooler/pooler_config.hpp"
#include "pooler/pooler_connections.hpp"
#include "pooler/pooler_setting.hpp"
#include "pooler_console.hpp"
#include "probe/probe.hpp"

namespace tls_audit::cli {

// The SHOWs read from each pooler, in this order, on one connection.
inline const std::vector<const char *> kPoolerCommands = {"SHOW CLIENTS", "SHOW SERVERS", "SHOW CONFIG"};

struct PoolerResult {
    std::string name;     // NAME of --pooler NAME=CONNINFO, or pooler<N>
    std::string address;  // "host:port" where the console was reached; empty when not reached
    // The core's facts (config nullopt and error set: the console could not
    // be read; served_chain / cert_error: the served certificate).
    PoolerFacts facts;
    std::vector<PoolerConnection> clients;  // SHOW CLIENTS
    std::vector<PoolerConnection> servers;  // SHOW SERVERS
    std::string clients_error, servers_error;  // an answer the core could not read
    std::vector<PoolerConfigRow> settings;  // the TLS settings of SHOW CONFIG
    std::optional<ChainReport> served;      // the served chain as probed
    Status status = Status::Unknown;
    std::vector<Finding> findings;
};

using ConsoleFn = std::function<Expected<ConsoleRead>(const std::string &conninfo)>;
using ChainFn = std::function<Expected<ChainReport>(const ProbeTarget &)>;

// Read one pooler (console, then its certificate when it serves TLS) with
// `console` and `chain` (the real reader and probe_chain in the tool, stubs
// in the unit tests). Never fails: a pooler that cannot be read is a result
// with facts.error.
PoolerResult audit_pooler(const PoolerEntry &entry, const Options &options, const ConsoleFn &console,
                          const ChainFn &chain);

// Fill status and findings: the core's pooler checks (each check's name is
// the finding's code; pooler_unreachable is UNKNOWN, as an unreachable
// target is), the served chain's verification (chain_not_verified,
// hostname_mismatch) and key strength (pooler_cert_key).
void evaluate_pooler(PoolerResult &r, const Policy &policy, std::int64_t now);

// The worst status over all poolers (Ok for none).
Status overall_pooler_status(const std::vector<PoolerResult> &poolers);

}  // namespace tls_audit::cli
