#include "checks/checks_outbound.hpp"

#include "checks/check_util.hpp"

namespace tls_audit {

using namespace check_util;

namespace {

std::string sslmode_text(const LinkAssessment &a) {
    std::string text = "sslmode=" + a.sslmode;
    if (a.sslmode_source != SettingSource::ConnectionString)
        text += std::string(" (") + setting_source_name(a.sslmode_source) + ")";
    if (!a.service.empty()) text += ", service '" + a.service + "' not read";
    return text;
}

std::string count_text(const std::vector<OutboundLinkFacts> &links) {
    return plural(static_cast<std::int64_t>(links.size()), "outbound link");
}

}  // namespace

std::string outbound_object(const OutboundLinkFacts &l) {
    if (l.kind == "physical_replication") return l.name.empty() ? "primary_conninfo" : l.name;
    return l.kind + " " + l.name;
}

std::vector<Finding> check_outbound_sslmode(const std::vector<OutboundLinkFacts> &links) {
    constexpr std::string_view check = "outbound_sslmode";
    std::vector<Finding> found;
    for (const auto &l : links) {
        if (!l.link) {
            found.push_back(make(check, Severity::Info, outbound_object(l), "cannot be judged: " + l.error));
            continue;
        }
        const LinkAssessment &a = *l.link;
        const std::string to = " to " + a.host;
        if (a.loopback_only) continue;  // unix socket or loopback: nothing on the wire to intercept
        const std::string &m = a.sslmode;
        if (m == "disable" || m == "allow" || m == "prefer") {
            found.push_back(make(check, Severity::Critical, outbound_object(l),
                                 sslmode_text(a) + to + ": " +
                                     (m == "disable" ? std::string("the link never uses TLS")
                                                     : "a man-in-the-middle can make the link fall back to "
                                                       "plaintext without anyone noticing") +
                                     "; the server's certificate is not verified",
                                 "Set sslmode=verify-full and sslrootcert to the CA of the remote server "
                                 "(https://www.postgresql.org/docs/current/libpq-ssl.html)."));
        } else if (m == "require" || m == "verify-ca") {
            found.push_back(make(check, Severity::Warning, outbound_object(l),
                                 sslmode_text(a) + to + ": " +
                                     (m == "require" ? std::string("encrypted, but the server's certificate is "
                                                                   "not verified (a man-in-the-middle can answer)")
                                                     : "the server's certificate is verified, but not its host "
                                                       "name: any certificate of that CA is accepted"),
                                 "Set sslmode=verify-full (with sslrootcert) so that libpq checks the "
                                 "certificate and the host name."));
        } else if (m != "verify-full") {
            found.push_back(make(check, Severity::Warning, outbound_object(l),
                                 "unknown " + sslmode_text(a) + to + ": libpq refuses to connect",
                                 "Set sslmode=verify-full."));
        }
    }
    return or_ok(std::move(found), check,
                 "every outbound link to a remote host uses sslmode=verify-full (" + count_text(links) + ")");
}

std::vector<Finding> check_outbound_password_in_conninfo(const std::vector<OutboundLinkFacts> &links) {
    constexpr std::string_view check = "outbound_password_in_conninfo";
    std::vector<Finding> found;
    for (const auto &l : links) {
        if (!l.link || !l.link->password_in_conninfo) continue;
        found.push_back(make(check, Severity::Warning, outbound_object(l),
                             std::string("a plaintext password is stored in the ") +
                                 (l.kind == "user_mapping" ? "user mapping's options" : "connection string") +
                                 " (readable by superusers and, for some objects, their owners; it is not shown "
                                 "here)",
                             "Use a password file (passfile, ~/.pgpass of the server's OS user) or a client "
                             "certificate (sslcert/sslkey) instead of password=."));
    }
    return or_ok(std::move(found), check,
                 "no password stored in an outbound connection string (" + count_text(links) + ")");
}

std::vector<Finding> check_outbound_root_cert(const std::vector<OutboundLinkFacts> &links, const Thresholds &t,
                                              std::int64_t now) {
    constexpr std::string_view check = "outbound_root_cert";
    std::vector<Finding> found;
    int verifying = 0;
    for (const auto &l : links) {
        if (!l.link || !l.link->verifies_server) continue;
        ++verifying;
        const std::string object = outbound_object(l);
        const std::string hint = "Point sslrootcert at a readable file with the current CA certificate of the "
                                 "remote server (or sslrootcert=system on libpq 16+ for a public CA).";
        if (!l.root_cert) {
            found.push_back(make(check, Severity::Info, object, "the root certificate was not read"));
            continue;
        }
        const RootCertFacts &r = *l.root_cert;
        if (r.system) continue;  // the system's CA store: OpenSSL's, not one file
        const std::string what = std::string(l.link->sslrootcert_default ? "sslrootcert (unset, libpq's default) "
                                                                         : "sslrootcert ") +
                                 r.file;
        if (!r.read_error.empty()) {
            found.push_back(make(check, Severity::Warning, object,
                                 what + " is not usable: " + r.read_error + "; sslmode=" + l.link->sslmode +
                                     " cannot verify the server and the link fails to connect",
                                 hint));
            continue;
        }
        if (r.certs.empty()) {
            found.push_back(make(check, Severity::Warning, object, what + " holds no certificate", hint));
            continue;
        }
        for (const auto &c : r.certs) {
            auto verdict = expiry_verdict(c.not_before, c.not_after, t, now);
            if (!verdict) continue;
            found.push_back(make(check, verdict->severity, object,
                                 what + ": CA " + c.subject + " " + verdict->text, hint));
        }
    }
    return or_ok(std::move(found), check,
                 "every outbound link that verifies the server has a usable root certificate (" +
                     plural(verifying, "link") + ")");
}

}  // namespace tls_audit
