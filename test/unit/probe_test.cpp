// The STARTTLS and direct TLS probes against in-process loopback servers that answer
// SSLRequest in every way a real or broken server might.
#include <gtest/gtest.h>

#include <cstdlib>

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
#include <random>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "base/openssl_ptr.hpp"
#include "probe/probe.hpp"
#include "probe/probe_direct.hpp"
#include "probe/probe_io.hpp"
#include "probe/probe_sslrequest.hpp"
#include "probe/probe_tls.hpp"
#include "test_certs.hpp"
#include "certs/x509.hpp"
#include "fake_pg_server.hpp"

using namespace tls_audit;
using namespace probe_test;

// --- the pure SSLRequest reply interpretation ---

TEST(ProbeReplyTest, EachRefusalHasItsOwnMessage) {
    Error n = ssl_refusal_error('N', {}, "h:1");
    EXPECT_EQ(n.message, "server does not support SSL");
    EXPECT_EQ(n.sqlstate, sqlstate::kCannotConnect);

    Error h = ssl_refusal_error('H', {}, "h:1");
    EXPECT_EQ(h.message, "not a PostgreSQL server or it refused SSLRequest: got byte 0x48 ('H')");
    EXPECT_EQ(h.sqlstate, sqlstate::kConnectionFailure);

    Error ctl = ssl_refusal_error(0x01, {}, "h:1");
    EXPECT_EQ(ctl.message, "not a PostgreSQL server or it refused SSLRequest: got byte 0x01");

    std::string body = error_response("unsupported frontend protocol 1234.5679").substr(1);
    Error e = ssl_refusal_error('E', body, "h:1");
    EXPECT_EQ(e.message, "server refused SSLRequest with an error: unsupported frontend protocol 1234.5679");
    Error bare = ssl_refusal_error('E', "xx", "h:1");
    EXPECT_NE(bare.message, e.message);
    EXPECT_EQ(bare.message, "server refused SSLRequest with an error (its message could not be read)");
    // The old-style error PostgreSQL writes before it knows the protocol:
    // 'E', the text, a NUL, no length word.
    Error old = ssl_refusal_error('E', std::string("FATAL:  sorry, too many clients already\n\0", 41), "h:1");
    EXPECT_EQ(old.message, "server refused SSLRequest with an error: FATAL:  sorry, too many clients already");
}

TEST(ProbeReplyTest, ErrorResponseParsingIsBounded) {
    std::string good = error_response("hello").substr(1);
    EXPECT_EQ(error_response_message(good), "hello");
    // Truncated anywhere: no message, no crash.
    for (std::size_t n = 0; n < good.size() - 2; ++n)
        EXPECT_EQ(error_response_message(good.substr(0, n)), "") << n;
    // Non-printable bytes are replaced, long text is cut.
    std::string raw = error_response(std::string("a\x01\x7f") + std::string(500, 'x')).substr(1);
    std::string msg = error_response_message(raw);
    EXPECT_EQ(msg.substr(0, 3), "a??");
    EXPECT_EQ(msg.size(), 203u);
    // A length beyond the limit is refused.
    std::string huge = "\x7f\xff\xff\xff" "Mhi";
    EXPECT_EQ(error_response_message(huge), "");
}

// --- argument checks ---

TEST(ProbeArgsTest, RejectsBadTargets) {
    ProbeTarget t = local(5432);
    EXPECT_FALSE(validate_target(t));
    t.port = 0;
    EXPECT_EQ(validate_target(t)->sqlstate, sqlstate::kInvalidParameter);
    t.port = 65536;
    EXPECT_TRUE(validate_target(t));
    t = local(5432);
    t.host.clear();
    EXPECT_EQ(validate_target(t)->message, "host must not be empty");
    t = local(5432, 0);
    EXPECT_TRUE(validate_target(t));
    t = local(5432);
    t.host = std::string("a\0b", 3);
    EXPECT_TRUE(validate_target(t));
    auto r = probe_chain(local(5432, -1));
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().sqlstate, sqlstate::kInvalidParameter);
}

TEST(ProbeArgsTest, UnreadableCaFileIsABadArgument) {
    FakeServer server(tls_server());
    ProbeTarget t = local(server.port());
    t.ca_file = cert_path("garbage.txt");
    auto r = probe_chain(t);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().sqlstate, sqlstate::kInvalidParameter);
    EXPECT_NE(r.error().message.find("could not load CA file"), std::string::npos);
    EXPECT_EQ(server.accepted(), 0);  // checked before connecting
}

