// The plaintext acceptance probe: the StartupMessage it sends, how it reads
// the first answer, and that it never says anything after that answer.
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <thread>

#include "probe/probe_plaintext.hpp"

using namespace tls_audit;

namespace {

std::string be32(std::uint32_t v) {
    std::string out;
    for (int shift : {24, 16, 8, 0}) out += static_cast<char>((v >> shift) & 0xff);
    return out;
}

std::string message(char type, const std::string &body) {
    return std::string(1, type) + be32(static_cast<std::uint32_t>(body.size() + 4)) + body;
}

std::string auth(std::uint32_t code, const std::string &extra = {}) { return message('R', be32(code) + extra); }

std::string error_response(const std::string &code, const std::string &text) {
    std::string f = std::string("SFATAL") + '\0' + "VFATAL" + '\0' + "C" + code + '\0' + "M" + text + '\0' + '\0';
    return message('E', f);
}

ProbeTarget local(int port, int timeout_ms = 3000) {
    ProbeTarget t;
    t.host = "127.0.0.1";
    t.port = port;
    t.timeout_ms = timeout_ms;
    return t;
}

// Read the client's StartupMessage (length-prefixed) from fd.
std::string read_startup(int fd) {
    std::string got;
    char buf[512];
    while (got.size() < 4 || got.size() < static_cast<std::size_t>(static_cast<unsigned char>(got[2]) << 8 |
                                                                    static_cast<unsigned char>(got[3]))) {
        ssize_t n = ::recv(fd, buf, sizeof buf, 0);
        if (n <= 0) break;
        got.append(buf, static_cast<std::size_t>(n));
    }
    return got;
}

// Run `peer` on one end of a socketpair and the probe on the other.
// `after` receives what the client sent after the peer's answer, until the
// client closed (or 2 s passed).
struct PairRun {
    Expected<PlaintextReport> result = make_error(sqlstate::kInternal, "not run");
    std::string startup;
    std::string after;
};

PairRun run_pair(const std::string &answer, bool close_after_answer, int timeout_ms = 2000) {
    int sv[2];
    EXPECT_EQ(::socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    PairRun run;
    std::thread peer([&] {
        timeval tv{3, 0};
        setsockopt(sv[1], SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        run.startup = read_startup(sv[1]);
        if (!answer.empty()) (void)::send(sv[1], answer.data(), answer.size(), MSG_NOSIGNAL);
        if (close_after_answer) {
            ::shutdown(sv[1], SHUT_WR);
        }
        char buf[256];
        for (;;) {
            ssize_t n = ::recv(sv[1], buf, sizeof buf, 0);
            if (n <= 0) break;
            run.after.append(buf, static_cast<std::size_t>(n));
        }
        ::close(sv[1]);
    });
    run.result = probe_plaintext_on_fd(sv[0], local(5432, timeout_ms), "probe_user", "probe_db");
    ::close(sv[0]);  // what probe_plaintext's UniqueFd does
    peer.join();
    return run;
}

}  // namespace

TEST(PlaintextMessageTest, StartupMessageLayout) {
    std::string m = build_startup_message("alice", "");
    ASSERT_GE(m.size(), 8u);
    EXPECT_EQ(m.substr(0, 4), be32(static_cast<std::uint32_t>(m.size())));
    EXPECT_EQ(m.substr(4, 4), be32(196608));  // 3.0, not the SSLRequest code
    std::string params = m.substr(8);
    EXPECT_EQ(params, std::string("user\0alice\0application_name\0", 28) + kPlaintextApplicationName +
                          std::string("\0\0", 2));
    std::string with_db = build_startup_message("alice", "sales");
    EXPECT_NE(with_db.find(std::string("database\0sales\0", 15)), std::string::npos);
}

TEST(PlaintextMessageTest, NamesAreValidated) {
    EXPECT_FALSE(validate_startup_names("u", "d"));
    auto empty = validate_startup_names("", "");
    ASSERT_TRUE(empty);
    EXPECT_EQ(empty->sqlstate, "22023");
    EXPECT_TRUE(validate_startup_names(std::string(64, 'u'), ""));
    EXPECT_FALSE(validate_startup_names(std::string(63, 'u'), std::string(63, 'd')));
    EXPECT_TRUE(validate_startup_names("u", std::string(64, 'd')));
    EXPECT_TRUE(validate_startup_names(std::string("a\0b", 3), ""));
    auto r = probe_plaintext(local(1), "", "");
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().sqlstate, "22023");
}

TEST(PlaintextClassifyTest, AuthenticationRequestsAreAccepted) {
    auto ok = classify_plaintext_answer(auth(0), false);
    ASSERT_TRUE(ok);
    EXPECT_EQ(ok->verdict, PlaintextVerdict::Accepted);
    EXPECT_EQ(ok->auth_request, "AuthenticationOk");
    auto md5 = classify_plaintext_answer(auth(5, "salt"), false);
    ASSERT_TRUE(md5);
    EXPECT_EQ(md5->verdict, PlaintextVerdict::Accepted);
    EXPECT_EQ(md5->auth_request, "AuthenticationMD5Password");
    auto sasl = classify_plaintext_answer(
        auth(10, std::string("SCRAM-SHA-256-PLUS\0SCRAM-SHA-256\0\0", 34)), false);
    ASSERT_TRUE(sasl);
    EXPECT_EQ(sasl->verdict, PlaintextVerdict::Accepted);
    EXPECT_EQ(sasl->auth_request, "AuthenticationSASL (SCRAM-SHA-256-PLUS, SCRAM-SHA-256)");
    auto clear = classify_plaintext_answer(auth(3), true);
    ASSERT_TRUE(clear);
    EXPECT_EQ(clear->auth_request, "AuthenticationCleartextPassword");
}

TEST(PlaintextClassifyTest, ErrorResponseIsRefusedWithItsCodeAndMessage) {
    auto r = classify_plaintext_answer(
        error_response("28000", "no pg_hba.conf entry for host \"127.0.0.1\", user \"u\", database \"d\", no encryption"),
        true);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->verdict, PlaintextVerdict::Refused);
    EXPECT_EQ(r->sqlstate, "28000");
    EXPECT_EQ(r->message, "no pg_hba.conf entry for host \"127.0.0.1\", user \"u\", database \"d\", no encryption");
}

