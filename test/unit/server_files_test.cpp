// Reading the server's certificate, key, CA and CRL files; the key file
// permission rule; chain completeness; caching by file identity.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <string>

#include <openssl/pem.h>

#include "certs/file_cache.hpp"
#include "certs/server_files.hpp"
#include "test_certs.hpp"

using namespace tls_audit;
using tls_audit::test::cert_dir;
using tls_audit::test::read_cert_file;

namespace {

std::int64_t now() { return static_cast<std::int64_t>(std::time(nullptr)); }

std::vector<X509Ptr> certs_of(const std::string &file) {
    auto parsed = parse_certificates(read_cert_file(file));
    if (!parsed) {
        ADD_FAILURE() << file << ": " << parsed.error().message;
        return {};
    }
    return std::move(parsed).value();
}

std::string cert_path(const std::string &name) { return cert_dir() + "/" + name; }

// A scratch directory removed at the end of the test.
class TempDir {
  public:
    TempDir() {
        char tmpl[] = "/tmp/tls_audit_server_files.XXXXXX";
        const char *made = mkdtemp(tmpl);
        if (made == nullptr) ADD_FAILURE() << "mkdtemp failed";
        path_ = made != nullptr ? made : "/tmp";
    }
    ~TempDir() { (void)std::system(("rm -rf '" + path_ + "'").c_str()); }
    std::string file(const std::string &name) const { return path_ + "/" + name; }
    // Copy a generated file here under `as`, replacing any previous one in place.
    std::string copy(const std::string &name, const std::string &as) const {
        std::ofstream out(file(as), std::ios::binary | std::ios::trunc);
        out << read_cert_file(name);
        return file(as);
    }
    std::string write(const std::string &as, const std::string &contents) const {
        std::ofstream out(file(as), std::ios::binary | std::ios::trunc);
        out << contents;
        return file(as);
    }

  private:
    std::string path_;
};

constexpr std::uint32_t kServer = 1000;
constexpr std::uint32_t kOther = 1001;

}  // namespace

// --- PostgreSQL's key file rule -------------------------------------------

TEST(KeyFilePermissions, OwnedByServerUser) {
    EXPECT_TRUE(judge_key_file_permissions(S_IFREG | 0600, kServer, kServer).ok);
    EXPECT_TRUE(judge_key_file_permissions(S_IFREG | 0400, kServer, kServer).ok);
    for (unsigned mode : {0640u, 0644u, 0604u, 0610u, 0660u, 0601u}) {
        auto p = judge_key_file_permissions(S_IFREG | mode, kServer, kServer);
        EXPECT_FALSE(p.ok) << std::oct << mode;
        EXPECT_NE(p.problem.find("group or world access"), std::string::npos) << p.problem;
    }
    EXPECT_EQ(judge_key_file_permissions(S_IFREG | 0644, kServer, kServer).mode, "0644");
}

TEST(KeyFilePermissions, OwnedByRoot) {
    EXPECT_TRUE(judge_key_file_permissions(S_IFREG | 0640, 0, kServer).ok);
    EXPECT_TRUE(judge_key_file_permissions(S_IFREG | 0600, 0, kServer).ok);
    EXPECT_TRUE(judge_key_file_permissions(S_IFREG | 0440, 0, kServer).ok);
    EXPECT_FALSE(judge_key_file_permissions(S_IFREG | 0660, 0, kServer).ok);
    EXPECT_FALSE(judge_key_file_permissions(S_IFREG | 0650, 0, kServer).ok);
    EXPECT_FALSE(judge_key_file_permissions(S_IFREG | 0644, 0, kServer).ok);
    EXPECT_EQ(judge_key_file_permissions(S_IFREG | 0640, 0, kServer).owner, "root");
}

TEST(KeyFilePermissions, OtherOwnerOrNotAFile) {
    auto other = judge_key_file_permissions(S_IFREG | 0600, kOther, kServer);
    EXPECT_FALSE(other.ok);
    EXPECT_NE(other.problem.find("must be owned by the database user or root"), std::string::npos);
    EXPECT_FALSE(judge_key_file_permissions(S_IFDIR | 0700, kServer, kServer).ok);
    EXPECT_EQ(judge_key_file_permissions(S_IFREG | 0600, 0, kServer).owner_uid, 0u);
}

