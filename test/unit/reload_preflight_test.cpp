// The reload pre-flight: each stage fails for the reason the server would give.
#include <gtest/gtest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <string>

#include <openssl/ssl.h>

#include "certs/reload_preflight.hpp"
#include "certs/x509.hpp"
#include "test_certs.hpp"

using namespace tls_audit;
using tls_audit::test::read_cert_file;

namespace {

class Scratch {
  public:
    Scratch() {
        char tmpl[] = "/tmp/tls_audit_preflight.XXXXXX";
        const char *made = mkdtemp(tmpl);
        if (made == nullptr) ADD_FAILURE() << "mkdtemp failed";
        path_ = made != nullptr ? made : "/tmp";
    }
    ~Scratch() { (void)std::system(("rm -rf '" + path_ + "'").c_str()); }
    std::string file(const std::string &name) const { return path_ + "/" + name; }
    std::string write(const std::string &as, const std::string &contents, mode_t mode = 0600) const {
        {
            std::ofstream out(file(as), std::ios::binary | std::ios::trunc);
            out << contents;
        }
        ::chmod(file(as).c_str(), mode);
        return file(as);
    }
    std::string copy(const std::string &name, const std::string &as, mode_t mode = 0600) const {
        return write(as, read_cert_file(name), mode);
    }

  private:
    std::string path_;
};

// A good configuration: the server chain, its key, the CA bundle, the CRL.
PreflightSettings good(const Scratch &d) {
    PreflightSettings s;
    s.cert_file = d.copy("server-chain.crt", "server.crt", 0644);
    s.key_file = d.copy("server.key", "server.key");
    s.ca_file = d.copy("ca-bundle.crt", "ca.crt", 0644);
    s.crl_file = d.copy("intermediate.crl", "crl.pem", 0644);
    s.ciphers = "HIGH:MEDIUM:+3DES:!aNULL";
    s.min_protocol = "TLSv1.2";
    s.server_uid = static_cast<std::uint32_t>(::geteuid());
    return s;
}

const PreflightStage &at(const std::vector<PreflightStage> &stages, const std::string &name) {
    for (const auto &s : stages)
        if (s.stage == name) return s;
    static PreflightStage none;
    ADD_FAILURE() << "no stage " << name;
    return none;
}

// The only failed stage is `name`, with an error containing `reason`.
void expect_only_failure(const std::vector<PreflightStage> &stages, const std::string &name,
                         const std::string &reason) {
    EXPECT_FALSE(preflight_would_succeed(stages));
    for (const auto &s : stages) {
        if (s.stage == name) {
            ASSERT_TRUE(s.ok.has_value()) << name;
            EXPECT_FALSE(*s.ok) << name;
            EXPECT_NE(s.error.find(reason), std::string::npos) << name << ": " << s.error;
        } else {
            EXPECT_NE(s.ok, std::optional<bool>(false)) << s.stage << ": " << s.error;
        }
    }
    EXPECT_EQ(preflight_failure(stages).rfind(name, 0), 0u) << preflight_failure(stages);
}

}  // namespace

TEST(ReloadPreflight, StagesInServerOrder) {
    Scratch d;
    auto stages = run_reload_preflight(good(d));
    ASSERT_EQ(stages.size(), preflight_stage_names().size());
    for (std::size_t i = 0; i < stages.size(); ++i) EXPECT_EQ(stages[i].stage, preflight_stage_names()[i]);
    EXPECT_EQ(preflight_stage_names().front(), "certificate");
    EXPECT_EQ(preflight_stage_names().back(), "protocols");
}

TEST(ReloadPreflight, GoodConfigurationPasses) {
    Scratch d;
    auto stages = run_reload_preflight(good(d));
    for (const auto &s : stages) {
        EXPECT_EQ(s.ok, std::optional<bool>(true)) << s.stage << ": " << s.error;
        EXPECT_TRUE(s.error.empty()) << s.stage << ": " << s.error;
    }
    EXPECT_TRUE(preflight_would_succeed(stages));
    EXPECT_EQ(preflight_failure(stages), "");
    EXPECT_EQ(at(stages, "certificate").file, d.file("server.crt"));
    EXPECT_EQ(at(stages, "crl").file, d.file("crl.pem"));
}

TEST(ReloadPreflight, CertificateFileDeleted) {
    Scratch d;
    auto s = good(d);
    ::unlink(s.cert_file.c_str());
    auto stages = run_reload_preflight(s);
    expect_only_failure(stages, "certificate", "No such file");
    EXPECT_FALSE(at(stages, "key_match").ok.has_value());
}

