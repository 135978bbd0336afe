// The session registry's record format (fixed-size slots, truncation), the
// protocol floor used by tls_audit.sessions, and what a live connection says
// about itself (view_session, describe_session) over an in-memory handshake.
#include <gtest/gtest.h>

#include <cstring>
#include <optional>
#include <string>

#include <openssl/bio.h>
#include <openssl/ssl.h>

#include "base/openssl_ptr.hpp"
#include "base/protocol.hpp"
#include "sessions/registry_record.hpp"
#include "sessions/session.hpp"
#include "test_certs.hpp"
#include "certs/x509.hpp"

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

// fill_record() as the hook calls it, from views of `s`'s strings.
void fill_from(RegistryRecord &r, const SessionTls &s) {
    SessionTlsView v;
    v.protocol = s.protocol;
    v.cipher = s.cipher;
    v.bits = s.bits;
    v.sni = s.sni;
    v.key_exchange_group = s.key_exchange_group;
    fill_record(r, v, s.client ? &*s.client : nullptr);
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
    fill_from(r, sample_session());
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
    fill_from(r, s);
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
    fill_from(r, s);
    EXPECT_EQ(field_text(r.subject), dn);
    EXPECT_FALSE(r.truncated);
}

TEST(RegistryRecordTest, OversizedDnIsMarkedTruncated) {
    SessionTls s = sample_session();
    s.client->issuer = std::string(4096, 'z');
    RegistryRecord r;
    fill_from(r, s);
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
    fill_from(r, s);
    EXPECT_GT(s.client->subject.size(), 63u);
    EXPECT_EQ(field_text(r.subject), s.client->subject);
    EXPECT_EQ(field_text(r.serial), s.client->serial);
    EXPECT_EQ(r.not_after, s.client->not_after);
    EXPECT_FALSE(r.truncated);
}

// copy_record(): what a registry reader copies out of a slot.
TEST(RegistryRecordTest, CopyRecordCopiesEveryByteOfAFullRecord) {
    // Garbage everywhere (padding included), then every long text filled to
    // its last byte: a copy that skipped any field or gap would differ.
    RegistryRecord from;
    std::memset(&from, 0x5A, sizeof from);
    auto fill = [](auto &field, char c) {
        std::memset(field, c, sizeof field - 1);
        field[sizeof field - 1] = '\0';
    };
    fill(from.sni, 's');
    fill(from.subject, 'S');
    fill(from.issuer, 'I');
    fill(from.serial, '0');
    fill(from.hba_file, 'h');
    RegistryRecord to;
    std::memset(&to, 0xA5, sizeof to);
    copy_record(to, from);
    EXPECT_EQ(std::memcmp(&to, &from, sizeof to), 0);
}

TEST(RegistryRecordTest, CopyRecordKeepsEveryFieldOfASession) {
    RegistryRecord from;
    fill_from(from, sample_session());
    SessionAuth auth;
    auth.method = AuthMethod::Cert;
    auth.hba_line = 91;
    auth.hba_file = "/etc/postgresql/pg_hba.conf";
    auth.client_cert_verified = true;
    auth.tls = true;
    auth.extended_master_secret = true;
    set_record_auth(from, auth);
    RegistryRecord to;
    std::memset(&to, 0xA5, sizeof to);  // a reader's copy keeps old bytes after each NUL
    copy_record(to, from);
    EXPECT_EQ(field_text(to.protocol), "TLSv1.3");
    EXPECT_EQ(field_text(to.cipher), "TLS_AES_256_GCM_SHA384");
    EXPECT_EQ(field_text(to.sni), "db.example.org");
    EXPECT_EQ(field_text(to.key_exchange_group), "x25519");
    EXPECT_EQ(field_text(to.subject), "CN=alice,O=pg_tls_audit tests");
    EXPECT_EQ(field_text(to.issuer), "CN=pg_tls_audit Test Intermediate CA,O=pg_tls_audit tests");
    EXPECT_EQ(field_text(to.serial), "0A1B2C");
    EXPECT_EQ(field_text(to.key_type), "EC");
    EXPECT_EQ(field_text(to.signature_algorithm), "ecdsa-with-SHA256");
    EXPECT_EQ(field_text(to.hba_file), "/etc/postgresql/pg_hba.conf");
    EXPECT_EQ(to.not_before, 1700000000);
    EXPECT_EQ(to.not_after, 1731536000);
    EXPECT_EQ(to.bits, 256);
    EXPECT_EQ(to.key_bits, 256);
    EXPECT_TRUE(to.has_client);
    EXPECT_TRUE(to.tls);
    EXPECT_TRUE(to.has_auth);
    EXPECT_EQ(to.auth_method, static_cast<std::uint8_t>(AuthMethod::Cert));
    EXPECT_EQ(to.hba_line, 91);
    EXPECT_TRUE(to.client_cert_verified);
    EXPECT_TRUE(to.extended_master_secret);
    EXPECT_FALSE(to.truncated);
    // The long texts were copied up to their NUL only.
    EXPECT_EQ(static_cast<unsigned char>(to.sni[sizeof "db.example.org"]), 0xA5);
}

