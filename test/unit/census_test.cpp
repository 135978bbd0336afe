#include <gtest/gtest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstddef>
#include <cstring>
#include <string>

#include "census/census_file.hpp"
#include "census/census_key.hpp"

using namespace tls_audit;

namespace {

CensusKey key_of(const char *app, const char *transport = "tls", const char *protocol = "TLSv1.3",
                 Outcome outcome = Outcome::Authenticated, const char *reason = nullptr) {
    CensusKeyFields f;
    f.usename = "alice";
    f.datname = "postgres";
    f.client_addr = "127.0.0.1";
    f.application_name = app;
    f.transport = transport;
    f.protocol = protocol;
    f.cipher = "TLS_AES_256_GCM_SHA384";
    f.reason = reason;
    f.outcome = outcome;
    CensusKey k;
    make_census_key(k, f);
    return k;
}

CensusSnapshot sample(int n) {
    CensusSnapshot s;
    s.since_reset = 12345;
    s.evicted = 7;
    for (int i = 0; i < n; ++i) {
        CensusRecord r;
        r.key = key_of(("app" + std::to_string(i)).c_str());
        r.connections = 10 + i;
        r.first_seen = 1000 + i;
        r.last_seen = 2000 + i;
        s.records.push_back(r);
    }
    return s;
}

}  // namespace

TEST(CensusKeyTest, Crc32cKnownVector) {
    EXPECT_EQ(crc32c("123456789", 9), 0xE3069283u);
    EXPECT_EQ(crc32c("", 0), 0u);
}

TEST(CensusKeyTest, EqualInputsGiveIdenticalBytes) {
    // Garbage first, so that make_census_key must overwrite every byte.
    CensusKey a, b;
    std::memset(&a, 0xAB, sizeof a);
    std::memset(&b, 0x11, sizeof b);
    CensusKeyFields f;
    f.usename = "bob";
    f.transport = "tcp";
    make_census_key(a, f);
    make_census_key(b, f);
    EXPECT_EQ(std::memcmp(&a, &b, sizeof a), 0);
    EXPECT_TRUE(census_key_canonical(a));
    EXPECT_STREQ(a.usename, "bob");
    EXPECT_STREQ(a.datname, "");
}

TEST(CensusKeyTest, NullAndEmptyAreTheSame) {
    CensusKeyFields f1, f2;
    f2.usename = "";
    f2.cipher = "";
    CensusKey a, b;
    make_census_key(a, f1);
    make_census_key(b, f2);
    EXPECT_EQ(std::memcmp(&a, &b, sizeof a), 0);
}

TEST(CensusKeyTest, TruncatesLongValuesAtUtf8Boundary) {
    char field[8];
    // "abcdef" + U+00E9 (2 bytes): 8 bytes, capacity 8 keeps 7 -> drop the half character.
    EXPECT_TRUE(copy_census_field(field, sizeof field, "abcdef\xC3\xA9"));
    EXPECT_STREQ(field, "abcdef");
    // "abcde" + U+00E9 fits in 7 bytes.
    EXPECT_FALSE(copy_census_field(field, sizeof field, "abcde\xC3\xA9"));
    EXPECT_STREQ(field, "abcde\xC3\xA9");
    // A 3-byte character split after its first two bytes.
    EXPECT_TRUE(copy_census_field(field, sizeof field, "abcde\xE2\x82\xAC"));
    EXPECT_STREQ(field, "abcde");
    // Plain ASCII is cut bytewise.
    EXPECT_TRUE(copy_census_field(field, sizeof field, "0123456789"));
    EXPECT_STREQ(field, "0123456");
    std::string long_subject(2000, 'x');
    CensusKeyFields f;
    f.client_subject = long_subject.c_str();
    CensusKey k;
    make_census_key(k, f);
    EXPECT_EQ(std::strlen(k.client_subject), kCensusSubjectLen - 1);
    EXPECT_TRUE(census_key_canonical(k));
}

TEST(CensusKeyTest, CanonicalRejectsGarbage) {
    CensusKey k = key_of("x");
    EXPECT_TRUE(census_key_canonical(k));
    CensusKey bad = k;
    bad.outcome = 0;
    EXPECT_FALSE(census_key_canonical(bad));
    bad = k;
    bad.key_exchange_group = 12;  // no such group code
    EXPECT_FALSE(census_key_canonical(bad));
    bad = k;
    bad.auth_method = 200;  // no such method
    EXPECT_FALSE(census_key_canonical(bad));
    bad = k;
    bad.client_cert_verified = 3;
    EXPECT_FALSE(census_key_canonical(bad));
    bad = k;
    bad.extended_master_secret = 3;
    EXPECT_FALSE(census_key_canonical(bad));
    bad = k;
    bad.usename[sizeof bad.usename - 1] = 'x';  // after the NUL: not zero-padded
    EXPECT_FALSE(census_key_canonical(bad));
    bad = k;
    std::memset(bad.protocol, 'A', sizeof bad.protocol);  // no NUL at all
    EXPECT_FALSE(census_key_canonical(bad));
}

