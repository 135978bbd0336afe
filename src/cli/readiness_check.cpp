// pg_tls_check's plaintext and trust-store readiness: its options, the probes
// (options.jobs targets at a time), the findings, the fleet summary, and those
// facts as lines of text for the formats (readiness_check.hpp).
#include "readiness_check.hpp"

#include <algorithm>
#include <atomic>
#include <set>
#include <system_error>
#include <thread>

namespace tls_audit::cli {

std::string plaintext_user(const Options &o) {
    return o.plaintext_user.empty() ? std::string(kPlaintextDefaultUser) : o.plaintext_user;
}

namespace {

Error usage_error(std::string message) {
    return make_error(sqlstate::kInvalidParameter, std::move(message), "Try \"pg_tls_check --help\".");
}

// "user "u", database "d"" as the StartupMessage named them.
std::string whom(const PlaintextReport &p) {
    return "user \"" + p.user + "\", database \"" + (p.database.empty() ? p.user : p.database) + "\"";
}

const char *kPerHba =
    "pg_hba.conf decides per user, database and client address: this holds for that user and database from here";

// Behind a pooler, pg_hba.conf sees the pooler, not the client: the pooler's
// own setting decides whether a client may speak plaintext to it.
std::string plaintext_note(const PlaintextReport &p) {
    if (p.pooler.empty()) return kPerHba;
    return "the pooler's client_tls_sslmode decides for every client; pooler -> PostgreSQL is its server_tls_sslmode";
}

}  // namespace

const char *readiness_usage() {
    return R"(
Plaintext acceptance:
      --plaintext          also send a StartupMessage without SSLRequest and
                           report whether an unencrypted connection reaches
                           authentication (accepted), gets an error (refused)
                           or something else (unknown); no password is ever
                           sent and nothing follows the server's first answer
      --require-tls        plaintext accepted is CRITICAL (and unknown is
                           UNKNOWN); implies --plaintext
      --user NAME          user name of the plaintext probe (default
                           pg_tls_audit_no_such_user, a role that should not
                           exist; pg_hba.conf decides per user, database and
                           address, so the answer holds for that user only)
      --database NAME      database of the plaintext probe (default: not sent,
                           the server then uses the user name)

Trust-store readiness:
      --ca-file FILE       may be given several times: the presented chain is
                           verified against each FILE alone (the server's
                           intermediates untrusted, as a client does); a FILE
                           that fails any target is CRITICAL. The first FILE
                           also verifies the chain and host name as above.
      --ca-file-optional FILE
                           the same, reported only (never changes the status)
)";
}

bool parse_readiness_option(const std::vector<std::string> &args, std::size_t &i, Options &o,
                            std::optional<Error> &err) {
    const std::string &arg = args[i];
    std::string name = arg, value;
    bool has_value = false;
    if (std::size_t eq = arg.find('='); eq != std::string::npos && arg.rfind("--", 0) == 0) {
        name = arg.substr(0, eq);
        value = arg.substr(eq + 1);
        has_value = true;
    }
    if (name == "--allow-plaintext") {
        if (has_value) {
            err = usage_error("option " + name + " takes no value");
            return true;
        }
        o.allow_plaintext = true;
        return true;
    }
    if (name == "--plaintext" || name == "--require-tls") {
        if (has_value) {
            err = usage_error("option " + name + " takes no value");
            return true;
        }
        o.plaintext = true;
        if (name == "--require-tls") o.require_tls = true;
        return true;
    }
    if (name != "--user" && name != "--database" && name != "--ca-file" && name != "--ca-file-optional") return false;
    if (!has_value) {
        if (i + 1 >= args.size()) {
            err = usage_error("option " + name + " needs a value");
            return true;
        }
        value = args[++i];
    }
    if (value.empty()) {
        err = usage_error("option " + name + " needs a non-empty value");
        return true;
    }
    if (name == "--user" || name == "--database") {
        std::string &slot = name == "--user" ? o.plaintext_user : o.plaintext_database;
        slot = value;
        if (auto bad = validate_startup_names(o.plaintext_user.empty() ? "u" : o.plaintext_user,
                                              o.plaintext_database))
            err = usage_error("option " + name + ": " + bad->message);
        return true;
    }
    if (name == "--ca-file") {
        if (o.ca_file.empty()) o.ca_file = value;
        o.ca_files.push_back(value);
    } else {
        o.ca_files_optional.push_back(value);
    }
    if (o.ca_files.size() + o.ca_files_optional.size() > kMaxTrustBundles)
        err = usage_error("at most " + std::to_string(kMaxTrustBundles) + " CA files");
    return true;
}