TEST(KeyFilePermissions, OnDisk) {
    TempDir dir;
    const std::string key = dir.copy("server.key", "server.key");
    const auto me = static_cast<std::uint32_t>(geteuid());
    chmod(key.c_str(), 0600);
    auto ok = check_key_file(key, me);
    ASSERT_TRUE(ok.ok()) << ok.error().message;
    EXPECT_EQ(ok.value().mode, "0600");
    EXPECT_TRUE(ok.value().ok) << ok.value().problem;
    chmod(key.c_str(), 0644);
    auto bad = check_key_file(key, me);
    ASSERT_TRUE(bad.ok());
    EXPECT_EQ(bad.value().mode, "0644");
    EXPECT_FALSE(bad.value().ok);
    auto missing = check_key_file(dir.file("nope.key"), me);
    ASSERT_FALSE(missing.ok());
    EXPECT_EQ(missing.error().sqlstate, "58030");
    EXPECT_NE(missing.error().message.find("No such file"), std::string::npos);
}

// --- key matches certificate ------------------------------------------------

TEST(KeyMatch, MatchingAndMismatchedPairs) {
    auto server = certs_of("server.crt");
    auto renewed = certs_of("server-renewed-chain.crt");
    auto newkey = certs_of("server-newkey.crt");
    ASSERT_FALSE(server.empty());
    ASSERT_FALSE(renewed.empty());
    ASSERT_FALSE(newkey.empty());
    EXPECT_EQ(key_matches_certificate(cert_path("server.key"), server[0].get()).matches, std::optional<bool>(true));
    EXPECT_EQ(key_matches_certificate(cert_path("server.key"), renewed[0].get()).matches, std::optional<bool>(true));
    EXPECT_EQ(key_matches_certificate(cert_path("server.key"), newkey[0].get()).matches, std::optional<bool>(false));
    EXPECT_EQ(key_matches_certificate(cert_path("server-newkey.key"), newkey[0].get()).matches,
              std::optional<bool>(true));
    EXPECT_EQ(key_matches_certificate(cert_path("p384.key"), certs_of("p384.crt")[0].get()).matches,
              std::optional<bool>(true));
    EXPECT_EQ(key_matches_certificate(cert_path("ed25519.key"), certs_of("ed25519.crt")[0].get()).matches,
              std::optional<bool>(true));
    EXPECT_EQ(key_matches_certificate(cert_path("ed25519.key"), server[0].get()).matches,
              std::optional<bool>(false));
}

TEST(KeyMatch, UncheckableKeysSayWhyWithoutQuotingThem) {
    TempDir dir;
    auto server = certs_of("server.crt");
    ASSERT_FALSE(server.empty());
    const std::string key_text = read_cert_file("server.key");
    // A base64 line from the middle of the key: must never appear in a message.
    const std::string key_line = key_text.substr(key_text.find('\n') + 1, 40);

    auto missing = key_matches_certificate(dir.file("missing.key"), server[0].get());
    EXPECT_FALSE(missing.matches.has_value());
    EXPECT_NE(missing.error.find("No such file"), std::string::npos);

    auto garbage = key_matches_certificate(cert_path("garbage.txt"), server[0].get());
    EXPECT_FALSE(garbage.matches.has_value());
    EXPECT_FALSE(garbage.error.empty());

    // A damaged key (truncated in the middle).
    const std::string cut = dir.write("cut.key", key_text.substr(0, key_text.size() / 2));
    auto truncated = key_matches_certificate(cut, server[0].get());
    EXPECT_FALSE(truncated.matches.has_value());
    EXPECT_EQ(truncated.error.find(key_line), std::string::npos);
    EXPECT_EQ(truncated.error.find("PRIVATE KEY"), std::string::npos) << truncated.error;

    // A passphrase-protected key.
    BioPtr in(BIO_new_mem_buf(key_text.data(), static_cast<int>(key_text.size())));
    EvpPkeyPtr key(PEM_read_bio_PrivateKey(in.get(), nullptr, nullptr, nullptr));
    ASSERT_TRUE(key);
    BioPtr out(BIO_new(BIO_s_mem()));
    char pass[] = "secret";
    ASSERT_EQ(PEM_write_bio_PKCS8PrivateKey(out.get(), key.get(), EVP_aes_256_cbc(), pass, 6, nullptr, nullptr), 1);
    char *data = nullptr;
    long len = BIO_get_mem_data(out.get(), &data);
    const std::string enc = dir.write("enc.key", std::string(data, static_cast<std::size_t>(len)));
    auto encrypted = key_matches_certificate(enc, server[0].get());
    EXPECT_FALSE(encrypted.matches.has_value());
    EXPECT_NE(encrypted.error.find("passphrase"), std::string::npos) << encrypted.error;

    // A certificate file given as the key.
    auto not_key = key_matches_certificate(cert_path("server.crt"), server[0].get());
    EXPECT_FALSE(not_key.matches.has_value());
    EXPECT_FALSE(not_key.error.empty());
}