TEST(CensusKeyTest, OutcomeNames) {
    EXPECT_STREQ(outcome_name(Outcome::Authenticated), "authenticated");
    EXPECT_STREQ(outcome_name(Outcome::AuthFailed), "auth_failed");
    EXPECT_STREQ(outcome_name(Outcome::TlsRejected), "tls_rejected");
    EXPECT_EQ(parse_outcome("tls_rejected"), Outcome::TlsRejected);
    EXPECT_FALSE(parse_outcome("bogus").has_value());
    EXPECT_FALSE(valid_outcome(0));
    EXPECT_STREQ(outcome_name(Outcome::StartupFailed), "startup_failed");
    EXPECT_EQ(parse_outcome("startup_failed"), Outcome::StartupFailed);
    EXPECT_EQ(parse_outcome("auth_failed"), Outcome::AuthFailed);
    EXPECT_TRUE(valid_outcome(4));
    // policy_violation (authenticated below the role's floor).
    EXPECT_STREQ(outcome_name(Outcome::PolicyViolation), "policy_violation");
    EXPECT_EQ(parse_outcome("policy_violation"), Outcome::PolicyViolation);
    EXPECT_TRUE(valid_outcome(5));
    EXPECT_FALSE(valid_outcome(6));
}

TEST(CensusKeyTest, ReadinessReasons) {
    EXPECT_EQ(readiness_reason(key_of("a", "tls", "TLSv1.2"), Protocol::TLSv1_3), "TLSv1.2 < TLSv1.3");
    EXPECT_EQ(readiness_reason(key_of("a", "tls", "TLSv1.1"), Protocol::TLSv1_2), "TLSv1.1 < TLSv1.2");
    EXPECT_FALSE(readiness_reason(key_of("a", "tls", "TLSv1.3"), Protocol::TLSv1_3).has_value());
    EXPECT_FALSE(readiness_reason(key_of("a", "tls", "TLSv1.2"), Protocol::TLSv1_2).has_value());
    EXPECT_EQ(readiness_reason(key_of("a", "tcp", ""), Protocol::TLSv1_2), "no TLS");
    EXPECT_EQ(readiness_reason(key_of("a", "gss", ""), Protocol::TLSv1), "no TLS");
    EXPECT_FALSE(readiness_reason(key_of("a", "unix", ""), Protocol::TLSv1_3).has_value());
    EXPECT_FALSE(
        readiness_reason(key_of("a", "tls", "TLSv1", Outcome::AuthFailed), Protocol::TLSv1_3).has_value());
    EXPECT_FALSE(readiness_reason(key_of("a", "tls", "TLSv1", Outcome::StartupFailed, "role \"x\" does not exist"),
                                  Protocol::TLSv1_3)
                     .has_value());
    EXPECT_EQ(readiness_reason(key_of("a", "tls", "", Outcome::TlsRejected, "unsupported protocol"),
                               Protocol::TLSv1_3),
              "TLS handshake rejected: unsupported protocol");
    EXPECT_EQ(readiness_reason(key_of("a", "tls", "", Outcome::TlsRejected), Protocol::TLSv1_3),
              "TLS handshake rejected: unknown reason");
    // policy_violation entries authenticated: judged like authenticated ones.
    EXPECT_EQ(readiness_reason(key_of("a", "tls", "TLSv1.2", Outcome::PolicyViolation), Protocol::TLSv1_3),
              "TLSv1.2 < TLSv1.3");
    EXPECT_FALSE(
        readiness_reason(key_of("a", "tls", "TLSv1.3", Outcome::PolicyViolation), Protocol::TLSv1_3).has_value());
}

TEST(CensusKeyTest, RejectionReasonFromMessage) {
    char out[32];
    rejection_reason_from_message("could not accept SSL connection: unsupported protocol", out, sizeof out);
    EXPECT_STREQ(out, "unsupported protocol");
    rejection_reason_from_message("konnte SSL-Verbindung nicht annehmen: no shared cipher", out, sizeof out);
    EXPECT_STREQ(out, "no shared cipher");
    rejection_reason_from_message("EOF detected", out, sizeof out);
    EXPECT_STREQ(out, "EOF detected");
    rejection_reason_from_message(nullptr, out, sizeof out);
    EXPECT_STREQ(out, "");
    rejection_reason_from_message("x: a very long reason that does not fit in the field", out, sizeof out);
    EXPECT_EQ(std::strlen(out), sizeof out - 1);
}

