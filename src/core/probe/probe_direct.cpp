#include "probe/probe_direct.hpp"

#include <fcntl.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <system_error>
#include <thread>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "probe/probe_tls.hpp"

namespace tls_audit {

namespace {

// The ALPN wire format: one length byte, then the name.
constexpr unsigned char kAlpnWire[] = {10, 'p', 'o', 's', 't', 'g', 'r', 'e', 's', 'q', 'l'};
static_assert(sizeof kAlpnWire == 1 + std::char_traits<char>::length(kPostgresAlpn));

bool is_timeout(const Error &e) { return e.message.rfind("timed out after ", 0) == 0; }

// Errors that leave the answer unknown, as opposed to the server refusing.
bool is_inconclusive(const Error &e) { return e.sqlstate == sqlstate::kQueryCanceled || is_timeout(e); }

std::string printable(const unsigned char *p, unsigned int len) {
    std::string out;
    for (unsigned int i = 0; i < len && i < 64; ++i) out += (p[i] >= 0x20 && p[i] < 0x7f) ? static_cast<char>(p[i]) : '?';
    return out;
}

Expected<DirectTlsReport> direct_on_fd(int fd, const ProbeTarget &t, const ProbeContext &pctx) {
    int flags = fcntl(fd, F_GETFL);
    if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0)
        return make_error(sqlstate::kInvalidParameter, "the probe socket is not usable");
    auto ctx = make_probe_context(std::nullopt);
    if (!ctx) return ctx.error();
    // Unlike the rest of OpenSSL, 0 means success here.
    if (SSL_CTX_set_alpn_protos(ctx.value().get(), kAlpnWire, sizeof kAlpnWire) != 0)
        return make_error(sqlstate::kInternal, "could not offer ALPN: " + take_openssl_error("unknown error"));
    auto ssl = tls_handshake(fd, ctx.value().get(), server_name(t), pctx);
    DirectTlsReport r;
    if (!ssl) {
        if (is_inconclusive(ssl.error())) return ssl.error();
        r.error = ssl.error().message;
        return r;
    }
    SSL *s = ssl.value().get();
    r.protocol = SSL_get_version(s);
    if (const SSL_CIPHER *c = SSL_get_current_cipher(s)) r.cipher = SSL_CIPHER_get_name(c);
    const unsigned char *selected = nullptr;
    unsigned int selected_len = 0;
    SSL_get0_alpn_selected(s, &selected, &selected_len);
    if (selected != nullptr) r.alpn = printable(selected, selected_len);
    tls_goodbye(fd, s);
    ERR_clear_error();
    r.accepted = r.alpn == kPostgresAlpn;
    if (r.alpn.empty())
        r.error = "the TLS handshake completed but the server selected no ALPN protocol "
                  "(PostgreSQL 17+ selects \"postgresql\"; libpq refuses such a server)";
    else if (!r.accepted)
        r.error = "the server selected ALPN \"" + r.alpn + "\" instead of \"postgresql\"";
    return r;
}

}  // namespace

Expected<DirectTlsReport> probe_direct_tls(const ProbeTarget &target, const CancelCheck &cancel) {
    if (auto err = validate_target(target)) return *err;
    ProbeContext pctx(format_host_port(target.host, target.port), target.timeout_ms, cancel);
    auto fd = connect_tcp(target.host, target.port, pctx);
    if (!fd) return fd.error();
    return direct_on_fd(fd.value().get(), target, pctx);
}

Expected<DirectTlsReport> probe_direct_tls_on_fd(int fd, const ProbeTarget &target, const CancelCheck &cancel) {
    ProbeContext pctx(format_host_port(target.host, target.port), target.timeout_ms, cancel);
    return direct_on_fd(fd, target, pctx);
}

namespace {

// The direct attempt on a quiet thread. The caller's thread alone asks the
// caller's CancelCheck and passes it on through `stop`.
class DirectTask {
  public:
    explicit DirectTask(const ProbeTarget &target) : target_(target) {
        thread_ = start_quiet_thread([this] {
            CancelCheck stopped = [this] { return stop_.load(std::memory_order_relaxed); };
            Expected<DirectTlsReport> r = make_error(sqlstate::kInternal, "the direct TLS probe did not finish");
            try {
                r = probe_direct_tls(target_, stopped);
            } catch (...) {
                r = describe_current_exception();
            }
            std::lock_guard<std::mutex> lock(mu_);
            result_.emplace(std::move(r));
            cv_.notify_all();
        });
    }
    DirectTask(const DirectTask &) = delete;
    DirectTask &operator=(const DirectTask &) = delete;
    ~DirectTask() {
        stop_ = true;
        thread_.join();
    }
    void stop() { stop_ = true; }
    // Wait for the result, asking `cancel` every kCancelPollMs; false when canceled.
    bool wait(const CancelCheck &cancel) {
        std::unique_lock<std::mutex> lock(mu_);
        while (!result_) {
            cv_.wait_for(lock, std::chrono::milliseconds(kCancelPollMs));
            if (result_) break;
            lock.unlock();
            bool canceled = cancel && cancel();
            lock.lock();
            if (canceled) {
                stop_ = true;
                return false;
            }
        }
        return true;
    }
    Expected<DirectTlsReport> take() {
        std::lock_guard<std::mutex> lock(mu_);
        return std::move(*result_);
    }

  private:
    ProbeTarget target_;
    std::atomic<bool> stop_{false};
    std::mutex mu_;
    std::condition_variable cv_;
    std::optional<Expected<DirectTlsReport>> result_;
    std::thread thread_;  // last: started once everything it uses exists
};

}  // namespace

Expected<TargetReport> probe_target_with_direct_tls(const ProbeTarget &target, const CancelCheck &cancel) {
    if (auto err = validate_target(target)) return *err;
    std::optional<DirectTask> direct;
    try {
        direct.emplace(target);
    } catch (const std::system_error &e) {
        return make_error(sqlstate::kOutOfMemory, std::string("could not start a probe thread: ") + e.what());
    }
    auto report = probe_target(target, cancel);
    if (!report) {
        direct->stop();
        return report.error();
    }
    if (!direct->wait(cancel)) return canceled_error();
    report.value().direct_tls = direct->take();
    return report;
}

}  // namespace tls_audit
