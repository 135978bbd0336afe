#include "probe/probe_io.hpp"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <memory>
#include <mutex>
#include <system_error>

namespace tls_audit {

int Deadline::remaining_ms() const {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(end_ - Clock::now()).count();
    return left > 0 ? static_cast<int>(left) : 0;
}

UniqueFd &UniqueFd::operator=(UniqueFd &&other) noexcept {
    if (this != &other) reset(other.release());
    return *this;
}

void UniqueFd::reset(int fd) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = fd;
}

namespace {
thread_local WaitHook thread_wait_hook = nullptr;
}

void set_wait_hook(WaitHook hook) { thread_wait_hook = hook; }

namespace {
std::atomic<ConnectHook> connect_hook{nullptr};
}

void set_connect_hook(ConnectHook hook) { connect_hook.store(hook, std::memory_order_release); }
WaitHook wait_hook() { return thread_wait_hook; }

Error canceled_error() {
    return make_error(sqlstate::kQueryCanceled, "TLS probe canceled");
}

Error timeout_error(const ProbeContext &ctx, const std::string &phase, const char *state) {
    return make_error(state, "timed out after " + std::to_string(ctx.timeout_ms) + " ms while " + phase,
                      "Raise the timeout, or check that " + ctx.where +
                          " is a PostgreSQL server reachable from here.");
}

std::optional<Error> wait_fd(int fd, short events, const ProbeContext &ctx, const std::string &phase,
                             const char *timeout_state) {
    for (;;) {
        if (ctx.canceled()) return canceled_error();
        int left = ctx.deadline.remaining_ms();
        if (left == 0) return timeout_error(ctx, phase, timeout_state);
        if (thread_wait_hook != nullptr) {
            if (thread_wait_hook(fd, events, std::min(left, kCancelPollMs)) > 0) return std::nullopt;
            continue;
        }
        pollfd p{fd, events, 0};
        int rc = ::poll(&p, 1, std::min(left, kCancelPollMs));
        if (rc > 0) return std::nullopt;  // ready, or an error the next call will report
        if (rc < 0 && errno != EINTR)
            return make_error(sqlstate::kConnectionFailure,
                              "poll failed while " + phase + ": " + std::strerror(errno));
    }
}

std::optional<Error> send_all(int fd, const unsigned char *data, std::size_t len,
                              const ProbeContext &ctx, const std::string &phase) {
    while (len > 0) {
        ssize_t n = ::send(fd, data, len, MSG_NOSIGNAL);
        if (n > 0) {
            data += n;
            len -= static_cast<std::size_t>(n);
            continue;
        }
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
            if (auto err = wait_fd(fd, POLLOUT, ctx, phase, sqlstate::kConnectionFailure)) return err;
            continue;
        }
        if (errno == EPIPE || errno == ECONNRESET)
            return make_error(sqlstate::kConnectionFailure, "server closed the connection while " + phase);
        return make_error(sqlstate::kConnectionFailure, "could not send to " + ctx.where + " while " +
                                                            phase + ": " + std::strerror(errno));
    }
    return std::nullopt;
}

Expected<std::size_t> recv_some(int fd, unsigned char *data, std::size_t len, const ProbeContext &ctx,
                                const std::string &phase) {
    for (;;) {
        ssize_t n = ::recv(fd, data, len, 0);
        if (n >= 0) return static_cast<std::size_t>(n);
        if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) {
            if (auto err = wait_fd(fd, POLLIN, ctx, phase, sqlstate::kConnectionFailure)) return *err;
            continue;
        }
        if (errno == ECONNRESET)
            return make_error(sqlstate::kConnectionFailure,
                              "connection reset by " + ctx.where + " while " + phase);
        return make_error(sqlstate::kConnectionFailure, "could not receive from " + ctx.where +
                                                            " while " + phase + ": " + std::strerror(errno));
    }
}

std::string format_host_port(const std::string &host, int port) {
    if (host.find(':') != std::string::npos) return "[" + host + "]:" + std::to_string(port);
    return host + ":" + std::to_string(port);
}

bool is_ip_literal(const std::string &host) {
    unsigned char buf[sizeof(in6_addr)];
    return inet_pton(AF_INET, host.c_str(), buf) == 1 || inet_pton(AF_INET6, host.c_str(), buf) == 1;
}

std::thread start_quiet_thread(std::function<void()> body) {
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    std::thread t;
    try {
        t = std::thread(std::move(body));
    } catch (...) {
        pthread_sigmask(SIG_SETMASK, &old, nullptr);
        throw;
    }
    pthread_sigmask(SIG_SETMASK, &old, nullptr);
    return t;
}

namespace {

struct AddrInfoDeleter {
    void operator()(addrinfo *p) const noexcept { freeaddrinfo(p); }
};
using AddrInfoPtr = std::unique_ptr<addrinfo, AddrInfoDeleter>;

// A lookup shared with its helper thread, which may outlive the caller when
// the caller gives up (timeout, cancel).
struct Lookup {
    std::mutex mu;
    std::condition_variable done_cv;
    bool done = false;
    int rc = 0;
    AddrInfoPtr result;
};

std::vector<ResolvedAddress> to_addresses(const addrinfo *list) {
    std::vector<ResolvedAddress> out;
    for (const addrinfo *ai = list; ai != nullptr; ai = ai->ai_next) {
        if (ai->ai_addrlen > sizeof(sockaddr_storage)) continue;
        ResolvedAddress a;
        std::memcpy(&a.addr, ai->ai_addr, ai->ai_addrlen);
        a.len = ai->ai_addrlen;
        char text[INET6_ADDRSTRLEN] = "?";
        getnameinfo(ai->ai_addr, ai->ai_addrlen, text, sizeof text, nullptr, 0, NI_NUMERICHOST);
        a.text = text;
        out.push_back(a);
    }
    return out;
}

Error resolve_error(const std::string &host, int rc) {
    return make_error(sqlstate::kCannotConnect,
                      "could not resolve host \"" + host + "\": " + gai_strerror(rc));
}

}  // namespace

