// The C++ table of Mozilla's profiles against the published JSON shipped next
// to it: every field the table encodes is compared, every other key of the
// JSON is named as deliberately unused, and the JSON is the published file.
#include <gtest/gtest.h>

#include <openssl/evp.h>

#include <fstream>
#include <iterator>
#include <set>
#include <sstream>

#include "json_reader.hpp"
#include "probe/tls_profiles.hpp"

using namespace tls_audit;
using tls_audit::test::JsonReader;
using tls_audit::test::JsonValue;

namespace {

const std::string kJsonPath =
    std::string(TLS_AUDIT_SOURCE_DIR) + "/src/core/probe/mozilla_tls_profiles_" + kMozillaGuidelinesVersion + ".json";

std::string read_all(const std::string &path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw std::runtime_error("cannot read " + path);
    return std::string(std::istreambuf_iterator<char>(in), {});
}

std::string sha256_hex(const std::string &data) {
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    EXPECT_EQ(EVP_Digest(data.data(), data.size(), md, &len, EVP_sha256(), nullptr), 1);
    std::ostringstream out;
    for (unsigned int i = 0; i < len; ++i) out << std::hex << (md[i] >> 4) << (md[i] & 0xf);
    return out.str();
}

const JsonValue &document() {
    static const JsonValue doc = JsonReader::parse(read_all(kJsonPath));
    return doc;
}

// null -> 0, the table's "not allowed".
int int_or_zero(const JsonValue &v) {
    if (v.is_null()) return 0;
    EXPECT_EQ(v.kind, JsonValue::Kind::Number);
    return static_cast<int>(v.number);
}

// Keys of a configuration the table encodes, and those it does not use (and why).
const std::set<std::string> kEncoded = {"tls_versions",           "ciphersuites",
                                        "ciphers",                "tls_curves",
                                        "dh_param_size",          "certificate_types",
                                        "certificate_curves",     "rsa_key_size",
                                        "certificate_signatures", "maximum_certificate_lifespan",
                                        "recommended_certificate_lifespan", "server_preferred_order"};
const std::set<std::string> kUnused = {
    "ecdh_param_size",  // implied by tls_curves, which the table encodes
    "hsts_min_age",     // an HTTP header; PostgreSQL has none
    "ocsp_staple",      // PostgreSQL does not staple OCSP responses
    "oldest_clients",   // information for the reader, not a rule
};
// ciphers.<library>: the table encodes the OpenSSL names, which the probe reports.
const std::set<std::string> kCipherLibraries = {"openssl", "caddy", "go", "iana"};

}  // namespace

TEST(TlsProfilesData, JsonIsThePublishedFile) {
    // The SHA-256 of src/static/guidelines/5.7.json in mozilla/ssl-config-generator:
    // the shipped data is that file byte for byte, never edited here.
    EXPECT_EQ(sha256_hex(read_all(kJsonPath)), "c75b1f21a932b556654f6b52bef9e6c460c12e626ae0f62e17f83c1816bb42d6");
    const JsonValue &doc = document();
    EXPECT_EQ(doc.at("version").string, kMozillaGuidelinesVersion);
    EXPECT_EQ(doc.at("href").string,
              std::string("https://ssl-config.mozilla.org/guidelines/") + kMozillaGuidelinesVersion + ".json");
}

TEST(TlsProfilesData, SameProfiles) {
    std::set<std::string> json_names, table_names;
    for (const auto &kv : document().at("configurations").object) json_names.insert(kv.first);
    for (const auto &p : tls_profiles()) table_names.insert(p.name);
    EXPECT_EQ(json_names, table_names);
}

TEST(TlsProfilesData, EveryFieldMatches) {
    const JsonValue &configs = document().at("configurations");
    for (const auto &p : tls_profiles()) {
        SCOPED_TRACE(p.name);
        const JsonValue &c = configs.at(p.name);

        // No key of the JSON goes unnoticed: a future version adding a rule fails here.
        for (const auto &kv : c.object)
            EXPECT_TRUE(kEncoded.count(kv.first) || kUnused.count(kv.first)) << "unknown key " << kv.first;
        for (const auto &k : kEncoded) EXPECT_TRUE(c.object.count(k)) << "missing key " << k;
        for (const auto &kv : c.at("ciphers").object) EXPECT_TRUE(kCipherLibraries.count(kv.first)) << kv.first;

        std::vector<std::string> versions;
        for (Protocol v : p.protocols) versions.push_back(protocol_name(v));
        EXPECT_EQ(versions, c.at("tls_versions").strings());
        EXPECT_EQ(p.ciphersuites, c.at("ciphersuites").strings());
        EXPECT_EQ(p.ciphers, c.at("ciphers").at("openssl").strings());

        std::vector<std::string> groups;
        for (const auto &g : c.at("tls_curves").strings()) {
            groups.push_back(group_from_mozilla(g));
            EXPECT_FALSE(groups.back().empty()) << "curve the probe cannot name: " << g;
        }
        EXPECT_EQ(p.groups, groups);

        EXPECT_EQ(p.dh_min_bits, int_or_zero(c.at("dh_param_size")));
        std::vector<std::string> types;
        for (const auto &t : c.at("certificate_types").strings()) {
            types.push_back(key_type_from_mozilla(t));
            EXPECT_FALSE(types.back().empty()) << "certificate type the reader cannot name: " << t;
        }
        EXPECT_EQ(p.cert_key_types, types);
        EXPECT_EQ(p.cert_curves, c.at("certificate_curves").strings());
        EXPECT_EQ(p.rsa_min_bits, int_or_zero(c.at("rsa_key_size")));
        EXPECT_EQ(p.cert_signatures, c.at("certificate_signatures").strings());
        EXPECT_EQ(p.max_cert_lifespan_days, int_or_zero(c.at("maximum_certificate_lifespan")));
        EXPECT_EQ(p.recommended_cert_lifespan_days, int_or_zero(c.at("recommended_certificate_lifespan")));
        ASSERT_EQ(c.at("server_preferred_order").kind, JsonValue::Kind::Bool);
        EXPECT_EQ(p.server_preference, c.at("server_preferred_order").boolean);
    }
}

TEST(TlsProfilesData, ReaderRefusesMalformedJson) {
    // The comparison is only as good as its reader: it must not accept garbage.
    for (const char *bad : {"", "{", "{\"a\":1,}", "[1 2]", "{\"a\":1,\"a\":2}", "tru", "\"x", "1 2", "{\"a\" 1}"})
        EXPECT_THROW(JsonReader::parse(bad), std::runtime_error) << bad;
    JsonValue v = JsonReader::parse("{\"a\": [true, false, null, -1.5, \"s\\\"\"]}");
    ASSERT_EQ(v.at("a").array.size(), 5u);
    EXPECT_TRUE(v.at("a").array[0].boolean);
    EXPECT_FALSE(v.at("a").array[1].boolean);
    EXPECT_TRUE(v.at("a").array[2].is_null());
    EXPECT_EQ(v.at("a").array[3].number, -1.5);
    EXPECT_EQ(v.at("a").array[4].string, "s\"");
}