TEST(ReloadPreflight, CertificateFileEmpty) {
    Scratch d;
    auto s = good(d);
    d.write("server.crt", "", 0644);
    expect_only_failure(run_reload_preflight(s), "certificate", "no start line");
}

TEST(ReloadPreflight, CertificateFileHoldsOnlyAKey) {
    Scratch d;
    auto s = good(d);
    d.copy("server.key", "server.crt", 0644);
    expect_only_failure(run_reload_preflight(s), "certificate", "no start line");
}

TEST(ReloadPreflight, CertificateFileIsADirectory) {
    Scratch d;
    auto s = good(d);
    s.cert_file = d.file("certdir");
    ASSERT_EQ(::mkdir(s.cert_file.c_str(), 0700), 0);
    auto stages = run_reload_preflight(s);
    EXPECT_FALSE(preflight_would_succeed(stages));
    EXPECT_EQ(at(stages, "certificate").ok, std::optional<bool>(false));
    EXPECT_FALSE(at(stages, "certificate").error.empty());
}

TEST(ReloadPreflight, KeyDoesNotMatch) {
    Scratch d;
    auto s = good(d);
    d.copy("server-newkey.key", "server.key");
    expect_only_failure(run_reload_preflight(s), "key_match", "key values mismatch");
}

TEST(ReloadPreflight, WorldReadableKey) {
    Scratch d;
    auto s = good(d);
    ::chmod(s.key_file.c_str(), 0644);
    expect_only_failure(run_reload_preflight(s), "key", "has group or world access");
}

TEST(ReloadPreflight, PassphraseProtectedKeyIsReportedNotAsked) {
    Scratch d;
    auto s = good(d);
    const std::string plain = d.file("server.key");
    const std::string enc = d.file("enc.key");
    ASSERT_EQ(std::system(("openssl pkey -in '" + plain + "' -aes256 -passout pass:secret -out '" + enc +
                           "' 2>/dev/null && chmod 600 '" + enc + "'")
                              .c_str()),
              0);
    s.key_file = enc;
    expect_only_failure(run_reload_preflight(s), "key", "passphrase-protected");
    // With a passphrase command that supports reload, the outcome is unknown (the command is not run).
    s.passphrase_command = true;
    s.passphrase_supports_reload = true;
    auto stages = run_reload_preflight(s);
    EXPECT_FALSE(at(stages, "key").ok.has_value());
    EXPECT_TRUE(preflight_would_succeed(stages));
}

TEST(ReloadPreflight, GarbageAndUnreadableCrl) {
    Scratch d;
    auto s = good(d);
    d.write("crl.pem", "this is not a CRL\n", 0644);
    expect_only_failure(run_reload_preflight(s), "crl", "no certificate or crl found");
    s.crl_file = d.file("missing.crl");
    expect_only_failure(run_reload_preflight(s), "crl", "");
}

TEST(ReloadPreflight, GarbageCaFile) {
    Scratch d;
    auto s = good(d);
    d.write("ca.crt", "garbage\n", 0644);
    expect_only_failure(run_reload_preflight(s), "ca", "");
}

TEST(ReloadPreflight, CiphersAndProtocols) {
    Scratch d;
    auto s = good(d);
    s.ciphers = "NO-SUCH-CIPHER";
    expect_only_failure(run_reload_preflight(s), "ciphers", "no cipher match");
    s = good(d);
    s.min_protocol = "TLSv1.3";
    s.max_protocol = "TLSv1.2";
    expect_only_failure(run_reload_preflight(s), "protocols", "cannot be higher than");
    s = good(d);
    s.groups = "no-such-curve";
    expect_only_failure(run_reload_preflight(s), "ciphers", "unrecognized curve name");
}

TEST(ReloadPreflight, BadDhParamsDoNotFailAReload) {
    Scratch d;
    auto s = good(d);
    s.dh_params_file = d.write("dh.pem", "garbage\n", 0644);
    auto stages = run_reload_preflight(s);
    EXPECT_TRUE(preflight_would_succeed(stages));
    EXPECT_EQ(at(stages, "dh_params").ok, std::optional<bool>(true));
    EXPECT_NE(at(stages, "dh_params").error.find("a restart fails"), std::string::npos);
}

