#include "probe/tls_profiles.hpp"

#include <algorithm>

namespace tls_audit {

namespace {

template <typename T>
bool contains(const std::vector<T> &v, const T &x) {
    return std::find(v.begin(), v.end(), x) != v.end();
}

std::string join(const std::vector<std::string> &v) {
    std::string out;
    for (const auto &s : v) out += (out.empty() ? "" : ", ") + s;
    return out;
}

}  // namespace

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
        // TLS 1.3 suites are the profile's "ciphersuites", older ones its "ciphers".
        const auto &allowed = p.protocol == Protocol::TLSv1_3 ? profile.ciphersuites : profile.ciphers;
        for (const auto &s : p.suites)
            if (!contains(allowed, s.facts.name)) outside.push_back(s.facts.name);
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
        // The lifespan is a limit in days: a certificate valid one second
        // longer than 90 days is over a 90-day limit, and says 91 days.
        const std::int64_t seconds = c.not_after - c.not_before;
        const std::int64_t days = seconds <= 0 ? 0 : (seconds + 86399) / 86400;
        auto over = [&](int limit_days) { return seconds > static_cast<std::int64_t>(limit_days) * 86400; };
        if (over(profile.max_cert_lifespan_days))
            add("certificate_lifetime", std::to_string(days), true,
                "server certificate is valid for " + std::to_string(days) + " days, more than the " +
                    std::to_string(profile.max_cert_lifespan_days) + " days the profile allows" + where);
        else if (over(profile.recommended_cert_lifespan_days))
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
