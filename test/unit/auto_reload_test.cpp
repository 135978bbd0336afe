// Automatic reload decisions: file identity, stability, the decision and
// its log de-duplication.
#include <gtest/gtest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <string>

#include "certs/auto_reload.hpp"

using namespace tls_audit;

namespace {

class Scratch {
  public:
    Scratch() {
        char tmpl[] = "/tmp/tls_audit_auto_reload.XXXXXX";
        const char *made = mkdtemp(tmpl);
        if (made == nullptr) ADD_FAILURE() << "mkdtemp failed";
        path_ = made != nullptr ? made : "/tmp";
    }
    ~Scratch() { (void)std::system(("rm -rf '" + path_ + "'").c_str()); }
    std::string file(const std::string &name) const { return path_ + "/" + name; }
    std::string write(const std::string &as, const std::string &contents) const {
        std::ofstream out(file(as), std::ios::binary | std::ios::trunc);
        out << contents;
        return file(as);
    }

  private:
    std::string path_;
};

std::vector<PreflightStage> passing() {
    PreflightStage s;
    s.stage = "certificate";
    s.ok = true;
    return {s};
}

std::vector<PreflightStage> failing(const std::string &why) {
    PreflightStage s;
    s.stage = "key";
    s.file = "/k";
    s.ok = false;
    s.error = why;
    return {s};
}

constexpr std::int64_t kInterval = 1000;

}  // namespace

TEST(AutoReloadFiles, HashesContentAndReusesItWhenMetadataIsUnchanged) {
    Scratch dir;
    WatchedSettings w;
    w.cert_file = dir.write("server.crt", "one");
    w.key_file = dir.write("server.key", "two");
    const WatchedState a = observe_files(w, nullptr);
    ASSERT_EQ(a.files.size(), 2U);
    EXPECT_TRUE(a.files[0].exists);
    EXPECT_EQ(a.files[0].sha256.size(), 64U);
    EXPECT_NE(a.files[0].sha256, a.files[1].sha256);
    const WatchedState b = observe_files(w, &a);
    EXPECT_TRUE(b.same_content(a));
    EXPECT_EQ(a.key(), b.key());

    dir.write("server.crt", "three");
    const WatchedState c = observe_files(w, &b);
    EXPECT_FALSE(c.same_content(b));
    EXPECT_NE(c.key(), b.key());
}

TEST(AutoReloadFiles, SameContentRewrittenIsTheSameState) {
    Scratch dir;
    WatchedSettings w;
    w.cert_file = dir.write("server.crt", "one");
    const WatchedState a = observe_files(w, nullptr);
    ::unlink(w.cert_file.c_str());
    dir.write("server.crt", "one");  // new inode, same bytes
    const WatchedState b = observe_files(w, &a);
    EXPECT_TRUE(b.same_content(a));
}

TEST(AutoReloadFiles, ModeChangeIsAChange) {
    Scratch dir;
    WatchedSettings w;
    w.key_file = dir.write("server.key", "k");
    ::chmod(w.key_file.c_str(), 0644);
    const WatchedState a = observe_files(w, nullptr);
    ::chmod(w.key_file.c_str(), 0600);
    const WatchedState b = observe_files(w, &a);
    EXPECT_FALSE(b.same_content(a));
}

TEST(AutoReloadFiles, MissingFileAndEmptySettings) {
    Scratch dir;
    WatchedSettings w;
    w.cert_file = dir.file("absent.crt");
    const WatchedState a = observe_files(w, nullptr);
    ASSERT_EQ(a.files.size(), 1U);
    EXPECT_FALSE(a.files[0].exists);
    EXPECT_FALSE(a.files[0].error.empty());
    EXPECT_EQ(observe_files(WatchedSettings{}, nullptr).files.size(), 0U);
}