// --- chain completeness -----------------------------------------------------

TEST(Chain, LeafOnlyWithRootIsIncomplete) {
    auto c = check_chain(certs_of("server.crt"), certs_of("root.crt"), false);
    EXPECT_FALSE(c.complete);
    EXPECT_NE(c.error.find("pg_tls_audit Test Intermediate CA"), std::string::npos) << c.error;
    EXPECT_NE(c.error.find("neither in ssl_cert_file nor in ssl_ca_file"), std::string::npos) << c.error;
}

TEST(Chain, LeafAndIntermediateWithRootIsComplete) {
    auto c = check_chain(certs_of("server-chain.crt"), certs_of("root.crt"), false);
    EXPECT_TRUE(c.complete) << c.error;
    EXPECT_TRUE(c.error.empty());
}

TEST(Chain, IntermediateFromTheCaFileCompletesTheChain) {
    // OpenSSL completes the chain it sends from ssl_ca_file when the
    // certificate file holds only the leaf.
    EXPECT_TRUE(check_chain(certs_of("server.crt"), certs_of("ca-bundle.crt"), false).complete);
}

TEST(Chain, NoAnchorsAtAll) {
    auto c = check_chain(certs_of("server-chain.crt"), {}, false);
    EXPECT_FALSE(c.complete);
    EXPECT_NE(c.error.find("pg_tls_audit Test Root CA"), std::string::npos) << c.error;
}

TEST(Chain, ValidityIsNotCompleteness) {
    EXPECT_TRUE(check_chain(certs_of("expired-chain.crt"), certs_of("root.crt"), false).complete);
}

TEST(Chain, SelfSignedLeafIsItsOwnChain) {
    EXPECT_TRUE(check_chain(certs_of("selfsigned.crt"), {}, false).complete);
}

TEST(Chain, WrongCaFile) {
    auto c = check_chain(certs_of("server.crt"), certs_of("selfsigned.crt"), false);
    EXPECT_FALSE(c.complete);
    EXPECT_FALSE(c.error.empty());
}

// --- CRLs ---------------------------------------------------------------------

TEST(Crl, GeneratedCrl) {
    auto crls = parse_crls(read_cert_file("intermediate.crl"));
    ASSERT_TRUE(crls.ok()) << crls.error().message;
    ASSERT_EQ(crls.value().size(), 1u);
    const CrlInfo &c = crls.value()[0];
    EXPECT_EQ(c.issuer, "O=pg_tls_audit tests,CN=pg_tls_audit Test Intermediate CA");
    ASSERT_TRUE(c.next_update.has_value());
    EXPECT_NEAR(static_cast<double>(*c.next_update - now()), 30.0 * 86400, 86400.0);
    EXPECT_LE(c.last_update, now() + 60);
    EXPECT_EQ(c.revoked, 0);
}

TEST(Crl, BadInputs) {
    EXPECT_EQ(parse_crls("").error().sqlstate, "22023");
    EXPECT_EQ(parse_crls(read_cert_file("garbage.txt")).error().sqlstate, "22023");
    EXPECT_EQ(parse_crls(read_cert_file("server.crt")).error().message, "no CRL found in PEM input");
    const std::string crl = read_cert_file("intermediate.crl");
    EXPECT_FALSE(parse_crls(crl.substr(0, crl.size() / 2)).ok());
}

// --- listen_addresses -------------------------------------------------------

