// Cipher-suite and group enumeration against in-process loopback TLS servers
// configured like a PostgreSQL server would be (ssl_ciphers, ssl_prefer_server_ciphers,
// ssl_ecdh_curve, ssl_min/max_protocol_version, DH parameters).
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstring>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "base/openssl_ptr.hpp"
#include "probe/probe_enumerate.hpp"
#include "probe/probe_sslrequest.hpp"
#include "checks/checks.hpp"
#include "test_certs.hpp"

using namespace tls_audit;

namespace {

struct ServerConfig {
    std::string ciphers = "HIGH:!aNULL";   // ssl_ciphers
    std::string suites13;                  // empty: OpenSSL's default
    std::string groups;                    // empty: OpenSSL's default
    bool prefer_server = true;             // ssl_prefer_server_ciphers
    int min_version = TLS1_2_VERSION;
    int max_version = TLS1_3_VERSION;
    bool dh_auto = true;
    bool answer_n = false;  // answer SSLRequest with 'N'
};

// Accepts connections on 127.0.0.1, one thread each, until destroyed.
class TlsServer {
  public:
    explicit TlsServer(ServerConfig cfg) : cfg_(std::move(cfg)) {
        signal(SIGPIPE, SIG_IGN);
        ctx_.reset(SSL_CTX_new(TLS_server_method()));
        std::string dir = test::cert_dir();
        SSL_CTX_set_security_level(ctx_.get(), 0);
        EXPECT_EQ(SSL_CTX_set_cipher_list(ctx_.get(), cfg_.ciphers.c_str()), 1);
        if (!cfg_.suites13.empty()) {
            EXPECT_EQ(SSL_CTX_set_ciphersuites(ctx_.get(), cfg_.suites13.c_str()), 1);
        }
        if (!cfg_.groups.empty()) {
            EXPECT_EQ(SSL_CTX_set1_groups_list(ctx_.get(), cfg_.groups.c_str()), 1);
        }
        if (cfg_.prefer_server) SSL_CTX_set_options(ctx_.get(), SSL_OP_CIPHER_SERVER_PREFERENCE);
        if (cfg_.dh_auto) SSL_CTX_set_dh_auto(ctx_.get(), 1);
        SSL_CTX_set_min_proto_version(ctx_.get(), cfg_.min_version);
        SSL_CTX_set_max_proto_version(ctx_.get(), cfg_.max_version);
        EXPECT_EQ(SSL_CTX_use_certificate_chain_file(ctx_.get(), (dir + "/server-chain.crt").c_str()), 1);
        EXPECT_EQ(SSL_CTX_use_PrivateKey_file(ctx_.get(), (dir + "/server.key").c_str(), SSL_FILETYPE_PEM), 1);
        fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        EXPECT_EQ(::bind(fd_, reinterpret_cast<sockaddr *>(&addr), sizeof addr), 0);
        EXPECT_EQ(::listen(fd_, 64), 0);
        socklen_t len = sizeof addr;
        getsockname(fd_, reinterpret_cast<sockaddr *>(&addr), &len);
        port_ = ntohs(addr.sin_port);
        acceptor_ = std::thread([this] { loop(); });
    }
    ~TlsServer() {
        stop_ = true;
        ::shutdown(fd_, SHUT_RDWR);
        acceptor_.join();
        for (auto &t : threads_) t.join();
        ::close(fd_);
    }
    int port() const { return port_; }
    int connections() const { return accepted_; }

  private:
    void loop() {
        for (;;) {
            int fd = ::accept(fd_, nullptr, nullptr);
            if (fd < 0 || stop_) {
                if (fd >= 0) ::close(fd);
                return;
            }
            ++accepted_;
            threads_.emplace_back([this, fd] {
                timeval tv{5, 0};
                setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
                serve(fd);
                ::close(fd);
            });
        }
    }
    void serve(int fd) {
        unsigned char req[8];
        std::size_t got = 0;
        while (got < sizeof req) {
            ssize_t r = ::recv(fd, req + got, sizeof req - got, 0);
            if (r <= 0) return;
            got += static_cast<std::size_t>(r);
        }
        if (std::memcmp(req, kSslRequest, sizeof req) != 0) return;
        (void)::send(fd, cfg_.answer_n ? "N" : "S", 1, MSG_NOSIGNAL);
        if (cfg_.answer_n) return;
        SslPtr ssl(SSL_new(ctx_.get()));
        SSL_set_fd(ssl.get(), fd);
        if (SSL_accept(ssl.get()) == 1) {
            char buf[64];
            while (SSL_read(ssl.get(), buf, sizeof buf) > 0) {
            }
        }
        ERR_clear_error();
    }