// --- connection-level errors, each distinct ---

TEST(ProbeErrorTest, ClosedPortIsConnectionRefused) {
    ClosedPort closed;
    auto start = Clock::now();
    auto r = probe_chain(local(closed.port));
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().sqlstate, sqlstate::kCannotConnect);
    EXPECT_NE(r.error().message.find("connection refused"), std::string::npos) << r.error().message;
    EXPECT_LT(elapsed_ms(start), 1000);
    auto all = probe_target(local(closed.port));
    ASSERT_FALSE(all.ok());
    EXPECT_NE(all.error().message.find("connection refused"), std::string::npos);
}

TEST(ProbeErrorTest, NoSslAnswer) {
    FakeServer server(answer("N"));
    auto r = probe_chain(local(server.port()));
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().message, "server does not support SSL");
    auto versions = probe_protocols(local(server.port()));
    ASSERT_FALSE(versions.ok());
    EXPECT_EQ(versions.error().message, "server does not support SSL");
}

TEST(ProbeErrorTest, GarbageAnswer) {
    FakeServer server(answer("HTTP/1.1 400 Bad Request\r\n\r\n"));
    auto r = probe_chain(local(server.port()));
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().message, "not a PostgreSQL server or it refused SSLRequest: got byte 0x48 ('H')");
}

TEST(ProbeErrorTest, ErrorResponseAnswer) {
    FakeServer server(answer(error_response("unsupported frontend protocol 1234.5679")));
    auto r = probe_chain(local(server.port()));
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().message, "server refused SSLRequest with an error: unsupported frontend protocol 1234.5679");
}

TEST(ProbeErrorTest, ClosedWithoutAnswer) {
    FakeServer server([](int fd, FakeServer &) { read_ssl_request(fd); });
    auto r = probe_chain(local(server.port()));
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().message, "server closed the connection before answering SSLRequest");
}

TEST(ProbeErrorTest, SilentServerTimesOutWaitingForTheAnswer) {
    FakeServer server([](int fd, FakeServer &s) { s.hold(fd); });
    auto start = Clock::now();
    auto r = probe_chain(local(server.port(), 300));
    long took = elapsed_ms(start);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().message, "timed out after 300 ms while waiting for the answer to SSLRequest");
    EXPECT_GE(took, 290);
    EXPECT_LT(took, 900);
}

TEST(ProbeErrorTest, StalledHandshakeTimesOut) {
    // 'S', then nothing: the ClientHello goes unanswered.
    FakeServer server([](int fd, FakeServer &s) {
        if (!read_ssl_request(fd)) return;
        send_text(fd, "S");
        s.hold(fd);
    });
    auto r = probe_chain(local(server.port(), 300));
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().message, "timed out after 300 ms while handshaking");
    EXPECT_EQ(r.error().sqlstate, sqlstate::kConnectionFailure);
    // Inconclusive, so the enumeration as a whole fails rather than saying "not accepted".
    auto v = probe_protocols(local(server.port(), 300));
    ASSERT_FALSE(v.ok());
    EXPECT_EQ(v.error().message, "timed out after 300 ms while handshaking");
}

// A port that answers 'S' and then is no TLS server: every version's answer
// is unknown (the whole probe fails: UNKNOWN in pg_tls_check), never "accepts
// none of TLSv1 to TLSv1.3".
TEST(ProbeErrorTest, TlsGarbageAfterSIsNotTls) {
    FakeServer server(answer("Shello, this is not TLS at all........"));
    auto r = probe_chain(local(server.port()));
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().message.rfind("server sent something that is not TLS during the TLS handshake: first bytes "
                                      "68 65 6c 6c 6f",
                                      0),
              0u)
        << r.error().message;
    auto all = probe_target(local(server.port()));
    ASSERT_FALSE(all.ok());
    EXPECT_TRUE(is_not_tls_answer(all.error().message)) << all.error().message;
    EXPECT_EQ(all.error().sqlstate, sqlstate::kConnectionFailure);
}

TEST(ProbeErrorTest, SThenCloseIsClosedDuringTheHandshake) {
    FakeServer server(answer("S"));
    auto all = probe_target(local(server.port()));
    ASSERT_FALSE(all.ok());
    EXPECT_EQ(all.error().message, "server closed the connection during the TLS handshake");
    auto versions = probe_protocols(local(server.port()));
    ASSERT_FALSE(versions.ok());
    EXPECT_EQ(versions.error().message, "server closed the connection during the TLS handshake");
}