TEST(PlaintextClassifyTest, AnythingElseIsUnknown) {
    EXPECT_FALSE(classify_plaintext_answer("", false));           // wait for more
    EXPECT_FALSE(classify_plaintext_answer("R\0\0", false));      // wait for more
    EXPECT_FALSE(classify_plaintext_answer(auth(0).substr(0, 7), false));
    struct Case {
        std::string bytes;
        bool closed;
        const char *detail_part;
    } cases[] = {
        {"", true, "closed the connection without answering"},
        {"SSH-2.0-OpenSSH_9.2\r\n", false, "got byte 0x53 ('S')"},
        {"HTTP/1.1 400 Bad Request\r\n", false, "got byte 0x48 ('H')"},
        {std::string("\x15\x03\x01\x00\x02\x02\x46", 7), false, "got byte 0x15"},
        {"N", false, "got byte 0x4e ('N')"},
        {auth(0).substr(0, 7), true, "in the middle of its answer"},
        {std::string("R") + be32(3) + be32(0), false, "with length 3"},
        {std::string("E") + be32(1u << 20), false, "with length"},
        {auth(11), false, "unexpected authentication message code 11"},
        {message('E', "garbage without terminator"), false, "malformed ErrorResponse"},
    };
    for (const auto &c : cases) {
        auto r = classify_plaintext_answer(c.bytes, c.closed);
        ASSERT_TRUE(r) << c.detail_part;
        EXPECT_EQ(r->verdict, PlaintextVerdict::Unknown) << c.detail_part;
        EXPECT_NE(r->detail.find(c.detail_part), std::string::npos) << r->detail;
    }
}

TEST(PlaintextProbeTest, AcceptedThenSilentClose) {
    // The server asks for a SCRAM exchange and keeps listening: the probe
    // must answer nothing (no password, no SASLInitialResponse) and close.
    PairRun run = run_pair(auth(10, std::string("SCRAM-SHA-256\0\0", 15)), false);
    ASSERT_TRUE(run.result.ok()) << run.result.error().message;
    EXPECT_EQ(run.result.value().verdict, PlaintextVerdict::Accepted);
    EXPECT_EQ(run.result.value().auth_request, "AuthenticationSASL (SCRAM-SHA-256)");
    EXPECT_EQ(run.result.value().user, "probe_user");
    EXPECT_EQ(run.result.value().database, "probe_db");
    EXPECT_EQ(run.startup, build_startup_message("probe_user", "probe_db"));  // no SSLRequest first
    EXPECT_EQ(run.after, "");
}

TEST(PlaintextProbeTest, CleartextPasswordRequestGetsNothing) {
    PairRun run = run_pair(auth(3), false);
    ASSERT_TRUE(run.result.ok());
    EXPECT_EQ(run.result.value().verdict, PlaintextVerdict::Accepted);
    EXPECT_EQ(run.after, "");
}

TEST(PlaintextProbeTest, RefusedOverSocket) {
    PairRun run = run_pair(error_response("28000", "SSL connection is required"), true);
    ASSERT_TRUE(run.result.ok());
    EXPECT_EQ(run.result.value().verdict, PlaintextVerdict::Refused);
    EXPECT_EQ(run.result.value().sqlstate, "28000");
    EXPECT_EQ(run.result.value().message, "SSL connection is required");
    EXPECT_EQ(run.after, "");
}

