// Certificate field extraction over the certificates make-certs.sh generates.
#include <gtest/gtest.h>

#include <algorithm>
#include <ctime>
#include <vector>

#include <openssl/crypto.h>
#include <openssl/x509.h>

#include "test_certs.hpp"
#include "certs/x509.hpp"

using namespace tls_audit;
using tls_audit::test::read_cert_file;

namespace {
CertInfo only(const std::string &file) {
    auto infos = certificate_infos(read_cert_file(file));
    if (!infos.ok()) {
        ADD_FAILURE() << file << ": " << infos.error().message;
        return {};
    }
    EXPECT_EQ(infos.value().size(), 1u) << file;
    return infos.value().front();
}
std::int64_t now() { return static_cast<std::int64_t>(std::time(nullptr)); }
}  // namespace

TEST(X509Test, ServerCertificateFields) {
    CertInfo c = only("server.crt");
    EXPECT_EQ(c.subject, "O=pg_tls_audit tests,CN=localhost");
    EXPECT_EQ(c.issuer, "O=pg_tls_audit tests,CN=pg_tls_audit Test Intermediate CA");
    EXPECT_EQ(c.key_type, "RSA");
    EXPECT_EQ(c.key_bits, 2048);
    EXPECT_EQ(c.signature_algorithm, "sha256WithRSAEncryption");
    EXPECT_EQ(c.sha256.size(), 64u);
    EXPECT_FALSE(c.is_ca);
    EXPECT_FALSE(c.self_signed);
    EXPECT_EQ(c.san, (std::vector<std::string>{"DNS:localhost", "IP:127.0.0.1", "IP:::1"}));
    EXPECT_FALSE(c.serial.empty());
    EXPECT_EQ(c.serial.find_first_not_of("0123456789ABCDEF"), std::string::npos);
    // Issued yesterday for a year.
    EXPECT_LT(c.not_before, now());
    EXPECT_GE(days_left(c.not_after, now()), 363);
    EXPECT_LE(days_left(c.not_after, now()), 365);
}

TEST(X509Test, ChainKeepsFileOrder) {
    auto infos = certificate_infos(read_cert_file("server-chain.crt"));
    ASSERT_TRUE(infos.ok());
    ASSERT_EQ(infos.value().size(), 2u);
    EXPECT_EQ(infos.value()[0].subject, "O=pg_tls_audit tests,CN=localhost");
    EXPECT_EQ(infos.value()[1].subject, "O=pg_tls_audit tests,CN=pg_tls_audit Test Intermediate CA");
    EXPECT_TRUE(infos.value()[1].is_ca);
    EXPECT_EQ(infos.value()[0].issuer, infos.value()[1].subject);
}

TEST(X509Test, KeyKinds) {
    EXPECT_EQ(only("rsa1024.crt").key_bits, 1024);
    CertInfo p384 = only("p384.crt");
    EXPECT_EQ(p384.key_type, "EC");
    EXPECT_EQ(p384.key_bits, 384);
    EXPECT_EQ(p384.key_curve, "secp384r1");
    EXPECT_EQ(only("ed25519.crt").key_type, "Ed25519");
}

TEST(X509Test, SignatureAndSelfSigned) {
    EXPECT_EQ(only("sha1.crt").signature_algorithm, "sha1WithRSAEncryption");
    EXPECT_TRUE(only("selfsigned.crt").self_signed);
    CertInfo root = only("root.crt");
    EXPECT_TRUE(root.self_signed);
    EXPECT_TRUE(root.is_ca);
}

TEST(X509Test, ExpiryDays) {
    EXPECT_LT(days_left(only("expired.crt").not_after, now()), 0);
    const auto d = days_left(only("expiring-3d.crt").not_after, now());
    EXPECT_GE(d, 2);
    EXPECT_LE(d, 3);
}

TEST(X509Test, DaysLeftRoundsDown) {
    EXPECT_EQ(days_left(1000 + 86400 * 2, 1000), 2);
    EXPECT_EQ(days_left(1000 + 86400 * 2 - 1, 1000), 1);
    EXPECT_EQ(days_left(1000, 1000), 0);
    EXPECT_EQ(days_left(999, 1000), -1);
    EXPECT_EQ(days_left(1000 - 86400, 1000), -1);
    EXPECT_EQ(days_left(1000 - 86401, 1000), -2);
}

