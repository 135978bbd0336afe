// The census key text (the compact form the shared census keeps) and the
// text area that holds those texts.
#include <gtest/gtest.h>

#include <cstring>
#include <map>
#include <string>
#include <vector>

#include "census/census_file.hpp"
#include "census/census_key.hpp"
#include "census/census_key_text.hpp"
#include "census/census_text_area.hpp"

using namespace tls_audit;

namespace {

CensusKey full_key(const std::string &subject, const char *app = "billing", Outcome outcome = Outcome::Authenticated) {
    CensusKeyFields f;
    f.usename = "alice";
    f.datname = "postgres";
    f.client_addr = "2001:db8::1";
    f.application_name = app;
    f.transport = "tls";
    f.protocol = "TLSv1.3";
    f.cipher = "TLS_AES_256_GCM_SHA384";
    f.client_subject = subject.c_str();
    f.outcome = outcome;
    f.alpn = CensusAlpn::Postgresql;
    f.auth_method = AuthMethod::ScramSha256;
    f.hba_line = 70000;
    f.client_cert_verified = CensusFlag::Yes;
    f.extended_master_secret = CensusFlag::No;
    f.key_exchange_group = CensusGroup::X25519MLKEM768;
    f.source = "edge";
    CensusKey k;
    make_census_key(k, f);
    return k;
}

std::string text_of(const CensusKey &k) {
    char buf[kCensusKeyTextMax];
    const std::size_t n = encode_census_key(k, buf);
    return std::string(buf, n);
}

}  // namespace

TEST(CensusKeyText, RoundTripsEveryByteIncludingTheGroupAndLongSubjects) {
    for (const std::size_t len : {0UL, 1UL, 100UL, kCensusSubjectLen - 1, kCensusSubjectLen + 300}) {
        const CensusKey k = full_key("CN=" + std::string(len, 'x'));
        const std::string t = text_of(k);
        CensusKey back;
        ASSERT_TRUE(decode_census_key(t.data(), t.size(), back)) << len;
        EXPECT_EQ(std::memcmp(&k, &back, sizeof k), 0) << len;
        EXPECT_EQ(back.key_exchange_group, static_cast<std::uint8_t>(CensusGroup::X25519MLKEM768));
        EXPECT_EQ(back.hba_line, 65535);
        EXPECT_STREQ(back.client_subject, k.client_subject);
    }
}

TEST(CensusKeyText, IsCompactForATypicalKey) {
    const std::string t = text_of(full_key("CN=app01.example.com,O=Example"));
    EXPECT_LT(t.size(), 140U);
    EXPECT_GT(t.size(), kCensusFixedBytes + 9);
}

TEST(CensusKeyText, LongestKeyFitsTheMaximum) {
    CensusKey k = full_key(std::string(2000, 's'), std::string(200, 'a').c_str(), Outcome::Authenticated);
    copy_census_field(k.reason, sizeof k.reason, std::string(500, 'r').c_str());
    copy_census_field(k.usename, sizeof k.usename, std::string(500, 'u').c_str());
    copy_census_field(k.source, sizeof k.source, std::string(500, 'p').c_str());
    const std::string t = text_of(k);
    EXPECT_LE(t.size(), kCensusKeyTextMax);
    CensusKey back;
    ASSERT_TRUE(decode_census_key(t.data(), t.size(), back));
    EXPECT_EQ(std::memcmp(&k, &back, sizeof k), 0);
}

TEST(CensusKeyText, DifferentKeysHaveDifferentTexts) {
    const CensusKey a = full_key("CN=a");
    CensusKey b = a;
    b.key_exchange_group = static_cast<std::uint8_t>(CensusGroup::X25519);
    EXPECT_NE(text_of(a), text_of(b));
    // The same bytes moved from one field to the next are another key.
    CensusKey c = a;
    copy_census_field(c.usename, sizeof c.usename, "alicep");
    copy_census_field(c.datname, sizeof c.datname, "ostgres");
    EXPECT_NE(text_of(a), text_of(c));
    // The same client seen by the server and through a pooler: two keys.
    CensusKey d = a;
    copy_census_field(d.source, sizeof d.source, "");
    EXPECT_NE(text_of(a), text_of(d));
}

