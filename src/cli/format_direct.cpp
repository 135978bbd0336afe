// The direct TLS answer of a target (--direct-tls), shared by the formats.
#include "format.hpp"

namespace tls_audit::cli {

DirectTlsVerdict direct_tls_verdict(const TargetResult &r) {
    if (!r.report || !r.report->direct_tls) return DirectTlsVerdict::NotProbed;
    if (!r.report->direct_tls->ok()) return DirectTlsVerdict::Unknown;
    return r.report->direct_tls->value().accepted ? DirectTlsVerdict::Accepted : DirectTlsVerdict::Refused;
}

std::string direct_tls_text(const TargetResult &r) {
    switch (direct_tls_verdict(r)) {
    case DirectTlsVerdict::NotProbed: return {};
    case DirectTlsVerdict::Unknown: return "unknown: " + r.report->direct_tls->error().message;
    case DirectTlsVerdict::Accepted: {
        const DirectTlsReport &d = r.report->direct_tls->value();
        return "accepted  " + d.protocol + ", " + d.cipher + ", ALPN " + d.alpn;
    }
    case DirectTlsVerdict::Refused: return "refused   " + r.report->direct_tls->value().error;
    }
    return {};
}

}  // namespace tls_audit::cli