TEST(PlaintextProbeTest, ClosedAndSilentPeersAreUnknown) {
    PairRun closed = run_pair("", true);
    ASSERT_TRUE(closed.result.ok());
    EXPECT_EQ(closed.result.value().verdict, PlaintextVerdict::Unknown);
    auto start = std::chrono::steady_clock::now();
    PairRun silent = run_pair("", false, 300);
    auto took = std::chrono::steady_clock::now() - start;
    ASSERT_TRUE(silent.result.ok());
    EXPECT_EQ(silent.result.value().verdict, PlaintextVerdict::Unknown);
    EXPECT_NE(silent.result.value().detail.find("timed out after 300 ms"), std::string::npos)
        << silent.result.value().detail;
    EXPECT_LT(std::chrono::duration_cast<std::chrono::milliseconds>(took).count(), 2500);
}

TEST(PlaintextProbeTest, CancelIsAnError) {
    int sv[2];
    ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    auto start = std::chrono::steady_clock::now();
    auto r = probe_plaintext_on_fd(sv[0], local(5432, 10000), "u", "", [&] {
        return std::chrono::steady_clock::now() - start > std::chrono::milliseconds(100);
    });
    ::close(sv[0]);
    ::close(sv[1]);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().sqlstate, "57014");
}

TEST(PlaintextProbeTest, ClosedPortIsAnError) {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr *>(&addr), sizeof addr), 0);
    socklen_t len = sizeof addr;
    getsockname(fd, reinterpret_cast<sockaddr *>(&addr), &len);
    auto r = probe_plaintext(local(ntohs(addr.sin_port), 1000), kPlaintextDefaultUser, "");
    ::close(fd);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().sqlstate.substr(0, 2), "08");
}

TEST(PlaintextClassifyTest, EveryFirstByteAndEveryPrefix) {
    for (int b = 0; b < 256; ++b) {
        std::string one(1, static_cast<char>(b));
        auto closed = classify_plaintext_answer(one, true);
        ASSERT_TRUE(closed) << b;
        EXPECT_EQ(closed->verdict, PlaintextVerdict::Unknown) << b;
        auto open = classify_plaintext_answer(one + std::string(8, '\xff'), false);
        ASSERT_TRUE(open) << b;  // a length of 0xffffffff is never waited for
        EXPECT_EQ(open->verdict, PlaintextVerdict::Unknown) << b;
    }
    // Every prefix of a well-formed answer: wait while open, unknown once
    // closed, and the verdict only when complete.
    for (const std::string &full : {auth(10, std::string("SCRAM-SHA-256\0\0", 15)),
                                    error_response("28000", "SSL connection is required")}) {
        for (std::size_t n = 0; n < full.size(); ++n) {
            EXPECT_FALSE(classify_plaintext_answer(full.substr(0, n), false)) << n;
            auto r = classify_plaintext_answer(full.substr(0, n), true);
            ASSERT_TRUE(r) << n;
            EXPECT_EQ(r->verdict, PlaintextVerdict::Unknown) << n;
        }
        auto done = classify_plaintext_answer(full + "trailing bytes are not read", false);
        ASSERT_TRUE(done);
        EXPECT_NE(done->verdict, PlaintextVerdict::Unknown);
    }
}

// A pooler recognised from its ErrorResponse: pgbouncer sends exactly S, C and
// M (send_pooler_error); PostgreSQL always adds V, F, L and R.
TEST(Plaintext, PoolerRecognisedByErrorShape) {
    auto shaped = [](const std::string &fields) { return message('E', fields + std::string(1, '\0')); };
    const std::string nul(1, '\0');
    auto pgbouncer = classify_plaintext_answer(
        shaped("SFATAL" + nul + "C08P01" + nul + "MSSL required" + nul), false);
    ASSERT_TRUE(pgbouncer);
    EXPECT_EQ(pgbouncer->verdict, PlaintextVerdict::Refused);
    EXPECT_NE(pgbouncer->pooler.find("client_tls_sslmode"), std::string::npos) << pgbouncer->pooler;
    auto other = classify_plaintext_answer(
        shaped("SFATAL" + nul + "C08P01" + nul + "Mno such user: x" + nul), false);
    ASSERT_TRUE(other);
    EXPECT_NE(other->pooler.find("shaped like pgbouncer"), std::string::npos) << other->pooler;
    // PostgreSQL's own refusal, with the same words, is not a pooler.
    auto postgres = classify_plaintext_answer(
        shaped("SFATAL" + nul + "VFATAL" + nul + "C08P01" + nul + "MSSL required" + nul + "Fpostmaster.c" + nul +
               "L1" + nul + "Rf" + nul),
        false);
    ASSERT_TRUE(postgres);
    EXPECT_EQ(postgres->verdict, PlaintextVerdict::Refused);
    EXPECT_EQ(postgres->pooler, "");
    EXPECT_EQ(classify_plaintext_answer(error_response("28000", "SSL connection is required"), false)->pooler, "");
    // Fields in another order or one more are not pgbouncer's shape.
    EXPECT_EQ(pooler_evidence("CSM", "08P01", "SSL required"), "");
    EXPECT_EQ(pooler_evidence("SCMD", "08P01", "SSL required"), "");
    EXPECT_EQ(pooler_evidence("", "", ""), "");
}
