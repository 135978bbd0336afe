// Enumeration of what a PostgreSQL server accepts over STARTTLS, the way
// sslyze and testssl.sh do it efficiently: per protocol version up to TLS 1.2,
// offer every candidate suite, remove the one the server picked, repeat until
// it refuses; TLS 1.3 suites one at a time; whether the server enforces its own
// order; which key-exchange groups it supports and how big its DHE group is.
//
// Candidates are the suites the local OpenSSL can offer at security level 0
// (candidate_suites()); PSK and SRP suites need credentials and are never
// offered (untestable_suites()). Every connection gets the target's
// timeout_ms; the number of connections is bounded by the candidates.
#pragma once

#include "base/pure_cpp.hpp"

#include <optional>
#include <string>
#include <vector>

#include "base/error.hpp"
#include "probe/probe.hpp"
#include "probe/probe_io.hpp"
#include "base/protocol.hpp"
#include "checks/checks.hpp"

TLS_AUDIT_AREA(probe);

namespace tls_audit {

// One accepted suite with what the rows show about it.
struct AcceptedSuite {
    CipherFacts facts;
    std::string key_exchange;    // "ECDHE", "DHE", "RSA", "any" (TLS 1.3), ...
    std::string authentication;  // "RSA", "ECDSA", "any" (TLS 1.3), "none" (anonymous), ...
    std::string encryption;      // "AES-128-GCM", "ChaCha20-Poly1305", "none", ...
    CipherStrength strength = CipherStrength::Strong;
};

struct ProtocolSuites {
    Protocol protocol = Protocol::TLSv1_2;
    // In the order the server picked them: its own preference order when
    // server_preference is true, else the order of the probe's offer.
    std::vector<AcceptedSuite> suites;
    // nullopt when fewer than two suites are accepted (nothing to order).
    std::optional<bool> server_preference;
    std::string refusal;  // why the first handshake failed, when no suite is accepted
};

struct CipherEnumeration {
    std::vector<ProtocolSuites> protocols;  // kProbedProtocols order
};

// Every version in kProbedProtocols; protocols run in parallel, each
// version's offer/remove loop is sequential, TLS 1.3 suites run in parallel.
// Errors as probe_protocols(): anything that leaves the answer unknown
// (connect failure, no SSL, timeout, cancel) fails the call.
Expected<CipherEnumeration> enumerate_ciphers(const ProbeTarget &target, const CancelCheck &cancel = {});

// The suites offered for `p` (OpenSSL names), in the order offered.
std::vector<std::string> candidate_suites(Protocol p);
// Suites the local OpenSSL knows but the probe cannot offer (PSK, SRP).
std::vector<std::string> untestable_suites();

// Describe one suite by OpenSSL name (nullopt when unknown to this OpenSSL).
std::optional<AcceptedSuite> describe_suite(const std::string &openssl_name);

// Key-exchange groups, in this order.
inline constexpr const char *kProbedGroups[] = {"x25519",    "x448",      "P-256",     "P-384",    "P-521",
                                                "ffdhe2048", "ffdhe3072", "ffdhe4096", "ffdhe6144", "ffdhe8192"};
bool is_ffdhe_group(const std::string &group);

struct GroupSupport {
    Protocol protocol = Protocol::TLSv1_3;  // TLSv1.3 (key share) or TLSv1.2 (ECDHE suites)
    std::string group;                      // one of kProbedGroups
    bool supported = false;
};

struct GroupEnumeration {
    // TLS 1.3 rows (every group) when the server accepts TLS 1.3; TLS 1.2
    // rows (elliptic curves only: OpenSSL servers pick the DHE group
    // themselves in TLS 1.2) when it accepts an ECDHE suite in TLS 1.2.
    std::vector<GroupSupport> groups;
    // DHE suites up to TLS 1.2: whether one is accepted and the size in bits
    // of the server's DH group (0 when none).
    bool dhe_accepted = false;
    int dhe_bits = 0;
};

Expected<GroupEnumeration> enumerate_groups(const ProbeTarget &target, const CancelCheck &cancel = {});

// Both, for pg_tls_check --enumerate: run one after the other.
struct Enumeration {
    CipherEnumeration ciphers;
    GroupEnumeration groups;
};
Expected<Enumeration> enumerate_target(const ProbeTarget &target, const CancelCheck &cancel = {});

}  // namespace tls_audit
