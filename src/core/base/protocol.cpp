#include "base/protocol.hpp"

#include <openssl/ssl.h>
#include <strings.h>

#include "base/hot_path.hpp"

namespace tls_audit {

namespace {
// Every TLS connection reads these names (parse_protocol, the census key):
// kept with the connection path's code (TLS_AUDIT_HOT_RODATA) instead of in
// a page of string constants that each new backend would fault in.
struct ProtocolNames {
    char sslv3[6], tlsv1[6], tlsv1_1[8], tlsv1_2[8], tlsv1_3[8];
};
TLS_AUDIT_HOT_RODATA const ProtocolNames kProtocolNames = {"SSLv3", "TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3"};

struct ProtocolRow {
    Protocol protocol;
    const char *name;
    int openssl_version;
};
const ProtocolRow kProtocols[] = {
    {Protocol::SSLv3, kProtocolNames.sslv3, SSL3_VERSION},
    {Protocol::TLSv1, kProtocolNames.tlsv1, TLS1_VERSION},
    {Protocol::TLSv1_1, kProtocolNames.tlsv1_1, TLS1_1_VERSION},
    {Protocol::TLSv1_2, kProtocolNames.tlsv1_2, TLS1_2_VERSION},
    {Protocol::TLSv1_3, kProtocolNames.tlsv1_3, TLS1_3_VERSION},
};
}  // namespace

TLS_AUDIT_HOT const char *protocol_name(Protocol p) {
    for (const auto &row : kProtocols)
        if (row.protocol == p) return row.name;
    return "unknown";
}

TLS_AUDIT_HOT std::optional<Protocol> parse_protocol(std::string_view name) {
    for (const auto &row : kProtocols) {
        std::string_view candidate(row.name);
        if (candidate.size() == name.size() &&
            strncasecmp(candidate.data(), name.data(), name.size()) == 0)
            return row.protocol;
    }
    return std::nullopt;
}

std::optional<Protocol> protocol_from_openssl(int version) {
    for (const auto &row : kProtocols)
        if (row.openssl_version == version) return row.protocol;
    return std::nullopt;
}

int protocol_to_openssl(Protocol p) {
    for (const auto &row : kProtocols)
        if (row.protocol == p) return row.openssl_version;
    return 0;
}

const char *valid_floor_names() { return "TLSv1, TLSv1.1, TLSv1.2, TLSv1.3"; }

namespace {
// Every connection reads the name it gets (the census copies it into its
// key, the role floor compares it): kept with the connection path's code
// (TLS_AUDIT_HOT_RODATA) instead of in a page of string constants that a
// new backend would fault in for these few bytes.
struct TransportNames {
    char unix_socket[5], tls[4], gss[4], tcp[4];
};
TLS_AUDIT_HOT_RODATA const TransportNames kTransportNames = {"unix", "tls", "gss", "tcp"};
}  // namespace

TLS_AUDIT_HOT const char *transport_name(const TransportFacts &facts) noexcept {
    if (facts.unix_socket) return kTransportNames.unix_socket;
    if (facts.tls) return kTransportNames.tls;
    if (facts.gss_encrypted) return kTransportNames.gss;
    if (facts.inet) return kTransportNames.tcp;
    return nullptr;
}

std::optional<std::string> below_floor_reason(std::string_view transport, std::string_view protocol,
                                              Protocol floor) {
    if (transport == "unix") return std::nullopt;
    if (transport != "tls") return std::string("no TLS");
    auto negotiated = parse_protocol(protocol);
    if (!negotiated) return "unknown protocol " + std::string(protocol);
    if (*negotiated >= floor) return std::nullopt;
    return std::string(protocol_name(*negotiated)) + " < " + protocol_name(floor);
}

}  // namespace tls_audit