TEST(ProbeErrorTest, SThenHttpOrRandomBytesIsNotTls) {
    std::mt19937 rng(31);
    std::vector<std::string> answers = {"SHTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n"};
    for (int i = 0; i < 4; ++i) {
        std::string junk = "S";
        for (int k = 0; k < 64; ++k) junk += static_cast<char>(rng() % 256);
        junk[1] = static_cast<char>(0x30 + i);  // never a TLS record type (20..24)
        answers.push_back(junk);
    }
    for (const std::string &a : answers) {
        FakeServer server(answer(a));
        auto all = probe_target(local(server.port()));
        ASSERT_FALSE(all.ok());
        EXPECT_TRUE(is_not_tls_answer(all.error().message)) << all.error().message;
        EXPECT_NE(all.error().message.find("not TLS"), std::string::npos) << all.error().message;
    }
}

TEST(ProbeErrorTest, OldStyleErrorAnswerShowsItsMessage) {
    FakeServer server(answer(std::string("EFATAL:  sorry, too many clients already\n\0", 42)));
    auto r = probe_target(local(server.port()));
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().message, "server refused SSLRequest with an error: FATAL:  sorry, too many clients already");
}

TEST(ProbeReplyTest, TlsRecordsAreToldFromOtherBytes) {
    const unsigned char alert[] = {0x15, 0x03, 0x03, 0x00, 0x02};
    const unsigned char hello[] = {0x16, 0x03, 0x01};
    const unsigned char http[] = {'H', 'T', 'T', 'P'};
    const unsigned char bad_version[] = {0x16, 0x48};
    EXPECT_TRUE(looks_like_tls_record(alert, sizeof alert));
    EXPECT_TRUE(looks_like_tls_record(hello, sizeof hello));
    EXPECT_TRUE(looks_like_tls_record(hello, 1));
    EXPECT_FALSE(looks_like_tls_record(http, sizeof http));
    EXPECT_FALSE(looks_like_tls_record(bad_version, sizeof bad_version));
    EXPECT_FALSE(looks_like_tls_record(hello, 0));
    EXPECT_FALSE(is_not_tls_answer("TLS handshake failed: tlsv1 alert protocol version"));
    EXPECT_TRUE(is_not_tls_answer("server closed the connection during the TLS handshake"));
}

TEST(ProbeErrorTest, FullBacklogTimesOutWhileConnecting) {
    // A listener that never accepts: once its queue is full the kernel drops
    // further SYNs, as a firewall black hole does.
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr *>(&addr), sizeof addr), 0);
    ASSERT_EQ(::listen(fd, 0), 0);
    socklen_t len = sizeof addr;
    getsockname(fd, reinterpret_cast<sockaddr *>(&addr), &len);
    std::vector<int> fillers;
    for (int i = 0; i < 4; ++i) {
        int c = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
        (void)::connect(c, reinterpret_cast<sockaddr *>(&addr), sizeof addr);
        fillers.push_back(c);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    auto start = Clock::now();
    auto r = probe_chain(local(ntohs(addr.sin_port), 300));
    long took = elapsed_ms(start);
    for (int c : fillers) ::close(c);
    ::close(fd);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().message, "timed out after 300 ms while connecting to 127.0.0.1:" +
                                     std::to_string(ntohs(addr.sin_port)));
    EXPECT_EQ(r.error().sqlstate, sqlstate::kCannotConnect);
    EXPECT_LT(took, 900);
}

TEST(ProbeErrorTest, UnresolvableNameHasItsOwnError) {
    ProbeTarget t = local(5432);
    t.host = "no-such-host.invalid";  // RFC 6761: never resolves
    auto r = probe_chain(t);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().sqlstate, sqlstate::kCannotConnect);
    EXPECT_EQ(r.error().message.rfind("could not resolve host \"no-such-host.invalid\"", 0), 0u)
        << r.error().message;
}

// --- cancel ---