    ServerConfig cfg_;
    SslCtxPtr ctx_;
    int fd_ = -1;
    int port_ = 0;
    std::atomic<bool> stop_{false};
    std::atomic<int> accepted_{0};
    std::thread acceptor_;
    std::vector<std::thread> threads_;
};

ProbeTarget local(int port) {
    ProbeTarget t;
    t.host = "127.0.0.1";
    t.port = port;
    t.timeout_ms = 30000;  // a loaded test machine must not turn into a timeout
    return t;
}

std::vector<std::string> names(const ProtocolSuites &p) {
    std::vector<std::string> out;
    for (const auto &s : p.suites) out.push_back(s.facts.name);
    return out;
}

const ProtocolSuites &of(const CipherEnumeration &e, Protocol p) {
    for (const auto &x : e.protocols)
        if (x.protocol == p) return x;
    throw std::runtime_error("protocol missing");
}

std::vector<std::string> sorted(std::vector<std::string> v) {
    std::sort(v.begin(), v.end());
    return v;
}

}  // namespace

TEST(CipherStrength, SameRulesAsWeakCiphers) {
    // The rule table of the weak_ciphers check decides the strength.
    auto strong = describe_suite("ECDHE-RSA-AES128-GCM-SHA256");
    ASSERT_TRUE(strong);
    EXPECT_EQ(strong->strength, CipherStrength::Strong);
    EXPECT_EQ(strong->key_exchange, "ECDHE");
    EXPECT_EQ(strong->authentication, "RSA");
    EXPECT_EQ(strong->encryption, "AES-128-GCM");
    EXPECT_EQ(strong->facts.bits, 128);
    auto rsa = describe_suite("AES128-SHA");
    ASSERT_TRUE(rsa);
    EXPECT_EQ(rsa->strength, CipherStrength::Weak);  // no forward secrecy: a warning
    EXPECT_FALSE(cipher_weaknesses(rsa->facts).empty());
    auto anon = describe_suite("ADH-AES128-SHA");
    ASSERT_TRUE(anon);
    EXPECT_EQ(anon->strength, CipherStrength::Insecure);  // anonymous: critical
    EXPECT_EQ(anon->authentication, "none");
    auto null = describe_suite("NULL-SHA256");
    ASSERT_TRUE(null);
    EXPECT_EQ(null->strength, CipherStrength::Insecure);
    EXPECT_EQ(null->encryption, "none");
    auto v13 = describe_suite("TLS_AES_256_GCM_SHA384");
    ASSERT_TRUE(v13);
    EXPECT_EQ(v13->strength, CipherStrength::Strong);
    EXPECT_EQ(v13->key_exchange, "any");
    EXPECT_FALSE(describe_suite("NO-SUCH-SUITE"));
    EXPECT_STREQ(cipher_strength_name(CipherStrength::Weak), "weak");
}

TEST(CipherCandidates, PerProtocol) {
    auto v12 = candidate_suites(Protocol::TLSv1_2);
    auto v10 = candidate_suites(Protocol::TLSv1);
    auto v13 = candidate_suites(Protocol::TLSv1_3);
    EXPECT_GT(v12.size(), 40u);
    EXPECT_NE(std::find(v12.begin(), v12.end(), "ECDHE-RSA-AES128-GCM-SHA256"), v12.end());
    EXPECT_NE(std::find(v12.begin(), v12.end(), "NULL-SHA256"), v12.end());  // COMPLEMENTOFALL
    // GCM suites do not exist before TLS 1.2.
    EXPECT_EQ(std::find(v10.begin(), v10.end(), "ECDHE-RSA-AES128-GCM-SHA256"), v10.end());
    EXPECT_NE(std::find(v10.begin(), v10.end(), "ECDHE-RSA-AES128-SHA"), v10.end());
    EXPECT_EQ(v13.size(), 5u);
    for (const auto &n : v12) EXPECT_EQ(n.rfind("TLS_", 0), std::string::npos) << n;
    // PSK suites cannot be offered without credentials.
    auto untestable = untestable_suites();
    EXPECT_NE(std::find(untestable.begin(), untestable.end(), "PSK-AES128-GCM-SHA256"), untestable.end());
    EXPECT_EQ(std::find(untestable.begin(), untestable.end(), "ECDHE-RSA-AES128-GCM-SHA256"), untestable.end());
}