TEST(CensusFileTest, RoundTrip) {
    const CensusSnapshot s = sample(25);
    const std::string bytes = serialize_census(s);
    EXPECT_EQ(bytes.size(), kCensusFileHeaderSize + 25 * kCensusRecordSize + 4);
    auto back = deserialize_census(bytes, 1000);
    ASSERT_TRUE(back.ok()) << back.error().message;
    EXPECT_EQ(back.value().since_reset, 12345);
    EXPECT_EQ(back.value().evicted, 7);
    ASSERT_EQ(back.value().records.size(), 25u);
    for (int i = 0; i < 25; ++i) {
        const auto &r = back.value().records[i];
        EXPECT_EQ(std::memcmp(&r.key, &s.records[i].key, sizeof r.key), 0);
        EXPECT_EQ(r.connections, 10 + i);
        EXPECT_EQ(r.first_seen, 1000 + i);
        EXPECT_EQ(r.last_seen, 2000 + i);
    }
}

TEST(CensusFileTest, SourceRoundTripsInVersion2) {
    CensusSnapshot s = sample(2);
    copy_census_field(s.records[1].key.source, sizeof s.records[1].key.source, "edge");
    const std::string bytes = serialize_census(s);
    std::uint32_t version = 0, record_size = 0;
    std::memcpy(&version, bytes.data() + 8, 4);
    std::memcpy(&record_size, bytes.data() + 12, 4);
    EXPECT_EQ(version, 2u);
    EXPECT_EQ(record_size, kCensusRecordSize);
    auto back = deserialize_census(bytes, 10);
    ASSERT_TRUE(back.ok()) << back.error().message;
    EXPECT_STREQ(back.value().records[0].key.source, "");
    EXPECT_STREQ(back.value().records[1].key.source, "edge");
    // A source without its NUL is not canonical: the file is refused.
    std::string bad = bytes;
    const std::size_t at = kCensusFileHeaderSize + kCensusRecordSize + offsetof(CensusKey, source);
    std::memset(&bad[at], 'x', kCensusSourceLen);
    const std::size_t body = bad.size() - 4;
    const std::uint32_t crc = crc32c(bad.data(), body);
    std::memcpy(&bad[body], &crc, 4);
    auto refused = deserialize_census(bad, 10);
    ASSERT_FALSE(refused.ok());
    EXPECT_NE(refused.error().message.find("malformed key"), std::string::npos) << refused.error().message;
}

TEST(CensusFileTest, VersionAndRecordSizeGoTogether) {
    // A version 1 header with the version 2 record size (and the reverse) is refused.
    std::string bytes = serialize_census(sample(1));
    bytes[8] = 1;
    auto r = deserialize_census(bytes, 10);
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.error().message.find("record size 1064 does not match 1000"), std::string::npos) << r.error().message;
}

TEST(CensusFileTest, EmptyCensusRoundTrips) {
    auto back = deserialize_census(serialize_census(CensusSnapshot{}), 10);
    ASSERT_TRUE(back.ok()) << back.error().message;
    EXPECT_TRUE(back.value().records.empty());
}

TEST(CensusFileTest, RejectsBadFiles) {
    const std::string good = serialize_census(sample(3));
    auto reason = [](const std::string &bytes, std::uint64_t max = 1000) {
        auto r = deserialize_census(bytes, max);
        return r.ok() ? std::string("accepted") : r.error().message;
    };
    EXPECT_EQ(reason(""), "empty file");
    EXPECT_EQ(reason("PGTLS"), "bad magic");
    std::string bytes = good;
    bytes[0] = 'X';
    EXPECT_EQ(reason(bytes), "bad magic");
    EXPECT_NE(reason(good.substr(0, 20)).find("truncated"), std::string::npos);
    EXPECT_NE(reason(good.substr(0, good.size() - 1)).find("truncated"), std::string::npos);
    EXPECT_NE(reason(good.substr(0, good.size() - kCensusRecordSize)).find("truncated"), std::string::npos);
    EXPECT_NE(reason(good + "x").find("truncated"), std::string::npos);
    bytes = good;
    bytes[8] = 9;  // version
    EXPECT_EQ(reason(bytes), "unsupported version 9");
    bytes = good;
    bytes[12] ^= 1;  // record size
    EXPECT_NE(reason(bytes).find("record size"), std::string::npos);
    // Any flipped bit in the body fails the checksum.
    for (std::size_t pos : {std::size_t(16), kCensusFileHeaderSize + 5, good.size() - 10, good.size() - 1}) {
        bytes = good;
        bytes[pos] ^= 0x20;
        EXPECT_EQ(reason(bytes), "checksum mismatch") << "byte " << pos;
    }
    // A huge count in the header is refused without allocating.
    bytes = good;
    const std::uint64_t huge = ~std::uint64_t(0) / 2;
    std::memcpy(&bytes[32], &huge, sizeof huge);
    EXPECT_NE(reason(bytes).find("truncated"), std::string::npos);
    EXPECT_NE(reason(good, 2).find("exceed"), std::string::npos);
    EXPECT_EQ(reason(good), "accepted");
}

