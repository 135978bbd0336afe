// Socket plumbing for the STARTTLS probe: deadlines, cancellable waits, name
// resolution and non-blocking TCP connect. Internal to src/core/probe*.
#pragma once

#include "base/pure_cpp.hpp"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <sys/socket.h>

#include "base/error.hpp"
#include "base/file_reader.hpp"  // CancelCheck

TLS_AUDIT_AREA(probe);

namespace tls_audit {

// Longest a wait may go without asking CancelCheck again.
inline constexpr int kCancelPollMs = 50;

// How the thread that installed it waits, when the embedding process has its
// own way (a PostgreSQL backend: its latch, with a wait event shown in
// pg_stat_activity). Wait until `fd` is ready for `events` (POLLIN/POLLOUT)
// or `timeout_ms` pass; fd < 0: only sleep, waking early when the process is
// signalled. Returns > 0 when the fd is ready, 0 otherwise (timeout or woken:
// the caller asks the cancel check and the deadline again). May throw.
using WaitHook = int (*)(int fd, short events, int timeout_ms);

// Install (or, with nullptr, remove) the hook for the calling thread only:
// the probe's own helper threads always use poll().
void set_wait_hook(WaitHook hook);
WaitHook wait_hook();

// Called for every probe socket once its connect() has started and before
// any byte is sent, from whichever thread connects (probes use helper
// threads): it must be thread-safe and cheap. The PostgreSQL glue uses it
// to mark the server's connections to itself (self_probe.hpp); nullptr: none.
using ConnectHook = void (*)(int fd, const sockaddr *peer, socklen_t peer_len) noexcept;

// Install (or, with nullptr, remove) the hook for the whole process.
void set_connect_hook(ConnectHook hook);

class Deadline {
  public:
    using Clock = std::chrono::steady_clock;
    explicit Deadline(int timeout_ms) : end_(Clock::now() + std::chrono::milliseconds(timeout_ms)) {}
    explicit Deadline(Clock::time_point end) : end_(end) {}
    // Milliseconds left, never negative.
    int remaining_ms() const;
    bool expired() const { return remaining_ms() == 0; }
    Clock::time_point end() const { return end_; }

  private:
    Clock::time_point end_;
};

// Owns a file descriptor.
class UniqueFd {
  public:
    UniqueFd() = default;
    explicit UniqueFd(int fd) : fd_(fd) {}
    UniqueFd(UniqueFd &&other) noexcept : fd_(other.release()) {}
    UniqueFd &operator=(UniqueFd &&other) noexcept;
    UniqueFd(const UniqueFd &) = delete;
    UniqueFd &operator=(const UniqueFd &) = delete;
    ~UniqueFd() { reset(); }
    int get() const { return fd_; }
    int release() {
        int fd = fd_;
        fd_ = -1;
        return fd;
    }
    void reset(int fd = -1);

  private:
    int fd_ = -1;
};

// What every step of one probe connection shares: where it goes (for
// messages), the total budget, and the cancel check.
struct ProbeContext {
    std::string where;  // "host:port", as shown in messages
    int timeout_ms;
    Deadline deadline;
    CancelCheck cancel;  // may be empty

    ProbeContext(std::string where_, int timeout, CancelCheck cancel_)
        : where(std::move(where_)), timeout_ms(timeout), deadline(timeout), cancel(std::move(cancel_)) {}
    bool canceled() const { return cancel && cancel(); }
};

Error canceled_error();
// "timed out after N ms while <phase>" (N is the probe's whole budget).
Error timeout_error(const ProbeContext &ctx, const std::string &phase, const char *state);

// Wait until `fd` is ready for `events` (POLLIN/POLLOUT), the deadline passes
// or the cancel check fires; asks the cancel check at least every
// kCancelPollMs. `phase` names the step for the timeout message.
std::optional<Error> wait_fd(int fd, short events, const ProbeContext &ctx, const std::string &phase,
                             const char *timeout_state);

// Write all bytes (MSG_NOSIGNAL: a closed peer must not raise SIGPIPE).
std::optional<Error> send_all(int fd, const unsigned char *data, std::size_t len,
                              const ProbeContext &ctx, const std::string &phase);

// Read at most `len` bytes once data is there; 0 means the peer closed.
Expected<std::size_t> recv_some(int fd, unsigned char *data, std::size_t len, const ProbeContext &ctx,
                                const std::string &phase);

// "host:port", with IPv6 literals in brackets.
std::string format_host_port(const std::string &host, int port);

// True for a literal IPv4 or IPv6 address.
bool is_ip_literal(const std::string &host);

struct ResolvedAddress {
    sockaddr_storage addr{};
    socklen_t len = 0;
    std::string text;  // numeric form, for messages
};

// Resolve host:port for TCP. Names are looked up on a helper thread so that
// a slow resolver still honours the deadline and the cancel check.
Expected<std::vector<ResolvedAddress>> resolve_host(const std::string &host, int port,
                                                    const ProbeContext &ctx);

// Connect to the first address of `host` that accepts, within the deadline.
Expected<UniqueFd> connect_tcp(const std::string &host, int port, const ProbeContext &ctx);

// Start a thread with every signal blocked in it, so that signals keep going
// to the calling thread (in a PostgreSQL backend, SIGINT must reach the main
// thread's handler).
std::thread start_quiet_thread(std::function<void()> body);

}  // namespace tls_audit
