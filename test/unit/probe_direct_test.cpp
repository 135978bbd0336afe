// Direct TLS (PostgreSQL 17+, sslnegotiation=direct): the probe against fake
// servers that behave as PostgreSQL 17 (ALPN "postgresql" required), 15 (the
// ClientHello read as a startup packet), a TLS proxy without ALPN, and a
// server that wants another ALPN protocol.
#include <gtest/gtest.h>

#include <sys/socket.h>
#include <unistd.h>

#include <cstdint>
#include <string>
#include <thread>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "fake_pg_server.hpp"
#include "probe/probe_direct.hpp"

using namespace tls_audit;
using namespace probe_test;

namespace {

constexpr unsigned char kPostgresqlAlpn[] = {10, 'p', 'o', 's', 't', 'g', 'r', 'e', 's', 'q', 'l'};
constexpr unsigned char kOtherAlpn[] = {8, 'h', 't', 't', 'p', '/', '1', '.', '1'};

// The server's ALPN choice, as PostgreSQL 17's alpn_cb makes it: the one
// protocol in `arg` (wire format) or a fatal no_application_protocol alert.
int select_alpn(SSL *, const unsigned char **out, unsigned char *outlen, const unsigned char *in,
                unsigned int inlen, void *arg) {
    const unsigned char *mine = static_cast<const unsigned char *>(arg);
    unsigned char *selected = nullptr;
    unsigned char selected_len = 0;
    if (SSL_select_next_proto(&selected, &selected_len, mine, 1u + mine[0], in, inlen) == OPENSSL_NPN_NEGOTIATED) {
        *out = selected;
        *outlen = selected_len;
        return SSL_TLSEXT_ERR_OK;
    }
    return SSL_TLSEXT_ERR_ALERT_FATAL;
}

enum class DirectMode {
    Postgres17,    // ALPN "postgresql" required and selected
    Postgres15,    // the ClientHello is read as a startup packet: length check, close
    NoAlpn,        // a TLS server that ignores ALPN (a generic TLS proxy)
    OtherAlpn,     // a TLS server that wants another ALPN protocol
};

// A PostgreSQL-like server: SSLRequest as tls_server() does, and direct TLS
// (first byte 0x16, a TLS handshake record) as `mode` says. Records "direct
// <version> <cipher> alpn=<name>" for a completed direct handshake and
// "startup length <n>" when it reads the ClientHello as a startup packet.
FakeServer::Behaviour pg_server(DirectMode mode) {
    return [mode](int fd, FakeServer &server) {
        unsigned char first = 0;
        if (::recv(fd, &first, 1, MSG_PEEK) != 1) return;
        if (first != 0x16) {
            tls_server()(fd, server);
            return;
        }
        if (mode == DirectMode::Postgres15) {
            unsigned char len[4];
            if (!read_exact(fd, len, sizeof len)) return;
            std::uint32_t n = (std::uint32_t{len[0]} << 24) | (std::uint32_t{len[1]} << 16) |
                              (std::uint32_t{len[2]} << 8) | len[3];
            server.record("startup length " + std::to_string(n));
            return;  // "invalid length of startup packet": closed, the rest unread
        }
        SslCtxPtr ctx = server_context("server-chain.crt", "server.key", TLS1_2_VERSION, TLS1_3_VERSION);
        if (mode == DirectMode::Postgres17)
            SSL_CTX_set_alpn_select_cb(ctx.get(), select_alpn, const_cast<unsigned char *>(kPostgresqlAlpn));
        else if (mode == DirectMode::OtherAlpn)
            SSL_CTX_set_alpn_select_cb(ctx.get(), select_alpn, const_cast<unsigned char *>(kOtherAlpn));
        SslPtr ssl(SSL_new(ctx.get()));
        SSL_set_fd(ssl.get(), fd);
        if (SSL_accept(ssl.get()) == 1) {
            const unsigned char *alpn = nullptr;
            unsigned int alpn_len = 0;
            SSL_get0_alpn_selected(ssl.get(), &alpn, &alpn_len);
            server.record(std::string("direct ") + SSL_get_version(ssl.get()) + " " +
                          SSL_CIPHER_get_name(SSL_get_current_cipher(ssl.get())) +
                          " alpn=" + std::string(reinterpret_cast<const char *>(alpn), alpn_len));
            char buf[64];
            while (SSL_read(ssl.get(), buf, sizeof buf) > 0) {
            }
        }
        ERR_clear_error();
    };
}

}  // namespace