TEST(SelfProbeHost, FromListenAddresses) {
    EXPECT_EQ(self_probe_host("127.0.0.1"), std::optional<std::string>("127.0.0.1"));
    EXPECT_EQ(self_probe_host("*"), std::optional<std::string>("127.0.0.1"));
    EXPECT_EQ(self_probe_host(" 0.0.0.0 , ::1"), std::optional<std::string>("127.0.0.1"));
    EXPECT_EQ(self_probe_host("::"), std::optional<std::string>("::1"));
    EXPECT_EQ(self_probe_host("localhost, 10.0.0.1"), std::optional<std::string>("localhost"));
    EXPECT_EQ(self_probe_host(" , 10.0.0.1"), std::optional<std::string>("10.0.0.1"));
    EXPECT_EQ(self_probe_host("\"db.local\""), std::optional<std::string>("db.local"));
    EXPECT_EQ(self_probe_host(""), std::nullopt);
    EXPECT_EQ(self_probe_host("  "), std::nullopt);
    EXPECT_EQ(self_probe_host(","), std::nullopt);
}

// --- file identity and the cache ---------------------------------------------

TEST(FileCache, ReloadsOnlyWhenIdentityChanges) {
    TempDir dir;
    const std::string f = dir.write("a.txt", "one");
    FileCache<std::string> cache;
    auto load = [&]() { return read_file_bytes(f, 100).value(); };
    EXPECT_EQ(*cache.get("a", {file_identity(f)}, load), "one");
    EXPECT_EQ(*cache.get("a", {file_identity(f)}, load), "one");
    EXPECT_EQ(cache.loads(), 1u);
    dir.write("a.txt", "two!");  // same inode, new size
    EXPECT_EQ(*cache.get("a", {file_identity(f)}, load), "two!");
    EXPECT_EQ(cache.loads(), 2u);
    // Same size, new mtime.
    dir.write("a.txt", "six!");
    struct timespec times[2] = {{0, UTIME_OMIT}, {1000000000, 0}};
    utimensat(AT_FDCWD, f.c_str(), times, 0);
    EXPECT_EQ(*cache.get("a", {file_identity(f)}, load), "six!");
    EXPECT_EQ(cache.loads(), 3u);
    // Replaced by rename: new inode.
    const std::string g = dir.write("b.txt", "six!");
    ASSERT_EQ(std::rename(g.c_str(), f.c_str()), 0);
    cache.get("a", {file_identity(f)}, load);
    EXPECT_EQ(cache.loads(), 4u);
    // chmod changes neither.
    chmod(f.c_str(), 0600);
    cache.get("a", {file_identity(f)}, load);
    EXPECT_EQ(cache.loads(), 4u);
}

TEST(FileCache, MissingFilesHaveAnIdentity) {
    TempDir dir;
    const FileIdentity missing = file_identity(dir.file("none"));
    EXPECT_FALSE(missing.exists);
    EXPECT_EQ(missing.error_number, ENOENT);
    EXPECT_FALSE(file_identity("").exists);
    EXPECT_EQ(file_identity("").error_number, 0);
    dir.write("none", "x");
    EXPECT_NE(file_identity(dir.file("none")), missing);
}

TEST(FileCache, ReadWholeFileErrors) {
    TempDir dir;
    EXPECT_EQ(read_file_bytes(dir.file("none"), 10).error().sqlstate, "58030");
    EXPECT_EQ(read_file_bytes(dir.write("big", std::string(11, 'x')), 10).error().sqlstate, "54000");
    EXPECT_EQ(read_file_bytes(dir.file(""), 10).error().sqlstate, "58030");  // a directory
    EXPECT_EQ(read_file_bytes("", 10).error().sqlstate, "22023");
    // A FIFO is refused at once instead of waiting for a writer.
    ASSERT_EQ(mkfifo(dir.file("fifo").c_str(), 0600), 0);
    auto fifo = read_file_bytes(dir.file("fifo"), 10);
    ASSERT_FALSE(fifo.ok());
    EXPECT_NE(fifo.error().message.find("not a regular file"), std::string::npos);
    EXPECT_EQ(read_file_bytes(dir.write("ok", "0123456789"), 10).value(), "0123456789");
}

// --- the whole report ----------------------------------------------------------

