// Helpers shared by the check areas' unit tests (test/unit/checks_*_test.cpp).
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <ctime>
#include <set>
#include <string>
#include <vector>

#include "checks/checks.hpp"
#include "test_certs.hpp"
#include "certs/x509.hpp"

namespace tls_audit::test {


inline constexpr std::int64_t kDay = 86400;
inline std::int64_t now() { return static_cast<std::int64_t>(std::time(nullptr)); }

inline bool all_ok(const std::vector<Finding> &f) {
    return f.size() == 1 && f[0].severity == Severity::Ok && f[0].object.empty();
}

inline bool has_object(const std::vector<Finding> &f, const std::string &object) {
    return std::any_of(f.begin(), f.end(), [&](const Finding &x) { return x.object == object; });
}

inline CertInfo cert_from(const std::string &file, std::size_t index = 0) {
    auto infos = certificate_infos(read_cert_file(file));
    if (!infos.ok() || infos.value().size() <= index) {
        ADD_FAILURE() << "cannot read " << file;
        return {};
    }
    return infos.value()[index];
}

// Facts for a server whose ssl_cert_file holds `file` (a chain: leaf first).
inline ServerCertFacts facts_for(const std::string &file) {
    ServerCertFacts f;
    f.cert_file = "server.crt";
    f.key_file = "server.key";
    auto infos = certificate_infos(read_cert_file(file));
    EXPECT_TRUE(infos.ok()) << file;
    if (!infos.ok()) return f;
    int position = 0;
    for (const auto &c : infos.value()) add_seen_certificate(f.chain, c, position++, true);
    position = 0;
    for (const auto &c : infos.value()) add_seen_certificate(f.chain, c, position++, false);
    return f;
}

inline CipherFacts cipher(std::string name, int kx, int auth, int enc, int digest) {
    CipherFacts c;
    c.name = std::move(name);
    c.kx_nid = kx;
    c.auth_nid = auth;
    c.cipher_nid = enc;
    c.digest_nid = digest;
    return c;
}

inline std::set<std::string> names_of(const std::vector<CipherFacts> &ciphers) {
    std::set<std::string> out;
    for (const auto &c : ciphers) out.insert(c.name);
    return out;
}

inline std::vector<CipherFacts> enabled(const char *list, const char *min = "", const char *max = "") {
    auto result = enabled_ciphers(list, min, max);
    EXPECT_TRUE(result.ok()) << list << ": " << (result.ok() ? "" : result.error().message);
    return result.ok() ? result.value() : std::vector<CipherFacts>{};
}


inline HbaRule rule(int line, std::string type, std::string address, std::string netmask, std::string method) {
    HbaRule r;
    r.line_number = line;
    r.type = std::move(type);
    r.database = "{all}";
    r.user_name = "{all}";
    r.address = std::move(address);
    r.netmask = std::move(netmask);
    r.auth_method = std::move(method);
    return r;
}

inline AuditFacts clean_facts() {
    AuditFacts f;
    f.now = now();
    f.settings.ssl = true;
    f.settings.listen_addresses = "*";
    f.settings.min_protocol = "TLSv1.2";
    f.settings.ciphers = "HIGH:!aNULL:!eNULL:!kRSA";
    f.settings.password_encryption = "scram-sha-256";
    f.ciphers = Input<std::vector<CipherFacts>>::of(enabled("HIGH:!aNULL:!eNULL:!kRSA", "TLSv1.2", ""));
    PqKeyExchangeFacts pq;
    pq.server_version_num = 180001;
    pq.openssl_version = "OpenSSL 3.5.1";
    pq.openssl_has_hybrid = true;
    pq.offered_groups = {"X25519MLKEM768", "x25519", "secp256r1"};
    pq.setting_value = "X25519MLKEM768:X25519:prime256v1";
    f.pq = Input<PqKeyExchangeFacts>::of(pq);
    ServerCertFacts s = facts_for("server-chain.crt");
    s.key_matches_cert = true;
    s.key_permissions_ok = true;
    s.key_file_mode = "0600";
    s.key_file_owner = "postgres";
    s.chain_complete = true;
    s.reload_pending = false;
    f.server = Input<ServerCertFacts>::of(s);
    f.ca_file = "root.crt";
    f.ca_certificates = Input<std::vector<CertInfo>>::of({cert_from("root.crt")});
    f.hba = Input<std::vector<HbaRule>>::of({rule(1, "hostssl", "all", "", "scram-sha-256")});
    {
        hba::Matrix m;
        hba::Rule r;
        r.order = r.line_number = 1;
        r.type = "hostssl";
        r.databases = {"all"};
        r.roles = {"all"};
        r.address = "all";
        r.auth_method = "scram-sha-256";
        m.rules.push_back(r);
        m.env.roles = {"postgres"};
        f.hba_matrix = Input<hba::Matrix>::of(std::move(m));
    }
    f.md5_roles = Input<std::vector<std::string>>::of({});
    f.sessions = Input<std::vector<SessionFacts>>::of({});
    f.census_save = Input<CensusSaveFacts>::of({"2026-01-01 00:00:00+00", ""});
    f.file_settings = Input<std::vector<FileSetting>>::of({});
    f.outbound = Input<std::vector<OutboundLinkFacts>>::of({});
    f.weak_auth = Input<std::vector<WeakAuthFacts>>::of({});
    f.role_floor = Input<RoleFloorFacts>::of(RoleFloorFacts{"etl=TLSv1.3, *=TLSv1.2", true, {"etl", "postgres"}});
    f.census_completeness = Input<CensusCompleteness>::of(CensusCompleteness{true, ""});
    f.poolers = Input<std::vector<PoolerFacts>>::of({});
    std::vector<PreflightStage> stages;
    for (const auto &name : preflight_stage_names()) stages.push_back(PreflightStage{name, "", true, "", ""});
    f.preflight = Input<std::vector<PreflightStage>>::of(stages);
    LastReload start;
    start.at = f.now;
    start.kind = "start";
    start.ok = true;
    f.last_reload = Input<std::optional<LastReload>>::of(start);
    f.auto_reload = Input<AutoReloadFacts>::of(AutoReloadFacts{"off", "off", "", ""});
    return f;
}

inline std::vector<std::string> checks_in(const std::vector<Finding> &findings) {
    std::vector<std::string> out;
    for (const auto &f : findings)
        if (out.empty() || out.back() != f.check) out.push_back(f.check);
    return out;
}

inline std::vector<PreflightStage> stages_with(const std::string &failing, const std::string &error) {
    std::vector<PreflightStage> stages;
    for (const auto &name : preflight_stage_names()) {
        PreflightStage s{name, name == "certificate" ? "server.crt" : "", true, "", ""};
        if (name == failing) {
            s.ok = false;
            s.error = error;
        }
        stages.push_back(s);
    }
    return stages;
}

}  // namespace tls_audit::test