Expected<LoadedBundles> load_bundles(const Options &options) {
    LoadedBundles out;
    for (const auto *list : {&options.ca_files, &options.ca_files_optional}) {
        for (const auto &f : *list) {
            auto b = load_trust_bundle(f);
            if (!b) return b.error();
            out.bundles.push_back(std::move(b).value());
            out.required.push_back(list == &options.ca_files);
        }
    }
    return out;
}

void probe_readiness(std::vector<TargetResult> &results, const Options &options, const LoadedBundles &bundles,
                     const PlaintextFn &plaintext) {
    const std::string user = plaintext_user(options);
    std::atomic<std::size_t> next{0};
    auto worker = [&] {
        for (std::size_t i; (i = next.fetch_add(1)) < results.size();) {
            TargetResult &r = results[i];
            Readiness &rd = r.readiness;
            if (options.plaintext) {
                rd.plaintext_probed = true;
                ProbeTarget t;
                t.host = r.target.host;
                t.port = r.target.port;
                t.timeout_ms = options.timeout_ms;
                try {
                    auto p = plaintext(t, user, options.plaintext_database);
                    if (p) rd.plaintext = std::move(p).value();
                    else rd.plaintext_error = p.error();
                } catch (...) {
                    rd.plaintext_error = describe_current_exception();
                }
            }
            if (!bundles.bundles.empty() && r.report && r.report->chain) {
                try {
                    auto checked = verify_trust_paths(r.report->chain->presented_der, bundles.bundles);
                    if (checked) {
                        rd.bundles_checked = true;
                        for (std::size_t k = 0; k < checked.value().size(); ++k)
                            rd.bundles.push_back({std::move(checked.value()[k]), bundles.required[k]});
                    }
                } catch (...) {
                    // Out of memory: left unchecked, which the fleet view shows.
                }
            }
        }
    };
    std::size_t n = std::min<std::size_t>(static_cast<std::size_t>(options.jobs), results.size());
    std::vector<std::thread> threads;
    for (std::size_t k = 1; k < n; ++k) {
        try {
            threads.emplace_back(worker);
        } catch (const std::system_error &) {
            break;
        }
    }
    worker();
    for (auto &t : threads) t.join();
}

void check_readiness(const TargetResult &r, const Policy &policy, std::vector<Finding> &out) {
    const Readiness &rd = r.readiness;
    if (rd.plaintext_probed) {
        const Status doubt = policy.require_tls ? Status::Unknown : Status::Ok;
        if (rd.plaintext_error) {
            out.push_back({doubt, "plaintext_unknown", "plaintext probe failed: " + rd.plaintext_error->message});
        } else if (rd.plaintext) {
            const PlaintextReport &p = *rd.plaintext;
            switch (p.verdict) {
            case PlaintextVerdict::Accepted:
                out.push_back({policy.require_tls ? Status::Critical : Status::Ok, "plaintext_accepted",
                               "plaintext accepted: an unencrypted connection for " + whom(p) +
                                   " reaches authentication (" + p.auth_request + "); " + plaintext_note(p)});
                break;
            case PlaintextVerdict::Refused:
                out.push_back({Status::Ok, "plaintext_refused",
                               "plaintext refused for " + whom(p) + ": " + p.sqlstate + " " + p.message + " (" +
                                   plaintext_note(p) + ")"});
                break;
            case PlaintextVerdict::Unknown:
                out.push_back({doubt, "plaintext_unknown", "plaintext answer unknown for " + whom(p) + ": " + p.detail});
                break;
            }
            if (!p.pooler.empty())
                out.push_back({Status::Ok, "pooler",
                               "pooler: only the client -> pooler leg was checked; recognised by " + p.pooler +
                                   "; TLS from the pooler to PostgreSQL is not visible from here"});
        }
    }
    for (const auto &b : rd.bundles) {
        if (b.report.verified) continue;
        out.push_back({b.required ? Status::Critical : Status::Ok, "ca_bundle_fails",
                       "chain does not verify against " + std::string(b.required ? "--ca-file " : "--ca-file-optional ") +
                           b.report.bundle + ": " + b.report.error});
    }
}