TEST(ProbeDirectTest, Postgres17AcceptsWithAlpnAndNoSslRequest) {
    FakeServer server(pg_server(DirectMode::Postgres17));
    auto r = probe_direct_tls(local(server.port()));
    ASSERT_TRUE(r.ok()) << r.error().message;
    const DirectTlsReport &d = r.value();
    EXPECT_TRUE(d.accepted) << d.error;
    EXPECT_EQ(d.alpn, "postgresql");
    EXPECT_EQ(d.error, "");
    EXPECT_EQ(d.protocol, "TLSv1.3");
    EXPECT_FALSE(d.cipher.empty());
    // The server saw a handshake as its first byte (no SSLRequest) and chose the same.
    EXPECT_EQ(server.log(1), (std::set<std::string>{"direct " + d.protocol + " " + d.cipher + " alpn=postgresql"}));
}

TEST(ProbeDirectTest, Postgres15ReadsAStartupPacketAndCloses) {
    FakeServer server(pg_server(DirectMode::Postgres15));
    auto start = Clock::now();
    auto r = probe_direct_tls(local(server.port()));
    ASSERT_TRUE(r.ok()) << r.error().message;  // a refusal is an answer
    EXPECT_FALSE(r.value().accepted);
    EXPECT_EQ(r.value().protocol, "");
    EXPECT_EQ(r.value().cipher, "");
    EXPECT_EQ(r.value().alpn, "");
    EXPECT_NE(r.value().error, "");
    EXPECT_TRUE(r.value().error.find("closed") != std::string::npos ||
                r.value().error.find("reset") != std::string::npos)
        << r.value().error;
    EXPECT_LT(elapsed_ms(start), 2000);
    // 0x16 0x03 0x01 <hi>: what a 15 server takes for the packet length.
    auto log = server.log(1);
    ASSERT_EQ(log.size(), 1u);
    ASSERT_EQ(log.begin()->rfind("startup length ", 0), 0u) << *log.begin();
    unsigned long length = std::stoul(log.begin()->substr(15));
    EXPECT_EQ(length >> 16, 0x1603u) << length;  // a handshake record of TLS 1.x
    // The SSLRequest probes of the same server are unaffected.
    auto versions = probe_protocols(local(server.port()));
    ASSERT_TRUE(versions.ok()) << versions.error().message;
    EXPECT_TRUE(versions.value().back().accepted);
}

TEST(ProbeDirectTest, HandshakeWithoutAlpnIsNotAccepted) {
    FakeServer server(pg_server(DirectMode::NoAlpn));
    auto r = probe_direct_tls(local(server.port()));
    ASSERT_TRUE(r.ok()) << r.error().message;
    EXPECT_FALSE(r.value().accepted);
    EXPECT_EQ(r.value().alpn, "");
    EXPECT_EQ(r.value().protocol, "TLSv1.3");  // the handshake itself completed
    EXPECT_FALSE(r.value().cipher.empty());
    EXPECT_NE(r.value().error.find("selected no ALPN protocol"), std::string::npos) << r.value().error;
    EXPECT_EQ(server.log(1), (std::set<std::string>{"direct TLSv1.3 " + r.value().cipher + " alpn="}));
}

TEST(ProbeDirectTest, AlpnMismatchIsARefusedHandshake) {
    FakeServer server(pg_server(DirectMode::OtherAlpn));
    auto r = probe_direct_tls(local(server.port()));
    ASSERT_TRUE(r.ok()) << r.error().message;
    EXPECT_FALSE(r.value().accepted);
    EXPECT_EQ(r.value().error.rfind("TLS handshake failed: ", 0), 0u) << r.value().error;
    EXPECT_NE(r.value().error.find("application protocol"), std::string::npos) << r.value().error;
}

TEST(ProbeDirectTest, UnknownAnswersAreErrors) {
    ClosedPort closed;
    auto refused = probe_direct_tls(local(closed.port));
    ASSERT_FALSE(refused.ok());
    EXPECT_EQ(refused.error().sqlstate, sqlstate::kCannotConnect);

    FakeServer silent([](int fd, FakeServer &s) { s.hold(fd); });
    auto start = Clock::now();
    auto slow = probe_direct_tls(local(silent.port(), 300));
    ASSERT_FALSE(slow.ok());
    EXPECT_EQ(slow.error().message, "timed out after 300 ms while handshaking");
    EXPECT_LT(elapsed_ms(start), 900);

    auto bad = probe_direct_tls(local(0));
    ASSERT_FALSE(bad.ok());
    EXPECT_EQ(bad.error().sqlstate, sqlstate::kInvalidParameter);
}

