// The server's outbound links (tls_audit.outbound_connections), gathered for
// the view and for run_checks().
#pragma once

#include <vector>

#include "checks/checks.hpp"

namespace tls_audit::pg {

// One link with what the view shows beyond the core's assessment.
struct OutboundRow {
    OutboundLinkFacts facts;
    std::string live_tls;  // empty: NULL
};

// Every outbound link the caller may see, read with the caller's privileges
// (SPI must be connected; each catalog query runs in its own subtransaction,
// a query that fails gives a link with an error instead of failing the call).
// With `read_root_certs`, the root certificate file of each link that
// verifies the server is read (run_checks()); the view does not read files.
std::vector<OutboundRow> gather_outbound(bool read_root_certs);

// A connection string parsed by the server's libpq (PQconninfoParse): every
// keyword, unset ones without a value; or 22023 with libpq's message, its
// echoed fragments redacted (they may hold a password).
Expected<ConnOptions> parse_conninfo(const std::string &conninfo);

}  // namespace tls_audit::pg
