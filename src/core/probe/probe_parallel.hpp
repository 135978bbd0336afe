// Building blocks of the probe shared by src/core/probe/probe.cpp and
// src/core/probe/probe_enumerate.cpp: one STARTTLS handshake with a given client
// context, and running connections in parallel with one cancel check.
// Internal to src/core/probe*.
#pragma once

#include "base/pure_cpp.hpp"

#include <functional>
#include <string>
#include <vector>

#include <openssl/ssl.h>

#include "base/error.hpp"
#include "base/openssl_ptr.hpp"
#include "probe/probe.hpp"
#include "probe/probe_io.hpp"

TLS_AUDIT_AREA(probe);

namespace tls_audit {

struct Handshake {
    SslPtr ssl;          // null when the server refused the handshake
    std::string refusal; // then: why
};

// Errors that leave the answer unknown (cancel, timeout), as opposed to the
// server refusing TLS.
bool is_inconclusive(const Error &e);

// A fresh context for one connection to `t`: its budget is t.timeout_ms.
ProbeContext context_for(const ProbeTarget &t, const CancelCheck &cancel);

// SSLRequest then the handshake over fd. Errors are those that leave the
// answer unknown; a refused handshake is a Handshake without ssl.
Expected<Handshake> starttls(int fd, SSL_CTX *ssl_ctx, const std::string &sni, const ProbeContext &pctx);

// Run tasks on quiet threads; the calling thread alone asks `cancel` and
// passes the answer on through a flag the tasks poll. Returns whether the
// caller canceled. All threads are joined before returning. Throws
// std::system_error when no thread can be started.
bool run_parallel(const std::vector<std::function<void(const CancelCheck &)>> &tasks, const CancelCheck &cancel);

}  // namespace tls_audit
