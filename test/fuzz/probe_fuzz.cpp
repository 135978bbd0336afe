// libFuzzer target: the probe's handling of whatever a "server" answers.
//
// Input: one mode byte, then the bytes the server sends, all of them queued on
// the server end of a socketpair before the probe starts and followed by
// end-of-stream: first the answer to SSLRequest ('S', 'N', 'E' + an
// ErrorResponse, anything), then the TLS records of the handshake. The probe
// side is the real code path (probe_chain_on_fd / probe_protocol_on_fd):
// SSLRequest, the answer byte, the handshake through memory BIOs, then the
// description and verification of the presented chain.
//
// Mode byte % 8: 0-3 the chain probe (SNI "localhost", verified against
// $TLS_AUDIT_FUZZ_CA or the system store), 4-7 the single-version probe for
// TLSv1, TLSv1.1, TLSv1.2, TLSv1.3.
//
// OpenSSL's randomness is replaced by a fixed stream, restarted for every
// input, so the probe sends the same ClientHello (random, key share, premaster
// secret) each time. A server's side of a handshake recorded once against
// that ClientHello therefore completes the handshake again when replayed, and
// the fuzzer mutates from complete handshakes instead of stopping at the first
// Finished message. make-seeds.sh records such handshakes with this binary in
// capture mode:
//   TLS_AUDIT_PROBE_CAPTURE=/path/to/unix.sock TLS_AUDIT_PROBE_CAPTURE_MODE=N probe_fuzz
// connects to that socket (a relay in front of openssl s_server that answers
// SSLRequest), runs the probe once in mode N and exits.
#define OPENSSL_SUPPRESS_DEPRECATED  // RAND_set_rand_method: the only way to fix the RNG in 3.0

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <csignal>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include <openssl/rand.h>

#include "probe/probe.hpp"

using namespace tls_audit;

namespace {

void require(bool condition) {
    if (!condition) std::abort();
}

// --- deterministic randomness (splitmix64) ---
std::uint64_t g_rng_state = 0;

void rng_restart() { g_rng_state = 0x5eed5eed5eed5eedULL; }

int rng_bytes(unsigned char *buf, int num) {
    for (int i = 0; i < num; i += 8) {
        std::uint64_t z = (g_rng_state += 0x9e3779b97f4a7c15ULL);
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
        z ^= z >> 31;
        for (int j = 0; j < 8 && i + j < num; ++j) buf[i + j] = static_cast<unsigned char>(z >> (8 * j));
    }
    return 1;
}
int rng_seed(const void *, int) { return 1; }
int rng_add(const void *, int, double) { return 1; }
int rng_status() { return 1; }

const RAND_METHOD kFixedRand = {rng_seed, rng_bytes, nullptr, rng_add, rng_bytes, rng_status};

ProbeTarget g_target;
bool g_verbose = false;

// Queue as much of `data` as the socket buffer takes (the rest is dropped:
// the probe reads only after this returns), then end the stream.
void queue_server_bytes(int fd, const std::uint8_t *data, std::size_t size) {
    int flags = fcntl(fd, F_GETFL);
    require(flags >= 0 && fcntl(fd, F_SETFL, flags | O_NONBLOCK) == 0);
    while (size > 0) {
        ssize_t n = ::send(fd, data, size, MSG_NOSIGNAL);
        if (n <= 0) break;
        data += n;
        size -= static_cast<std::size_t>(n);
    }
    ::shutdown(fd, SHUT_WR);
}

void check_error(const Error &e) {
    require(e.sqlstate.size() == 5);
    require(!e.message.empty());
    if (g_verbose) std::fprintf(stderr, "probe_fuzz: error %s: %s\n", e.sqlstate.c_str(), e.message.c_str());
}

// One probe over `fd` in `mode`; checks what comes back.
void run_probe(int fd, unsigned mode) {
    rng_restart();
    if (mode < 4) {
        auto report = probe_chain_on_fd(fd, g_target);
        if (report) {
            const ChainReport &r = report.value();
            require(!r.protocol.empty());
            require(r.verified == r.verify_error.empty());
            if (g_verbose)
                std::fprintf(stderr, "probe_fuzz: chain %s %s, %zu certificates, verified %d (%s), match %d\n",
                             r.protocol.c_str(), r.cipher.c_str(), r.certificates.size(), r.verified,
                             r.verify_error.c_str(), r.hostname_match);
        } else {
            check_error(report.error());
        }
    } else {
        Protocol p = kProbedProtocols[mode - 4];
        auto report = probe_protocol_on_fd(fd, g_target, p);
        if (report) {
            require(report.value().protocol == p);
            require(report.value().accepted == report.value().error.empty());
            if (g_verbose)
                std::fprintf(stderr, "probe_fuzz: %s accepted %d %s%s\n", protocol_name(p), report.value().accepted,
                             report.value().cipher.c_str(), report.value().error.c_str());
        } else {
            check_error(report.error());
        }
    }
}

// Capture mode: probe the relay at `path` once, then exit.
[[noreturn]] void capture(const char *path, unsigned mode) {
    int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    require(fd >= 0 && std::strlen(path) < sizeof addr.sun_path);
    std::strncpy(addr.sun_path, path, sizeof addr.sun_path - 1);
    if (::connect(fd, reinterpret_cast<sockaddr *>(&addr), sizeof addr) != 0) {
        std::perror("probe_fuzz: capture: connect");
        std::exit(1);
    }
    g_verbose = true;
    run_probe(fd, mode % 8);
    ::close(fd);
    std::exit(0);
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int *, char ***) {
    std::signal(SIGPIPE, SIG_IGN);
    require(RAND_set_rand_method(&kFixedRand) == 1);
    g_target.host = "localhost";
    g_target.port = 5432;
    g_target.timeout_ms = 5000;  // never reached when fuzzing: the stream always ends
    if (const char *ca = std::getenv("TLS_AUDIT_FUZZ_CA")) g_target.ca_file = ca;
    g_verbose = std::getenv("TLS_AUDIT_FUZZ_VERBOSE") != nullptr;
    if (const char *path = std::getenv("TLS_AUDIT_PROBE_CAPTURE")) {
        const char *mode = std::getenv("TLS_AUDIT_PROBE_CAPTURE_MODE");
        capture(path, mode != nullptr ? static_cast<unsigned>(std::atoi(mode)) : 0);
    }
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size) {
    if (size < 1) return 0;
    int fds[2];
    require(::socketpair(AF_UNIX, SOCK_STREAM, 0, fds) == 0);
    int sndbuf = 1 << 20;
    (void)::setsockopt(fds[1], SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof sndbuf);
    queue_server_bytes(fds[1], data + 1, size - 1);
    run_probe(fds[0], data[0] % 8u);
    ::close(fds[0]);
    ::close(fds[1]);
    return 0;
}
