// Mozilla's Server Side TLS recommendations (guidelines version 5.7,
// https://ssl-config.mozilla.org/guidelines/5.7.json and
// https://wiki.mozilla.org/Security/Server_Side_TLS) as data, and the
// comparison of an enumerated server with one of them: pg_tls_check --profile
// and tls_audit.profile_compliance().
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

struct TlsProfile {
    const char *name;                         // "modern", "intermediate", "old"
    std::vector<Protocol> protocols;          // allowed versions
    std::vector<std::string> suites;          // allowed suites, OpenSSL names (TLS 1.3 by IANA name)
    std::vector<std::string> groups;          // allowed key-exchange groups (kProbedGroups names)
    int dh_min_bits = 0;                      // 0: DHE not allowed at all
    std::vector<std::string> cert_key_types;  // "EC", "RSA" (CertInfo::key_type)
    std::vector<std::string> cert_curves;     // allowed EC curves of the leaf key (CertInfo::key_curve)
    int rsa_min_bits = 2048;
    std::vector<std::string> cert_signatures;  // allowed leaf signature algorithms
    int max_cert_lifespan_days = 366;
    int recommended_cert_lifespan_days = 90;
    bool server_preference = false;  // true: the server should choose ("old")
};

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
