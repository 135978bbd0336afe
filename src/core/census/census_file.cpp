#include "census/census_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstdio>
#include <cstring>

namespace tls_audit {

namespace {

constexpr std::array<std::uint32_t, 256> make_crc32c_table() {
    std::array<std::uint32_t, 256> table{};
    for (std::uint32_t i = 0; i < 256; ++i) {
        std::uint32_t c = i;
        for (int k = 0; k < 8; ++k) c = (c & 1) ? (c >> 1) ^ 0x82F63B78u : c >> 1;
        table[i] = c;
    }
    return table;
}
constexpr auto kCrc32cTable = make_crc32c_table();

template <class T> void put(std::string &out, T value) {
    char buf[sizeof(T)];
    std::memcpy(buf, &value, sizeof(T));
    out.append(buf, sizeof(T));
}

template <class T> T get(const char *p) {
    T value;
    std::memcpy(&value, p, sizeof(T));
    return value;
}

Error bad_file(std::string reason) { return make_error(sqlstate::kDataCorrupted, std::move(reason)); }

}  // namespace

std::uint32_t crc32c(const void *data, std::size_t len, std::uint32_t crc) noexcept {
    const auto *p = static_cast<const unsigned char *>(data);
    crc = ~crc;
    for (std::size_t i = 0; i < len; ++i) crc = kCrc32cTable[(crc ^ p[i]) & 0xFF] ^ (crc >> 8);
    return ~crc;
}

std::string serialize_census(const CensusSnapshot &s) {
    std::string out;
    out.reserve(kCensusFileHeaderSize + s.records.size() * kCensusRecordSize + 4);
    out.append(kCensusFileMagic, sizeof kCensusFileMagic);
    put<std::uint32_t>(out, kCensusFileVersion);
    put<std::uint32_t>(out, static_cast<std::uint32_t>(kCensusRecordSize));
    put<std::int64_t>(out, s.since_reset);
    put<std::int64_t>(out, s.evicted);
    put<std::uint64_t>(out, s.records.size());
    for (const auto &r : s.records) {
        out.append(reinterpret_cast<const char *>(&r.key), sizeof r.key);
        put<std::int64_t>(out, r.connections);
        put<std::int64_t>(out, r.first_seen);
        put<std::int64_t>(out, r.last_seen);
    }
    put<std::uint32_t>(out, crc32c(out.data(), out.size()));
    return out;
}

Expected<CensusSnapshot> deserialize_census(std::string_view bytes, std::uint64_t max_records) {
    if (bytes.empty()) return bad_file("empty file");
    if (bytes.size() < sizeof kCensusFileMagic ||
        std::memcmp(bytes.data(), kCensusFileMagic, sizeof kCensusFileMagic) != 0)
        return bad_file("bad magic");
    if (bytes.size() < kCensusFileHeaderSize + 4)
        return bad_file("truncated header (" + std::to_string(bytes.size()) + " bytes)");
    const char *p = bytes.data();
    const auto version = get<std::uint32_t>(p + 8);
    if (version != kCensusFileVersion && version != kCensusFileVersion1)
        return bad_file("unsupported version " + std::to_string(version));
    // Each version has its one record size; a version 1 record is the key's
    // 1.0 layout (the source stays empty).
    const std::size_t expected_size = version == kCensusFileVersion1 ? kCensusRecordSizeV1 : kCensusRecordSize;
    const std::size_t key_bytes = expected_size - 3 * sizeof(std::int64_t);
    const auto record_size = get<std::uint32_t>(p + 12);
    if (record_size != expected_size)
        return bad_file("record size " + std::to_string(record_size) + " does not match " +
                        std::to_string(expected_size));
    CensusSnapshot s;
    s.since_reset = get<std::int64_t>(p + 16);
    s.evicted = get<std::int64_t>(p + 24);
    const auto count = get<std::uint64_t>(p + 32);
    const std::uint64_t available = (bytes.size() - kCensusFileHeaderSize - 4) / expected_size;
    if (count > available || bytes.size() != kCensusFileHeaderSize + count * expected_size + 4)
        return bad_file("truncated or oversized: " + std::to_string(bytes.size()) + " bytes for " +
                        std::to_string(count) + " records");
    const std::size_t body = bytes.size() - 4;
    if (get<std::uint32_t>(p + body) != crc32c(p, body)) return bad_file("checksum mismatch");
    if (s.evicted < 0) return bad_file("negative eviction count");
    if (count > max_records)
        return bad_file(std::to_string(count) + " records exceed the limit of " + std::to_string(max_records));
    s.records.resize(count);
    const char *r = p + kCensusFileHeaderSize;
    for (std::uint64_t i = 0; i < count; ++i, r += expected_size) {
        CensusRecord &rec = s.records[i];
        std::memset(static_cast<void *>(&rec.key), 0, sizeof rec.key);
        std::memcpy(&rec.key, r, key_bytes);
        rec.connections = get<std::int64_t>(r + key_bytes);
        rec.first_seen = get<std::int64_t>(r + key_bytes + 8);
        rec.last_seen = get<std::int64_t>(r + key_bytes + 16);
        if (!census_key_canonical(rec.key))
            return bad_file("record " + std::to_string(i) + " has a malformed key");
        if (rec.connections <= 0 || rec.first_seen > rec.last_seen)
            return bad_file("record " + std::to_string(i) + " has inconsistent counters");
    }
    return s;
}

namespace {

Error io_error(const char *step, const std::string &path, int err) {
    return make_error(sqlstate::kIoError, std::string("could not ") + step + " \"" + path + "\": " + std::strerror(err));
}

}  // namespace

std::optional<Error> write_file_synced(const std::string &path, std::string_view bytes) {
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, S_IRUSR | S_IWUSR);
    if (fd < 0) return io_error("create", path, errno);
    std::size_t done = 0;
    while (done < bytes.size()) {
        const ssize_t w = ::write(fd, bytes.data() + done, bytes.size() - done);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) {
            const int err = w < 0 ? errno : ENOSPC;
            ::close(fd);
            ::unlink(path.c_str());
            return io_error("write", path, err);
        }
        done += static_cast<std::size_t>(w);
    }
    if (::fsync(fd) != 0) {
        const int err = errno;
        ::close(fd);
        ::unlink(path.c_str());
        return io_error("fsync", path, err);
    }
    if (::close(fd) != 0) {
        const int err = errno;
        ::unlink(path.c_str());
        return io_error("close", path, err);
    }
    return std::nullopt;
}

std::optional<Error> rename_synced(const std::string &from, const std::string &to) {
    if (::rename(from.c_str(), to.c_str()) != 0) {
        const int err = errno;
        ::unlink(from.c_str());
        return io_error("rename to", to, err);
    }
    const std::string::size_type slash = to.rfind('/');
    const std::string dir = slash == std::string::npos ? "." : slash == 0 ? "/" : to.substr(0, slash);
    const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return io_error("open directory", dir, errno);
    const int rc = ::fsync(fd);
    const int err = errno;
    ::close(fd);
    if (rc != 0) return io_error("fsync directory", dir, err);
    return std::nullopt;
}

}  // namespace tls_audit