Expected<std::vector<ResolvedAddress>> resolve_host(const std::string &host, int port,
                                                    const ProbeContext &ctx) {
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_protocol = IPPROTO_TCP;
    std::string service = std::to_string(port);

    // Literal addresses need no resolver and no thread.
    if (is_ip_literal(host)) {
        hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;
        addrinfo *raw = nullptr;
        int rc = getaddrinfo(host.c_str(), service.c_str(), &hints, &raw);
        AddrInfoPtr list(raw);
        if (rc != 0) return resolve_error(host, rc);
        return to_addresses(list.get());
    }

    hints.ai_flags = AI_NUMERICSERV | AI_ADDRCONFIG;
    auto lookup = std::make_shared<Lookup>();
    std::thread worker;
    try {
        worker = start_quiet_thread([lookup, host, service, hints] {
            addrinfo *raw = nullptr;
            int rc = getaddrinfo(host.c_str(), service.c_str(), &hints, &raw);
            std::lock_guard<std::mutex> lock(lookup->mu);
            lookup->rc = rc;
            lookup->result.reset(raw);
            lookup->done = true;
            lookup->done_cv.notify_all();
        });
    } catch (const std::system_error &e) {
        return make_error(sqlstate::kOutOfMemory, std::string("could not start a resolver thread: ") + e.what());
    }
    std::unique_lock<std::mutex> lock(lookup->mu);
    for (;;) {
        if (lookup->done) break;
        bool give_up_canceled = ctx.canceled();
        int left = ctx.deadline.remaining_ms();
        if (give_up_canceled || left == 0) {
            lock.unlock();
            worker.detach();  // it finishes on its own and frees the lookup
            if (give_up_canceled) return canceled_error();
            return timeout_error(ctx, "resolving host \"" + host + "\"", sqlstate::kCannotConnect);
        }
        lookup->done_cv.wait_for(lock, std::chrono::milliseconds(std::min(left, kCancelPollMs)));
    }
    lock.unlock();
    worker.join();
    if (lookup->rc != 0) return resolve_error(host, lookup->rc);
    auto out = to_addresses(lookup->result.get());
    if (out.empty()) return resolve_error(host, EAI_NONAME);
    return out;
}

namespace {

// Connect to one address within `deadline`; the error text for the caller.
Expected<UniqueFd> connect_one(const ResolvedAddress &a, const ProbeContext &ctx, Deadline deadline,
                               bool &timed_out) {
    timed_out = false;
    UniqueFd fd(::socket(a.addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_TCP));
    if (fd.get() < 0)
        return make_error(sqlstate::kCannotConnect,
                          std::string("could not create socket: ") + std::strerror(errno));
    int one = 1;
    setsockopt(fd.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    int rc = ::connect(fd.get(), reinterpret_cast<const sockaddr *>(&a.addr), a.len);
    int err = rc == 0 ? 0 : errno;
    if (rc == 0 || err == EINPROGRESS) {
        if (ConnectHook hook = connect_hook.load(std::memory_order_acquire))
            hook(fd.get(), reinterpret_cast<const sockaddr *>(&a.addr), a.len);
    }
    if (rc != 0 && err == EINPROGRESS) {
        // Wait with this address's share of the budget, but report timeouts
        // in terms of the whole probe.
        ProbeContext slice(ctx.where, ctx.timeout_ms, ctx.cancel);
        slice.deadline = deadline;
        if (auto werr = wait_fd(fd.get(), POLLOUT, slice, "connecting to " + ctx.where,
                                sqlstate::kCannotConnect)) {
            if (werr->sqlstate != sqlstate::kQueryCanceled) timed_out = true;
            return *werr;
        }
        socklen_t len = sizeof err;
        if (getsockopt(fd.get(), SOL_SOCKET, SO_ERROR, &err, &len) != 0) err = errno;
    }
    if (err != 0) {
        std::string why = err == ECONNREFUSED ? "connection refused" : std::strerror(err);
        return make_error(sqlstate::kCannotConnect, "could not connect to " + ctx.where + ": " + why,
                          err == ECONNREFUSED ? "Is a server listening on that address and port?"
                                              : std::string(),
                          "address " + a.text);
    }
    return fd;
}

}  // namespace

Expected<UniqueFd> connect_tcp(const std::string &host, int port, const ProbeContext &ctx) {
    auto addresses = resolve_host(host, port, ctx);
    if (!addresses) return addresses.error();
    const auto &list = addresses.value();
    std::optional<Error> last;
    for (std::size_t i = 0; i < list.size(); ++i) {
        // Share what is left among the addresses still to try, so that one
        // black-holed address does not use up the time of the others.
        auto now = Deadline::Clock::now();
        auto share = (ctx.deadline.end() - now) / static_cast<long>(list.size() - i);
        Deadline slice(i + 1 == list.size() ? ctx.deadline.end() : now + share);
        bool timed_out = false;
        auto fd = connect_one(list[i], ctx, slice, timed_out);
        if (fd) return fd;
        if (fd.error().sqlstate == sqlstate::kQueryCanceled) return fd.error();
        // Keep a refusal over a per-address timeout: it says more.
        if (!last || !timed_out) last = fd.error();
        if (ctx.deadline.expired()) break;
    }
    if (!last) return make_error(sqlstate::kCannotConnect, "no address for " + ctx.where);
    return *last;
}

}  // namespace tls_audit
