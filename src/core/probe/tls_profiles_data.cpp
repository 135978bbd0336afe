// Mozilla's Server Side TLS guidelines 5.7 as a C++ table, checked by hand
// against the published JSON that ships next to this file:
//   src/core/probe/mozilla_tls_profiles_5.7.json, byte-identical to
//   src/static/guidelines/5.7.json of the GitHub repository
//   mozilla/ssl-config-generator (last changed by commit b2a5a068fbfb,
//   "Add TLS_DHE_RSA_WITH_CHACHA20_POLY1305_SHA256 cipher to intermediate
//   configuration"), served as https://ssl-config.mozilla.org/guidelines/5.7.json.
// test/unit/tls_profiles_data_test.cpp reads that JSON and compares every
// field below with it; a new guidelines version is a new JSON file, this
// table edited to match, and kMozillaGuidelinesVersion.
#include "probe/tls_profiles.hpp"

namespace tls_audit {

namespace {

std::vector<std::string> concat(std::vector<std::string> a, const std::vector<std::string> &b) {
    a.insert(a.end(), b.begin(), b.end());
    return a;
}

std::vector<TlsProfile> make_profiles() {
    // Locals, not namespace-scope constants: a namespace-scope vector is built
    // when the library loads (in the postmaster) and destroyed at exit by
    // every backend, which then faults in the pages of its destructor and of
    // operator delete. make_profiles runs only when a profile is asked for.
    // "ciphersuites" of every profile (TLS 1.3).
    const std::vector<std::string> ciphersuites = {"TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384",
                                                    "TLS_CHACHA20_POLY1305_SHA256"};

    // "ciphers.openssl" of intermediate, in the JSON's order.
    const std::vector<std::string> intermediate_ciphers = {
        "ECDHE-ECDSA-AES128-GCM-SHA256", "ECDHE-RSA-AES128-GCM-SHA256",   "ECDHE-ECDSA-AES256-GCM-SHA384",
        "ECDHE-RSA-AES256-GCM-SHA384",   "ECDHE-ECDSA-CHACHA20-POLY1305", "ECDHE-RSA-CHACHA20-POLY1305",
        "DHE-RSA-AES128-GCM-SHA256",     "DHE-RSA-AES256-GCM-SHA384",     "DHE-RSA-CHACHA20-POLY1305"};

    // "ciphers.openssl" of old: intermediate's, then these, in the JSON's order.
    const std::vector<std::string> old_extra_ciphers = {
        "ECDHE-ECDSA-AES128-SHA256", "ECDHE-RSA-AES128-SHA256", "ECDHE-ECDSA-AES128-SHA", "ECDHE-RSA-AES128-SHA",
        "ECDHE-ECDSA-AES256-SHA384", "ECDHE-RSA-AES256-SHA384", "ECDHE-ECDSA-AES256-SHA", "ECDHE-RSA-AES256-SHA",
        "DHE-RSA-AES128-SHA256",     "DHE-RSA-AES256-SHA256",   "AES128-GCM-SHA256",      "AES256-GCM-SHA384",
        "AES128-SHA256",             "AES256-SHA256",           "AES128-SHA",             "AES256-SHA",
        "DES-CBC3-SHA"};

    // "tls_curves" X25519, prime256v1, secp384r1 of every profile.
    const std::vector<std::string> groups = {"x25519", "P-256", "P-384"};
    // "certificate_curves" of every profile (old lists them too, but allows only RSA keys).
    const std::vector<std::string> curves = {"prime256v1", "secp384r1"};
    const std::vector<std::string> ecdsa_sigs = {"ecdsa-with-SHA256", "ecdsa-with-SHA384", "ecdsa-with-SHA512"};

    TlsProfile modern;
    modern.name = "modern";
    modern.protocols = {Protocol::TLSv1_3};
    modern.ciphersuites = ciphersuites;
    modern.ciphers = {};
    modern.groups = groups;
    modern.dh_min_bits = 0;  // null
    modern.cert_key_types = {"EC"};
    modern.cert_curves = curves;
    modern.rsa_min_bits = 0;  // null
    modern.cert_signatures = ecdsa_sigs;
    modern.max_cert_lifespan_days = 90;
    modern.recommended_cert_lifespan_days = 90;
    modern.server_preference = false;

    TlsProfile intermediate;
    intermediate.name = "intermediate";
    intermediate.protocols = {Protocol::TLSv1_2, Protocol::TLSv1_3};
    intermediate.ciphersuites = ciphersuites;
    intermediate.ciphers = intermediate_ciphers;
    intermediate.groups = groups;
    intermediate.dh_min_bits = 2048;
    intermediate.cert_key_types = {"EC", "RSA"};
    intermediate.cert_curves = curves;
    intermediate.rsa_min_bits = 2048;
    intermediate.cert_signatures = concat({"sha256WithRSAEncryption"}, ecdsa_sigs);
    intermediate.max_cert_lifespan_days = 366;
    intermediate.recommended_cert_lifespan_days = 90;
    intermediate.server_preference = false;

    TlsProfile old;
    old.name = "old";
    old.protocols = {Protocol::TLSv1, Protocol::TLSv1_1, Protocol::TLSv1_2, Protocol::TLSv1_3};
    old.ciphersuites = ciphersuites;
    old.ciphers = concat(intermediate_ciphers, old_extra_ciphers);
    old.groups = groups;
    old.dh_min_bits = 1024;
    old.cert_key_types = {"RSA"};
    old.cert_curves = curves;
    old.rsa_min_bits = 2048;
    old.cert_signatures = {"sha256WithRSAEncryption"};
    old.max_cert_lifespan_days = 366;
    old.recommended_cert_lifespan_days = 90;
    old.server_preference = true;
    return {modern, intermediate, old};
}

}  // namespace

const std::vector<TlsProfile> &tls_profiles() {
    static const std::vector<TlsProfile> profiles = make_profiles();
    return profiles;
}

std::string group_from_mozilla(std::string_view tls_curve) {
    if (tls_curve == "X25519") return "x25519";
    if (tls_curve == "X448") return "x448";
    if (tls_curve == "prime256v1") return "P-256";
    if (tls_curve == "secp384r1") return "P-384";
    if (tls_curve == "secp521r1") return "P-521";
    return "";
}

std::string key_type_from_mozilla(std::string_view certificate_type) {
    if (certificate_type == "ecdsa") return "EC";
    if (certificate_type == "rsa") return "RSA";
    return "";
}

}  // namespace tls_audit