TEST(X509Test, DerAndPemGiveTheSameCertificate) {
    auto pem = parse_certificates(read_cert_file("server.crt"));
    ASSERT_TRUE(pem.ok());
    unsigned char *der = nullptr;
    int len = i2d_X509(pem.value()[0].get(), &der);
    ASSERT_GT(len, 0);
    std::string der_bytes(reinterpret_cast<char *>(der), static_cast<std::size_t>(len));
    OPENSSL_free(der);
    auto from_der = certificate_infos(der_bytes);
    ASSERT_TRUE(from_der.ok());
    EXPECT_EQ(from_der.value()[0].sha256, only("server.crt").sha256);
    // Trailing bytes after a DER certificate are refused.
    auto trailing = certificate_infos(der_bytes + "x");
    ASSERT_FALSE(trailing.ok());
    EXPECT_EQ(trailing.error().sqlstate, "22023");
}

TEST(X509Test, KeysAreSkippedNotParsed) {
    auto infos = certificate_infos(read_cert_file("server.key") + read_cert_file("server.crt"));
    ASSERT_TRUE(infos.ok());
    EXPECT_EQ(infos.value().size(), 1u);
}

TEST(X509Test, BadInputsGiveErrors) {
    struct Case {
        std::string input;
        const char *sqlstate;
        const char *message_part;
    };
    const Case cases[] = {
        {"", "22023", "empty"},
        {"garbage", "22023", "neither PEM nor a DER"},
        {read_cert_file("truncated.pem"), "22023", "invalid PEM input in block 1"},
        {read_cert_file("server.key"), "22023", "no certificate found"},
        {"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n", "22023", "invalid certificate in PEM block 1"},
        {std::string(kMaxCertificateInput + 1, 'A'), "54000", "too large"},
        {std::string("\x30\x82\xff\xff", 4), "22023", "neither PEM nor a DER"},
    };
    for (const auto &c : cases) {
        auto r = certificate_infos(c.input);
        ASSERT_FALSE(r.ok()) << c.message_part;
        EXPECT_EQ(r.error().sqlstate, c.sqlstate) << c.message_part;
        EXPECT_NE(r.error().message.find(c.message_part), std::string::npos) << r.error().message;
    }
}

TEST(X509Test, EveryPrefixOfAValidPemIsHandled) {
    // A chain cut at every length: the certificates whose block is complete in
    // the prefix, in order, or a clean 22023 error when a block is cut open;
    // never a certificate that is not in the chain, never a crash.
    const std::string pem = read_cert_file("server-chain.crt");
    auto whole = certificate_infos(pem);
    ASSERT_TRUE(whole.ok()) << whole.error().message;
    const std::vector<CertInfo> &chain = whole.value();
    ASSERT_GE(chain.size(), 2u);
    // Where each block's END line ends (its newline included).
    const std::string end_marker = "-----END CERTIFICATE-----";
    const std::string begin_line = "-----BEGIN CERTIFICATE-----\n";
    std::vector<std::size_t> block_ends;
    for (std::size_t at = pem.find(end_marker); at != std::string::npos; at = pem.find(end_marker, at + 1))
        block_ends.push_back(at + end_marker.size() + 1);
    ASSERT_EQ(block_ends.size(), chain.size());
    ASSERT_EQ(block_ends.back(), pem.size());  // the file ends with the last END line

    std::size_t values = 0, errors = 0;
    for (std::size_t n = 0; n <= pem.size(); ++n) {
        const std::string prefix = pem.substr(0, n);
        std::size_t complete = 0;  // blocks whose END line is whole in the prefix
        for (std::size_t at = prefix.find(end_marker); at != std::string::npos; at = prefix.find(end_marker, at + 1))
            ++complete;
        std::size_t begun = 0;  // blocks whose BEGIN line is whole in the prefix
        for (std::size_t at = prefix.find(begin_line); at != std::string::npos; at = prefix.find(begin_line, at + 1))
            ++begun;
        const bool at_boundary = std::find(block_ends.begin(), block_ends.end(), n) != block_ends.end();
        auto r = certificate_infos(prefix);
        if (r.ok()) {
            ++values;
            ASSERT_EQ(r.value().size(), complete) << "prefix of " << n << " bytes";
            for (std::size_t i = 0; i < complete; ++i)
                ASSERT_EQ(r.value()[i].sha256, chain[i].sha256) << "prefix of " << n << " bytes, certificate " << i;
        } else {
            ++errors;
            ASSERT_EQ(r.error().sqlstate, "22023") << "prefix of " << n << " bytes: " << r.error().message;
            ASSERT_FALSE(r.error().message.empty());
            // A prefix that ends right after a block is whole input, not a cut one.
            ASSERT_FALSE(at_boundary) << "prefix of " << n << " bytes: " << r.error().message;
            // A cut after complete blocks names the block that was cut.
            if (complete > 0 && r.error().message.find("invalid PEM input") != std::string::npos) {
                ASSERT_NE(r.error().message.find("block " + std::to_string(complete + 1)), std::string::npos)
                    << "prefix of " << n << " bytes: " << r.error().message;
            }
        }
        if (complete == 0) {
            ASSERT_FALSE(r.ok()) << "prefix of " << n << " bytes has no whole certificate";
        }
        // A block that was begun and cut is an error naming it, never skipped.
        if (begun > complete) {
            ASSERT_FALSE(r.ok()) << "prefix of " << n << " bytes cuts block " << complete + 1;
            ASSERT_NE(r.error().message.find("invalid PEM input in block " + std::to_string(complete + 1)),
                      std::string::npos)
                << "prefix of " << n << " bytes: " << r.error().message;
        }
    }
    // Both outcomes occur: the cut inputs fail, and each boundary succeeds.
    EXPECT_GE(values, chain.size());
    EXPECT_GT(errors, block_ends.front() / 2);
}