TEST(CensusKeyText, RejectsGarbage) {
    const std::string good = text_of(full_key("CN=a"));
    CensusKey k;
    EXPECT_FALSE(decode_census_key(good.data(), good.size() - 1, k));  // last NUL missing
    const std::string extra = good + std::string(1, '\0');
    EXPECT_FALSE(decode_census_key(extra.data(), extra.size(), k));  // an eleventh field
    EXPECT_FALSE(decode_census_key(good.data(), 3, k));
    EXPECT_FALSE(decode_census_key("", 0, k));
    std::string bad_outcome = good;
    bad_outcome[0] = 99;
    EXPECT_FALSE(decode_census_key(bad_outcome.data(), bad_outcome.size(), k));
    std::string long_user = good.substr(0, kCensusFixedBytes) + std::string(kCensusNameLen, 'u') + good.substr(kCensusFixedBytes + 5);
    EXPECT_FALSE(decode_census_key(long_user.data(), long_user.size(), k));
    std::string huge(kCensusKeyTextMax + 1, '\0');
    EXPECT_FALSE(decode_census_key(huge.data(), huge.size(), k));
    const CensusKey zero{};
    EXPECT_EQ(std::memcmp(&k, &zero, sizeof k), 0) << "a rejected text leaves a zeroed key";
}

TEST(CensusKeyText, HashIsSeededAndCoversEveryByte) {
    const std::string t = text_of(full_key("CN=a"));
    EXPECT_EQ(census_key_text_hash(t.data(), t.size(), 1), census_key_text_hash(t.data(), t.size(), 1));
    EXPECT_NE(census_key_text_hash(t.data(), t.size(), 1), census_key_text_hash(t.data(), t.size(), 2));
    std::map<std::uint64_t, int> seen;
    for (std::size_t i = 0; i < t.size(); ++i) {
        std::string u = t;
        u[i] = static_cast<char>(u[i] ^ 1);
        seen[census_key_text_hash(u.data(), u.size(), 7)]++;
    }
    seen[census_key_text_hash(t.data(), t.size(), 7)]++;
    EXPECT_EQ(seen.size(), t.size() + 1);
    // Every tail length (0..15 bytes after the last whole word) counts.
    std::map<std::uint64_t, int> tails;
    for (std::size_t n = 0; n < 16; ++n) tails[census_key_text_hash(t.data(), n, 3)]++;
    EXPECT_EQ(tails.size(), 16U);
}

TEST(CensusTextArea, AppendsReleasesAndCompactsInPlace) {
    std::vector<char> bytes(200);
    CensusTextAreaState st;
    CensusTextArea::init(st, bytes.size());
    CensusTextArea area(st, bytes.data());
    std::map<std::uint64_t, std::uint32_t> where;
    const std::string texts[] = {"first text", "second", "third one here", "4"};
    for (std::uint64_t i = 0; i < 4; ++i) {
        const std::string &t = texts[i];
        ASSERT_TRUE(area.fits(t.size()));
        where[i + 1] = area.append(t.data(), static_cast<std::uint16_t>(t.size()), i + 1);
    }
    EXPECT_EQ(st.used, 4 * kCensusTextRecordHeader + 10 + 6 + 14 + 1);
    area.release(where[1]);
    area.release(where[3]);
    area.release(where[3]);  // twice: counted once
    EXPECT_EQ(st.dead, 2 * kCensusTextRecordHeader + 10 + 14);
    const std::string big(200 - st.used - kCensusTextRecordHeader + 1, 'b');
    EXPECT_FALSE(area.fits(big.size()));
    EXPECT_TRUE(area.fits_after_compaction(big.size()));
    int moves = 0;
    area.compact([&](std::uint64_t owner, std::uint32_t offset) {
        ++moves;
        where[owner] = offset;
    });
    EXPECT_EQ(moves, 2);
    EXPECT_EQ(st.dead, 0U);
    EXPECT_EQ(st.compactions, 1U);
    EXPECT_EQ(std::string(area.text(where[2]), area.length(where[2])), "second");
    EXPECT_EQ(std::string(area.text(where[4]), area.length(where[4])), "4");
    EXPECT_EQ(where[2], 0U);
    ASSERT_TRUE(area.fits(big.size()));
    const std::uint32_t b = area.append(big.data(), static_cast<std::uint16_t>(big.size()), 9);
    EXPECT_EQ(std::string(area.text(b), area.length(b)), big);
    EXPECT_EQ(st.used, 2 * kCensusTextRecordHeader + 6 + 1 + kCensusTextRecordHeader + big.size());
    const std::size_t rest = st.capacity - st.used - kCensusTextRecordHeader;
    EXPECT_TRUE(area.fits(rest));
    EXPECT_FALSE(area.fits(rest + 1));
    EXPECT_FALSE(area.fits_after_compaction(rest + 1));
}

