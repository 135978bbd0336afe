// The server's own probe connections, not counted by the census: a backend
// probing this server (tls_audit.probe* functions, run_checks()) registers
// each probe connection to the server's port (probe_io's connect hook, any
// thread); the census skips a connection from this host whose (client port,
// server port) was registered, and counts it in
// census_info().self_probes_skipped.
#include <arpa/inet.h>
#include <sys/socket.h>

#include <cstring>
#include <ctime>

#include "base/hot_path.hpp"
#include "census_internal.hpp"

#include "postgres.hpp"

namespace tls_audit::pg::census_glue {

namespace {

std::uint32_t now_seconds() { return static_cast<std::uint32_t>(time(nullptr)); }

// The port of an IPv4/IPv6 address; -1 for anything else.
int inet_port(const sockaddr *a) {
    if (a->sa_family == AF_INET) return ntohs(reinterpret_cast<const sockaddr_in *>(a)->sin_port);
    if (a->sa_family == AF_INET6) return ntohs(reinterpret_cast<const sockaddr_in6 *>(a)->sin6_port);
    return -1;
}

// Same family and IP address (ports aside).
bool same_ip(const sockaddr *a, const sockaddr *b) {
    if (a->sa_family != b->sa_family) return false;
    if (a->sa_family == AF_INET)
        return memcmp(&reinterpret_cast<const sockaddr_in *>(a)->sin_addr,
                      &reinterpret_cast<const sockaddr_in *>(b)->sin_addr, sizeof(in_addr)) == 0;
    if (a->sa_family == AF_INET6)
        return memcmp(&reinterpret_cast<const sockaddr_in6 *>(a)->sin6_addr,
                      &reinterpret_cast<const sockaddr_in6 *>(b)->sin6_addr, sizeof(in6_addr)) == 0;
    return false;
}

}  // namespace

// probe_io's connect hook (any thread of a probing backend; no PostgreSQL
// call). Only connections to this server's port from an address of this
// host to itself can be this server's: the others are not registered.
void mark_self_probe(int fd, const sockaddr *peer, socklen_t) noexcept {
    if (shared == nullptr || peer == nullptr) return;
    const int server_port = inet_port(peer);
    if (server_port != PostPortNumber) return;
    sockaddr_storage local;
    socklen_t len = sizeof local;
    if (getsockname(fd, reinterpret_cast<sockaddr *>(&local), &len) != 0) return;
    const sockaddr *l = reinterpret_cast<const sockaddr *>(&local);
    if (!same_ip(l, peer)) return;
    const int client_port = inet_port(l);
    if (client_port <= 0) return;
    shared->self_probes.add(static_cast<std::uint16_t>(client_port), static_cast<std::uint16_t>(server_port),
                            now_seconds());
}

// Whether `port` is one of this server's own probe connections (consumed:
// true once per connection).
TLS_AUDIT_HOT bool own_probe(const Port *port) {
    if (port == nullptr) return false;
    const sockaddr *remote = reinterpret_cast<const sockaddr *>(&port->raddr.addr);
    const sockaddr *local = reinterpret_cast<const sockaddr *>(&port->laddr.addr);
    if (!same_ip(remote, local)) return false;
    const int client_port = inet_port(remote), server_port = inet_port(local);
    if (client_port <= 0 || server_port <= 0) return false;
    return shared->self_probes.consume(static_cast<std::uint16_t>(client_port),
                                       static_cast<std::uint16_t>(server_port), now_seconds());
}

}  // namespace tls_audit::pg::census_glue
