#include "checks/checks_certificates.hpp"

#include <map>
#include <set>

#include "checks/check_util.hpp"

namespace tls_audit {

using namespace check_util;

namespace {

std::string cert_where(const SeenCertificate &c) {
    std::string where = c.position == 0 ? "leaf" : "chain position " + std::to_string(c.position);
    if (c.served && c.in_file) return where + ", served and in ssl_cert_file";
    if (c.served) return where + ", served (no longer in ssl_cert_file)";
    return where + ", in ssl_cert_file (not served yet)";
}

}  // namespace

// Server certificates

void add_seen_certificate(std::vector<SeenCertificate> &chain, const CertInfo &cert, int position, bool served) {
    for (auto &seen : chain) {
        if (!cert.sha256.empty() && seen.cert.sha256 == cert.sha256) {
            (served ? seen.served : seen.in_file) = true;
            return;
        }
    }
    SeenCertificate s;
    s.cert = cert;
    s.position = position;
    s.served = served;
    s.in_file = !served;
    chain.push_back(std::move(s));
}

std::vector<Finding> check_server_cert_expiry(const ServerCertFacts &f, const Thresholds &t, std::int64_t now) {
    constexpr std::string_view check = "server_cert_expiry";
    if (f.chain.empty()) return {not_available(check, "no server certificate could be read")};
    std::vector<Finding> found;
    for (const auto &c : f.chain) {
        // A self-signed root in the chain file is not validated by clients against its own dates
        // in the same way, but an expired one still breaks many clients: report it too.
        auto verdict = expiry_verdict(c.cert.not_before, c.cert.not_after, t, now);
        if (!verdict) continue;
        found.push_back(make(check, verdict->severity, c.cert.subject,
                             "server certificate " + verdict->text + " (" + cert_where(c) + ")",
                             c.served && !c.in_file
                                 ? "A renewed certificate is on disk: run SELECT pg_reload_conf()."
                                 : "Renew the certificate, install it as ssl_cert_file (" + f.cert_file +
                                       ") and run SELECT pg_reload_conf() "
                                       "(https://www.postgresql.org/docs/current/ssl-tcp.html#SSL-SERVER-FILES)."));
    }
    return or_ok(std::move(found), check,
                 "no server certificate expires " + window_text(t) + " (" + plural(static_cast<std::int64_t>(f.chain.size()), "certificate") + " checked)");
}

std::optional<std::string> weak_key_reason(const CertInfo &cert) {
    const std::string &type = cert.key_type;
    if (type == "RSA" || type == "RSA-PSS" || type == "DSA" || type == "DH") {
        if (cert.key_bits > 0 && cert.key_bits < 2048)
            return type + " key of " + std::to_string(cert.key_bits) + " bits (minimum 2048)";
    } else if (type == "EC") {
        if (cert.key_bits > 0 && cert.key_bits < 256)
            return "EC key of " + std::to_string(cert.key_bits) + " bits (minimum 256)";
    }
    return std::nullopt;
}

std::vector<Finding> check_server_cert_key_strength(const ServerCertFacts &f) {
    constexpr std::string_view check = "server_cert_key_strength";
    if (f.chain.empty()) return {not_available(check, "no server certificate could be read")};
    std::vector<Finding> found;
    for (const auto &c : f.chain) {
        auto reason = weak_key_reason(c.cert);
        if (!reason) continue;
        found.push_back(make(check, Severity::Critical, c.cert.subject,
                             "server certificate has a weak " + *reason + " (" + cert_where(c) + ")",
                             "Issue a new certificate with an RSA key of at least 2048 bits or an EC key of at "
                             "least 256 bits (P-256, P-384) or Ed25519."));
    }
    return or_ok(std::move(found), check, "every server certificate key is strong enough");
}

std::optional<CipherWeakness> weak_signature(const CertInfo &cert) {
    const std::string alg = lower(cert.signature_algorithm);
    if (contains(alg, "md5") || contains(alg, "md4") || contains(alg, "md2"))
        return CipherWeakness{cert.signature_algorithm, Severity::Critical, {}};
    if (contains(alg, "sha1") || alg == "dsawithsha1" || contains(alg, "sha-1") || contains(alg, "shawithrsa"))
        return CipherWeakness{cert.signature_algorithm, Severity::Warning, {}};
    return std::nullopt;
}

std::vector<Finding> check_server_cert_signature(const ServerCertFacts &f) {
    constexpr std::string_view check = "server_cert_signature";
    if (f.chain.empty()) return {not_available(check, "no server certificate could be read")};
    std::vector<Finding> found;
    for (const auto &c : f.chain) {
        // The signature on a trust anchor (a self-signed CA) is never checked by clients.
        if (c.position > 0 && c.cert.self_signed) continue;
        auto weak = weak_signature(c.cert);
        if (!weak) continue;
        found.push_back(make(check, weak->severity, c.cert.subject,
                             "server certificate is signed with " + weak->label + " (" + cert_where(c) + ")",
                             "Have the certificate re-issued with a SHA-256 (or stronger) signature."));
    }
    return or_ok(std::move(found), check, "every server certificate has a strong signature");
}

std::vector<Finding> check_server_cert_self_signed(const ServerCertFacts &f) {
    constexpr std::string_view check = "server_cert_self_signed";
    if (f.chain.empty()) return {not_available(check, "no server certificate could be read")};
    std::vector<Finding> found;
    for (const auto &c : f.chain) {
        if (c.position != 0 || !c.cert.self_signed) continue;
        found.push_back(make(check, Severity::Warning, c.cert.subject,
                             "the server certificate is self-signed (" + cert_where(c) +
                                 "): clients using sslmode=verify-ca or verify-full must trust this very "
                                 "certificate",
                             "Use a certificate issued by a CA your clients trust (sslrootcert) "
                             "(https://www.postgresql.org/docs/current/libpq-ssl.html)."));
    }
    return or_ok(std::move(found), check, "the server certificate is issued by a CA");
}

std::vector<Finding> check_server_cert_chain(const ServerCertFacts &f) {
    constexpr std::string_view check = "server_cert_chain";
    if (!f.chain_complete && !f.key_matches_cert)
        return {not_available(check, "chain and key facts could not be read")};
    std::vector<Finding> found;
    if (f.key_matches_cert && !*f.key_matches_cert)
        found.push_back(make(check, Severity::Critical, f.key_file,
                             "ssl_key_file does not belong to the certificate in ssl_cert_file: the next reload "
                             "or restart will fail to load them",
                             "Install the private key that was issued with " + f.cert_file +
                                 " (a renewed certificate usually comes with a new key)."));
    if (f.chain_complete && !*f.chain_complete)
        found.push_back(make(check, Severity::Warning, f.cert_file,
                             "the certificate chain in ssl_cert_file is incomplete" +
                                 (f.chain_error.empty() ? std::string() : ": " + f.chain_error),
                             "Append the intermediate CA certificate(s) to ssl_cert_file (leaf first), so that "
                             "clients that only trust the root can verify the server."));
    return or_ok(std::move(found), check, "the certificate chain is complete and the key matches the certificate");
}

std::vector<Finding> check_server_key_permissions(const ServerCertFacts &f) {
    constexpr std::string_view check = "server_key_permissions";
    if (!f.key_permissions_ok) return {not_available(check, "the key file's permissions could not be read")};
    if (*f.key_permissions_ok)
        return ok(check, "ssl_key_file permissions " + f.key_file_mode + " (owner " + f.key_file_owner + ") are safe");
    return {make(check, Severity::Critical, f.key_file,
                 "ssl_key_file has mode " + f.key_file_mode + " (owner " + f.key_file_owner +
                     "): the private key is readable by others, and PostgreSQL will refuse to load it at the "
                     "next reload",
                 "chmod 0600 the key file and make the server's OS user its owner (or mode 0640 owned by root) "
                 "(https://www.postgresql.org/docs/current/ssl-tcp.html#SSL-SERVER-FILES).")};
}

std::vector<Finding> check_server_cert_reload_pending(const ServerCertFacts &f,
                                                      const std::vector<PreflightStage> *preflight) {
    constexpr std::string_view check = "server_cert_reload_pending";
    const bool would_fail = preflight != nullptr && !preflight_would_succeed(*preflight);
    const std::string outcome =
        preflight == nullptr ? std::string()
        : would_fail         ? "; a reload would NOT fix it, it would fail: " + preflight_failure(*preflight)
                             : "; a reload would load it (the reload pre-flight passes)";
    if (!f.reload_pending) {
        if (would_fail)
            return {make(check, Severity::Info, f.cert_file, "the served certificate is not known" + outcome,
                         "See server_tls_reload_would_fail and SELECT * FROM tls_audit.reload_preflight().")};
        return {not_available(check, "the served certificate is not known")};
    }
    if (!*f.reload_pending) return ok(check, "the served certificate is the one in ssl_cert_file");
    return {make(check, Severity::Warning, f.cert_file,
                 "ssl_cert_file on disk (sha256 " + f.file_sha256.substr(0, 16) +
                     "...) differs from the certificate the server presents (sha256 " +
                     f.served_sha256.substr(0, 16) + "...): it has not been reloaded" + outcome,
                 would_fail ? "Fix what SELECT * FROM tls_audit.reload_preflight() reports, then run SELECT "
                              "pg_reload_conf()."
                            : "Run SELECT pg_reload_conf() (or pg_ctl reload) so that new connections get the new "
                              "certificate.")};
}

std::vector<Finding> check_server_tls_reload_would_fail(const std::vector<PreflightStage> &stages) {
    constexpr std::string_view check = "server_tls_reload_would_fail";
    std::vector<Finding> found;
    for (const auto &s : stages) {
        if (!s.ok || *s.ok) continue;
        if (!s.file_kind.empty()) {
            // The server would open it as a file: wait on a FIFO, read a device forever.
            found.push_back(make(check, Severity::Critical, s.file,
                                 "the TLS configuration on disk does not load (stage " + s.stage + "): " + s.error,
                                 "Put a regular file at that path (a FIFO, device, socket or directory there makes "
                                 "the postmaster hang or fail when it loads the TLS files), check with SELECT * FROM "
                                 "tls_audit.reload_preflight(), then run SELECT pg_reload_conf()."));
            continue;
        }
        found.push_back(make(check, Severity::Critical, s.file.empty() ? s.stage : s.file,
                             "the TLS configuration on disk does not load (stage " + s.stage + "): " + s.error +
                                 "; a reload keeps the previous configuration and the next restart fails",
                             "Fix the file or setting named, check with SELECT * FROM tls_audit.reload_preflight(), "
                             "then run SELECT pg_reload_conf() "
                             "(https://www.postgresql.org/docs/current/ssl-tcp.html#SSL-SERVER-FILES)."));
    }
    std::string undecided;
    for (const auto &s : stages)
        if (!s.ok) undecided += (undecided.empty() ? "" : ", ") + s.stage;
    return or_ok(std::move(found), check,
                 "the TLS files and settings a reload would apply load (" +
                     plural(static_cast<std::int64_t>(stages.size()), "stage") + " checked" +
                     (undecided.empty() ? "" : "; not decided: " + undecided) + ")");
}

std::vector<Finding> check_server_tls_reload_failed(const std::optional<LastReload> &last) {
    constexpr std::string_view check = "server_tls_reload_failed";
    if (!last) return ok(check, "no TLS reload recorded since the server started");
    const std::string when = format_utc(last->at);
    if (!last->ok) return ok(check, "the last reload (" + when + ") is in progress");
    if (*last->ok)
        return ok(check, std::string(last->kind == "start" ? "the TLS files loaded at start (" : "the last reload (") +
                             when + (last->kind == "start" ? ")" : ") loaded the TLS files"));
    return {make(check, Severity::Critical, "reload at " + when,
                 "the last reload (" + when + ") kept the previous TLS configuration: " +
                     (last->error.empty() ? std::string("no reason was logged") : last->error) +
                     "; the server serves the previous certificate until it expires, and the next restart fails",
                 "Fix the file named, check with SELECT * FROM tls_audit.reload_preflight(), then run SELECT "
                 "pg_reload_conf() and look at tls_audit.reload_history.")};
}

std::vector<Finding> check_server_tls_auto_reload(const AutoReloadFacts &f) {
    constexpr std::string_view check = "server_tls_auto_reload";
    if (f.mode == "off" || f.state == "off") return ok(check, "tls_audit.auto_reload is off");
    if (f.state == "refused")
        return {make(check, Severity::Warning, "tls_audit.auto_reload",
                     "the TLS files changed but were not reloaded: " + f.last_error,
                     "Fix what SELECT * FROM tls_audit.reload_preflight() reports; the worker tries again when "
                     "the files change.")};
    if (f.state == "waiting")
        return {make(check, Severity::Info, "tls_audit.auto_reload",
                     "the renewed TLS files would load, but the automatic reload waits: " + f.last_action,
                     "Run SELECT pg_reload_conf() when the other pending settings may be applied, or set "
                     "tls_audit.auto_reload = force.")};
    if (f.state == "not running" || f.state == "error" || f.state == "not preloaded")
        return {make(check, Severity::Warning, "tls_audit.auto_reload",
                     "tls_audit.auto_reload is " + f.mode + " but its worker is " + f.state +
                         (f.last_error.empty() ? std::string() : ": " + f.last_error),
                     "See the server log for \"tls_audit.auto_reload\"; the worker restarts after a crash.")};
    return ok(check, "tls_audit.auto_reload is " + f.mode + " and its worker is " + f.state);
}

std::vector<Finding> check_ca_file_expiry(std::string_view ca_file, const std::vector<CertInfo> &ca,
                                          const Thresholds &t, std::int64_t now) {
    constexpr std::string_view check = "ca_file_expiry";
    if (ca_file.empty()) return ok(check, "ssl_ca_file is not set: client certificates are not verified");
    std::vector<Finding> found;
    for (const auto &c : ca) {
        auto verdict = expiry_verdict(c.not_before, c.not_after, t, now);
        if (!verdict) continue;
        found.push_back(make(check, verdict->severity, c.subject,
                             "CA certificate in ssl_ca_file " + verdict->text,
                             "Replace it in " + std::string(ca_file) +
                                 " with the CA's renewed certificate and run SELECT pg_reload_conf(); client "
                                 "certificates issued by it stop verifying when it expires."));
    }
    return or_ok(std::move(found), check,
                 "no certificate in ssl_ca_file expires " + window_text(t) + " (" +
                     plural(static_cast<std::int64_t>(ca.size()), "certificate") + " checked)");
}

std::vector<Finding> check_crl_expiry(std::string_view crl_source, const std::vector<CrlFacts> &crls,
                                      const Thresholds &t, std::int64_t now) {
    constexpr std::string_view check = "crl_expiry";
    if (crl_source.empty()) return ok(check, "neither ssl_crl_file nor ssl_crl_dir is set");
    std::vector<Finding> found;
    for (const auto &crl : crls) {
        if (!crl.next_update) continue;
        auto verdict = expiry_verdict(0, *crl.next_update, t, now);
        if (!verdict) continue;
        std::string text = verdict->text;
        // "expired ... ago" / "expires in ..." of a CRL means its next update.
        found.push_back(make(check, verdict->severity, crl.source.empty() ? std::string(crl_source) : crl.source,
                             "CRL of " + crl.issuer + ": next update " + text +
                                 (verdict->severity == Severity::Critical && *crl.next_update <= now
                                      ? "; client certificates issued by this CA fail verification"
                                      : ""),
                             "Fetch a fresh CRL from the CA, install it as ssl_crl_file (or in ssl_crl_dir under "
                             "its issuer-hash name: openssl rehash) and run SELECT pg_reload_conf() "
                             "(https://www.postgresql.org/docs/current/runtime-config-connection.html#GUC-SSL-CRL-FILE)."));
    }
    return or_ok(std::move(found), check,
                 "no CRL is due for an update " + window_text(t) + " (" +
                     plural(static_cast<std::int64_t>(crls.size()), "CRL") + " checked)");
}

std::vector<Finding> check_crl_coverage(std::string_view crl_source, const std::vector<CaCrlCoverage> &cas) {
    constexpr std::string_view check = "crl_coverage";
    if (crl_source.empty()) return ok(check, "neither ssl_crl_file nor ssl_crl_dir is set");
    std::vector<Finding> found;
    for (const auto &ca : cas) {
        if (ca.crl_present) continue;
        found.push_back(make(check, Severity::Critical, ca.subject,
                             "CA certificate in ssl_ca_file has no CRL in " + std::string(crl_source) +
                                 ": with a CRL configured the server checks revocation for every certificate "
                                 "of a client's chain, so client certificates below this CA fail with \"unable "
                                 "to get certificate CRL\"",
                             "Add a current CRL issued by this CA to ssl_crl_file (or to ssl_crl_dir under its "
                             "issuer-hash name: openssl rehash), or remove the CA from ssl_ca_file, and run "
                             "SELECT pg_reload_conf() "
                             "(https://www.postgresql.org/docs/current/runtime-config-connection.html#GUC-SSL-CRL-FILE)."));
    }
    return or_ok(std::move(found), check,
                 "every CA of ssl_ca_file has a CRL (" +
                     plural(static_cast<std::int64_t>(cas.size()), "CA") + " checked)");
}

}  // namespace tls_audit