TEST(CensusFileTest, RejectsMalformedRecordsWithValidChecksum) {
    CensusSnapshot s = sample(2);
    s.records[1].key.outcome = 42;
    EXPECT_NE(deserialize_census(serialize_census(s), 10).error().message.find("malformed key"), std::string::npos);
    s = sample(2);
    s.records[0].connections = 0;
    EXPECT_NE(deserialize_census(serialize_census(s), 10).error().message.find("inconsistent"), std::string::npos);
    s = sample(2);
    s.records[0].first_seen = s.records[0].last_seen + 1;
    EXPECT_NE(deserialize_census(serialize_census(s), 10).error().message.find("inconsistent"), std::string::npos);
}

// PostgreSQL's peer_dn escapes every non-ASCII byte (\C3\A9); the census keeps
// UTF-8, as tls_audit.sessions and pg_stat_ssl show it.
TEST(CensusKeyTest, SubjectIsUtf8LikeTheSessionsView) {
    char field[kCensusSubjectLen];
    census_subject(field, sizeof field, "CN=Ren\\C3\\A9,O=Caf\\C3\\A9\\, Inc.");
    EXPECT_STREQ(field, "CN=Ren\xC3\xA9,O=Caf\xC3\xA9\\, Inc.");
    // Escapes of ASCII bytes and of other characters stay as they are.
    census_subject(field, sizeof field, "CN=a\\2Cb\\+c");
    EXPECT_STREQ(field, "CN=a\\2Cb\\+c");
    // Bytes that are not UTF-8 (Latin-1 e9) keep the escaped form.
    census_subject(field, sizeof field, "CN=Ren\\E9");
    EXPECT_STREQ(field, "CN=Ren\\E9");
    census_subject(field, sizeof field, nullptr);
    EXPECT_STREQ(field, "");
}

TEST(CensusKeyTest, LongSubjectIsCutOnACharacterWithAMarker) {
    // 300 two-byte characters (600 bytes decoded, 1,800 escaped).
    std::string dn = "CN=";
    for (int i = 0; i < 300; ++i) dn += "\\C3\\A9";
    char field[kCensusSubjectLen];
    census_subject(field, sizeof field, dn.c_str());
    const std::string got(field);
    ASSERT_GE(got.size(), 4u);
    EXPECT_LE(got.size(), kCensusSubjectLen - 1);
    EXPECT_EQ(got.substr(got.size() - 3), "...");
    const std::string body = got.substr(3, got.size() - 6);  // after "CN=", before "..."
    ASSERT_EQ(body.size() % 2, 0u) << "cut inside a character";
    for (std::size_t i = 0; i < body.size(); i += 2) EXPECT_EQ(body.substr(i, 2), "\xC3\xA9");
    // A key made from it is canonical (a valid census file entry).
    CensusKey key;
    CensusKeyFields f;
    f.client_subject = dn.c_str();
    make_census_key(key, f);
    EXPECT_TRUE(census_key_canonical(key));
    EXPECT_STREQ(key.client_subject, field);
}

// A client chooses its application_name before authenticating,
// so unauthenticated keys carry none and failed logins with ever new names
// collapse into one entry per (user, database, address, ...).
TEST(CensusKeyTest, UnauthenticatedKeysCarryNoApplicationName) {
    const CensusKey ok = key_of("app1");
    EXPECT_STREQ(ok.application_name, "app1");
    const CensusKey ok2 = key_of("app2");
    EXPECT_NE(std::memcmp(&ok, &ok2, sizeof ok), 0);

    for (Outcome o : {Outcome::AuthFailed, Outcome::TlsRejected, static_cast<Outcome>(4)}) {
        const CensusKey a = key_of("app1", "tls", "TLSv1.3", o);
        const CensusKey b = key_of("app2", "tls", "TLSv1.3", o);
        EXPECT_STREQ(a.application_name, "") << static_cast<int>(o);
        EXPECT_EQ(std::memcmp(&a, &b, sizeof a), 0) << static_cast<int>(o);
    }
    EXPECT_TRUE(census_key_canonical(key_of("app1", "tls", "TLSv1.3", Outcome::AuthFailed)));
    // The role did authenticate: a policy violation keeps its application name.
    const CensusKey v = key_of("app1", "tls", "TLSv1.2", Outcome::PolicyViolation);
    EXPECT_STREQ(v.application_name, "app1");
    EXPECT_TRUE(census_key_canonical(v));
}

