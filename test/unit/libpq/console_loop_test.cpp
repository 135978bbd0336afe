// libpq::read_console (src/libpq/pq_console.hpp), the connect, send and
// receive loop both readers of pgbouncer's admin console share, against a
// loopback listener that accepts the TCP connection and never answers: the
// caller's wait is what bounds it, the errors are in the caller's words, an
// exception from the wait closes the connection, and what libpq sends names
// the caller. (The answers of a real pgbouncer: TAP 078 and 093.)
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <stdexcept>
#include <string>
#include <vector>

#include "pq_console.hpp"

using namespace tls_audit;
using libpq::Clock;

namespace {

// A socket descriptor closed when it goes.
class Fd {
  public:
    explicit Fd(int fd) : fd_(fd) {}
    ~Fd() {
        if (fd_ >= 0) close(fd_);
    }
    Fd(const Fd &) = delete;
    Fd &operator=(const Fd &) = delete;
    int get() const { return fd_; }

  private:
    int fd_;
};

// Listens on 127.0.0.1 (a port the kernel picks) and accepts nobody: the
// kernel completes each TCP handshake, nothing ever answers libpq.
struct MuteListener {
    Fd fd{socket(AF_INET, SOCK_STREAM, 0)};
    int port = 0;
    MuteListener() {
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        EXPECT_EQ(bind(fd.get(), reinterpret_cast<sockaddr *>(&a), sizeof a), 0);
        EXPECT_EQ(listen(fd.get(), 4), 0);
        socklen_t len = sizeof a;
        EXPECT_EQ(getsockname(fd.get(), reinterpret_cast<sockaddr *>(&a), &len), 0);
        port = ntohs(a.sin_port);
    }
    std::string conninfo() const {
        return "host=127.0.0.1 port=" + std::to_string(port) + " dbname=pgbouncer user=auditor sslmode=disable "
               "gssencmode=disable";
    }
};

const libpq::ConsoleWords kWords{"console_loop_test", "the test's bound", sqlstate::kCannotConnect, "a hint",
                                 "be an admin"};

struct WaitCall {
    int fd;
    bool for_write;
};

// A poll() wait that records how it was asked.
libpq::SocketWait recording_poll(std::vector<WaitCall> &calls) {
    return [&calls](int fd, bool for_write, Clock::time_point deadline) {
        calls.push_back(WaitCall{fd, for_write});
        for (;;) {
            const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
            if (left <= 0) return false;
            pollfd p{fd, static_cast<short>(for_write ? POLLOUT : POLLIN), 0};
            const int rc = poll(&p, 1, static_cast<int>(left));
            if (rc > 0) return true;
            if (rc < 0 && errno != EINTR) return false;
        }
    };
}

// Everything the peer of `listener`'s first pending connection sent until it
// closed, or until 5 s passed (then `closed` stays false).
std::string drain_first_connection(const MuteListener &listener, bool &closed) {
    closed = false;
    Fd peer(accept(listener.fd.get(), nullptr, nullptr));
    EXPECT_GE(peer.get(), 0);
    std::string got;
    const auto deadline = Clock::now() + std::chrono::seconds(5);
    while (Clock::now() < deadline) {
        pollfd p{peer.get(), POLLIN, 0};
        if (poll(&p, 1, 100) <= 0) continue;
        char buf[512];
        const ssize_t n = read(peer.get(), buf, sizeof buf);
        if (n <= 0) {
            closed = n == 0;
            break;
        }
        got.append(buf, static_cast<std::size_t>(n));
    }
    return got;
}

}  // namespace

TEST(ConsoleLoop, NoServerIsAnErrorInTheCallersWords) {
    std::vector<WaitCall> calls;
    const auto read = libpq::read_console("host=/nonexistent/pg_tls_audit_test port=1 dbname=pgbouncer",
                                          {"SHOW CLIENTS"}, std::chrono::milliseconds(2000), kWords,
                                          recording_poll(calls));
    ASSERT_FALSE(read);
    EXPECT_EQ(read.error().sqlstate, sqlstate::kCannotConnect);
    EXPECT_EQ(read.error().hint, "a hint");
    EXPECT_FALSE(read.error().message.empty());
    EXPECT_EQ(read.error().message.find('\n'), std::string::npos) << read.error().message;
}

TEST(ConsoleLoop, APoolerThatNeverAnswersTimesOutNamingTheCallersBound) {
    MuteListener listener;
    std::vector<WaitCall> calls;
    const auto t0 = Clock::now();
    const auto read = libpq::read_console(listener.conninfo(), {"SHOW CLIENTS"}, std::chrono::milliseconds(300),
                                          kWords, recording_poll(calls));
    const auto took = Clock::now() - t0;
    ASSERT_FALSE(read);
    EXPECT_EQ(read.error().message, "timeout after 300 ms connecting (the test's bound)");
    EXPECT_EQ(read.error().sqlstate, sqlstate::kCannotConnect);
    EXPECT_EQ(read.error().hint, "a hint");
    EXPECT_GE(took, std::chrono::milliseconds(299));  // the wait rounds the time left down to whole ms
    EXPECT_LT(took, std::chrono::seconds(10));
    // The connection is first waited on to be writable (the TCP connect),
    // then readable (the pooler's answer to the startup packet), on libpq's socket.
    ASSERT_GE(calls.size(), 2U);
    EXPECT_TRUE(calls.front().for_write);
    EXPECT_FALSE(calls.back().for_write);
    for (const auto &c : calls) EXPECT_GE(c.fd, 0);
}

TEST(ConsoleLoop, AWaitThatThrowsClosesTheConnectionAndTheExceptionGoesOn) {
    MuteListener listener;
    int waits = 0;
    const libpq::SocketWait cancelled = [&waits](int, bool for_write, Clock::time_point) -> bool {
        ++waits;
        if (!for_write) throw std::runtime_error("cancelled");  // once libpq waits for the answer
        return true;
    };
    EXPECT_THROW((void)libpq::read_console(listener.conninfo(), {"SHOW CLIENTS"}, std::chrono::milliseconds(5000),
                                           kWords, cancelled),
                 std::runtime_error);
    EXPECT_GE(waits, 2);
    // What libpq sent before the wait threw: a startup packet naming the
    // caller (the fallback application name) and the console's database;
    // then the socket was closed, not left to the pooler to time out.
    bool closed = false;
    const std::string sent = drain_first_connection(listener, closed);
    EXPECT_TRUE(closed);
    EXPECT_NE(sent.find(std::string("application_name") + '\0' + "console_loop_test" + '\0'), std::string::npos);
    EXPECT_NE(sent.find(std::string("database") + '\0' + "pgbouncer" + '\0'), std::string::npos);
}