TEST(EnumerateCiphers, MixedListWithServerOrder) {
    ServerConfig cfg;
    cfg.ciphers = "ECDHE-RSA-AES256-GCM-SHA384:AES128-SHA:ECDHE-RSA-AES128-GCM-SHA256:DHE-RSA-AES128-SHA";
    cfg.suites13 = "TLS_CHACHA20_POLY1305_SHA256:TLS_AES_128_GCM_SHA256";
    cfg.min_version = TLS1_VERSION;
    TlsServer server(cfg);
    auto e = enumerate_ciphers(local(server.port()));
    ASSERT_TRUE(e) << e.error().message;
    ASSERT_EQ(e.value().protocols.size(), 4u);

    const auto &v12 = of(e.value(), Protocol::TLSv1_2);
    // The server's own order, exactly its list.
    EXPECT_EQ(names(v12), (std::vector<std::string>{"ECDHE-RSA-AES256-GCM-SHA384", "AES128-SHA",
                                                    "ECDHE-RSA-AES128-GCM-SHA256", "DHE-RSA-AES128-SHA"}));
    ASSERT_TRUE(v12.server_preference);
    EXPECT_TRUE(*v12.server_preference);
    EXPECT_EQ(v12.suites[1].strength, CipherStrength::Weak);
    EXPECT_EQ(v12.suites[0].strength, CipherStrength::Strong);

    // GCM does not exist in TLS 1.0: only the CBC suites.
    const auto &v10 = of(e.value(), Protocol::TLSv1);
    EXPECT_EQ(names(v10), (std::vector<std::string>{"AES128-SHA", "DHE-RSA-AES128-SHA"}));
    EXPECT_TRUE(v10.refusal.empty());

    const auto &v13 = of(e.value(), Protocol::TLSv1_3);
    EXPECT_EQ(names(v13), (std::vector<std::string>{"TLS_CHACHA20_POLY1305_SHA256", "TLS_AES_128_GCM_SHA256"}));
    ASSERT_TRUE(v13.server_preference);
    EXPECT_TRUE(*v13.server_preference);
}

TEST(EnumerateCiphers, ClientOrderAndRefusedVersions) {
    ServerConfig cfg;
    cfg.ciphers = "AES256-SHA:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-CHACHA20-POLY1305";
    cfg.prefer_server = false;
    cfg.max_version = TLS1_2_VERSION;
    TlsServer server(cfg);
    auto e = enumerate_ciphers(local(server.port()));
    ASSERT_TRUE(e) << e.error().message;
    const auto &v12 = of(e.value(), Protocol::TLSv1_2);
    EXPECT_EQ(sorted(names(v12)),
              sorted({"AES256-SHA", "ECDHE-RSA-AES128-GCM-SHA256", "ECDHE-RSA-CHACHA20-POLY1305"}));
    ASSERT_TRUE(v12.server_preference);
    EXPECT_FALSE(*v12.server_preference);
    for (Protocol p : {Protocol::TLSv1, Protocol::TLSv1_1, Protocol::TLSv1_3}) {
        const auto &x = of(e.value(), p);
        EXPECT_TRUE(x.suites.empty()) << protocol_name(p);
        EXPECT_FALSE(x.server_preference);
        EXPECT_FALSE(x.refusal.empty()) << protocol_name(p);
    }
}

TEST(EnumerateCiphers, SingleSuiteHasNoPreference) {
    ServerConfig cfg;
    cfg.ciphers = "ECDHE-RSA-AES128-GCM-SHA256";
    cfg.suites13 = "TLS_AES_256_GCM_SHA384";
    TlsServer server(cfg);
    auto e = enumerate_ciphers(local(server.port()));
    ASSERT_TRUE(e) << e.error().message;
    EXPECT_EQ(names(of(e.value(), Protocol::TLSv1_2)), (std::vector<std::string>{"ECDHE-RSA-AES128-GCM-SHA256"}));
    EXPECT_FALSE(of(e.value(), Protocol::TLSv1_2).server_preference);
    EXPECT_EQ(names(of(e.value(), Protocol::TLSv1_3)), (std::vector<std::string>{"TLS_AES_256_GCM_SHA384"}));
}