TEST(CensusTextArea, SizedPerEntry) {
    EXPECT_EQ(census_text_area_bytes(5000), 5000 * kCensusTextBytesPerEntry);
    EXPECT_EQ(census_text_area_bytes(0), 0U);
    EXPECT_LE(census_text_area_bytes(1000000), 0xFFFFFFFFULL);
}

// Census files written by releases 1.0 and 1.1, byte by byte as those
// releases laid them out (not through serialize_census): they still load,
// and every key survives the trip into the shared census's key text.
namespace {

template <typename T>
void put(std::string &out, T v) {
    out.append(reinterpret_cast<const char *>(&v), sizeof v);
}

void put_field(std::string &out, const char *value, std::size_t capacity) {
    std::string f(value);
    f.resize(capacity, '\0');
    out += f;
}

// One record in the 976-byte key layout both releases share; `tail` is the
// eight bytes after the strings: 1.0 wrote the outcome and seven zero
// padding bytes; 1.1 filled alpn, auth_method, the two flags and hba_line.
std::string old_record(const char *user, const char *subject, const std::string &tail, std::int64_t connections) {
    std::string r;
    put_field(r, user, kCensusNameLen);
    put_field(r, "postgres", kCensusNameLen);
    put_field(r, "127.0.0.1", kCensusAddrLen);
    put_field(r, "psql", kCensusAppLen);
    put_field(r, "tls", kCensusTransportLen);
    put_field(r, "TLSv1.2", kCensusProtocolLen);
    put_field(r, "ECDHE-RSA-AES256-GCM-SHA384", kCensusCipherLen);
    put_field(r, subject, kCensusSubjectLen);
    put_field(r, "", kCensusReasonLen);
    r += tail;
    put<std::int64_t>(r, connections);
    put<std::int64_t>(r, 1000);  // first_seen
    put<std::int64_t>(r, 2000);  // last_seen
    return r;
}

std::string old_file(const std::vector<std::string> &records) {
    std::string f("PGTLSCEN", 8);
    put<std::uint32_t>(f, 1);     // format version of 1.0 and 1.1
    put<std::uint32_t>(f, 1000);  // record size: 976-byte key + three counters
    put<std::int64_t>(f, 555);    // since_reset
    put<std::int64_t>(f, 3);      // evicted
    put<std::uint64_t>(f, records.size());
    for (const std::string &r : records) f += r;
    put<std::uint32_t>(f, crc32c(f.data(), f.size()));
    return f;
}

}  // namespace

TEST(CensusKeyText, OldCensusFilesLoadIntoKeyTexts) {
    const std::string long_dn = "CN=" + std::string(kCensusSubjectLen - 4, 'd');
    std::string tail10(8, '\0');
    tail10[0] = static_cast<char>(Outcome::Authenticated);
    std::string tail11 = tail10;
    tail11[1] = static_cast<char>(CensusAlpn::Postgresql);
    tail11[2] = static_cast<char>(AuthMethod::ScramSha256);
    tail11[3] = static_cast<char>(CensusFlag::Yes);
    const std::uint16_t line = 42;
    std::memcpy(&tail11[4], &line, sizeof line);
    tail11[6] = static_cast<char>(CensusFlag::No);
    for (const std::string &tail : {tail10, tail11}) {
        const std::string bytes = old_file({old_record("alice", "", tail, 7), old_record("bob", long_dn.c_str(), tail, 9)});
        const auto parsed = deserialize_census(bytes, 100);
        ASSERT_TRUE(parsed.ok()) << parsed.error().message;
        const CensusSnapshot &s = parsed.value();
        EXPECT_EQ(s.since_reset, 555);
        EXPECT_EQ(s.evicted, 3);
        ASSERT_EQ(s.records.size(), 2U);
        EXPECT_EQ(s.records[1].connections, 9);
        EXPECT_EQ(std::string(s.records[1].key.client_subject), long_dn);
        EXPECT_EQ(s.records[0].key.key_exchange_group, 0) << "no group in old files: unknown";
        EXPECT_STREQ(s.records[0].key.source, "") << "no source in old files: the server's own connections";
        for (const CensusRecord &r : s.records) {
            const std::string t = text_of(r.key);
            CensusKey back;
            ASSERT_TRUE(decode_census_key(t.data(), t.size(), back));
            EXPECT_EQ(std::memcmp(&back, &r.key, sizeof back), 0);
        }
    }
    EXPECT_EQ(deserialize_census(old_file({}), 100).value().records.size(), 0U);
}