TEST(ServerFilesReader, ChainFileWithRootCa) {
    TempDir dir;
    ServerFileSettings s;
    s.cert_file = dir.copy("server-chain.crt", "server.crt");
    s.key_file = dir.copy("server.key", "server.key");
    s.ca_file = dir.copy("root.crt", "root.crt");
    s.crl_file = dir.copy("intermediate.crl", "crl.pem");
    s.server_uid = static_cast<std::uint32_t>(geteuid());
    chmod(s.key_file.c_str(), 0600);
    ServerFilesReader reader;
    ServerFilesReport r = reader.read(s);
    ASSERT_EQ(r.chain.size(), 2u);
    EXPECT_EQ(r.chain[0].subject, "O=pg_tls_audit tests,CN=localhost");
    EXPECT_EQ(r.chain[1].subject, "O=pg_tls_audit tests,CN=pg_tls_audit Test Intermediate CA");
    EXPECT_EQ(r.key_matches_cert, std::optional<bool>(true));
    ASSERT_TRUE(r.key_permissions.has_value());
    EXPECT_EQ(r.key_permissions->mode, "0600");
    EXPECT_TRUE(r.key_permissions->ok);
    EXPECT_EQ(r.chain_complete, std::optional<bool>(true)) << r.chain_error;
    ASSERT_EQ(r.ca_certificates.size(), 1u);
    EXPECT_EQ(r.ca_crl_next_update.size(), 1u);
    EXPECT_FALSE(r.ca_crl_next_update[0].has_value());  // the CRL is the intermediate's
    ASSERT_EQ(r.ca_crl_present.size(), 1u);
    EXPECT_FALSE(r.ca_crl_present[0]);  // so the root has none (crl_coverage)
    ASSERT_EQ(r.crls.size(), 1u);
    EXPECT_TRUE(r.crl_next_update.has_value());
    EXPECT_TRUE(r.errors.empty()) << r.errors[0];
}

TEST(ServerFilesReader, CrlPresentPerCa) {
    TempDir dir;
    ServerFileSettings s;
    s.cert_file = dir.copy("server-chain.crt", "server.crt");
    s.ca_file = dir.copy("ca-bundle.crt", "ca.crt");  // intermediate, then root
    s.crl_file = dir.copy("intermediate.crl", "crl.pem");
    s.server_uid = static_cast<std::uint32_t>(geteuid());
    ServerFilesReader reader;
    ServerFilesReport r = reader.read(s);
    ASSERT_EQ(r.ca_certificates.size(), 2u);
    ASSERT_EQ(r.ca_crl_present.size(), 2u);
    EXPECT_TRUE(r.ca_crl_present[0]);
    EXPECT_FALSE(r.ca_crl_present[1]);
}

TEST(ServerFilesReader, CachesAndNoticesChanges) {
    TempDir dir;
    ServerFileSettings s;
    s.cert_file = dir.copy("server.crt", "server.crt");
    s.key_file = dir.copy("server.key", "server.key");
    s.ca_file = dir.copy("ca-bundle.crt", "root.crt");
    s.crl_file = dir.copy("intermediate.crl", "crl.pem");
    s.server_uid = static_cast<std::uint32_t>(geteuid());
    chmod(s.key_file.c_str(), 0600);
    ServerFilesReader reader;
    ServerFilesReport first = reader.read(s);
    EXPECT_EQ(first.chain_complete, std::optional<bool>(true)) << first.chain_error;
    ASSERT_EQ(first.ca_certificates.size(), 2u);
    ASSERT_TRUE(first.ca_crl_next_update[0].has_value());  // intermediate: its CRL
    EXPECT_FALSE(first.ca_crl_next_update[1].has_value());
    const std::size_t loads = reader.loads();
    EXPECT_EQ(loads, 5u);  // cert, key check, CA, chain check, CRL

    reader.read(s);
    EXPECT_EQ(reader.loads(), loads) << "nothing changed: nothing re-read";

    // chmod: no re-read, but the permissions are current.
    chmod(s.key_file.c_str(), 0644);
    ServerFilesReport loose = reader.read(s);
    EXPECT_EQ(reader.loads(), loads);
    ASSERT_TRUE(loose.key_permissions.has_value());
    EXPECT_EQ(loose.key_permissions->mode, "0644");
    EXPECT_FALSE(loose.key_permissions->ok);
    EXPECT_EQ(loose.errors.size(), 1u);
    chmod(s.key_file.c_str(), 0600);

    // A certificate of another key copied over the certificate file.
    dir.copy("server-newkey.crt", "server.crt");
    ServerFilesReport mismatch = reader.read(s);
    EXPECT_EQ(reader.loads(), loads + 3);  // cert, key check, chain check
    EXPECT_EQ(mismatch.key_matches_cert, std::optional<bool>(false));
    ASSERT_EQ(mismatch.errors.size(), 1u);
    EXPECT_NE(mismatch.errors[0].find("does not belong"), std::string::npos);
    EXPECT_NE(mismatch.chain[0].sha256, first.chain[0].sha256);
}

