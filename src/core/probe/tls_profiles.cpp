#include "probe/tls_profiles.hpp"

#include <algorithm>

namespace tls_audit {

namespace {

const std::vector<std::string> kSuites13 = {"TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384",
                                            "TLS_CHACHA20_POLY1305_SHA256"};

// Mozilla 5.7 intermediate, TLS 1.2 part (OpenSSL names).
const std::vector<std::string> kIntermediate12 = {
    "ECDHE-ECDSA-AES128-GCM-SHA256", "ECDHE-RSA-AES128-GCM-SHA256",   "ECDHE-ECDSA-AES256-GCM-SHA384",
    "ECDHE-RSA-AES256-GCM-SHA384",   "ECDHE-ECDSA-CHACHA20-POLY1305", "ECDHE-RSA-CHACHA20-POLY1305",
    "DHE-RSA-AES128-GCM-SHA256",     "DHE-RSA-AES256-GCM-SHA384",     "DHE-RSA-CHACHA20-POLY1305"};

// Mozilla 5.7 old: intermediate plus these.
const std::vector<std::string> kOldExtra12 = {
    "ECDHE-ECDSA-AES128-SHA256", "ECDHE-RSA-AES128-SHA256", "ECDHE-ECDSA-AES128-SHA", "ECDHE-RSA-AES128-SHA",
    "ECDHE-ECDSA-AES256-SHA384", "ECDHE-RSA-AES256-SHA384", "ECDHE-ECDSA-AES256-SHA", "ECDHE-RSA-AES256-SHA",
    "DHE-RSA-AES128-SHA256",     "DHE-RSA-AES256-SHA256",   "AES128-GCM-SHA256",      "AES256-GCM-SHA384",
    "AES128-SHA256",             "AES256-SHA256",           "AES128-SHA",             "AES256-SHA",
    "DES-CBC3-SHA"};

std::vector<std::string> concat(std::vector<std::string> a, const std::vector<std::string> &b) {
    a.insert(a.end(), b.begin(), b.end());
    return a;
}

template <typename T>
bool contains(const std::vector<T> &v, const T &x) {
    return std::find(v.begin(), v.end(), x) != v.end();
}

std::string join(const std::vector<std::string> &v) {
    std::string out;
    for (const auto &s : v) out += (out.empty() ? "" : ", ") + s;
    return out;
}

std::vector<TlsProfile> make_profiles() {
    const std::vector<std::string> groups = {"x25519", "P-256", "P-384"};
    const std::vector<std::string> curves = {"prime256v1", "secp384r1"};
    const std::vector<std::string> ecdsa_sigs = {"ecdsa-with-SHA256", "ecdsa-with-SHA384", "ecdsa-with-SHA512"};
    TlsProfile modern{"modern", {Protocol::TLSv1_3}, kSuites13, groups, 0, {"EC"}, curves, 2048, ecdsa_sigs};
    TlsProfile intermediate{"intermediate",
                            {Protocol::TLSv1_2, Protocol::TLSv1_3},
                            concat(kSuites13, kIntermediate12),
                            groups,
                            2048,
                            {"EC", "RSA"},
                            curves,
                            2048,
                            concat({"sha256WithRSAEncryption"}, ecdsa_sigs)};
    TlsProfile old{"old",
                   {Protocol::TLSv1, Protocol::TLSv1_1, Protocol::TLSv1_2, Protocol::TLSv1_3},
                   concat(concat(kSuites13, kIntermediate12), kOldExtra12),
                   groups,
                   1024,
                   {"EC", "RSA"},
                   curves,
                   2048,
                   concat({"sha256WithRSAEncryption"}, ecdsa_sigs)};
    old.server_preference = true;
    return {modern, intermediate, old};
}

}  // namespace

const std::vector<TlsProfile> &tls_profiles() {
    static const std::vector<TlsProfile> profiles = make_profiles();
    return profiles;
}

const TlsProfile *find_profile(std::string_view name) {
    for (const auto &p : tls_profiles())
        if (name == p.name) return &p;
    return nullptr;
}

Error unknown_profile_error(std::string_view name) {
    return make_error(sqlstate::kInvalidParameter, "unknown TLS profile \"" + std::string(name) + "\"",
                      "Use modern, intermediate or old (Mozilla Server Side TLS " +
                          std::string(kMozillaGuidelinesVersion) + ").");
}

ProfileReport evaluate_profile(const TlsProfile &profile, const Enumeration &e, const CertInfo *leaf) {
    ProfileReport r;
    r.profile = profile.name;
    auto add = [&](std::string category, std::string subject, bool required, std::string message) {
        r.deviations.push_back({std::move(category), std::move(subject), required, std::move(message)});
    };
    const std::string where = std::string(" (Mozilla ") + profile.name + " " + kMozillaGuidelinesVersion + ")";
    for (const auto &p : e.ciphers.protocols) {
        if (p.suites.empty()) continue;
        const std::string version = protocol_name(p.protocol);
        if (!contains(profile.protocols, p.protocol))
            add("protocol", version, true, "accepts " + version + ", which the profile does not allow" + where);
        std::vector<std::string> outside;
        for (const auto &s : p.suites)
            if (!contains(profile.suites, s.facts.name)) outside.push_back(s.facts.name);
        for (const auto &s : outside)
            add("cipher", s, true, version + " accepts " + s + ", which is outside the profile" + where);
        if (p.server_preference && *p.server_preference != profile.server_preference)
            add("preference", version, false,
                version + (*p.server_preference ? " enforces the server's order; the profile lets the client choose"
                                                : " lets the client choose; the profile has the server choose") +
                    where);
    }
    for (const auto &g : e.groups.groups)
        if (g.supported && !contains(profile.groups, g.group))
            add("group", g.group, true,
                std::string(protocol_name(g.protocol)) + " supports group " + g.group +
                    ", which is outside the profile (" + join(profile.groups) + ")" + where);
    if (e.groups.dhe_accepted) {
        if (profile.dh_min_bits == 0)
            add("dhe", "DHE", true, "accepts DHE key exchange, which the profile does not use" + where);
        else if (e.groups.dhe_bits < profile.dh_min_bits)
            add("dhe", std::to_string(e.groups.dhe_bits), true,
                "DHE group has " + std::to_string(e.groups.dhe_bits) + " bits, fewer than " +
                    std::to_string(profile.dh_min_bits) + where);
    }
    if (leaf == nullptr) {
        add("certificate_key", "", true, "the server certificate could not be read" + where);
    } else {
        const CertInfo &c = *leaf;
        if (!contains(profile.cert_key_types, c.key_type))
            add("certificate_key", c.key_type, true,
                "server certificate key is " + c.key_type + "; the profile allows " + join(profile.cert_key_types) +
                    where);
        else if (c.key_type == "RSA" && c.key_bits < profile.rsa_min_bits)
            add("certificate_key", "RSA " + std::to_string(c.key_bits), true,
                "server certificate has an RSA key of " + std::to_string(c.key_bits) + " bits, fewer than " +
                    std::to_string(profile.rsa_min_bits) + where);
        else if (c.key_type == "EC" && !contains(profile.cert_curves, c.key_curve))
            add("certificate_key", c.key_curve, true,
                "server certificate key is on curve " + c.key_curve + "; the profile allows " +
                    join(profile.cert_curves) + where);
        if (!contains(profile.cert_signatures, c.signature_algorithm))
            add("certificate_signature", c.signature_algorithm, true,
                "server certificate is signed with " + c.signature_algorithm + "; the profile allows " +
                    join(profile.cert_signatures) + where);
        const std::int64_t days = (c.not_after - c.not_before) / 86400;
        if (days > profile.max_cert_lifespan_days)
            add("certificate_lifetime", std::to_string(days), true,
                "server certificate is valid for " + std::to_string(days) + " days, more than " +
                    std::to_string(profile.max_cert_lifespan_days) + where);
        else if (days > profile.recommended_cert_lifespan_days)
            add("certificate_lifetime", std::to_string(days), false,
                "server certificate is valid for " + std::to_string(days) + " days; the profile recommends " +
                    std::to_string(profile.recommended_cert_lifespan_days) + where);
    }
    r.compliant = std::none_of(r.deviations.begin(), r.deviations.end(), [](const Deviation &d) { return d.required; });
    return r;
}

Expected<ProfileReport> profile_compliance(const ProbeTarget &target, const TlsProfile &profile,
                                           const CancelCheck &cancel) {
    if (auto err = validate_target(target)) return *err;
    auto e = enumerate_target(target, cancel);
    if (!e) return e.error();
    auto chain = probe_chain(target, cancel);
    if (!chain) {
        if (chain.error().sqlstate == sqlstate::kQueryCanceled) return chain.error();
        return evaluate_profile(profile, e.value(), nullptr);
    }
    const CertInfo *leaf = chain.value().certificates.empty() ? nullptr : &chain.value().certificates[0];
    return evaluate_profile(profile, e.value(), leaf);
}

}  // namespace tls_audit
