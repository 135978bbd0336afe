#include "checks/checks_pooler.hpp"

#include <functional>
#include <string>
#include <string_view>

#include "checks/check_util.hpp"
#include "checks/checks_protocols.hpp"

namespace tls_audit {

using namespace check_util;

namespace {

constexpr const char *kNone = "no pooler is configured (tls_audit.poolers is empty)";
constexpr const char *kPgbouncerDocs = "https://www.pgbouncer.org/config.html#tls-settings";

struct Leg {
    const char *prefix;  // "client" / "server"
    const PoolerLegConfig &config;
};

// Run `judge` on each reachable pooler; an unreachable one gets an 'info'
// row (pooler_unreachable reports it); `ok_text` when nothing was found.
std::vector<Finding> per_pooler(std::string_view check, const std::vector<PoolerFacts> &poolers,
                                const std::string &ok_text,
                                const std::function<void(const PoolerFacts &, std::vector<Finding> &)> &judge) {
    if (poolers.empty()) return ok(check, kNone);
    std::vector<Finding> out;
    for (const auto &p : poolers) {
        if (!p.config)
            out.push_back(make(check, Severity::Info, p.name, "not available: the pooler could not be read"));
        else
            judge(p, out);
    }
    return or_ok(std::move(out), check, ok_text);
}

std::vector<Leg> legs_in_use(const PoolerConfig &c) {
    std::vector<Leg> out;
    if (lower(c.client.sslmode) != "disable") out.push_back({"client", c.client});
    if (lower(c.server.sslmode) != "disable") out.push_back({"server", c.server});
    return out;
}

}  // namespace

std::vector<Finding> check_pooler_client_tls(const std::vector<PoolerFacts> &poolers) {
    constexpr std::string_view check = "pooler_client_tls";
    const std::string hint = std::string("Set client_tls_sslmode = require (or verify-full for client certificates) "
                                         "with client_tls_cert_file and client_tls_key_file, and reload pgbouncer (") +
                             kPgbouncerDocs + ").";
    return per_pooler(check, poolers, "every pooler requires TLS from its clients", [&](const PoolerFacts &p, auto &out) {
        const std::string mode = lower(p.config->client.sslmode);
        const std::string object = p.name + " client_tls_sslmode";
        if (mode == "disable" || mode == "allow")
            out.push_back(make(check, Severity::Critical, object,
                               "pooler " + p.name + ": client_tls_sslmode = " + mode +
                                   ": clients reach the pooler in plaintext, whatever the server requires",
                               hint));
        else if (mode == "prefer")
            out.push_back(make(check, Severity::Warning, object,
                               "pooler " + p.name +
                                   ": client_tls_sslmode = prefer: a client that does not ask for TLS is "
                                   "served in plaintext",
                               hint));
        else if (mode != "require" && mode != "verify-ca" && mode != "verify-full")
            out.push_back(make(check, Severity::Warning, object,
                               "pooler " + p.name + ": unknown client_tls_sslmode '" + p.config->client.sslmode + "'",
                               hint));
    });
}

std::vector<Finding> check_pooler_server_tls(const std::vector<PoolerFacts> &poolers) {
    constexpr std::string_view check = "pooler_server_tls";
    const std::string hint = std::string("Set server_tls_sslmode = verify-full with server_tls_ca_file naming the "
                                         "database's CA, and reload pgbouncer (") +
                             kPgbouncerDocs + ").";
    return per_pooler(check, poolers, "every pooler verifies the database (server_tls_sslmode = verify-full)",
                      [&](const PoolerFacts &p, auto &out) {
                          const std::string mode = lower(p.config->server.sslmode);
                          if (mode == "verify-full") return;
                          std::string what = "the pooler does not verify the database";
                          if (mode == "disable" || mode == "allow" || mode == "prefer")
                              what += mode == "disable" ? "; the pooler -> server leg is plaintext"
                                                        : "; the pooler -> server leg may be plaintext";
                          else if (mode == "verify-ca")
                              what = "the pooler checks the database's CA but not its host name";
                          out.push_back(make(check, Severity::Warning, p.name + " server_tls_sslmode",
                                             "pooler " + p.name + ": server_tls_sslmode = " + mode + ": " + what,
                                             hint));
                      });
}

std::vector<Finding> check_pooler_protocols(const std::vector<PoolerFacts> &poolers, Protocol floor) {
    constexpr std::string_view check = "pooler_protocols";
    const std::string floor_name = protocol_name(floor);
    return per_pooler(check, poolers, "every pooler leg in use allows only protocols at or above " + floor_name,
                      [&](const PoolerFacts &p, auto &out) {
        for (const Leg &leg : legs_in_use(*p.config)) {
            const std::string key = std::string(leg.prefix) + "_tls_protocols";
            const std::string object = p.name + " " + key;
            const std::string hint = "Set " + key + " = " + (floor >= Protocol::TLSv1_3 ? "tlsv1.3" : "secure") +
                                     " and reload pgbouncer (" + kPgbouncerDocs + ").";
            auto allowed = parse_pooler_protocols(leg.config.protocols);
            if (!allowed) {
                out.push_back(make(check, Severity::Warning, object,
                                   "pooler " + p.name + ": " + allowed.error().message, hint));
                continue;
            }
            const auto &set = allowed.value();
            if (set.empty()) {
                out.push_back(make(check, Severity::Warning, object,
                                   "pooler " + p.name + ": " + key + " = '" + leg.config.protocols +
                                       "' allows no protocol",
                                   hint));
                continue;
            }
            const Protocol oldest = set.front();
            if (oldest < floor) {
                const bool deprecated = oldest < Protocol::TLSv1_2;
                out.push_back(make(check, deprecated ? Severity::Critical : Severity::Warning, object,
                                   "pooler " + p.name + ": " + key + " = '" + leg.config.protocols + "' allows " +
                                       protocol_name(oldest) + ", below the floor " + floor_name +
                                       " (tls_audit.min_protocol)" +
                                       (deprecated ? "; TLSv1 and TLSv1.1 are deprecated (RFC 8996)" : ""),
                                   hint));
            }
            if (set.back() < Protocol::TLSv1_3)
                out.push_back(make(check, Severity::Warning, object,
                                   "pooler " + p.name + ": " + key + " = '" + leg.config.protocols +
                                       "' disables TLSv1.3",
                                   hint));
        }
    });
}

std::vector<Finding> check_pooler_ciphers(const std::vector<PoolerFacts> &poolers) {
    constexpr std::string_view check = "pooler_ciphers";
    return per_pooler(check, poolers, "no pooler leg in use enables a weak cipher suite",
                      [&](const PoolerFacts &p, auto &out) {
        for (const Leg &leg : legs_in_use(*p.config)) {
            const std::string key = std::string(leg.prefix) + "_tls_ciphers";
            const std::string object = p.name + " " + key;
            auto allowed = parse_pooler_protocols(leg.config.protocols);
            if (!allowed || allowed.value().empty()) continue;  // pooler_protocols reports it
            auto enabled = enabled_ciphers(pooler_cipher_list(leg.config.ciphers),
                                           protocol_name(allowed.value().front()),
                                           protocol_name(allowed.value().back()), leg.config.tls13_ciphers);
            if (!enabled) {
                out.push_back(make(check, Severity::Warning, object,
                                   "pooler " + p.name + ": " + key + " = '" + leg.config.ciphers +
                                       "' is not a cipher list OpenSSL accepts here: " + enabled.error().message,
                                   std::string("Set ") + key + " = default and reload pgbouncer (" +
                                       kPgbouncerDocs + ")."));
                continue;
            }
            for (Finding f : check_weak_ciphers(enabled.value())) {
                if (f.severity == Severity::Ok) continue;
                f.check = std::string(check);
                // The rule's wording names the server's setting: name the pooler's.
                if (const auto at = f.message.find("ssl_ciphers"); at != std::string::npos)
                    f.message.replace(at, 11, key);
                else
                    f.message = key + ": " + f.message;
                f.message = "pooler " + p.name + ": " + f.message;
                f.object = object + ": " + f.object;
                f.hint = "Exclude them in " + key + " (or set it to default) and reload pgbouncer (" +
                         kPgbouncerDocs + ").";
                out.push_back(std::move(f));
            }
        }
    });
}

std::vector<Finding> check_pooler_cert_expiry(const std::vector<PoolerFacts> &poolers, const Thresholds &t,
                                              std::int64_t now) {
    constexpr std::string_view check = "pooler_cert_expiry";
    return per_pooler(check, poolers, "no pooler's certificate expires " + window_text(t),
                      [&](const PoolerFacts &p, auto &out) {
        if (lower(p.config->client.sslmode) == "disable") return;  // pooler_client_tls reports it
        if (!p.served_chain) {
            out.push_back(make(check, Severity::Info, p.name,
                               "pooler " + p.name + ": its certificate could not be read: " +
                                   (p.cert_error.empty() ? std::string("not probed") : p.cert_error)));
            return;
        }
        for (const CertInfo &c : *p.served_chain) {
            auto verdict = expiry_verdict(c.not_before, c.not_after, t, now);
            if (!verdict) continue;
            out.push_back(make(check, verdict->severity, p.name + " " + c.subject,
                               "pooler " + p.name + ": certificate " + c.subject + " " + verdict->text,
                               "Renew client_tls_cert_file of the pooler and reload pgbouncer (RELOAD in its admin "
                               "console)."));
        }
    });
}

std::vector<Finding> check_pooler_password_in_conninfo(const std::vector<PoolerFacts> &poolers) {
    constexpr std::string_view check = "pooler_password_in_conninfo";
    if (poolers.empty()) return ok(check, kNone);
    std::vector<Finding> out;
    for (const auto &p : poolers)
        if (p.password_in_conninfo)
            out.push_back(make(check, Severity::Critical, p.name,
                               "pooler " + p.name +
                                   ": the connection string in tls_audit.poolers holds a password (not shown)",
                               "Remove the password from tls_audit.poolers and give it in the server's passfile "
                               "(~/.pgpass of its operating-system user, or passfile=...), then reload."));
    return or_ok(std::move(out), check, "no connection string in tls_audit.poolers holds a password");
}

std::vector<Finding> check_pooler_unreachable(const std::vector<PoolerFacts> &poolers) {
    constexpr std::string_view check = "pooler_unreachable";
    if (poolers.empty()) return ok(check, kNone);
    std::vector<Finding> out;
    for (const auto &p : poolers)
        if (!p.config)
            out.push_back(make(check, Severity::Warning, p.name,
                               "pooler " + p.name + " could not be read: " + p.error +
                                   "; the TLS of its clients is not audited",
                               "Check that pgbouncer runs, that its admin console accepts the user of "
                               "tls_audit.poolers (admin_users or stats_users), and the connection string."));
    return or_ok(std::move(out), check, "every pooler's admin console was read");
}

std::vector<Finding> check_poolers(const std::vector<PoolerFacts> &poolers, Protocol floor, const Thresholds &t,
                                   std::int64_t now) {
    std::vector<Finding> out;
    for (auto &&part : {check_pooler_client_tls(poolers), check_pooler_server_tls(poolers),
                        check_pooler_protocols(poolers, floor), check_pooler_ciphers(poolers),
                        check_pooler_cert_expiry(poolers, t, now), check_pooler_password_in_conninfo(poolers),
                        check_pooler_unreachable(poolers)})
        out.insert(out.end(), part.begin(), part.end());
    return out;
}

}  // namespace tls_audit
