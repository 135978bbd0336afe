// Remote TLS probe of a PostgreSQL server: TCP connect, SSLRequest, TLS
// handshake; the presented chain and its verification; which protocol
// versions the server accepts. Pure C++ over OpenSSL and sockets.
//
// Every function takes an optional CancelCheck, called only on the calling
// thread at least every 100 ms while waiting; when it returns true the probe
// stops and returns an Error with SQLSTATE 57014. Probes of one target run on
// helper threads that have all signals blocked and never call the CancelCheck.
#pragma once

#include "base/pure_cpp.hpp"

#include <optional>
#include <string>
#include <vector>

#include "base/error.hpp"
#include "probe/probe_io.hpp"
#include "base/protocol.hpp"
#include "certs/x509.hpp"

TLS_AUDIT_AREA(probe);

namespace tls_audit {

struct ProbeTarget {
    std::string host;       // DNS name, IPv4 or IPv6 literal (no brackets)
    int port = 5432;
    std::string sni;        // name to send and to match; empty: the host when it is a name
    int timeout_ms = 5000;  // budget of each connection: connect + SSLRequest + handshake
    std::string ca_file;    // PEM CA bundle to verify against; empty: the system store
};

// Limits validate_target enforces.
inline constexpr int kMaxProbeTimeoutMs = 3600 * 1000;
inline constexpr std::size_t kMaxHostLength = 255;

// One handshake with the server's preferred parameters (TLSv1 to TLSv1.3 offered,
// all ciphers at security level 0, no verification during the handshake).
struct ChainReport {
    std::string protocol;            // "TLSv1.3"
    std::string cipher;              // OpenSSL name
    std::string key_exchange_group;  // "x25519", ...; empty when unknown
    std::vector<CertInfo> certificates;  // as presented; [0] is the leaf
    std::vector<std::string> presented_der;  // the same certificates' DER (for trust_paths.hpp)
    std::string server_name;         // name sent as SNI / matched; may be an IP literal
    bool verified = false;           // chain verifies to a trusted CA for TLS server use
    std::string verify_error;        // X509_verify_cert_error_string, empty when verified
    bool hostname_match = false;     // leaf matches server_name (X509_check_host / _ip_asc)
};

// One attempt with min = max = `protocol`.
struct ProtocolReport {
    Protocol protocol = Protocol::TLSv1;
    bool accepted = false;
    std::string cipher;  // when accepted
    std::string error;   // why not, when not accepted ("TLS handshake failed: ...")
};

// One direct TLS attempt (probe_direct.hpp): the handshake starts at once,
// without SSLRequest, offering ALPN "postgresql", as libpq 17's
// sslnegotiation=direct does. PostgreSQL 17+ accepts it; older servers read
// the ClientHello as a startup packet and close the connection.
struct DirectTlsReport {
    bool accepted = false;  // handshake completed and the server selected ALPN "postgresql"
    std::string protocol;   // negotiated version when the handshake completed ("TLSv1.3")
    std::string cipher;     // then: the cipher
    std::string alpn;       // the ALPN protocol the server selected; empty: none
    std::string error;      // why not accepted
};

struct TargetReport {
    std::optional<ChainReport> chain;  // nullopt when the server refused every handshake
    std::string chain_error;           // then: why
    std::vector<ProtocolReport> protocols;
    // Only from probe_target_with_direct_tls (probe_direct.hpp): the direct
    // TLS answer, or the Error that left it unknown. nullopt: not probed.
    std::optional<Expected<DirectTlsReport>> direct_tls;
};

// The versions probed, oldest first.
inline constexpr Protocol kProbedProtocols[] = {Protocol::TLSv1, Protocol::TLSv1_1, Protocol::TLSv1_2,
                                                Protocol::TLSv1_3};

// 22023 for an empty or oversized host, a port outside 1..65535, a timeout
// outside 1..kMaxProbeTimeoutMs, or NUL bytes.
std::optional<Error> validate_target(const ProbeTarget &target);

// The name sent as SNI and matched against the leaf: target.sni, else the host.
std::string server_name(const ProbeTarget &target);

// The chain and its verification. A refused handshake is an Error (08006), as
// are connection failures (08001/08006), timeouts, bad arguments (22023) and
// cancel (57014).
Expected<ChainReport> probe_chain(const ProbeTarget &target, const CancelCheck &cancel = {});

// One connection per version in kProbedProtocols, in parallel. A version the
// server refuses is a report with accepted = false and the reason; anything
// that makes the answer unknown (cannot connect, no SSL, timeout, cancel)
// fails the whole call with that Error (the oldest version's, cancel first).
Expected<std::vector<ProtocolReport>> probe_protocols(const ProbeTarget &target,
                                                      const CancelCheck &cancel = {});

// Both of the above, five connections in parallel. A refused chain handshake
// is recorded in chain_error rather than failing the call.
Expected<TargetReport> probe_target(const ProbeTarget &target, const CancelCheck &cancel = {});

// The same steps over an already connected socket (not closed here), for
// tests and fuzzing: SSLRequest, handshake, report. `fd` is made non-blocking.
Expected<ChainReport> probe_chain_on_fd(int fd, const ProbeTarget &target, const CancelCheck &cancel = {});
Expected<ProtocolReport> probe_protocol_on_fd(int fd, const ProbeTarget &target, Protocol protocol,
                                              const CancelCheck &cancel = {});

}  // namespace tls_audit