TEST(CensusKeyTest, UnauthenticatedShare) {
    EXPECT_TRUE(census_outcome_authenticated(Outcome::Authenticated));
    EXPECT_FALSE(census_outcome_authenticated(Outcome::AuthFailed));
    EXPECT_FALSE(census_outcome_authenticated(Outcome::TlsRejected));
    EXPECT_FALSE(census_outcome_authenticated(std::uint8_t{4}));
    EXPECT_TRUE(census_outcome_authenticated(Outcome::PolicyViolation));
    EXPECT_TRUE(census_outcome_authenticated(std::uint8_t{5}));
    EXPECT_FALSE(census_outcome_authenticated(std::uint8_t{6}));
    EXPECT_EQ(census_unauthenticated_share(10), 2);
    EXPECT_EQ(census_unauthenticated_share(5000), 1250);
    EXPECT_EQ(census_unauthenticated_share(3), 1);
    EXPECT_EQ(census_unauthenticated_share(1), 1);
}

// The census save protocol (write + fsync a temporary file, then
// rename + fsync the directory), and its failures reported, not raised.
namespace {
std::string temp_dir() {
    char name[] = "/tmp/census_save_XXXXXX";
    const char *dir = mkdtemp(name);
    return dir != nullptr ? dir : "";
}
std::string slurp(const std::string &path) {
    std::string out;
    if (FILE *f = std::fopen(path.c_str(), "rb")) {
        char buf[4096];
        std::size_t n;
        while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) out.append(buf, n);
        std::fclose(f);
    }
    return out;
}
}  // namespace

TEST(CensusFileTest, SaveWritesThenRenames) {
    const std::string dir = temp_dir();
    ASSERT_FALSE(dir.empty());
    const std::string tmp = dir + "/census.tmp", file = dir + "/census";
    CensusSnapshot s;
    s.since_reset = 42;
    const std::string bytes = serialize_census(s);
    EXPECT_FALSE(write_file_synced(tmp, bytes).has_value());
    EXPECT_EQ(slurp(tmp), bytes);
    EXPECT_FALSE(rename_synced(tmp, file).has_value());
    EXPECT_EQ(slurp(file), bytes);
    EXPECT_NE(access(tmp.c_str(), F_OK), 0);
    // A second save replaces the file whole.
    s.since_reset = 43;
    const std::string bytes2 = serialize_census(s);
    EXPECT_FALSE(write_file_synced(tmp, bytes2).has_value());
    EXPECT_FALSE(rename_synced(tmp, file).has_value());
    EXPECT_EQ(slurp(file), bytes2);
    unlink(file.c_str());
    rmdir(dir.c_str());
}

TEST(CensusFileTest, SaveFailuresAreReported) {
    const std::string dir = temp_dir();
    ASSERT_FALSE(dir.empty());
    // The temporary path is a directory: create fails, with the reason.
    const std::string blocked = dir + "/census.tmp";
    ASSERT_EQ(mkdir(blocked.c_str(), 0700), 0);
    auto e = write_file_synced(blocked, "x");
    ASSERT_TRUE(e.has_value());
    EXPECT_EQ(e->sqlstate, "58030");
    EXPECT_EQ(e->message, "could not create \"" + blocked + "\": Is a directory");
    rmdir(blocked.c_str());
    // A missing directory.
    e = write_file_synced(dir + "/missing/census.tmp", "x");
    ASSERT_TRUE(e.has_value());
    EXPECT_NE(e->message.find("No such file or directory"), std::string::npos) << e->message;
    // Rename into a missing directory: reported, and the temporary file removed.
    const std::string tmp = dir + "/census.tmp";
    ASSERT_FALSE(write_file_synced(tmp, "x").has_value());
    e = rename_synced(tmp, dir + "/missing/census");
    ASSERT_TRUE(e.has_value());
    EXPECT_EQ(e->message.rfind("could not rename to", 0), 0u) << e->message;
    EXPECT_NE(access(tmp.c_str(), F_OK), 0);
    rmdir(dir.c_str());
}
