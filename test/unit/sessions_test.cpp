// The session registry's record format (fixed-size slots, truncation) and the
// protocol floor used by tls_audit.sessions.
#include <gtest/gtest.h>

#include <cstring>
#include <string>

#include "protocol.hpp"
#include "registry_record.hpp"
#include "session.hpp"
#include "test_certs.hpp"
#include "x509.hpp"

using namespace tls_audit;

namespace {

SessionTls sample_session() {
    SessionTls s;
    s.protocol = "TLSv1.3";
    s.cipher = "TLS_AES_256_GCM_SHA384";
    s.bits = 256;
    s.sni = "db.example.org";
    s.key_exchange_group = "x25519";
    CertInfo c;
    c.subject = "CN=alice,O=pg_tls_audit tests";
    c.issuer = "CN=pg_tls_audit Test Intermediate CA,O=pg_tls_audit tests";
    c.serial = "0A1B2C";
    c.not_before = 1700000000;
    c.not_after = 1731536000;
    c.key_type = "EC";
    c.key_bits = 256;
    c.signature_algorithm = "ecdsa-with-SHA256";
    s.client = c;
    return s;
}

}  // namespace

TEST(RegistryRecordTest, CopiesShortFieldsWhole) {
    char field[8];
    EXPECT_TRUE(copy_field(field, "abc"));
    EXPECT_EQ(field_text(field), "abc");
    EXPECT_TRUE(copy_field(field, ""));
    EXPECT_EQ(field_text(field), "");
    // Exactly capacity - 1 bytes still fits.
    EXPECT_TRUE(copy_field(field, "1234567"));
    EXPECT_EQ(field_text(field), "1234567");
}

TEST(RegistryRecordTest, CutsLongFieldsWithMarker) {
    char field[8];
    EXPECT_FALSE(copy_field(field, "12345678"));
    EXPECT_EQ(field_text(field), "1234...");
    EXPECT_FALSE(copy_field(field, std::string(5000, 'x')));
    EXPECT_EQ(field_text(field), "xxxx...");
    EXPECT_EQ(std::strlen(field), sizeof field - 1);
}

TEST(RegistryRecordTest, CutsOnUtf8Boundary) {
    char field[10];  // room for 6 bytes of text + "..." + NUL
    // "ab" then four 2-byte characters (é = C3 A9): 10 bytes, too long.
    const std::string value = "ab\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9";
    EXPECT_FALSE(copy_field(field, value));
    EXPECT_EQ(field_text(field), "ab\xC3\xA9\xC3\xA9...");
    // Cutting at 6 bytes would split the 4-byte character after "abcde".
    const std::string emoji = "abcde\xF0\x9F\x98\x80xyz";
    EXPECT_FALSE(copy_field(field, emoji));
    EXPECT_EQ(field_text(field), "abcde...");
}

TEST(RegistryRecordTest, FieldTextStopsAtArrayEnd) {
    char field[4] = {'a', 'b', 'c', 'd'};  // no NUL: must not read past the end
    EXPECT_EQ(field_text(field), "abcd");
}

TEST(RegistryRecordTest, FillsEveryField) {
    RegistryRecord r;
    std::memset(&r, 0x5A, sizeof r);  // garbage first: fill_record must zero it
    fill_record(r, sample_session());
    EXPECT_EQ(field_text(r.protocol), "TLSv1.3");
    EXPECT_EQ(field_text(r.cipher), "TLS_AES_256_GCM_SHA384");
    EXPECT_EQ(r.bits, 256);
    EXPECT_EQ(field_text(r.sni), "db.example.org");
    EXPECT_EQ(field_text(r.key_exchange_group), "x25519");
    EXPECT_TRUE(r.has_client);
    EXPECT_EQ(field_text(r.subject), "CN=alice,O=pg_tls_audit tests");
    EXPECT_EQ(field_text(r.issuer), "CN=pg_tls_audit Test Intermediate CA,O=pg_tls_audit tests");
    EXPECT_EQ(field_text(r.serial), "0A1B2C");
    EXPECT_EQ(r.not_before, 1700000000);
    EXPECT_EQ(r.not_after, 1731536000);
    EXPECT_EQ(field_text(r.key_type), "EC");
    EXPECT_EQ(r.key_bits, 256);
    EXPECT_EQ(field_text(r.signature_algorithm), "ecdsa-with-SHA256");
    EXPECT_FALSE(r.truncated);
}