TEST(ServerFilesReader, LeafOnlyMissingFilesAndGarbage) {
    TempDir dir;
    ServerFileSettings s;
    s.cert_file = dir.copy("server.crt", "server.crt");
    s.key_file = dir.file("missing.key");
    s.ca_file = dir.copy("root.crt", "root.crt");
    s.crl_file = dir.copy("garbage.txt", "crl.pem");
    s.server_uid = static_cast<std::uint32_t>(geteuid());
    ServerFilesReader reader;
    ServerFilesReport r = reader.read(s);
    EXPECT_EQ(r.chain.size(), 1u);
    EXPECT_EQ(r.chain_complete, std::optional<bool>(false));
    EXPECT_FALSE(r.chain_error.empty());
    EXPECT_FALSE(r.key_matches_cert.has_value());
    EXPECT_FALSE(r.key_permissions.has_value());
    EXPECT_FALSE(r.crl_next_update.has_value());
    EXPECT_EQ(r.errors.size(), 2u);  // key missing, CRL garbage

    s.cert_file = dir.copy("garbage.txt", "garbage.crt");
    s.ca_file = dir.file("missing-ca.crt");
    ServerFilesReport g = reader.read(s);
    EXPECT_TRUE(g.chain.empty());
    EXPECT_FALSE(g.chain_complete.has_value());
    EXPECT_FALSE(g.key_matches_cert.has_value());
    EXPECT_TRUE(g.ca_certificates.empty());
    EXPECT_EQ(g.errors.size(), 4u);

    ServerFilesReport none = reader.read(ServerFileSettings{});
    EXPECT_TRUE(none.chain.empty());
    EXPECT_EQ(none.errors.size(), 2u);  // cert and key not set
}

// --- ssl_crl_dir ------------------------------------------------------------------

TEST(CrlDir, HashedNamesOnly) {
    EXPECT_TRUE(is_hashed_crl_name("0123abcd.r0"));
    EXPECT_TRUE(is_hashed_crl_name("ffffffff.r12"));
    EXPECT_FALSE(is_hashed_crl_name("0123abcd.0"));     // a certificate's name in a hashed directory
    EXPECT_FALSE(is_hashed_crl_name("0123ABCD.r0"));    // OpenSSL writes lower case
    EXPECT_FALSE(is_hashed_crl_name("0123abc.r0"));     // 7 digits
    EXPECT_FALSE(is_hashed_crl_name("0123abcd.r"));     // no sequence number
    EXPECT_FALSE(is_hashed_crl_name("0123abcd.r0x"));
    EXPECT_FALSE(is_hashed_crl_name("crl.pem"));
    EXPECT_FALSE(is_hashed_crl_name(""));
    EXPECT_FALSE(is_hashed_crl_name("."));
}

TEST(CrlDir, ReadsTheHashedFilesAndReportsBadOnes) {
    TempDir dir;
    ServerFileSettings s;
    s.cert_file = dir.copy("server.crt", "server.crt");
    s.key_file = dir.copy("server.key", "server.key");
    s.ca_file = dir.copy("ca-bundle.crt", "root.crt");
    s.server_uid = static_cast<std::uint32_t>(geteuid());
    chmod(s.key_file.c_str(), 0600);
    ASSERT_EQ(mkdir(dir.file("crls").c_str(), 0700), 0);
    s.crl_dir = dir.file("crls");
    dir.copy("intermediate.crl", "crls/0123abcd.r0");
    dir.copy("garbage.txt", "crls/extra.crl");  // not a hashed name: the server never reads it
    ServerFilesReader reader;
    ServerFilesReport r = reader.read(s);
    ASSERT_EQ(r.crls.size(), 1u);
    EXPECT_TRUE(r.crl_next_update.has_value());
    ASSERT_EQ(r.ca_crl_next_update.size(), 2u);
    EXPECT_EQ(r.ca_crl_next_update[0], r.crl_next_update);  // the intermediate's CRL
    EXPECT_TRUE(r.errors.empty()) << r.errors[0];

    // The same CRL as ssl_crl_file too: both are read, as the server loads both.
    s.crl_file = dir.copy("intermediate.crl", "crl.pem");
    EXPECT_EQ(reader.read(s).crls.size(), 2u);
    s.crl_file.clear();

    // A hashed name that is not a CRL is an error naming ssl_crl_dir and the file.
    dir.copy("garbage.txt", "crls/0123abcd.r1");
    ServerFilesReport bad = reader.read(s);
    EXPECT_EQ(bad.crls.size(), 1u);
    ASSERT_EQ(bad.errors.size(), 1u);
    EXPECT_EQ(bad.errors[0].rfind("ssl_crl_dir \"" + dir.file("crls/0123abcd.r1") + "\": ", 0), 0u) << bad.errors[0];

    // A missing directory.
    s.crl_dir = dir.file("none");
    ServerFilesReport missing = reader.read(s);
    EXPECT_TRUE(missing.crls.empty());
    EXPECT_FALSE(missing.crl_next_update.has_value());
    ASSERT_EQ(missing.errors.size(), 1u);
    EXPECT_NE(missing.errors[0].find("could not open directory"), std::string::npos) << missing.errors[0];
}