FleetSummary fleet_summary(const std::vector<TargetResult> &results, const Options &options) {
    FleetSummary s;
    std::size_t nb = options.ca_files.size() + options.ca_files_optional.size();
    if (nb == 0) return s;
    for (std::size_t k = 0; k < nb; ++k) {
        FleetBundle fb;
        fb.required = k < options.ca_files.size();
        fb.file = fb.required ? options.ca_files[k] : options.ca_files_optional[k - options.ca_files.size()];
        s.bundles.push_back(fb);
    }
    for (const auto &r : results) {
        const std::string label = target_label(r.target);
        const Readiness &rd = r.readiness;
        if (!rd.bundles_checked || rd.bundles.size() != nb) {
            for (auto &fb : s.bundles) fb.unchecked.push_back(label);
            continue;
        }
        std::set<std::string> seen;  // anchors of this target
        for (std::size_t k = 0; k < nb; ++k) {
            const TrustPathReport &t = rd.bundles[k].report;
            if (!t.verified) {
                s.bundles[k].fails.push_back({label, t.error});
                continue;
            }
            ++s.bundles[k].verified;
            if (!seen.insert(t.anchor_sha256).second) continue;
            auto it = std::find_if(s.anchors.begin(), s.anchors.end(),
                                   [&](const FleetAnchor &a) { return a.sha256 == t.anchor_sha256; });
            if (it == s.anchors.end()) {
                s.anchors.push_back({t.anchor_subject, t.anchor_sha256, {}});
                it = s.anchors.end() - 1;
            }
            it->targets.push_back(label);
        }
    }
    return s;
}

// --- the readiness facts as lines of text (text, TAP and Nagios) ---

namespace {

std::string join(const std::vector<std::string> &v, const char *sep) {
    std::string out;
    for (const auto &s : v) out += (out.empty() ? "" : sep) + s;
    return out;
}

}  // namespace

std::string bundle_line(const BundleCheck &b) {
    const TrustPathReport &t = b.report;
    std::string out = t.bundle + (b.required ? "" : " (optional)") + "  ";
    if (t.verified)
        out += "verified, anchor " + t.anchor_subject + " (sha256 " + t.anchor_sha256 + "), path length " +
               std::to_string(t.path_length);
    else
        out += "FAILS: " + t.error;
    return out;
}

std::string plaintext_line(const Readiness &rd) {
    if (rd.plaintext_error) return "unknown: " + rd.plaintext_error->message;
    const PlaintextReport &p = *rd.plaintext;
    std::string out = std::string(plaintext_verdict_name(p.verdict)) + " for " + whom(p);
    switch (p.verdict) {
    case PlaintextVerdict::Accepted: out += ": " + p.auth_request; break;
    case PlaintextVerdict::Refused: out += ": " + p.sqlstate + " " + p.message; break;
    case PlaintextVerdict::Unknown: out += ": " + p.detail; break;
    }
    if (!p.pooler.empty()) out += " (pooler: only the client -> pooler leg was checked)";
    return out;
}

std::vector<std::string> fleet_lines(const ReportInput &in) {
    std::vector<std::string> lines;
    FleetSummary s = fleet_summary(in.results, in.options);
    if (s.bundles.empty()) return lines;
    std::size_t n = in.results.size();
    if (s.anchors.empty()) lines.push_back("trust anchors: none reached by any bundle");
    for (const auto &a : s.anchors)
        lines.push_back("trust anchor " + a.subject + " (sha256 " + a.sha256 + "): " + std::to_string(a.targets.size()) +
                        " of " + std::to_string(n) + " targets (" + join(a.targets, ", ") + ")");
    for (const auto &b : s.bundles) {
        std::string head = std::string(b.required ? "bundle " : "optional bundle ") + b.file + ": ";
        if (b.fails.empty())
            lines.push_back(head + "verifies " + std::to_string(b.verified) + " of " + std::to_string(n) + " targets");
        else
        {
            std::vector<std::string> why;
            for (const auto &f : b.fails) why.push_back(f.target + ": " + f.error);
            lines.push_back(head + "FAILS " + std::to_string(b.fails.size()) + " of " + std::to_string(n) +
                            " targets (" + join(why, "; ") + ")");
        }
        if (!b.unchecked.empty())
            lines.push_back(head + "not checked on " + join(b.unchecked, ", ") + " (no certificate chain)");
    }
    return lines;
}

}  // namespace tls_audit::cli