TEST(X509Test, BriefDescriptionLeavesOutOnlyTheCostlyFields) {
    auto certs = parse_certificates(read_cert_file("selfsigned.crt"));
    ASSERT_TRUE(certs.ok());
    const CertInfo full = describe_certificate(certs.value()[0].get());
    const CertInfo brief = describe_certificate_brief(certs.value()[0].get());
    EXPECT_EQ(brief.subject, full.subject);
    EXPECT_EQ(brief.issuer, full.issuer);
    EXPECT_EQ(brief.serial, full.serial);
    EXPECT_EQ(brief.not_after, full.not_after);
    EXPECT_EQ(brief.key_type, full.key_type);
    EXPECT_EQ(brief.key_bits, full.key_bits);
    EXPECT_EQ(brief.signature_algorithm, full.signature_algorithm);
    EXPECT_TRUE(full.self_signed);
    EXPECT_FALSE(brief.self_signed);
    EXPECT_TRUE(brief.sha256.empty());
    EXPECT_TRUE(brief.san.empty());
}

// A certificate whose name holds a UTF8String that is not UTF-8
// was reported as "neither PEM nor a DER certificate".
TEST(X509Test, InvalidUtf8StringIsNamedAsSuch) {
    auto certs = parse_certificates(read_cert_file("selfsigned.crt"));
    ASSERT_TRUE(certs.ok());
    unsigned char *der = nullptr;
    const int len = i2d_X509(certs.value()[0].get(), &der);
    ASSERT_GT(len, 0);
    std::string bytes(reinterpret_cast<const char *>(der), static_cast<std::size_t>(len));
    OPENSSL_free(der);
    // The commonName attribute: OID 2.5.4.3, then a UTF8String (tag 0x0c).
    const std::string cn_utf8("\x06\x03\x55\x04\x03\x0c", 6);
    const std::size_t at = bytes.find(cn_utf8);
    ASSERT_NE(at, std::string::npos) << "no UTF8String commonName in the test certificate";
    ASSERT_GT(static_cast<unsigned char>(bytes[at + 6]), 0u);  // a non-empty value
    bytes[at + 7] = '\xff';  // never valid in UTF-8

    auto r = certificate_infos(bytes);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().sqlstate, "22023");
    EXPECT_EQ(r.error().message.find("neither PEM nor"), std::string::npos) << r.error().message;
    EXPECT_NE(r.error().message.find("invalid DER certificate: a UTF8String is not valid UTF-8"), std::string::npos)
        << r.error().message;
}
