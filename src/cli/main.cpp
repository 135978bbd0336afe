// pg_tls_check: probe PostgreSQL servers' TLS from the outside and report in
// the format a person, a script, a TAP harness or Nagios wants.
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <ctime>
#include <iostream>
#include <memory>
#include <sstream>

#include "base/file_reader.hpp"
#include "certs/x509.hpp"
#include "evaluate.hpp"
#include "format.hpp"
#include "options.hpp"
#include "output_file.hpp"
#include "pooler_audit.hpp"
#include "pooler_console.hpp"
#include "probe/probe.hpp"
#include "probe/probe_direct.hpp"
#include "probe/probe_plaintext.hpp"
#include "readiness_check.hpp"
#include "probe/probe_enumerate.hpp"
#include "scan.hpp"
#include "stream.hpp"

using namespace tls_audit;
using namespace tls_audit::cli;

namespace {

int usage_failure(const Error &e) {
    std::cerr << "pg_tls_check: " << e.message << "\n";
    if (!e.hint.empty()) std::cerr << e.hint << "\n";
    return static_cast<int>(Status::Unknown);
}

// Largest targets file read (bytes): far more lines than a scan can take.
constexpr std::size_t kMaxTargetsFileSize = 64 * 1024 * 1024;

// Through the core's one reader: a FIFO or device given as a file is an
// error at once, never a wait.
Expected<std::string> read_targets_file(const std::string &path) {
    auto bytes = read_file_bytes(path, kMaxTargetsFileSize);
    if (!bytes) return make_error(sqlstate::kInvalidParameter, "could not read targets file: " + bytes.error().message);
    return bytes;
}

// "\r1234/10000 targets" on stderr when it is a terminal, at most every
// 100 ms and for the last one; nothing otherwise.
ProgressFn progress_counter() {
    if (isatty(STDERR_FILENO) != 1) return {};
    auto last = std::make_shared<std::chrono::steady_clock::time_point>();
    return [last](std::size_t done, std::size_t total) {
        auto now = std::chrono::steady_clock::now();
        if (done < total && now - *last < std::chrono::milliseconds(100)) return;
        *last = now;
        std::cerr << "\r" << done << "/" << total << " targets" << (done == total ? "\r\033[K" : "") << std::flush;
    };
}

}  // namespace

int main(int argc, char **argv) {
    // A server hanging up mid-write must be an error value, not a signal.
    std::signal(SIGPIPE, SIG_IGN);
    try {
        auto parsed = parse_args(std::vector<std::string>(argv + 1, argv + argc));
        if (!parsed) return usage_failure(parsed.error());
        Options options = std::move(parsed).value();
        if (options.help) {
            std::cout << usage();
            return 0;
        }
        if (options.version) {
            std::cout << "pg_tls_check (pg_tls_audit) " << kToolVersion << "\n";
            return 0;
        }
        if (!options.targets_file.empty()) {
            auto text = read_targets_file(options.targets_file);
            if (!text) return usage_failure(text.error());
            auto more = parse_targets_file(text.value());
            if (!more) return usage_failure(more.error());
            options.targets.insert(options.targets.end(), more.value().begin(), more.value().end());
            if (options.targets.empty() && options.poolers.empty())
                return usage_failure(make_error(sqlstate::kInvalidParameter, "no target given"));
        }
        if (!options.ca_file.empty()) {
            // A bad CA file is a usage error, said once rather than per target.
            auto ca = read_file_bytes(options.ca_file, kMaxCertificateInput);
            if (!ca)
                return usage_failure(make_error(sqlstate::kInvalidParameter,
                                                "could not read CA file \"" + options.ca_file + "\": " +
                                                    ca.error().message));
        }

        // Every --pooler is named and parsed before anything is probed: a bad
        // connection string is a usage error, said once.
        auto pooler_list = pooler_entries(options.poolers);
        if (!pooler_list) return usage_failure(pooler_list.error());

        auto bundles = load_bundles(options);  // every --ca-file / --ca-file-optional, once
        if (!bundles) return usage_failure(bundles.error());

        EnumerateFn enumerate;
        if (options.enumerate) enumerate = [](const ProbeTarget &t) { return enumerate_target(t); };
        const bool direct_tls = options.direct_tls;
        ProbeFn probe = [direct_tls](const ProbeTarget &t) {
            return direct_tls ? probe_target_with_direct_tls(t) : probe_target(t);
        };
        Policy policy{options.min_days, options.critical_days, options.min_protocol, !options.ca_file.empty()};
        if (!options.profile.empty()) policy.profile = find_profile(options.profile);
        policy.require_tls = options.require_tls;
        // Plaintext and trust-store readiness look at the whole fleet (its
        // summary names the roots and the failing bundles): not streamed.
        const bool whole_fleet = options.plaintext || options.require_tls || !bundles.value().bundles.empty();
        std::int64_t now = static_cast<std::int64_t>(std::time(nullptr));
        if (streams(options.format) && !whole_fleet && options.poolers.empty()) {
            // Printed as targets finish; only the targets in flight are kept.
            std::ostringstream buffered;
            std::ostream &out = options.output.empty() ? std::cout : static_cast<std::ostream &>(buffered);
            Status status = scan_streaming(options, probe, enumerate, policy, now, out, progress_counter());
            if (!options.output.empty()) {
                if (auto err = write_file_atomically(options.output, buffered.str())) {
                    std::cerr << "pg_tls_check: " << err->message << "\n";
                    return static_cast<int>(Status::Unknown);
                }
            }
            return static_cast<int>(status);
        }
        auto results = scan(options, probe, enumerate);
        probe_readiness(results, options, bundles.value(),
                        [](const ProbeTarget &t, const std::string &user, const std::string &database) {
                            return probe_plaintext(t, user, database);
                        });
        for (auto &r : results) evaluate(r, policy, now);
        // The poolers one after the other: each is bounded by --timeout per
        // step, and there are at most kMaxPoolers.
        std::vector<PoolerResult> poolers;
        const int timeout_ms = options.timeout_ms;
        for (const PoolerEntry &entry : pooler_list.value()) {
            poolers.push_back(audit_pooler(
                entry, options,
                [timeout_ms](const std::string &conninfo) {
                    return read_pooler_console(conninfo, kPoolerCommands, timeout_ms);
                },
                [](const ProbeTarget &t) { return probe_chain(t); }));
            evaluate_pooler(poolers.back(), policy, now);
        }
        const std::string report = format_report(ReportInput{results, options, now, &poolers});
        if (!options.output.empty()) {
            if (auto err = write_file_atomically(options.output, report)) {
                std::cerr << "pg_tls_check: " << err->message << "\n";
                return static_cast<int>(Status::Unknown);
            }
        } else {
            std::cout << report << std::flush;
        }
        return static_cast<int>(worst(overall_status(results), overall_pooler_status(poolers)));
    } catch (...) {
        Error e = describe_current_exception();
        std::cerr << "pg_tls_check: " << e.message << "\n";
        return static_cast<int>(Status::Unknown);
    }
}