TEST(ProbeCancelTest, CancelStopsAWaitingProbe) {
    // Under valgrind everything runs ~10x slower: widen the window rather than
    // the meaning (cancel at T, stopped within another T, asked repeatedly).
    const long window = std::getenv("TLS_AUDIT_UNDER_VALGRIND") != nullptr ? 2000 : 200;
    FakeServer server([](int fd, FakeServer &s) { s.hold(fd); });
    for (bool whole : {false, true}) {
        auto start = Clock::now();
        int calls = 0;
        CancelCheck cancel = [&] {
            ++calls;
            return elapsed_ms(start) >= window;
        };
        Error err;
        if (whole) {
            auto r = probe_target(local(server.port(), 10000 + static_cast<int>(window) * 10), cancel);
            ASSERT_FALSE(r.ok());
            err = r.error();
        } else {
            auto r = probe_chain(local(server.port(), 10000 + static_cast<int>(window) * 10), cancel);
            ASSERT_FALSE(r.ok());
            err = r.error();
        }
        long took = elapsed_ms(start);
        EXPECT_EQ(err.sqlstate, sqlstate::kQueryCanceled) << err.message;
        EXPECT_GE(took, window);
        EXPECT_LT(took, 2 * window) << (whole ? "probe_target" : "probe_chain");
        EXPECT_GE(calls, 2);  // asked repeatedly while waiting
    }
}

TEST(ProbeCancelTest, CancelIsCalledOnlyOnTheCallingThread) {
    FakeServer server([](int fd, FakeServer &s) { s.hold(fd); });
    auto caller = std::this_thread::get_id();
    std::atomic<bool> other_thread{false};
    auto start = Clock::now();
    auto r = probe_target(local(server.port(), 10000), [&] {
        if (std::this_thread::get_id() != caller) other_thread = true;
        return elapsed_ms(start) >= 150;
    });
    ASSERT_FALSE(r.ok());
    EXPECT_FALSE(other_thread);
}

// --- a real handshake: chain and verification ---

TEST(ProbeChainTest, ReportsChainAndVerifiesAgainstTheBundle) {
    FakeServer server(tls_server());
    ProbeTarget t = local(server.port());
    t.ca_file = cert_path("ca-bundle.crt");
    auto r = probe_chain(t);
    ASSERT_TRUE(r.ok()) << r.error().message;
    const ChainReport &c = r.value();
    auto presented = parse_certificates(test::read_cert_file("server-chain.crt"));
    ASSERT_TRUE(presented.ok());
    ASSERT_EQ(c.certificates.size(), presented.value().size());
    for (std::size_t i = 0; i < presented.value().size(); ++i)
        EXPECT_EQ(c.certificates[i].sha256, sha256_hex(presented.value()[i].get())) << i;
    EXPECT_TRUE(c.verified) << c.verify_error;
    EXPECT_EQ(c.verify_error, "");
    EXPECT_TRUE(c.hostname_match);  // SAN IP:127.0.0.1
    EXPECT_EQ(c.server_name, "127.0.0.1");
    EXPECT_EQ(server.log(1), (std::set<std::string>{c.protocol + " " + c.cipher}));
    EXPECT_FALSE(c.key_exchange_group.empty());
}

TEST(ProbeChainTest, RootAloneVerifiesThroughThePresentedIntermediate) {
    FakeServer server(tls_server());
    ProbeTarget t = local(server.port());
    t.ca_file = cert_path("root.crt");
    auto r = probe_chain(t);
    ASSERT_TRUE(r.ok()) << r.error().message;
    EXPECT_TRUE(r.value().verified) << r.value().verify_error;
}

TEST(ProbeChainTest, UnknownCaFailsVerificationButKeepsTheChain) {
    FakeServer server(tls_server());
    ProbeTarget t = local(server.port());
    t.ca_file = cert_path("selfsigned.crt");
    auto r = probe_chain(t);
    ASSERT_TRUE(r.ok()) << r.error().message;
    EXPECT_FALSE(r.value().verified);
    EXPECT_EQ(r.value().verify_error, "unable to get local issuer certificate");
    EXPECT_EQ(r.value().certificates.size(), 2u);
    EXPECT_TRUE(r.value().hostname_match);  // the name is fine, the issuer is not
}

TEST(ProbeChainTest, ExpiredLeafFailsVerification) {
    FakeServer server(tls_server(TLS1_VERSION, TLS1_3_VERSION, "expired-chain.crt", "expired.key"));
    ProbeTarget t = local(server.port());
    t.ca_file = cert_path("ca-bundle.crt");
    auto r = probe_chain(t);
    ASSERT_TRUE(r.ok()) << r.error().message;
    EXPECT_FALSE(r.value().verified);
    EXPECT_EQ(r.value().verify_error, "certificate has expired");
    EXPECT_LT(r.value().certificates[0].not_after, static_cast<std::int64_t>(time(nullptr)));
}

