// A fake PostgreSQL server for the probe's unit tests: a loopback listener
// whose every connection runs a behaviour on its own thread (an SSLRequest
// answered with 'S' and a TLS handshake, or any bytes), and the helpers
// around it. Shared by probe_test.cpp and probe_direct_test.cpp.
#pragma once

#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <functional>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "base/openssl_ptr.hpp"
#include "probe/probe.hpp"
#include "probe/probe_sslrequest.hpp"
#include "test_certs.hpp"

namespace probe_test {

using namespace tls_audit;
using Clock = std::chrono::steady_clock;


inline long elapsed_ms(Clock::time_point start) {
    return static_cast<long>(
        std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start).count());
}

inline bool read_exact(int fd, unsigned char *buf, std::size_t n) {
    while (n > 0) {
        ssize_t r = ::recv(fd, buf, n, 0);
        if (r <= 0) return false;
        buf += r;
        n -= static_cast<std::size_t>(r);
    }
    return true;
}

// Reads the client's SSLRequest; false when it is not exactly the 8 bytes.
inline bool read_ssl_request(int fd) {
    unsigned char buf[8];
    return read_exact(fd, buf, sizeof buf) && std::memcmp(buf, kSslRequest, sizeof buf) == 0;
}

inline void send_text(int fd, const std::string &s) { (void)::send(fd, s.data(), s.size(), MSG_NOSIGNAL); }

// A TLS server context over the generated certificates.
inline SslCtxPtr server_context(const std::string &chain, const std::string &key, int min_version, int max_version) {
    SslCtxPtr ctx(SSL_CTX_new(TLS_server_method()));
    std::string dir = test::cert_dir();
    SSL_CTX_set_security_level(ctx.get(), 0);
    SSL_CTX_set_cipher_list(ctx.get(), "ALL:@SECLEVEL=0");
    SSL_CTX_set_min_proto_version(ctx.get(), min_version);
    SSL_CTX_set_max_proto_version(ctx.get(), max_version);
    EXPECT_EQ(SSL_CTX_use_certificate_chain_file(ctx.get(), (dir + "/" + chain).c_str()), 1);
    EXPECT_EQ(SSL_CTX_use_PrivateKey_file(ctx.get(), (dir + "/" + key).c_str(), SSL_FILETYPE_PEM), 1);
    return ctx;
}

// A loopback listener whose every connection runs `behaviour(fd)` on its own
// thread. Connections are closed when the behaviour returns; the destructor
// stops everything, including behaviours waiting on stopping().
class FakeServer {
  public:
    using Behaviour = std::function<void(int fd, FakeServer &)>;

    explicit FakeServer(Behaviour b, int backlog = 16) : behaviour_(std::move(b)) {
        // The server side writes through plain sockets (SSL_set_fd); a client
        // that hangs up must not kill the test binary.
        signal(SIGPIPE, SIG_IGN);
        listen_fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        EXPECT_EQ(::bind(listen_fd_, reinterpret_cast<sockaddr *>(&addr), sizeof addr), 0);
        EXPECT_EQ(::listen(listen_fd_, backlog), 0);
        socklen_t len = sizeof addr;
        getsockname(listen_fd_, reinterpret_cast<sockaddr *>(&addr), &len);
        port_ = ntohs(addr.sin_port);
        acceptor_ = std::thread([this] { accept_loop(); });
    }
    ~FakeServer() {
        stop_ = true;
        ::shutdown(listen_fd_, SHUT_RDWR);
        acceptor_.join();
        for (auto &t : connections_) t.join();
        ::close(listen_fd_);
    }
    int port() const { return port_; }
    bool stopping() const { return stop_; }
    // Block until the server stops (a peer that never answers).
    void hold(int fd) {
        while (!stop_) {
            pollfd p{fd, POLLIN, 0};
            if (::poll(&p, 1, 20) > 0) {
                char buf[256];
                if (::recv(fd, buf, sizeof buf, 0) <= 0) return;
            }
        }
    }
    void record(std::string what) {
        std::lock_guard<std::mutex> lock(mu_);
        log_.insert(std::move(what));
    }
    // The records, once there are `n` of them (or after 2 s): the client may
    // finish its handshake before the server thread gets to record().
    std::set<std::string> log(std::size_t n = 0) {
        auto until = Clock::now() + std::chrono::seconds(2);
        for (;;) {
            {
                std::lock_guard<std::mutex> lock(mu_);
                if (log_.size() >= n || Clock::now() > until) return log_;
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(5));
        }
    }
    int accepted() const { return accepted_; }

