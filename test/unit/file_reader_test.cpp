// The one file reader: every kind of file at a path is an answer at once,
// never a wait, and only regular files are read.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>

#include "base/file_reader.hpp"

using namespace tls_audit;

namespace {

class Scratch {
  public:
    Scratch() {
        char tmpl[] = "/tmp/tls_audit_reader.XXXXXX";
        const char *made = mkdtemp(tmpl);
        if (made == nullptr) ADD_FAILURE() << "mkdtemp failed";
        path_ = made != nullptr ? made : "/tmp";
    }
    ~Scratch() { (void)std::system(("rm -rf '" + path_ + "'").c_str()); }
    std::string file(const std::string &name) const { return path_ + "/" + name; }
    std::string write(const std::string &name, const std::string &contents) const {
        std::ofstream out(file(name), std::ios::binary | std::ios::trunc);
        out << contents;
        return file(name);
    }

  private:
    std::string path_;
};

// Each call must come back well within this (a wait would be forever).
constexpr auto kQuick = std::chrono::seconds(2);

FileReadResult timed_read(const std::string &path, std::size_t cap, const CancelCheck &cancel = {}) {
    const auto start = std::chrono::steady_clock::now();
    FileReadResult r = read_regular_file(path, cap, cancel);
    EXPECT_LT(std::chrono::steady_clock::now() - start, kQuick) << path;
    return r;
}

void expect_not_regular(const FileReadResult &r, FileKind kind, const std::string &phrase) {
    EXPECT_FALSE(r.ok());
    EXPECT_EQ(r.failure, FileReadFailure::NotRegular);
    EXPECT_EQ(r.kind, kind);
    EXPECT_EQ(r.error.sqlstate, "58030");
    EXPECT_NE(r.error.message.find("is " + phrase + ", not a regular file"), std::string::npos) << r.error.message;
    EXPECT_TRUE(r.bytes.empty());
}

}  // namespace

TEST(FileReader, RegularFile) {
    Scratch d;
    auto r = timed_read(d.write("ok", "0123456789"), 10);
    ASSERT_TRUE(r.ok()) << r.error.message;
    EXPECT_EQ(r.bytes, "0123456789");
    EXPECT_EQ(r.kind, FileKind::Regular);
    auto empty = timed_read(d.write("empty", ""), 10);
    ASSERT_TRUE(empty.ok());
    EXPECT_EQ(empty.bytes, "");
}

TEST(FileReader, LargerThanOneChunk) {
    Scratch d;
    std::string big(3 * kFileReadChunk + 17, 'a');
    for (std::size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>('a' + i % 26);
    auto r = timed_read(d.write("big", big), big.size());
    ASSERT_TRUE(r.ok()) << r.error.message;
    EXPECT_EQ(r.bytes, big);
}

TEST(FileReader, SymlinkToRegularFileIsFollowed) {
    Scratch d;
    const std::string target = d.write("target", "content");
    ASSERT_EQ(::symlink(target.c_str(), d.file("link").c_str()), 0);
    auto r = timed_read(d.file("link"), 100);
    ASSERT_TRUE(r.ok()) << r.error.message;
    EXPECT_EQ(r.bytes, "content");
    EXPECT_EQ(file_kind_at(d.file("link")), FileKind::Regular);
}

TEST(FileReader, FifoWithoutWriter) {
    Scratch d;
    ASSERT_EQ(::mkfifo(d.file("fifo").c_str(), 0600), 0);
    expect_not_regular(timed_read(d.file("fifo"), 100), FileKind::Fifo, "a FIFO");
    EXPECT_EQ(file_kind_at(d.file("fifo")), FileKind::Fifo);
}

TEST(FileReader, FifoWithWriter) {
    Scratch d;
    ASSERT_EQ(::mkfifo(d.file("fifo").c_str(), 0600), 0);
    // A writer holding the FIFO open with data waiting: still not read.
    const int reader_end = ::open(d.file("fifo").c_str(), O_RDONLY | O_NONBLOCK);
    ASSERT_GE(reader_end, 0);
    const int writer = ::open(d.file("fifo").c_str(), O_WRONLY | O_NONBLOCK);
    ASSERT_GE(writer, 0);
    ASSERT_EQ(::write(writer, "data", 4), 4);
    expect_not_regular(timed_read(d.file("fifo"), 100), FileKind::Fifo, "a FIFO");
    ::close(writer);
    ::close(reader_end);
}

TEST(FileReader, SymlinkToDevZero) {
    Scratch d;
    ASSERT_EQ(::symlink("/dev/zero", d.file("zero").c_str()), 0);
    expect_not_regular(timed_read(d.file("zero"), 100), FileKind::CharDevice, "a character device");
    expect_not_regular(timed_read("/dev/null", 100), FileKind::CharDevice, "a character device");
}

TEST(FileReader, Directory) {
    Scratch d;
    ASSERT_EQ(::mkdir(d.file("dir").c_str(), 0700), 0);
    expect_not_regular(timed_read(d.file("dir"), 100), FileKind::Directory, "a directory");
    EXPECT_EQ(file_kind_at(d.file("dir")), FileKind::Directory);
}

TEST(FileReader, UnixSocket) {
    Scratch d;
    const int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
    ASSERT_GE(fd, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    const std::string path = d.file("sock");
    ASSERT_LT(path.size(), sizeof addr.sun_path);
    std::strcpy(addr.sun_path, path.c_str());
    ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr *>(&addr), sizeof addr), 0);
    ASSERT_EQ(::listen(fd, 1), 0);
    // open() of a socket fails (ENXIO); the error still says what it is.
    expect_not_regular(timed_read(path, 100), FileKind::Socket, "a socket");
    EXPECT_EQ(file_kind_at(path), FileKind::Socket);
    EXPECT_STREQ(file_kind_phrase(file_kind_at(path)), "a socket");
    ::close(fd);
}