TEST(AutoReloadFiles, KubernetesDataSymlinkSwapIsSeen) {
    Scratch dir;
    ::mkdir(dir.file("v1").c_str(), 0700);
    ::mkdir(dir.file("v2").c_str(), 0700);
    dir.write("v1/tls.crt", "old");
    dir.write("v2/tls.crt", "new");
    ASSERT_EQ(::symlink("v1", dir.file("..data").c_str()), 0);
    ASSERT_EQ(::symlink("..data/tls.crt", dir.file("tls.crt").c_str()), 0);
    WatchedSettings w;
    w.cert_file = dir.file("tls.crt");
    const WatchedState a = observe_files(w, nullptr);
    // The atomic swap: a new symlink renamed over ..data.
    ASSERT_EQ(::symlink("v2", dir.file("..data_tmp").c_str()), 0);
    ASSERT_EQ(::rename(dir.file("..data_tmp").c_str(), dir.file("..data").c_str()), 0);
    const WatchedState b = observe_files(w, &a);
    EXPECT_FALSE(b.same_content(a));
}

TEST(AutoReloadFiles, CrlDirectoryEntriesAreWatched) {
    Scratch dir;
    ::mkdir(dir.file("crls").c_str(), 0700);
    dir.write("crls/a.r0", "crl-a");
    WatchedSettings w;
    w.crl_dir = dir.file("crls");
    const WatchedState a = observe_files(w, nullptr);
    EXPECT_EQ(watched_count(a), 2U);  // the directory and its file
    dir.write("crls/b.r0", "crl-b");
    const WatchedState b = observe_files(w, &a);
    EXPECT_EQ(watched_count(b), 3U);
    EXPECT_FALSE(b.same_content(a));
}

TEST(AutoReloadTracker, WaitsOneStableIntervalBeforeActing) {
    Scratch dir;
    WatchedSettings w;
    w.cert_file = dir.write("server.crt", "old");
    AutoReloadTracker t;
    EXPECT_FALSE(t.observe(observe_files(w, nullptr), 0, kInterval));  // baseline
    EXPECT_FALSE(t.changed());

    dir.write("server.crt", "new-half");
    EXPECT_FALSE(t.observe(observe_files(w, nullptr), 1000, kInterval));
    EXPECT_TRUE(t.changed());
    ASSERT_TRUE(t.changed_since_ms());
    EXPECT_EQ(*t.changed_since_ms(), 1000);
    // Still being written: the clock starts again.
    dir.write("server.crt", "new-half-and-rest");
    EXPECT_FALSE(t.observe(observe_files(w, nullptr), 2000, kInterval));
    EXPECT_EQ(*t.changed_since_ms(), 2000);
    EXPECT_FALSE(t.observe(observe_files(w, nullptr), 2500, kInterval));
    EXPECT_TRUE(t.observe(observe_files(w, nullptr), 3000, kInterval));

    const auto d = t.decide(passing(), {}, AutoReloadMode::On);
    EXPECT_EQ(d.action, AutoReloadAction::Reload);
    EXPECT_TRUE(d.log);
    // The reloaded state is the new baseline.
    EXPECT_FALSE(t.observe(observe_files(w, nullptr), 4000, kInterval));
    EXPECT_FALSE(t.changed());
}

TEST(AutoReloadTracker, ChangedBackToTheBaselineIsNoChange) {
    Scratch dir;
    WatchedSettings w;
    w.cert_file = dir.write("server.crt", "old");
    AutoReloadTracker t;
    t.observe(observe_files(w, nullptr), 0, kInterval);
    dir.write("server.crt", "new");
    t.observe(observe_files(w, nullptr), 1000, kInterval);
    dir.write("server.crt", "old");
    EXPECT_FALSE(t.observe(observe_files(w, nullptr), 5000, kInterval));
    EXPECT_FALSE(t.changed());
}