TEST(RegistryRecordTest, CopyRecordOfATextWithoutNulStopsAtItsEnd) {
    // A torn read can see a text without its NUL: the copy takes the whole
    // array and field_text() still stops at its end.
    RegistryRecord from;
    std::memset(&from, 0, sizeof from);
    std::memset(from.sni, 'x', sizeof from.sni);
    RegistryRecord to;
    std::memset(&to, 0, sizeof to);
    copy_record(to, from);
    EXPECT_EQ(field_text(to.sni), std::string(sizeof to.sni, 'x'));
    EXPECT_EQ(field_text(to.subject), "");
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

// ---------------------------------------------------------------------------
// view_session() and client_certificate_brief() on a real handshake (two SSL
// objects over a memory BIO pair, in this thread): the hook's allocation-free
// path must say what describe_session() says.
// ---------------------------------------------------------------------------

namespace {

struct Handshaken {
    SslCtxPtr server_ctx;
    SslCtxPtr client_ctx;
    SslPtr server;
    SslPtr client;
};

// Drive both ends until the handshake is done (false on failure).
bool handshake(Handshaken &h, const char *sni, const char *client_cert) {
    const std::string dir = test::cert_dir();
    h.server_ctx.reset(SSL_CTX_new(TLS_server_method()));
    h.client_ctx.reset(SSL_CTX_new(TLS_client_method()));
    if (SSL_CTX_use_certificate_chain_file(h.server_ctx.get(), (dir + "/server-chain.crt").c_str()) != 1 ||
        SSL_CTX_use_PrivateKey_file(h.server_ctx.get(), (dir + "/server.key").c_str(), SSL_FILETYPE_PEM) != 1)
        return false;
    if (client_cert != nullptr) {
        // Ask for a certificate without verifying it: only the description matters here.
        SSL_CTX_set_verify(h.server_ctx.get(), SSL_VERIFY_PEER, [](int, X509_STORE_CTX *) { return 1; });
        const std::string crt = dir + "/" + client_cert + ".crt", key = dir + "/" + client_cert + ".key";
        if (SSL_CTX_use_certificate_file(h.client_ctx.get(), crt.c_str(), SSL_FILETYPE_PEM) != 1 ||
            SSL_CTX_use_PrivateKey_file(h.client_ctx.get(), key.c_str(), SSL_FILETYPE_PEM) != 1)
            return false;
    }
    h.server.reset(SSL_new(h.server_ctx.get()));
    h.client.reset(SSL_new(h.client_ctx.get()));
    BIO *server_bio = nullptr, *client_bio = nullptr;
    if (BIO_new_bio_pair(&server_bio, 0, &client_bio, 0) != 1) return false;
    SSL_set_bio(h.server.get(), server_bio, server_bio);
    SSL_set_bio(h.client.get(), client_bio, client_bio);
    SSL_set_accept_state(h.server.get());
    SSL_set_connect_state(h.client.get());
    if (sni != nullptr) SSL_set_tlsext_host_name(h.client.get(), sni);
    bool server_done = false, client_done = false;
    for (int i = 0; i < 100 && !(server_done && client_done); ++i) {
        if (!client_done) {
            const int r = SSL_do_handshake(h.client.get());
            client_done = r == 1;
            if (r <= 0 && SSL_get_error(h.client.get(), r) != SSL_ERROR_WANT_READ) return false;
        }
        if (!server_done) {
            const int r = SSL_do_handshake(h.server.get());
            server_done = r == 1;
            if (r <= 0 && SSL_get_error(h.server.get(), r) != SSL_ERROR_WANT_READ) return false;
        }
    }
    return server_done && client_done;
}

}  // namespace

TEST(SessionViewTest, AgreesWithDescribeSession) {
    Handshaken h;
    ASSERT_TRUE(handshake(h, "db.example.org", nullptr));
    GroupNameBuffer group;
    const SessionTlsView v = view_session(h.server.get(), group);
    const SessionTls s = describe_session(h.server.get());
    EXPECT_EQ(v.protocol, "TLSv1.3");
    EXPECT_EQ(v.protocol, s.protocol);
    EXPECT_EQ(v.cipher, SSL_CIPHER_get_name(SSL_get_current_cipher(h.client.get())));
    EXPECT_EQ(v.cipher, s.cipher);
    EXPECT_GT(v.bits, 0);
    EXPECT_EQ(v.bits, s.bits);
    EXPECT_EQ(v.sni, "db.example.org");
    EXPECT_EQ(v.sni, s.sni);
    EXPECT_FALSE(v.key_exchange_group.empty());
    EXPECT_EQ(v.key_exchange_group, s.key_exchange_group);
    EXPECT_EQ(v.key_exchange_group, group_name(h.server.get()));
    EXPECT_FALSE(client_certificate_brief(h.server.get()).has_value());
    EXPECT_FALSE(s.client.has_value());
    EXPECT_EQ(s.server_cert_sha256.size(), 64u);
}

TEST(SessionViewTest, NoSniIsEmpty) {
    Handshaken h;
    ASSERT_TRUE(handshake(h, nullptr, nullptr));
    GroupNameBuffer group;
    EXPECT_EQ(view_session(h.server.get(), group).sni, "");
}

TEST(SessionViewTest, ClientCertificateReachesTheRecord) {
    Handshaken h;
    ASSERT_TRUE(handshake(h, nullptr, "client-longdn"));
    GroupNameBuffer group;
    const SessionTlsView v = view_session(h.server.get(), group);
    const std::optional<CertInfo> client = client_certificate_brief(h.server.get());
    ASSERT_TRUE(client.has_value());
    const SessionTls s = describe_session(h.server.get());
    ASSERT_TRUE(s.client.has_value());
    EXPECT_EQ(client->subject, s.client->subject);
    EXPECT_EQ(client->serial, s.client->serial);
    EXPECT_EQ(client->not_after, s.client->not_after);
    RegistryRecord r;
    fill_record(r, v, &*client);
    EXPECT_TRUE(r.has_client);
    EXPECT_EQ(field_text(r.subject), s.client->subject);
    EXPECT_EQ(field_text(r.protocol), s.protocol);
    EXPECT_EQ(field_text(r.key_exchange_group), s.key_exchange_group);
    EXPECT_FALSE(r.truncated);
}

// A tls_audit.sessions row is complete or absent.
TEST(SessionRowTest, CompleteOrAbsent) {
    EXPECT_TRUE(show_session_row(RegistryLookup::Found, true));
    EXPECT_TRUE(show_session_row(RegistryLookup::Found, false));  // a consistent copy is whole
    EXPECT_FALSE(show_session_row(RegistryLookup::Exiting, true));
    EXPECT_FALSE(show_session_row(RegistryLookup::Exiting, false));
    EXPECT_FALSE(show_session_row(RegistryLookup::Changing, true));
    EXPECT_FALSE(show_session_row(RegistryLookup::Changing, false));
    // Never recorded (still running): shown with NULL registry columns;
    // exited since the status snapshot: absent.
    EXPECT_TRUE(show_session_row(RegistryLookup::Missing, true));
    EXPECT_FALSE(show_session_row(RegistryLookup::Missing, false));
}
