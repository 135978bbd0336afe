#include "options.hpp"

#include <cerrno>
#include <climits>
#include <cstdlib>
#include <optional>

#include "readiness_check.hpp"
#include "probe/tls_profiles.hpp"

namespace tls_audit::cli {

namespace {

Error usage_error(std::string message) {
    return make_error(sqlstate::kInvalidParameter, std::move(message), "Try \"pg_tls_check --help\".");
}

// A whole decimal integer within [lo, hi].
bool parse_int(std::string_view text, long lo, long hi, int &out) {
    if (text.empty() || text.size() > 12) return false;
    std::string s(text);
    char *end = nullptr;
    errno = 0;
    long v = std::strtol(s.c_str(), &end, 10);
    if (errno != 0 || end != s.c_str() + s.size() || v < lo || v > hi) return false;
    if (!(s[0] == '-' || (s[0] >= '0' && s[0] <= '9'))) return false;  // no leading blanks or '+'
    out = static_cast<int>(v);
    return true;
}

bool parse_format(std::string_view s, Format &out) {
    for (Format f : {Format::Text, Format::Json, Format::Tap, Format::Nagios, Format::Prometheus, Format::Html})
        if (s == format_name(f)) {
            out = f;
            return true;
        }
    return false;
}

std::string trim(std::string_view s) {
    std::size_t b = s.find_first_not_of(" \t\r");
    if (b == std::string_view::npos) return {};
    std::size_t e = s.find_last_not_of(" \t\r");
    return std::string(s.substr(b, e - b + 1));
}

}  // namespace

const char *format_name(Format f) {
    switch (f) {
    case Format::Text: return "text";
    case Format::Json: return "json";
    case Format::Tap: return "tap";
    case Format::Nagios: return "nagios";
    case Format::Prometheus: return "prometheus";
    case Format::Html: return "html";
    }
    return "text";
}

Expected<HostPort> parse_host_port(std::string_view text) {
    HostPort hp;
    std::string_view port_text;
    if (!text.empty() && text.front() == '[') {
        std::size_t close = text.find(']');
        if (close == std::string_view::npos) return usage_error("missing ']' in target \"" + std::string(text) + "\"");
        hp.host = std::string(text.substr(1, close - 1));
        std::string_view rest = text.substr(close + 1);
        if (!rest.empty()) {
            if (rest.front() != ':') return usage_error("unexpected text after ']' in target \"" + std::string(text) + "\"");
            port_text = rest.substr(1);
            if (port_text.empty()) return usage_error("missing port after ':' in target \"" + std::string(text) + "\"");
        }
    } else {
        std::size_t first = text.find(':');
        if (first != std::string_view::npos && text.find(':', first + 1) == std::string_view::npos) {
            hp.host = std::string(text.substr(0, first));
            port_text = text.substr(first + 1);
            if (port_text.empty()) return usage_error("missing port after ':' in target \"" + std::string(text) + "\"");
        } else {
            hp.host = std::string(text);  // a name, an IPv4 address, or a bare IPv6 literal
        }
    }
    if (hp.host.empty()) return usage_error("empty host in target \"" + std::string(text) + "\"");
    if (!port_text.empty() && !parse_int(port_text, 1, 65535, hp.port))
        return usage_error("invalid port \"" + std::string(port_text) + "\" in target \"" + std::string(text) + "\"");
    return hp;
}

Expected<std::vector<HostPort>> parse_targets_file(std::string_view text) {
    std::vector<HostPort> out;
    std::size_t line_no = 0;
    while (!text.empty()) {
        std::size_t nl = text.find('\n');
        std::string_view line = text.substr(0, nl);
        text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
        ++line_no;
        std::size_t hash = line.find('#');
        std::string entry = trim(line.substr(0, hash));
        if (entry.empty()) continue;
        if (entry.find_first_of(" \t") != std::string::npos)
            return usage_error("line " + std::to_string(line_no) + ": one target per line, got \"" + entry + "\"");
        auto hp = parse_host_port(entry);
        if (!hp) return usage_error("line " + std::to_string(line_no) + ": " + hp.error().message);
        out.push_back(hp.value());
    }
    return out;
}

Expected<Options> parse_args(const std::vector<std::string> &args) {
    Options o;
    for (std::size_t i = 0; i < args.size(); ++i) {
        std::string arg = args[i];
        if (arg == "--") {
            for (++i; i < args.size(); ++i) {
                auto hp = parse_host_port(args[i]);
                if (!hp) return hp.error();
                o.targets.push_back(hp.value());
            }
            break;
        }
        if (arg == "-h" || arg == "--help") {
            o.help = true;
            continue;
        }
        if (arg == "-V" || arg == "--version") {
            o.version = true;
            continue;
        }
        if (arg == "--direct-tls") {
            o.direct_tls = true;
            continue;
        }
        {
            // --plaintext, --require-tls, --user, --database, --ca-file (repeatable), --ca-file-optional.
            std::optional<Error> err;
            if (parse_readiness_option(args, i, o, err)) {
                if (err) return *err;
                continue;
            }
        }
        if (arg == "--enumerate") {
            o.enumerate = true;
            continue;
        }
        if (arg.rfind("--", 0) != 0) {
            if (arg.size() > 1 && arg[0] == '-') return usage_error("unknown option \"" + arg + "\"");
            auto hp = parse_host_port(arg);
            if (!hp) return hp.error();
            o.targets.push_back(hp.value());
            continue;
        }
        // --name=value or --name value
        std::string name = arg, value;
        bool has_value = false;
        if (std::size_t eq = arg.find('='); eq != std::string::npos) {
            name = arg.substr(0, eq);
            value = arg.substr(eq + 1);
            has_value = true;
        }
        static const char *const kValued[] = {"--min-days", "--critical-days", "--min-protocol", "--ca-file", "--sni",
                                              "--timeout",  "--jobs",          "--format",       "--targets",
                                              "--profile", "--output",        "--pooler"};
        bool known = false;
        for (const char *k : kValued) known = known || name == k;
        if (!known) return usage_error("unknown option \"" + name + "\"");
        if (!has_value) {
            if (i + 1 >= args.size()) return usage_error("option " + name + " needs a value");
            value = args[++i];
        }
        auto need_int = [&](long lo, long hi, int &out) -> std::optional<Error> {
            if (parse_int(value, lo, hi, out)) return std::nullopt;
            return usage_error("option " + name + " needs an integer from " + std::to_string(lo) + " to " +
                               std::to_string(hi) + ", got \"" + value + "\"");
        };
        std::optional<Error> err;
        if (name == "--min-days") err = need_int(0, 36500, o.min_days);
        else if (name == "--critical-days") err = need_int(0, 36500, o.critical_days);
        else if (name == "--timeout") err = need_int(1, 3600 * 1000, o.timeout_ms);
        else if (name == "--jobs") err = need_int(1, 256, o.jobs);
        else if (name == "--min-protocol") {
            auto p = parse_protocol(value);
            if (!p || *p == Protocol::SSLv3)
                err = usage_error("option --min-protocol needs one of " + std::string(valid_floor_names()) +
                                  ", got \"" + value + "\"");
            else
                o.min_protocol = *p;
        } else if (name == "--format") {
            if (!parse_format(value, o.format))
                err = usage_error("option --format needs text, json, tap, nagios, prometheus or html, got \"" + value + "\"");
        } else if (name == "--ca-file") o.ca_file = value;
        else if (name == "--sni") o.sni = value;
        else if (name == "--targets") o.targets_file = value;
        else if (name == "--output") o.output = value;
        else if (name == "--pooler") o.poolers.push_back(value);
        else if (name == "--profile") {
            if (find_profile(value) == nullptr) err = usage_error(unknown_profile_error(value).message + "; " +
                                                                  unknown_profile_error(value).hint);
            o.profile = value;
            o.enumerate = true;
        }
        if (err) return *err;
        if ((name == "--ca-file" || name == "--targets" || name == "--sni" || name == "--output" ||
             name == "--pooler") &&
            value.empty())
            return usage_error("option " + name + " needs a non-empty value");
    }
    if (o.help || o.version) return o;
    if (o.critical_days > o.min_days)
        return usage_error("--critical-days (" + std::to_string(o.critical_days) + ") must not exceed --min-days (" +
                           std::to_string(o.min_days) + ")");
    if (o.targets.empty() && o.targets_file.empty() && o.poolers.empty()) return usage_error("no target given");
    // Every Mozilla profile is a TLS configuration: a server that lets an
    // unencrypted connection reach authentication does not comply with any.
    if (!o.profile.empty() && !o.allow_plaintext) o.plaintext = o.require_tls = true;
    if (o.allow_plaintext && o.require_tls && o.profile.empty())
        return usage_error("--allow-plaintext contradicts --require-tls");
    return o;
}

std::string usage() {
    return R"(pg_tls_check checks the TLS setup of PostgreSQL servers from the outside.

Usage:
  pg_tls_check [OPTION]... HOST[:PORT]...
  pg_tls_check [OPTION]... --targets FILE
  pg_tls_check [OPTION]... --pooler [NAME=]CONNINFO...

Each target gets one connection per protocol version (TLSv1 to TLSv1.3, each
alone, all ciphers at security level 0) plus one to read and verify the
certificate chain. HOST may be a name, an IPv4 address or an IPv6 address
([::1]:5432 with a port). PORT defaults to 5432.

Options:
      --targets FILE       read targets from FILE, one per line, '#' comments
      --min-days N         WARNING when a certificate expires in fewer than N
                           days (default 30)
      --critical-days N    CRITICAL when a certificate expires in fewer than N
                           days (default 7; expired is always CRITICAL)
      --min-protocol V     CRITICAL when the server accepts a version older
                           than V: TLSv1, TLSv1.1, TLSv1.2, TLSv1.3
                           (default TLSv1.2)
      --ca-file FILE       verify the chain and host name against these CA
                           certificates; a failure is CRITICAL (without it the
                           system store is used and failures are only noted);
                           repeatable, see Trust-store readiness below
      --sni NAME           server name to send and to match the certificate
                           against (default: HOST when it is a name)
      --timeout MS         budget of each connection, in milliseconds
                           (default 5000)
      --jobs N             targets probed in parallel (default 4)
      --direct-tls         also try direct TLS (PostgreSQL 17+, libpq's
                           sslnegotiation=direct: no SSLRequest, ALPN
                           "postgresql"), one more connection per target, and
                           report whether the server accepts it (information
                           only: it never changes the status)
      --format FORMAT      text (default), json, tap, nagios, prometheus or html
                           (node_exporter textfile collector)
      --output FILE        write the report to FILE atomically (a temporary
                           file in the same directory, then rename) instead
                           of standard output
      --enumerate          also list the cipher suites each version accepts
                           (strength, server preference), the key-exchange
                           groups and the DHE group size; weak suites are a
                           WARNING, insecure ones CRITICAL
      --profile NAME       compare with Mozilla's Server Side TLS 5.7 profile
                           modern, intermediate or old (implies --enumerate
                           and --require-tls): a required deviation is
                           CRITICAL, and so is plaintext accepted
      --allow-plaintext    with --profile: do not require TLS (the plaintext
                           probe is not sent)
      --pooler [NAME=]CONNINFO
                           audit a pgbouncer through its admin console
                           (CONNINFO: a libpq connection string with
                           dbname=pgbouncer; the user in stats_users or
                           admin_users): its clients' and servers' TLS, its
                           TLS settings and the certificate it serves;
                           repeatable (NAME defaults to pooler1, pooler2, ...);
                           a password goes in PGPASSWORD or a passfile, never
                           on the command line
  -h, --help               show this help and exit
  -V, --version            show the version and exit
)" + std::string(readiness_usage()) + R"(
Exit status (the worst over all targets):
  0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN (unreachable, no answer, bad usage);
  CRITICAL on any target outranks UNKNOWN on another
)";
}

}  // namespace tls_audit::cli