TEST(AutoReloadTracker, RefusalIsLoggedOncePerStateAndNotRetried) {
    Scratch dir;
    WatchedSettings w;
    w.key_file = dir.write("server.key", "old");
    AutoReloadTracker t;
    t.observe(observe_files(w, nullptr), 0, kInterval);
    dir.write("server.key", "bad");
    t.observe(observe_files(w, nullptr), 1000, kInterval);
    ASSERT_TRUE(t.observe(observe_files(w, nullptr), 2000, kInterval));
    auto d = t.decide(failing("key values mismatch"), {}, AutoReloadMode::On);
    EXPECT_EQ(d.action, AutoReloadAction::Refuse);
    EXPECT_TRUE(d.log);
    EXPECT_NE(d.message.find("key values mismatch"), std::string::npos);
    EXPECT_NE(d.message.find("not reloaded"), std::string::npos);
    // The same state: nothing to do again.
    EXPECT_FALSE(t.observe(observe_files(w, nullptr), 3000, kInterval));
    EXPECT_TRUE(t.changed());

    // A second bad state is a new refusal, logged again.
    dir.write("server.key", "bad2");
    t.observe(observe_files(w, nullptr), 4000, kInterval);
    ASSERT_TRUE(t.observe(observe_files(w, nullptr), 5000, kInterval));
    d = t.decide(failing("other"), {}, AutoReloadMode::On);
    EXPECT_EQ(d.action, AutoReloadAction::Refuse);
    EXPECT_TRUE(d.log);
}

TEST(AutoReloadTracker, PendingSettingsWaitUnlessForced) {
    Scratch dir;
    WatchedSettings w;
    w.cert_file = dir.write("server.crt", "old");
    AutoReloadTracker t;
    t.observe(observe_files(w, nullptr), 0, kInterval);
    dir.write("server.crt", "new");
    t.observe(observe_files(w, nullptr), 1000, kInterval);
    ASSERT_TRUE(t.observe(observe_files(w, nullptr), 2000, kInterval));
    auto d = t.decide(passing(), {"work_mem"}, AutoReloadMode::On);
    EXPECT_EQ(d.action, AutoReloadAction::WaitSettings);
    EXPECT_TRUE(d.log);
    EXPECT_NE(d.message.find("work_mem"), std::string::npos);
    // Retried at every interval, logged once.
    ASSERT_TRUE(t.observe(observe_files(w, nullptr), 3000, kInterval));
    d = t.decide(passing(), {"work_mem"}, AutoReloadMode::On);
    EXPECT_EQ(d.action, AutoReloadAction::WaitSettings);
    EXPECT_FALSE(d.log);
    // force reloads anyway and says what else it applies.
    ASSERT_TRUE(t.observe(observe_files(w, nullptr), 4000, kInterval));
    d = t.decide(passing(), {"work_mem"}, AutoReloadMode::Force);
    EXPECT_EQ(d.action, AutoReloadAction::Reload);
    EXPECT_NE(d.message.find("force"), std::string::npos);
}

TEST(AutoReloadTracker, IncompleteChainIsRefused) {
    Scratch dir;
    WatchedSettings w;
    w.cert_file = dir.write("server.crt", "old");
    AutoReloadTracker t;
    t.observe(observe_files(w, nullptr), 0, kInterval);
    dir.write("server.crt", "leaf only");
    t.observe(observe_files(w, nullptr), 1000, kInterval);
    ASSERT_TRUE(t.observe(observe_files(w, nullptr), 2000, kInterval));
    const auto d = t.decide(passing(), {}, AutoReloadMode::On, "unable to get local issuer certificate");
    EXPECT_EQ(d.action, AutoReloadAction::Refuse);
    EXPECT_NE(d.message.find("unable to get local issuer certificate"), std::string::npos);
    EXPECT_FALSE(t.observe(observe_files(w, nullptr), 3000, kInterval));
}

TEST(AutoReloadTracker, OffDoesNothing) {
    Scratch dir;
    WatchedSettings w;
    w.cert_file = dir.write("server.crt", "old");
    AutoReloadTracker t;
    t.observe(observe_files(w, nullptr), 0, kInterval);
    dir.write("server.crt", "new");
    t.observe(observe_files(w, nullptr), 1000, kInterval);
    ASSERT_TRUE(t.observe(observe_files(w, nullptr), 2000, kInterval));
    EXPECT_EQ(t.decide(passing(), {}, AutoReloadMode::Off).action, AutoReloadAction::None);
}

TEST(AutoReloadNames, ModesAndActions) {
    EXPECT_STREQ(auto_reload_mode_name(AutoReloadMode::Force), "force");
    EXPECT_STREQ(auto_reload_action_name(AutoReloadAction::WaitSettings), "wait_settings");
}