TEST(ProbeChainTest, HostnameMismatchIsReportedSeparately) {
    FakeServer server(tls_server());
    ProbeTarget t = local(server.port());
    t.ca_file = cert_path("ca-bundle.crt");
    t.sni = "wrong.example";
    auto r = probe_chain(t);
    ASSERT_TRUE(r.ok()) << r.error().message;
    EXPECT_TRUE(r.value().verified);
    EXPECT_FALSE(r.value().hostname_match);
    t.sni = "localhost";
    r = probe_chain(t);
    ASSERT_TRUE(r.ok());
    EXPECT_TRUE(r.value().hostname_match);
}

TEST(ProbeChainTest, SniReachesTheServer) {
    FakeServer server([](int fd, FakeServer &s) {
        if (!read_ssl_request(fd)) return;
        send_text(fd, "S");
        SslCtxPtr ctx = server_context("server-chain.crt", "server.key", TLS1_2_VERSION, TLS1_3_VERSION);
        SslPtr ssl(SSL_new(ctx.get()));
        SSL_set_fd(ssl.get(), fd);
        if (SSL_accept(ssl.get()) == 1) {
            const char *name = SSL_get_servername(ssl.get(), TLSEXT_NAMETYPE_host_name);
            s.record(std::string("sni ") + (name != nullptr ? name : "(none)"));
        }
        ERR_clear_error();
    });
    ProbeTarget t = local(server.port());
    t.sni = "db.example";
    ASSERT_TRUE(probe_chain(t).ok());
    EXPECT_EQ(server.log(1), (std::set<std::string>{"sni db.example"}));
    // No SNI for an IP literal (RFC 6066).
    ASSERT_TRUE(probe_chain(local(server.port())).ok());
    EXPECT_EQ(server.log(2), (std::set<std::string>{"sni db.example", "sni (none)"}));
}

// --- per-version enumeration ---

TEST(ProbeProtocolsTest, FloorTls12RefusesOlderVersions) {
    FakeServer server(tls_server(TLS1_2_VERSION, TLS1_3_VERSION));
    auto r = probe_protocols(local(server.port()));
    ASSERT_TRUE(r.ok()) << r.error().message;
    const auto &v = r.value();
    ASSERT_EQ(v.size(), 4u);
    std::set<std::string> client_side;
    for (std::size_t i = 0; i < v.size(); ++i) {
        EXPECT_EQ(v[i].protocol, kProbedProtocols[i]);
        bool expect = v[i].protocol >= Protocol::TLSv1_2;
        EXPECT_EQ(v[i].accepted, expect) << protocol_name(v[i].protocol) << ": " << v[i].error;
        if (v[i].accepted) {
            EXPECT_FALSE(v[i].cipher.empty());
            EXPECT_EQ(v[i].error, "");
            client_side.insert(std::string(protocol_name(v[i].protocol)) + " " + v[i].cipher);
        } else {
            EXPECT_EQ(v[i].cipher, "");
            EXPECT_EQ(v[i].error.rfind("TLS handshake failed: ", 0), 0u) << v[i].error;
        }
    }
    // What the server negotiated, version by version.
    EXPECT_EQ(client_side, server.log(client_side.size()));
}

TEST(ProbeProtocolsTest, AllVersionsWhenTheServerAllowsThem) {
    FakeServer server(tls_server(TLS1_VERSION, TLS1_3_VERSION));
    auto r = probe_protocols(local(server.port()));
    ASSERT_TRUE(r.ok()) << r.error().message;
    std::set<std::string> client_side;
    for (const auto &p : r.value()) {
        EXPECT_TRUE(p.accepted) << protocol_name(p.protocol) << ": " << p.error;
        client_side.insert(std::string(protocol_name(p.protocol)) + " " + p.cipher);
    }
    EXPECT_EQ(client_side, server.log(client_side.size()));
}

TEST(ProbeProtocolsTest, TargetCombinesChainAndVersions) {
    FakeServer server(tls_server(TLS1_1_VERSION, TLS1_2_VERSION));
    ProbeTarget t = local(server.port());
    t.ca_file = cert_path("ca-bundle.crt");
    auto r = probe_target(t);
    ASSERT_TRUE(r.ok()) << r.error().message;
    ASSERT_TRUE(r.value().chain);
    EXPECT_EQ(r.value().chain->protocol, "TLSv1.2");  // the server's best
    EXPECT_TRUE(r.value().chain->verified);
    std::vector<bool> accepted;
    for (const auto &p : r.value().protocols) accepted.push_back(p.accepted);
    EXPECT_EQ(accepted, (std::vector<bool>{false, true, true, false}));
    EXPECT_EQ(server.accepted(), 5);
}

