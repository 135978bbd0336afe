#include "pooler_audit.hpp"

#include "checks/checks_certificates.hpp"
#include "checks/checks_pooler.hpp"
#include "pooler/pooler_conninfo.hpp"
#include "probe/probe_io.hpp"

namespace tls_audit::cli {

namespace {

Status status_of(const tls_audit::Finding &f) {
    // An unreachable pooler is as unknown as an unreachable target (exit 3).
    if (f.check == "pooler_unreachable") return Status::Unknown;
    switch (f.severity) {
    case Severity::Critical: return Status::Critical;
    case Severity::Warning: return Status::Warning;
    case Severity::Ok:
    case Severity::Info: return Status::Ok;
    }
    return Status::Unknown;
}

}  // namespace

PoolerResult audit_pooler(const PoolerEntry &entry, const Options &options, const ConsoleFn &console,
                          const ChainFn &chain) {
    PoolerResult r;
    r.name = entry.name;
    r.facts.name = entry.name;
    // pooler_entries() refuses a connection string with a password.
    r.facts.password_in_conninfo = false;
    auto read = console(entry.conninfo);
    if (!read) {
        r.facts.error = read.error().message;
        return r;
    }
    const auto &answers = read.value().answers;
    if (answers.size() != kPoolerCommands.size()) {
        r.facts.error = "the admin console gave " + std::to_string(answers.size()) + " answers to " +
                        std::to_string(kPoolerCommands.size()) + " commands";
        return r;
    }
    auto config_rows = pooler_config_rows(answers[2].columns, answers[2].rows);
    if (!config_rows) {
        r.facts.error = config_rows.error().message;
        return r;
    }
    for (const auto &row : config_rows.value())
        if (is_pooler_tls_setting(row.key)) r.settings.push_back(row);
    r.facts.config = pooler_config_from_config_rows(config_rows.value());
    if (auto clients = pooler_connections(answers[0].columns, answers[0].rows)) r.clients = std::move(clients).value();
    else r.clients_error = clients.error().message;
    if (auto servers = pooler_connections(answers[1].columns, answers[1].rows)) r.servers = std::move(servers).value();
    else r.servers_error = servers.error().message;

    auto address = pooler_cert_target(read.value().options);
    if (address) r.address = format_host_port(address.value().address, address.value().port);
    if (!pooler_serves_tls(*r.facts.config)) return r;  // pooler_client_tls reports the plaintext leg
    if (!address) {
        r.facts.cert_error = address.error().message;
        return r;
    }
    ProbeTarget target;
    target.host = address.value().address;
    target.port = address.value().port;
    target.sni = options.sni;
    target.timeout_ms = options.timeout_ms;
    target.ca_file = options.ca_file;
    auto served = chain(target);
    if (!served) {
        r.facts.cert_error = served.error().message;
        return r;
    }
    r.facts.served_chain = served.value().certificates;
    r.served = std::move(served).value();
    return r;
}

void evaluate_pooler(PoolerResult &r, const Policy &policy, std::int64_t now) {
    r.findings.clear();
    const Thresholds thresholds{policy.min_days, policy.critical_days};
    for (const tls_audit::Finding &f : check_poolers({r.facts}, policy.min_protocol, thresholds, now)) {
        if (f.severity == Severity::Ok) continue;  // "every pooler ...": nothing to say about this one
        // An unreadable console: pooler_unreachable says it, not every check's "not available".
        if (!r.facts.config && f.check != "pooler_unreachable") continue;
        r.findings.push_back({status_of(f), f.check, f.message});
    }
    if (r.served) {
        std::vector<Finding> chain_findings;
        check_chain_verification(*r.served, policy, chain_findings);
        for (auto &f : chain_findings) {
            f.message = "pooler " + r.name + ": " + f.message;
            r.findings.push_back(std::move(f));
        }
        for (const CertInfo &c : r.served->certificates)
            if (auto reason = weak_key_reason(c))
                r.findings.push_back({Status::Critical, "pooler_cert_key",
                                      "pooler " + r.name + ": certificate " + c.subject + " has a weak " + *reason});
    }
    r.status = Status::Ok;
    for (const auto &f : r.findings) r.status = worst(r.status, f.severity);
}

Status overall_pooler_status(const std::vector<PoolerResult> &poolers) {
    Status s = Status::Ok;
    for (const auto &p : poolers) s = worst(s, p.status);
    return s;
}

}  // namespace tls_audit::cli