TEST(RegistryRecordTest, NoClientCertificateLeavesClientFieldsEmpty) {
    SessionTls s = sample_session();
    s.client.reset();
    RegistryRecord r;
    fill_record(r, s);
    EXPECT_FALSE(r.has_client);
    EXPECT_EQ(field_text(r.subject), "");
    EXPECT_EQ(field_text(r.serial), "");
    EXPECT_EQ(r.not_after, 0);
    EXPECT_EQ(field_text(r.protocol), "TLSv1.3");
}

TEST(RegistryRecordTest, LongDnBeyond63BytesIsKeptWhole) {
    SessionTls s = sample_session();
    std::string dn = "CN=" + std::string(300, 'a') + ",OU=" + std::string(300, 'b') + ",O=org";
    s.client->subject = dn;
    RegistryRecord r;
    fill_record(r, s);
    EXPECT_EQ(field_text(r.subject), dn);
    EXPECT_FALSE(r.truncated);
}

TEST(RegistryRecordTest, OversizedDnIsMarkedTruncated) {
    SessionTls s = sample_session();
    s.client->issuer = std::string(4096, 'z');
    RegistryRecord r;
    fill_record(r, s);
    EXPECT_TRUE(r.truncated);
    const std::string_view issuer = field_text(r.issuer);
    EXPECT_EQ(issuer.size(), sizeof r.issuer - 1);
    EXPECT_EQ(issuer.substr(issuer.size() - 3), "...");
    EXPECT_EQ(field_text(r.subject), "CN=alice,O=pg_tls_audit tests");  // others unaffected
}

TEST(RegistryRecordTest, RealClientCertificateFitsWhole) {
    // The generated long-DN client certificate, described as the hook does.
    const std::string pem = test::read_cert_file("client-longdn.crt");
    auto infos = certificate_infos(pem);
    ASSERT_TRUE(infos.ok()) << infos.error().message;
    SessionTls s = sample_session();
    s.client = infos.value().front();
    RegistryRecord r;
    fill_record(r, s);
    EXPECT_GT(s.client->subject.size(), 63u);
    EXPECT_EQ(field_text(r.subject), s.client->subject);
    EXPECT_EQ(field_text(r.serial), s.client->serial);
    EXPECT_EQ(r.not_after, s.client->not_after);
    EXPECT_FALSE(r.truncated);
}

// Every session/floor combination the view can meet.
TEST(SessionFloorTest, EveryProtocolAgainstEveryFloor) {
    const Protocol floors[] = {Protocol::TLSv1, Protocol::TLSv1_1, Protocol::TLSv1_2, Protocol::TLSv1_3};
    for (Protocol floor : floors) {
        for (Protocol session : floors) {
            const auto reason = below_floor_reason("tls", protocol_name(session), floor);
            if (session < floor) {
                ASSERT_TRUE(reason);
                EXPECT_EQ(*reason, std::string(protocol_name(session)) + " < " + protocol_name(floor));
            } else {
                EXPECT_FALSE(reason) << protocol_name(session) << " vs " << protocol_name(floor);
            }
        }
        EXPECT_EQ(below_floor_reason("tcp", "", floor), "no TLS");
        EXPECT_FALSE(below_floor_reason("unix", "", floor));
    }
    EXPECT_EQ(below_floor_reason("tls", "SSLv3", Protocol::TLSv1), "SSLv3 < TLSv1");
}

TEST(SessionFloorTest, FloorNamesParseBack) {
    // The GUC's valid names are exactly the parseable floors.
    const std::string names = valid_floor_names();
    std::size_t start = 0;
    int count = 0;
    while (start < names.size()) {
        std::size_t end = names.find(", ", start);
        if (end == std::string::npos) end = names.size();
        EXPECT_TRUE(parse_protocol(names.substr(start, end - start))) << names.substr(start, end - start);
        ++count;
        start = end + 2;
    }
    EXPECT_EQ(count, 4);
}