  private:
    void accept_loop() {
        for (;;) {
            int fd = ::accept(listen_fd_, nullptr, nullptr);
            if (fd < 0) return;
            if (stop_) {
                ::close(fd);
                return;
            }
            ++accepted_;
            connections_.emplace_back([this, fd] {
                timeval tv{10, 0};  // a stuck test must not hang forever
                setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
                behaviour_(fd, *this);
                ::close(fd);
            });
        }
    }

    Behaviour behaviour_;
    int listen_fd_ = -1;
    int port_ = 0;
    std::atomic<bool> stop_{false};
    std::atomic<int> accepted_{0};
    std::thread acceptor_;
    std::vector<std::thread> connections_;
    std::mutex mu_;
    std::set<std::string> log_;
};

// A server that answers 'S' and completes a TLS handshake, recording
// "<version> <cipher>" for each success.
inline FakeServer::Behaviour tls_server(int min_version = TLS1_VERSION, int max_version = TLS1_3_VERSION,
                                 std::string chain = "server-chain.crt", std::string key = "server.key") {
    return [=](int fd, FakeServer &server) {
        if (!read_ssl_request(fd)) return;
        send_text(fd, "S");
        SslCtxPtr ctx = server_context(chain, key, min_version, max_version);
        SslPtr ssl(SSL_new(ctx.get()));
        SSL_set_fd(ssl.get(), fd);
        if (SSL_accept(ssl.get()) == 1) {
            server.record(std::string(SSL_get_version(ssl.get())) + " " +
                          SSL_CIPHER_get_name(SSL_get_current_cipher(ssl.get())));
            char buf[64];
            while (SSL_read(ssl.get(), buf, sizeof buf) > 0) {
            }
        }
        ERR_clear_error();
    };
}

inline FakeServer::Behaviour answer(std::string bytes) {
    return [bytes](int fd, FakeServer &) {
        if (read_ssl_request(fd)) send_text(fd, bytes);
    };
}

inline ProbeTarget local(int port, int timeout_ms = 3000) {
    ProbeTarget t;
    t.host = "127.0.0.1";
    t.port = port;
    t.timeout_ms = timeout_ms;
    return t;
}

inline std::string cert_path(const char *name) { return test::cert_dir() + "/" + name; }

// A port on which nothing listens: bound (so nobody else takes it) but not listening.
struct ClosedPort {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    int port = 0;
    ClosedPort() {
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        EXPECT_EQ(::bind(fd, reinterpret_cast<sockaddr *>(&addr), sizeof addr), 0);
        socklen_t len = sizeof addr;
        getsockname(fd, reinterpret_cast<sockaddr *>(&addr), &len);
        port = ntohs(addr.sin_port);
    }
    ~ClosedPort() { ::close(fd); }
};

inline std::string error_response(const std::string &message) {
    std::string fields = std::string("SFATAL") + '\0' + "C0A000" + '\0' + "M" + message + '\0' + '\0';
    std::uint32_t len = static_cast<std::uint32_t>(fields.size() + 4);
    std::string out = "E";
    for (int shift : {24, 16, 8, 0}) out += static_cast<char>((len >> shift) & 0xff);
    return out + fields;
}


}  // namespace probe_test