TEST(ProbeDirectTest, CancelStopsIt) {
    const long window = std::getenv("TLS_AUDIT_UNDER_VALGRIND") != nullptr ? 2000 : 200;
    FakeServer server([](int fd, FakeServer &s) { s.hold(fd); });
    auto caller = std::this_thread::get_id();
    for (bool whole : {false, true}) {
        std::atomic<bool> other_thread{false};
        auto start = Clock::now();
        CancelCheck cancel = [&] {
            if (std::this_thread::get_id() != caller) other_thread = true;
            return elapsed_ms(start) >= window;
        };
        ProbeTarget t = local(server.port(), 10000 + static_cast<int>(window) * 10);
        Error err;
        if (whole) {
            auto r = probe_target_with_direct_tls(t, cancel);
            ASSERT_FALSE(r.ok());
            err = r.error();
        } else {
            auto r = probe_direct_tls(t, cancel);
            ASSERT_FALSE(r.ok());
            err = r.error();
        }
        long took = elapsed_ms(start);
        EXPECT_EQ(err.sqlstate, sqlstate::kQueryCanceled) << err.message;
        EXPECT_GE(took, window);
        EXPECT_LT(took, 2 * window);
        EXPECT_FALSE(other_thread);
    }
}

TEST(ProbeDirectTest, TargetWithDirectTlsAddsOneConnection) {
    for (DirectMode mode : {DirectMode::Postgres17, DirectMode::Postgres15}) {
        FakeServer server(pg_server(mode));
        ProbeTarget t = local(server.port());
        auto r = probe_target_with_direct_tls(t);
        ASSERT_TRUE(r.ok()) << r.error().message;
        ASSERT_TRUE(r.value().chain);
        EXPECT_EQ(r.value().protocols.size(), 4u);
        ASSERT_TRUE(r.value().direct_tls);
        ASSERT_TRUE(r.value().direct_tls->ok()) << r.value().direct_tls->error().message;
        EXPECT_EQ(r.value().direct_tls->value().accepted, mode == DirectMode::Postgres17);
        EXPECT_EQ(server.accepted(), 6);
        // Without it: no direct answer, five connections.
        FakeServer plain(pg_server(mode));
        auto p = probe_target(local(plain.port()));
        ASSERT_TRUE(p.ok());
        EXPECT_FALSE(p.value().direct_tls);
        EXPECT_EQ(plain.accepted(), 5);
    }
}

TEST(ProbeDirectTest, UnknownDirectAnswerDoesNotFailTheTarget) {
    // SSLRequest answered, a direct handshake left hanging: the target's
    // report stands, its direct answer is the timeout.
    FakeServer server([](int fd, FakeServer &s) {
        unsigned char first = 0;
        if (::recv(fd, &first, 1, MSG_PEEK) != 1) return;
        if (first == 0x16) s.hold(fd);
        else tls_server()(fd, s);
    });
    auto r = probe_target_with_direct_tls(local(server.port(), 500));
    ASSERT_TRUE(r.ok()) << r.error().message;
    ASSERT_TRUE(r.value().direct_tls);
    ASSERT_FALSE(r.value().direct_tls->ok());
    EXPECT_EQ(r.value().direct_tls->error().message, "timed out after 500 ms while handshaking");
    // A target that cannot be reached fails as a whole.
    ClosedPort closed;
    auto c = probe_target_with_direct_tls(local(closed.port));
    ASSERT_FALSE(c.ok());
    EXPECT_EQ(c.error().sqlstate, sqlstate::kCannotConnect);
}

TEST(ProbeDirectTest, OverASocketPair) {
    int sv[2];
    ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    FakeServer unused([](int, FakeServer &) {});
    std::thread peer([&] {
        pg_server(DirectMode::Postgres17)(sv[1], unused);
        ::close(sv[1]);
    });
    auto r = probe_direct_tls_on_fd(sv[0], local(5432));
    peer.join();
    ::close(sv[0]);
    ASSERT_TRUE(r.ok()) << r.error().message;
    EXPECT_TRUE(r.value().accepted);
    EXPECT_EQ(unused.log(1).size(), 1u);
}