TEST(FileReader, OverTheCapIsRefusedUnread) {
    Scratch d;
    int asked = 0;
    auto r = timed_read(d.write("big", std::string(11, 'x')), 10, [&] {
        ++asked;
        return false;
    });
    EXPECT_EQ(r.failure, FileReadFailure::TooLarge);
    EXPECT_EQ(r.error.sqlstate, "54000");
    EXPECT_NE(r.error.message.find("too large (11 bytes, at most 10)"), std::string::npos) << r.error.message;
    EXPECT_EQ(asked, 0);  // refused from fstat, nothing read
}

TEST(FileReader, FileGrowingWhileRead) {
    Scratch d;
    const std::string path = d.write("growing", std::string(2 * kFileReadChunk, 'x'));
    // The cancel callback runs between chunks: make it the writer.
    std::ofstream more(path, std::ios::binary | std::ios::app);
    auto r = timed_read(path, 100 * kFileReadChunk, [&] {
        more << std::string(kFileReadChunk, 'y') << std::flush;
        return false;
    });
    EXPECT_EQ(r.failure, FileReadFailure::Grew);
    EXPECT_NE(r.error.message.find("grew while being read"), std::string::npos) << r.error.message;
    EXPECT_TRUE(r.bytes.empty());
}

TEST(FileReader, CancelStopsBetweenChunks) {
    Scratch d;
    const std::string path = d.write("big", std::string(4 * kFileReadChunk, 'x'));
    int asked = 0;
    auto r = timed_read(path, 4 * kFileReadChunk, [&] { return ++asked == 2; });
    EXPECT_EQ(r.failure, FileReadFailure::Cancelled);
    EXPECT_EQ(r.error.sqlstate, "57014");
    EXPECT_EQ(asked, 2);
}

TEST(FileReader, MissingAndBadNames) {
    Scratch d;
    auto missing = timed_read(d.file("none"), 10);
    EXPECT_EQ(missing.failure, FileReadFailure::Open);
    EXPECT_NE(missing.error.message.find("No such file or directory"), std::string::npos);
    EXPECT_EQ(file_kind_at(d.file("none")), FileKind::Missing);
    EXPECT_EQ(timed_read("", 10).error.sqlstate, "22023");
    EXPECT_EQ(timed_read(std::string("a\0b", 3), 10).error.sqlstate, "22023");
}

TEST(FileReader, UnreadableFile) {
    if (::geteuid() == 0) GTEST_SKIP() << "root reads files of any mode";
    Scratch d;
    const std::string path = d.write("secret", "x");
    ASSERT_EQ(::chmod(path.c_str(), 0), 0);
    auto r = timed_read(path, 10);
    EXPECT_EQ(r.failure, FileReadFailure::Open);
    EXPECT_NE(r.error.message.find("Permission denied"), std::string::npos) << r.error.message;
}

TEST(FileReader, ExpectedForm) {
    Scratch d;
    EXPECT_EQ(read_file_bytes(d.write("ok", "abc"), 10).value(), "abc");
    ASSERT_EQ(::mkfifo(d.file("fifo").c_str(), 0600), 0);
    EXPECT_NE(read_file_bytes(d.file("fifo"), 10).error().message.find("is a FIFO"), std::string::npos);
}