TEST(CrlDir, ListingIsSortedAndBounded) {
    TempDir dir;
    for (const char *n : {"0000000b.r0", "0000000a.r1", "0000000a.r0", "notacrl"}) dir.write(n, "x");
    bool more = true;
    auto files = hashed_crl_files(dir.file(""), more);
    ASSERT_TRUE(files.ok());
    EXPECT_FALSE(more);
    ASSERT_EQ(files.value().size(), 3u);
    EXPECT_EQ(files.value()[0], dir.file("0000000a.r0"));
    EXPECT_EQ(files.value()[2], dir.file("0000000b.r0"));
    for (std::size_t i = 0; i <= kMaxCrlDirFiles; ++i) dir.write("1" + std::string(7 - std::to_string(i).size(), '0') + std::to_string(i) + ".r0", "x");
    auto many = hashed_crl_files(dir.file(""), more);
    ASSERT_TRUE(many.ok());
    EXPECT_TRUE(more);
    EXPECT_EQ(many.value().size(), kMaxCrlDirFiles);
    EXPECT_EQ(hashed_crl_files(dir.file("none"), more).error().sqlstate, "58030");
}

namespace {
std::vector<CertInfo> chain_of(std::initializer_list<const char *> digests) {
    std::vector<CertInfo> out;
    for (const char *d : digests) {
        CertInfo c;
        c.sha256 = d;
        out.push_back(c);
    }
    return out;
}
}  // namespace

TEST(ReloadPending, UnknownWhenEitherSideIsUnknown) {
    EXPECT_FALSE(reload_pending({}, true, chain_of({"a"})).has_value());
    EXPECT_FALSE(reload_pending(chain_of({"a"}), false, {}).has_value());
}

TEST(ReloadPending, AnotherLeafIsPending) {
    EXPECT_EQ(reload_pending(chain_of({"b"}), false, chain_of({"a"})), true);
    EXPECT_EQ(reload_pending(chain_of({"b", "ca"}), true, chain_of({"a", "ca"})), true);
    EXPECT_EQ(reload_pending(chain_of({"a"}), false, chain_of({"a"})), false);
}

TEST(ReloadPending, ChainComparedWhereComparable) {
    // A leaf-only file served with its CA completed from ssl_ca_file, as a
    // self-probe sees it: not pending.
    EXPECT_EQ(reload_pending(chain_of({"a", "ca"}), false, chain_of({"a"})), false);
    // The same seen by the handshake capture: it records what was sent, so
    // it is compared.
    EXPECT_EQ(reload_pending(chain_of({"a", "ca"}), true, chain_of({"a"})), true);
    EXPECT_EQ(reload_pending(chain_of({"a"}), true, chain_of({"a"})), false);
    // The file has a chain: compared for either source.
    EXPECT_EQ(reload_pending(chain_of({"a", "ca1"}), false, chain_of({"a", "ca2"})), true);
    EXPECT_EQ(reload_pending(chain_of({"a"}), false, chain_of({"a", "ca"})), true);
    EXPECT_EQ(reload_pending(chain_of({"a", "ca"}), false, chain_of({"a", "ca"})), false);
}
