// JSON: stable keys, documented in README.md (pg_tls_check, JSON output). Unknown values are
// null, never missing.
#include "enumerate.hpp"
#include "format.hpp"
#include "json.hpp"
#include "readiness_check.hpp"

namespace tls_audit::cli {

namespace {

// The plaintext and trust-store readiness of a target, the options that
// asked for it, and the fleet's trust summary.
void write_readiness_json(JsonWriter &w, const TargetResult &r) {
    const Readiness &rd = r.readiness;
    w.key("plaintext");
    if (!rd.plaintext_probed) {
        w.null();
    } else {
        w.begin_object();
        if (rd.plaintext) {
            const PlaintextReport &p = *rd.plaintext;
            w.key("result").value(plaintext_verdict_name(p.verdict));
            w.key("user").value(p.user);
            w.key("database").string_or_null(p.database);
            w.key("auth_request").string_or_null(p.auth_request);
            w.key("sqlstate").string_or_null(p.sqlstate);
            w.key("message").string_or_null(p.message);
            w.key("detail").string_or_null(p.detail);
            w.key("pooler").string_or_null(p.pooler);
        } else {
            w.key("result").value("unknown");
            w.key("user").null();
            w.key("database").null();
            w.key("auth_request").null();
            w.key("sqlstate").null();
            w.key("message").null();
            w.key("detail").value(rd.plaintext_error ? rd.plaintext_error->message : std::string("not run"));
            w.key("pooler").null();
        }
        w.end_object();
    }
    w.key("trust_bundles").begin_array();
    for (const auto &b : rd.bundles) {
        const TrustPathReport &t = b.report;
        w.begin_object();
        w.key("file").value(t.bundle);
        w.key("required").value(b.required);
        w.key("verified").value(t.verified);
        w.key("anchor_subject").string_or_null(t.anchor_subject);
        w.key("anchor_sha256").string_or_null(t.anchor_sha256);
        w.key("path_length");
        if (t.verified) w.value(t.path_length);
        else w.null();
        w.key("path").begin_array();
        for (const auto &p : t.path) w.value(p);
        w.end_array();
        w.key("error").string_or_null(t.error);
        w.end_object();
    }
    w.end_array();
}

void write_readiness_policy_json(JsonWriter &w, const Options &o) {
    w.key("plaintext").value(o.plaintext);
    w.key("require_tls").value(o.require_tls);
    w.key("plaintext_user");
    if (o.plaintext) w.value(plaintext_user(o));
    else w.null();
    w.key("plaintext_database").string_or_null(o.plaintext_database);
    w.key("ca_files").begin_array();
    for (const auto &f : o.ca_files) w.value(f);
    w.end_array();
    w.key("ca_files_optional").begin_array();
    for (const auto &f : o.ca_files_optional) w.value(f);
    w.end_array();
}

void write_fleet_json(JsonWriter &w, const ReportInput &in) {
    FleetSummary s = fleet_summary(in.results, in.options);
    w.key("trust_summary");
    if (s.bundles.empty()) {
        w.null();
        return;
    }
    w.begin_object();
    w.key("anchors").begin_array();
    for (const auto &a : s.anchors) {
        w.begin_object();
        w.key("subject").value(a.subject);
        w.key("sha256").value(a.sha256);
        w.key("targets").begin_array();
        for (const auto &t : a.targets) w.value(t);
        w.end_array();
        w.end_object();
    }
    w.end_array();
    w.key("bundles").begin_array();
    for (const auto &b : s.bundles) {
        w.begin_object();
        w.key("file").value(b.file);
        w.key("required").value(b.required);
        w.key("verified_targets").value(static_cast<std::int64_t>(b.verified));
        w.key("failed_targets").begin_array();
        for (const auto &f : b.fails) {
            w.begin_object();
            w.key("target").value(f.target);
            w.key("error").value(f.error);
            w.end_object();
        }
        w.end_array();
        w.key("unchecked_targets").begin_array();
        for (const auto &u : b.unchecked) w.value(u);
        w.end_array();
        w.end_object();
    }
    w.end_array();
    w.end_object();
}

}  // namespace

namespace {

void write_certificate(JsonWriter &w, const CertInfo &c, std::int64_t now) {
    w.begin_object();
    w.key("subject").value(c.subject);
    w.key("issuer").value(c.issuer);
    w.key("serial").value(c.serial);
    w.key("not_before").value(iso8601_utc(c.not_before));
    w.key("not_after").value(iso8601_utc(c.not_after));
    w.key("days_left").value(days_left(c.not_after, now));
    w.key("key_type").value(c.key_type);
    w.key("key_bits").value(c.key_bits);
    w.key("key_curve").string_or_null(c.key_curve);
    w.key("signature_algorithm").value(c.signature_algorithm);
    w.key("sha256").value(c.sha256);
    w.key("san").begin_array();
    for (const auto &s : c.san) w.value(s);
    w.end_array();
    w.key("is_ca").value(c.is_ca);
    w.key("self_signed").value(c.self_signed);
    w.end_object();
}

// "direct_tls": null when not probed (no --direct-tls, or the target failed);
// accepted is null when the answer is unknown (error says why).
void write_direct_tls(JsonWriter &w, const TargetResult &r) {
    w.key("direct_tls");
    DirectTlsVerdict v = direct_tls_verdict(r);
    if (v == DirectTlsVerdict::NotProbed) {
        w.null();
        return;
    }
    const auto &d = *r.report->direct_tls;
    w.begin_object();
    if (v == DirectTlsVerdict::Unknown) {
        w.key("accepted").null();
        w.key("protocol").null();
        w.key("cipher").null();
        w.key("alpn").null();
        w.key("error").value(d.error().message);
    } else {
        w.key("accepted").value(d.value().accepted);
        w.key("protocol").string_or_null(d.value().protocol);
        w.key("cipher").string_or_null(d.value().cipher);
        w.key("alpn").string_or_null(d.value().alpn);
        w.key("error").string_or_null(d.value().error);
    }
    w.end_object();
}

void write_target(JsonWriter &w, const TargetResult &r, std::int64_t now, bool enumerate) {
    const TargetReport *rep = r.report ? &*r.report : nullptr;
    const ChainReport *chain = rep != nullptr && rep->chain ? &*rep->chain : nullptr;
    w.begin_object();
    w.key("host").value(r.target.host);
    w.key("port").value(r.target.port);
    w.key("status").value(status_name(r.status));
    if (r.error) {
        w.key("error").value(r.error->message);
        w.key("sqlstate").value(r.error->sqlstate);
    } else {
        w.key("error").null();
        w.key("sqlstate").null();
    }
    w.key("protocols");
    if (rep == nullptr) {
        w.null();
    } else {
        w.begin_object();
        for (const auto &p : rep->protocols) {
            w.key(protocol_name(p.protocol)).begin_object();
            w.key("accepted").value(p.accepted);
            w.key("cipher").string_or_null(p.cipher);
            w.key("error").string_or_null(p.error);
            w.end_object();
        }
        w.end_object();
    }
    w.key("negotiated");
    if (chain == nullptr) {
        w.null();
    } else {
        w.begin_object();
        w.key("protocol").value(chain->protocol);
        w.key("cipher").value(chain->cipher);
        w.key("group").string_or_null(chain->key_exchange_group);
        w.end_object();
    }
    w.key("handshake_error");
    if (rep != nullptr && !rep->chain) w.value(rep->chain_error);
    else w.null();
    w.key("certificates").begin_array();
    if (chain != nullptr)
        for (const auto &c : chain->certificates) write_certificate(w, c, now);
    w.end_array();
    w.key("server_name");
    if (chain != nullptr) w.value(chain->server_name);
    else w.null();
    w.key("verified");
    if (chain != nullptr) w.value(chain->verified);
    else w.null();
    w.key("verify_error");
    if (chain != nullptr) w.string_or_null(chain->verify_error);
    else w.null();
    w.key("hostname_match");
    if (chain != nullptr) w.value(chain->hostname_match);
    else w.null();
    write_direct_tls(w, r);
    write_readiness_json(w, r);
    if (r.enumeration) {
        w.key("enumeration");
        write_enumeration_json(w, *r.enumeration);
    } else if (enumerate) {
        w.key("enumeration").null();
    }
    if (r.profile) {
        w.key("profile");
        write_profile_json(w, *r.profile);
    }
    w.key("findings").begin_array();
    for (const auto &f : r.findings) {
        w.begin_object();
        w.key("severity").value(f.severity == Status::Ok ? "NOTE" : status_name(f.severity));
        w.key("code").value(f.code);
        w.key("message").value(f.message);
        w.end_object();
    }
    w.end_array();
    w.end_object();
}

}  // namespace

namespace {

// --pooler: one object per pooler (doc/pg_tls_check.md, Poolers).
void write_connections(JsonWriter &w, const char *key, const std::vector<PoolerConnection> &rows) {
    w.key(key).begin_array();
    for (const PoolerConnection &c : rows) {
        w.begin_object();
        w.key("user").value(c.user);
        w.key("database").value(c.database);
        w.key("state").value(c.state);
        w.key("address").string_or_null(c.address ? *c.address : std::string());
        w.key("port");
        if (c.port) w.value(*c.port);
        else w.null();
        w.key("application_name").string_or_null(c.application_name);
        w.key("connect_time").string_or_null(c.connect_time);
        w.key("ptr").string_or_null(c.ptr);
        w.key("transport").value(c.transport);
        w.key("protocol").string_or_null(c.tls ? c.tls->protocol : std::string());
        w.key("cipher").string_or_null(c.tls ? c.tls->cipher : std::string());
        w.key("key_exchange_group").string_or_null(c.tls ? c.tls->key_exchange_group : std::string());
        w.key("tls").value(c.tls_column);
        w.key("error").string_or_null(c.tls_error);
        w.end_object();
    }
    w.end_array();
}

void write_pooler(JsonWriter &w, const PoolerResult &p, std::int64_t now) {
    w.begin_object();
    w.key("name").value(p.name);
    w.key("address").string_or_null(p.address);
    w.key("status").value(status_name(p.status));
    w.key("error").string_or_null(p.facts.error);
    write_connections(w, "clients", p.clients);
    w.key("clients_error").string_or_null(p.clients_error);
    write_connections(w, "servers", p.servers);
    w.key("servers_error").string_or_null(p.servers_error);
    w.key("settings").begin_array();
    for (const auto &s : p.settings) {
        w.begin_object();
        w.key("setting").value(s.key);
        w.key("value").value(s.value);
        w.key("default").value(s.default_value);
        w.end_object();
    }
    w.end_array();
    w.key("certificate");
    if (!p.served && p.facts.cert_error.empty()) {
        w.null();  // not probed: the console was not read, or the client leg is plaintext
    } else {
        w.begin_object();
        w.key("error").string_or_null(p.facts.cert_error);
        if (p.served) {
            w.key("protocol").value(p.served->protocol);
            w.key("cipher").value(p.served->cipher);
            w.key("server_name").value(p.served->server_name);
            w.key("verified").value(p.served->verified);
            w.key("verify_error").string_or_null(p.served->verify_error);
            w.key("hostname_match").value(p.served->hostname_match);
        } else {
            for (const char *k : {"protocol", "cipher", "server_name", "verified", "verify_error", "hostname_match"})
                w.key(k).null();
        }
        w.key("chain").begin_array();
        if (p.served)
            for (const auto &c : p.served->certificates) write_certificate(w, c, now);
        w.end_array();
        w.end_object();
    }
    w.key("findings").begin_array();
    for (const auto &f : p.findings) {
        w.begin_object();
        w.key("severity").value(f.severity == Status::Ok ? "NOTE" : status_name(f.severity));
        w.key("code").value(f.code);
        w.key("message").value(f.message);
        w.end_object();
    }
    w.end_array();
    w.end_object();
}

}  // namespace

std::string format_json(const ReportInput &in) {
    JsonWriter w;
    Status overall = report_status(in);
    w.begin_object();
    w.key("tool").value("pg_tls_check");
    w.key("version").value(kToolVersion);
    w.key("checked_at").value(iso8601_utc(in.now));
    w.key("status").value(status_name(overall));
    w.key("exit_code").value(static_cast<int>(overall));
    w.key("policy").begin_object();
    w.key("min_days").value(in.options.min_days);
    w.key("critical_days").value(in.options.critical_days);
    w.key("min_protocol").value(protocol_name(in.options.min_protocol));
    w.key("ca_file").string_or_null(in.options.ca_file);
    w.key("sni").string_or_null(in.options.sni);
    w.key("timeout_ms").value(in.options.timeout_ms);
    w.key("direct_tls").value(in.options.direct_tls);
    write_readiness_policy_json(w, in.options);
    w.key("enumerate").value(in.options.enumerate);
    w.key("profile").string_or_null(in.options.profile);
    w.end_object();
    w.key("targets").begin_array();
    for (const auto &r : in.results) write_target(w, r, in.now, in.options.enumerate);
    w.end_array();
    write_fleet_json(w, in);
    w.key("poolers").begin_array();
    for (const auto &p : report_poolers(in)) write_pooler(w, p, in.now);
    w.end_array();
    w.end_object();
    return w.str() + "\n";
}

}  // namespace tls_audit::cli
