#include <gtest/gtest.h>

#include <openssl/ssl.h>

#include "base/protocol.hpp"

using namespace tls_audit;

TEST(ProtocolTest, ParsesNamesCaseInsensitively) {
    EXPECT_EQ(parse_protocol("TLSv1"), Protocol::TLSv1);
    EXPECT_EQ(parse_protocol("tlsv1.1"), Protocol::TLSv1_1);
    EXPECT_EQ(parse_protocol("TLSv1.2"), Protocol::TLSv1_2);
    EXPECT_EQ(parse_protocol("TLSV1.3"), Protocol::TLSv1_3);
}

TEST(ProtocolTest, RejectsUnknownNames) {
    EXPECT_FALSE(parse_protocol(""));
    EXPECT_FALSE(parse_protocol("TLSv1.4"));
    EXPECT_FALSE(parse_protocol("TLSv1.2 "));
    EXPECT_FALSE(parse_protocol("TLSv1.23"));
    EXPECT_FALSE(parse_protocol("TLS"));
}

TEST(ProtocolTest, OrdersOldestFirst) {
    EXPECT_LT(Protocol::TLSv1, Protocol::TLSv1_1);
    EXPECT_LT(Protocol::TLSv1_1, Protocol::TLSv1_2);
    EXPECT_LT(Protocol::TLSv1_2, Protocol::TLSv1_3);
}

TEST(ProtocolTest, RoundTripsOpenSslVersions) {
    for (Protocol p : {Protocol::TLSv1, Protocol::TLSv1_1, Protocol::TLSv1_2, Protocol::TLSv1_3}) {
        EXPECT_EQ(protocol_from_openssl(protocol_to_openssl(p)), p);
        EXPECT_EQ(parse_protocol(protocol_name(p)), p);
    }
    EXPECT_EQ(protocol_to_openssl(Protocol::TLSv1_3), TLS1_3_VERSION);
    EXPECT_FALSE(protocol_from_openssl(0x7777));
}

TEST(ProtocolTest, FloorReasons) {
    EXPECT_EQ(below_floor_reason("tls", "TLSv1.1", Protocol::TLSv1_2), "TLSv1.1 < TLSv1.2");
    EXPECT_EQ(below_floor_reason("tls", "TLSv1", Protocol::TLSv1_2), "TLSv1 < TLSv1.2");
    EXPECT_FALSE(below_floor_reason("tls", "TLSv1.2", Protocol::TLSv1_2));
    EXPECT_FALSE(below_floor_reason("tls", "TLSv1.3", Protocol::TLSv1_2));
    EXPECT_EQ(below_floor_reason("tls", "TLSv1.2", Protocol::TLSv1_3), "TLSv1.2 < TLSv1.3");
    EXPECT_EQ(below_floor_reason("tcp", "", Protocol::TLSv1), "no TLS");
    EXPECT_FALSE(below_floor_reason("unix", "", Protocol::TLSv1_3));
    EXPECT_EQ(below_floor_reason("tls", "bogus", Protocol::TLSv1_2), "unknown protocol bogus");
}

TEST(TransportName, OneVocabularyForSessionsAndCensus) {
    TransportFacts f;
    EXPECT_EQ(transport_name(f), nullptr);  // unknown address
    f.unix_socket = true;
    EXPECT_STREQ(transport_name(f), "unix");
    f = TransportFacts{};
    f.inet = true;
    EXPECT_STREQ(transport_name(f), "tcp");
    f.gss_encrypted = true;
    EXPECT_STREQ(transport_name(f), "gss");  // GSSAPI encryption is gss, not tcp, everywhere
    f.tls = true;
    EXPECT_STREQ(transport_name(f), "tls");
    f = TransportFacts{};
    f.inet = true;
    f.tls = true;
    EXPECT_STREQ(transport_name(f), "tls");
    // A GSSAPI-encrypted session is below every floor, like plain TCP.
    EXPECT_EQ(below_floor_reason("gss", "", Protocol::TLSv1), "no TLS");
    EXPECT_EQ(below_floor_reason("tcp", "", Protocol::TLSv1), "no TLS");
}