// Debian's default OpenSSL configuration (SECLEVEL=2) refuses a 1024-bit RSA
// key; where the level is lower, the key loads.
TEST(ReloadPreflight, Rsa1024KeyAtTheProcessSecurityLevel) {
    Scratch d;
    auto s = good(d);
    s.cert_file = d.copy("rsa1024-chain.crt", "server.crt", 0644);
    s.key_file = d.copy("rsa1024.key", "server.key");
    SSL_CTX *probe = SSL_CTX_new(TLS_method());
    const int level = SSL_CTX_get_security_level(probe);
    SSL_CTX_free(probe);
    auto stages = run_reload_preflight(s);
    if (level >= 2)
        expect_only_failure(stages, "certificate", "ee key too small");
    else
        EXPECT_TRUE(preflight_would_succeed(stages)) << preflight_failure(stages);
}

TEST(ReloadPreflight, ChainMissingItsIntermediateStillLoads) {
    // The server loads a leaf without its intermediate (clients then fail to
    // verify it: server_cert_chain reports that); the pre-flight must not
    // claim a reload would fail.
    Scratch d;
    auto s = good(d);
    d.copy("server.crt", "server.crt", 0644);
    EXPECT_TRUE(preflight_would_succeed(run_reload_preflight(s)));
}

// A FIFO, a device or a directory at any file setting fails that stage at
// once, naming what it is, instead of hanging the caller.
TEST(ReloadPreflight, NotRegularFilesFailTheirStageAtOnce) {
    struct Case {
        const char *stage;
        std::string PreflightSettings::*field;
        const char *setting;
    };
    const Case cases[] = {{"certificate", &PreflightSettings::cert_file, "ssl_cert_file"},
                          {"key", &PreflightSettings::key_file, "ssl_key_file"},
                          {"ca", &PreflightSettings::ca_file, "ssl_ca_file"},
                          {"crl", &PreflightSettings::crl_file, "ssl_crl_file"}};
    for (const Case &c : cases) {
        for (const char *kind : {"fifo", "zero", "dir"}) {
            Scratch d;
            auto s = good(d);
            const std::string path = d.file(std::string("odd-") + kind);
            int made = -1;
            if (std::string(kind) == "fifo") made = ::mkfifo(path.c_str(), 0600);
            if (std::string(kind) == "zero") made = ::symlink("/dev/zero", path.c_str());
            if (std::string(kind) == "dir") made = ::mkdir(path.c_str(), 0700);
            ASSERT_EQ(made, 0) << kind;
            s.*c.field = path;
            const auto start = std::chrono::steady_clock::now();
            auto stages = run_reload_preflight(s);
            EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(2)) << c.stage << " " << kind;
            const std::string phrase = std::string(kind) == "fifo"   ? "a FIFO"
                                       : std::string(kind) == "zero" ? "a character device"
                                                                     : "a directory";
            const PreflightStage &st = at(stages, c.stage);
            ASSERT_TRUE(st.ok.has_value()) << c.stage << " " << kind;
            EXPECT_FALSE(*st.ok) << c.stage << " " << kind;
            EXPECT_EQ(st.file_kind, phrase) << c.stage << " " << kind;
            EXPECT_EQ(st.error, std::string(c.setting) + " \"" + path + "\" is " + phrase +
                                    ": the next reload or restart will hang or fail")
                << c.stage << " " << kind;
        }
    }
}

TEST(ReloadPreflight, DhParamsFifoFailsInsteadOfFallingBack) {
    Scratch d;
    auto s = good(d);
    s.dh_params_file = d.file("dh.fifo");
    ASSERT_EQ(::mkfifo(s.dh_params_file.c_str(), 0600), 0);
    expect_only_failure(run_reload_preflight(s), "dh_params", "is a FIFO: the next reload or restart will hang");
}

TEST(ReloadPreflight, OversizedCertificateFileIsRefusedUnread) {
    Scratch d;
    auto s = good(d);
    d.write("server.crt", std::string(kMaxCertificateInput + 1, 'x'), 0644);
    expect_only_failure(run_reload_preflight(s), "certificate", "too large");
}

TEST(ReloadPreflight, CancelledReadThrows) {
    Scratch d;
    try {
        (void)run_reload_preflight(good(d), [] { return true; });
        ADD_FAILURE() << "no exception";
    } catch (const CoreError &e) {
        EXPECT_EQ(e.error().sqlstate, "57014");
    }
}

TEST(ReloadPreflight, SymlinkedFilesLoad) {
    Scratch d;
    auto s = good(d);
    ASSERT_EQ(::symlink(s.cert_file.c_str(), d.file("cert-link").c_str()), 0);
    ASSERT_EQ(::symlink(s.ca_file.c_str(), d.file("ca-link").c_str()), 0);
    s.cert_file = d.file("cert-link");
    s.ca_file = d.file("ca-link");
    EXPECT_TRUE(preflight_would_succeed(run_reload_preflight(s))) << preflight_failure(run_reload_preflight(s));
}
