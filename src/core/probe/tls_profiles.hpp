// Mozilla's Server Side TLS recommendations (guidelines version 5.7) as data,
// and the comparison of an enumerated server with one of them: pg_tls_check
// --profile and tls_audit.profile_compliance(). The published JSON ships next
// to this file (mozilla_tls_profiles_5.7.json, byte for byte); the table in
// tls_profiles_data.cpp says the same in C++, and a unit test reads the JSON
// and compares every field the table encodes, so the two cannot drift.
#pragma once

#include "base/pure_cpp.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/error.hpp"
#include "probe/probe.hpp"
#include "probe/probe_enumerate.hpp"
#include "base/protocol.hpp"
#include "certs/x509.hpp"

TLS_AUDIT_AREA(probe);

namespace tls_audit {

inline constexpr const char *kMozillaGuidelinesVersion = "5.7";

// One profile; each field is named after the JSON key it encodes.
struct TlsProfile {
    const char *name = "";                    // "modern", "intermediate", "old"
    std::vector<Protocol> protocols;          // tls_versions
    std::vector<std::string> ciphersuites;    // ciphersuites: TLS 1.3 suites (IANA names, as OpenSSL names them)
    std::vector<std::string> ciphers;         // ciphers.openssl: TLS 1.2 and older suites (OpenSSL names)
    std::vector<std::string> groups;          // tls_curves, as kProbedGroups names them (x25519, P-256, ...)
    int dh_min_bits = 0;                      // dh_param_size; 0 (null): DHE not allowed at all
    std::vector<std::string> cert_key_types;  // certificate_types, as CertInfo::key_type names them (EC, RSA)
    std::vector<std::string> cert_curves;     // certificate_curves: EC curves of the leaf key
    int rsa_min_bits = 0;                     // rsa_key_size; 0 (null): no RSA certificate
    std::vector<std::string> cert_signatures;  // certificate_signatures: the leaf's signature algorithm
    int max_cert_lifespan_days = 0;            // maximum_certificate_lifespan
    int recommended_cert_lifespan_days = 0;    // recommended_certificate_lifespan
    bool server_preference = false;            // server_preferred_order: true, the server should choose
};

// The names Mozilla's JSON uses, in the names the probe and the certificate
// reader use; empty for a name this code does not know.
std::string group_from_mozilla(std::string_view tls_curve);        // "X25519" -> "x25519", "prime256v1" -> "P-256"
std::string key_type_from_mozilla(std::string_view certificate_type);  // "ecdsa" -> "EC", "rsa" -> "RSA"

// The three profiles, in the order modern, intermediate, old.
const std::vector<TlsProfile> &tls_profiles();
// nullopt for an unknown name.
const TlsProfile *find_profile(std::string_view name);
// 22023 with the valid names for an unknown one.
Error unknown_profile_error(std::string_view name);

struct Deviation {
    std::string category;  // protocol, cipher, group, dhe, certificate_key, certificate_signature,
                           // certificate_lifetime, preference
    std::string subject;   // what deviates: "TLSv1.1", "AES128-SHA", "x448", ...
    bool required = true;  // false: a recommendation of the profile, not a requirement
    std::string message;
};

struct ProfileReport {
    std::string profile;
    std::vector<Deviation> deviations;
    bool compliant = true;  // no required deviation
};

// `leaf` may be null (the chain could not be read): certificate rules are
// then one deviation saying so.
ProfileReport evaluate_profile(const TlsProfile &profile, const Enumeration &e, const CertInfo *leaf);

// Probe, enumerate and evaluate in one call (tls_audit.profile_compliance()).
Expected<ProfileReport> profile_compliance(const ProbeTarget &target, const TlsProfile &profile,
                                           const CancelCheck &cancel = {});

}  // namespace tls_audit