TEST(EnumerateCiphers, FailuresAreErrors) {
    ServerConfig cfg;
    cfg.answer_n = true;
    TlsServer server(cfg);
    auto e = enumerate_ciphers(local(server.port()));
    ASSERT_FALSE(e);
    EXPECT_EQ(e.error().sqlstate, sqlstate::kCannotConnect) << e.error().message;

    ProbeTarget bad = local(0);
    auto v = enumerate_ciphers(bad);
    ASSERT_FALSE(v);
    EXPECT_EQ(v.error().sqlstate, sqlstate::kInvalidParameter);
}

TEST(EnumerateCiphers, Cancel) {
    ServerConfig cfg;
    TlsServer server(cfg);
    auto start = std::chrono::steady_clock::now();
    auto e = enumerate_ciphers(local(server.port()), [] { return true; });
    ASSERT_FALSE(e);
    EXPECT_EQ(e.error().sqlstate, sqlstate::kQueryCanceled);
    EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(2));
}

TEST(EnumerateGroups, CurvesAndDhe) {
    ServerConfig cfg;
    cfg.ciphers = "ECDHE-RSA-AES128-GCM-SHA256:DHE-RSA-AES128-GCM-SHA256";
    cfg.groups = "P-384:x25519:ffdhe3072";
    TlsServer server(cfg);
    auto g = enumerate_groups(local(server.port()));
    ASSERT_TRUE(g) << g.error().message;
    std::vector<std::string> v13, v12;
    for (const auto &s : g.value().groups) {
        if (!s.supported) continue;
        (s.protocol == Protocol::TLSv1_3 ? v13 : v12).push_back(s.group);
    }
    EXPECT_EQ(v13, (std::vector<std::string>{"x25519", "P-384", "ffdhe3072"}));
    EXPECT_EQ(v12, (std::vector<std::string>{"x25519", "P-384"}));
    // Every probed group has a row: 10 for TLS 1.3, 5 curves for TLS 1.2.
    EXPECT_EQ(g.value().groups.size(), 15u);
    EXPECT_TRUE(g.value().dhe_accepted);
    EXPECT_GE(g.value().dhe_bits, 2048);  // dh_auto sizes DH after the RSA-2048 key
}

TEST(EnumerateGroups, NoTls13NoEcdheNoDhe) {
    ServerConfig cfg;
    cfg.ciphers = "AES128-GCM-SHA256";
    cfg.max_version = TLS1_2_VERSION;
    TlsServer server(cfg);
    auto g = enumerate_groups(local(server.port()));
    ASSERT_TRUE(g) << g.error().message;
    EXPECT_TRUE(g.value().groups.empty());
    EXPECT_FALSE(g.value().dhe_accepted);
    EXPECT_EQ(g.value().dhe_bits, 0);
}

TEST(EnumerateTarget, BothAndFast) {
    ServerConfig cfg;
    cfg.ciphers = "HIGH:!aNULL";
    cfg.min_version = TLS1_VERSION;
    TlsServer server(cfg);
    auto start = std::chrono::steady_clock::now();
    auto e = enumerate_target(local(server.port()));
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start).count();
    ASSERT_TRUE(e) << e.error().message;
    const auto &v12 = of(e.value().ciphers, Protocol::TLSv1_2);
    EXPECT_GT(v12.suites.size(), 10u);
    // Offer/remove costs one connection per accepted suite plus one refusal and
    // the preference check per version: far fewer than one per candidate.
    std::size_t accepted = 0;
    for (const auto &p : e.value().ciphers.protocols) accepted += p.suites.size();
    EXPECT_LE(static_cast<std::size_t>(server.connections()), accepted + 5 * 4 + 18);
    EXPECT_FALSE(e.value().groups.groups.empty());
    std::cerr << "enumerate_target: " << accepted << " suites, " << server.connections() << " connections, " << ms
              << " ms\n";
}

TEST(EnumerateTarget, BlackHoleCostsOneTimeout) {
    // Accepts TCP, never answers: every step would time out; the first
    // failure stops the others.
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr *>(&addr), sizeof addr), 0);
    ASSERT_EQ(::listen(fd, 64), 0);
    socklen_t len = sizeof addr;
    getsockname(fd, reinterpret_cast<sockaddr *>(&addr), &len);
    ProbeTarget t = local(ntohs(addr.sin_port));
    t.timeout_ms = 300;
    auto start = std::chrono::steady_clock::now();
    auto e = enumerate_target(t);
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start).count();
    ::close(fd);
    ASSERT_FALSE(e);
    EXPECT_NE(e.error().message.find("timed out"), std::string::npos) << e.error().message;
    EXPECT_LT(ms, 1500);
}