// --- the same code driven over a socketpair, as a fuzzer will ---

TEST(ProbeOnFdTest, SocketPairWithTlsServer) {
    int sv[2];
    ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    FakeServer unused([](int, FakeServer &) {});
    std::thread peer([&] {
        tls_server(TLS1_2_VERSION, TLS1_2_VERSION)(sv[1], unused);
        ::close(sv[1]);
    });
    ProbeTarget t = local(5432);
    auto r = probe_protocol_on_fd(sv[0], t, Protocol::TLSv1_2);
    peer.join();
    ::close(sv[0]);
    ASSERT_TRUE(r.ok()) << r.error().message;
    EXPECT_TRUE(r.value().accepted);
    EXPECT_EQ(unused.log(1), (std::set<std::string>{"TLSv1.2 " + r.value().cipher}));
}

TEST(ProbeOnFdTest, EveryFirstByteIsHandled) {
    // Each possible answer byte, followed by the peer closing: never a hang or
    // a crash, and only 'S' gets as far as TLS.
    for (int b = 0; b < 256; ++b) {
        int sv[2];
        ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
        std::thread peer([&] {
            read_ssl_request(sv[1]);
            unsigned char c = static_cast<unsigned char>(b);
            (void)::send(sv[1], &c, 1, MSG_NOSIGNAL);
            ::close(sv[1]);
        });
        auto r = probe_chain_on_fd(sv[0], local(5432, 1000));
        peer.join();
        ::close(sv[0]);
        ASSERT_FALSE(r.ok());
        if (b == 'S')
            EXPECT_EQ(r.error().message, "server closed the connection during the TLS handshake");
        else if (b == 'N')
            EXPECT_EQ(r.error().message, "server does not support SSL");
        else
            EXPECT_NE(r.error().message.find("refused SSLRequest"), std::string::npos) << b;
    }
}

// --- direct TLS (PostgreSQL 17+, sslnegotiation=direct) ---

// A CA file that cannot be opened said "unknown error".
TEST(ProbeTest, UnreadableCaFileSaysWhy) {
    auto store = load_trust_store("/nonexistent/pg_tls_audit/ca.pem");
    ASSERT_FALSE(store.ok());
    EXPECT_NE(store.error().message.find("No such file or directory"), std::string::npos) << store.error().message;
    EXPECT_EQ(store.error().message.find("unknown error"), std::string::npos) << store.error().message;
}

// The embedding process's wait (a backend's latch) replaces poll() on the
// thread that installed it, and only there.
namespace {
std::atomic<int> hook_calls{0};
int counting_hook(int fd, short events, int timeout_ms) {
    ++hook_calls;
    pollfd p{fd, events, 0};
    return fd < 0 ? 0 : ::poll(&p, 1, timeout_ms);
}
}  // namespace

TEST(ProbeTest, WaitHookServesOnlyItsThread) {
    int sv[2];
    ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    set_wait_hook(counting_hook);
    hook_calls = 0;
    ProbeContext ctx("socketpair", 300, {});
    // Nothing to read: the hook is asked until the deadline.
    auto timeout = wait_fd(sv[0], POLLIN, ctx, "reading", "08006");
    ASSERT_TRUE(timeout.has_value());
    EXPECT_NE(timeout->message.find("timed out"), std::string::npos);
    EXPECT_GE(hook_calls.load(), 2);
    ASSERT_EQ(::write(sv[1], "x", 1), 1);
    ProbeContext ready("socketpair", 300, {});
    EXPECT_FALSE(wait_fd(sv[0], POLLIN, ready, "reading", "08006").has_value());
    const int before = hook_calls.load();
    std::thread other([&] {
        EXPECT_EQ(wait_hook(), nullptr);
        ProbeContext c("socketpair", 300, {});
        EXPECT_FALSE(wait_fd(sv[0], POLLIN, c, "reading", "08006").has_value());
    });
    other.join();
    EXPECT_EQ(hook_calls.load(), before);
    set_wait_hook(nullptr);
    ::close(sv[0]);
    ::close(sv[1]);
}
