#include "probe/probe.hpp"

#include <fcntl.h>

#include <atomic>
#include <exception>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <system_error>

#include <openssl/err.h>

#include "probe/probe_parallel.hpp"
#include "probe/probe_sslrequest.hpp"
#include "probe/probe_tls.hpp"
#include "sessions/session.hpp"

namespace tls_audit {

std::optional<Error> validate_target(const ProbeTarget &t) {
    auto bad = [](std::string msg) { return make_error(sqlstate::kInvalidParameter, std::move(msg)); };
    if (t.host.empty()) return bad("host must not be empty");
    if (t.host.size() > kMaxHostLength)
        return bad("host is too long (" + std::to_string(t.host.size()) + " bytes, at most " +
                   std::to_string(kMaxHostLength) + ")");
    if (t.host.find('\0') != std::string::npos || t.sni.find('\0') != std::string::npos ||
        t.ca_file.find('\0') != std::string::npos)
        return bad("host, sni and ca_file must not contain NUL bytes");
    if (t.sni.size() > kMaxHostLength) return bad("sni is too long");
    if (t.port < 1 || t.port > 65535)
        return bad("port " + std::to_string(t.port) + " is out of range (1..65535)");
    if (t.timeout_ms < 1 || t.timeout_ms > kMaxProbeTimeoutMs)
        return bad("timeout_ms " + std::to_string(t.timeout_ms) + " is out of range (1.." +
                   std::to_string(kMaxProbeTimeoutMs) + ")");
    return std::nullopt;
}

std::string server_name(const ProbeTarget &t) { return t.sni.empty() ? t.host : t.sni; }

namespace {

bool is_timeout(const Error &e) { return e.message.rfind("timed out after ", 0) == 0; }

}  // namespace

// Shared with the enumeration (probe_parallel.hpp).
bool is_inconclusive(const Error &e) { return e.sqlstate == sqlstate::kQueryCanceled || is_timeout(e); }

ProbeContext context_for(const ProbeTarget &t, const CancelCheck &cancel) {
    return ProbeContext(format_host_port(t.host, t.port), t.timeout_ms, cancel);
}

Expected<Handshake> starttls(int fd, SSL_CTX *ssl_ctx, const std::string &sni, const ProbeContext &pctx) {
    int flags = fcntl(fd, F_GETFL);
    if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0)
        return make_error(sqlstate::kInvalidParameter, "the probe socket is not usable");
    if (auto err = negotiate_ssl_request(fd, pctx)) return *err;
    auto ssl = tls_handshake(fd, ssl_ctx, sni, pctx);
    if (ssl) {
        tls_goodbye(fd, ssl.value().get());
        return Handshake{std::move(ssl).value(), {}};
    }
    if (is_inconclusive(ssl.error())) return ssl.error();
    return Handshake{nullptr, ssl.error().message};
}

namespace {

// The DER encoding of `cert`; empty when it cannot be encoded.
std::string der_of(X509 *cert) {
    int len = i2d_X509(cert, nullptr);
    if (len <= 0) return {};
    std::string out(static_cast<std::size_t>(len), '\0');
    auto *p = reinterpret_cast<unsigned char *>(&out[0]);
    if (i2d_X509(cert, &p) != len) return {};
    return out;
}

ChainReport describe_chain(SSL *ssl, X509_STORE *store, const std::string &name) {
    ChainReport r;
    r.protocol = SSL_get_version(ssl);
    if (const SSL_CIPHER *c = SSL_get_current_cipher(ssl)) r.cipher = SSL_CIPHER_get_name(c);
    r.key_exchange_group = group_name(ssl);
    if (STACK_OF(X509) *chain = SSL_get_peer_cert_chain(ssl))
        for (int i = 0; i < sk_X509_num(chain); ++i) {
            r.certificates.push_back(describe_certificate(sk_X509_value(chain, i)));
            r.presented_der.push_back(der_of(sk_X509_value(chain, i)));
        }
    r.server_name = name;
    PeerVerification v = verify_peer(ssl, store, name);
    r.verified = v.verified;
    r.verify_error = std::move(v.verify_error);
    r.hostname_match = v.hostname_match;
    ERR_clear_error();
    return r;
}

// Result of the chain handshake: a report, or the refusal text.
struct ChainOutcome {
    std::optional<ChainReport> report;
    std::string refusal;
};

Expected<ChainOutcome> chain_on_fd(int fd, const ProbeTarget &t, X509_STORE *store, const ProbeContext &pctx) {
    auto ctx = make_probe_context(std::nullopt);
    if (!ctx) return ctx.error();
    std::string name = server_name(t);
    auto hs = starttls(fd, ctx.value().get(), name, pctx);
    if (!hs) return hs.error();
    if (!hs.value().ssl) return ChainOutcome{std::nullopt, hs.value().refusal};
    X509StorePtr system;
    if (store == nullptr) {
        // The system store is loaded only now, on the probe's own thread: its
        // first load is slow and must not delay connecting or cancel checks.
        auto loaded = load_trust_store({});
        if (!loaded) return loaded.error();
        system = std::move(loaded).value();
        store = system.get();
    }
    return ChainOutcome{describe_chain(hs.value().ssl.get(), store, name), {}};
}

Expected<ProtocolReport> protocol_on_fd(int fd, const ProbeTarget &t, Protocol p, const ProbeContext &pctx) {
    auto ctx = make_probe_context(p);
    if (!ctx) return ctx.error();
    auto hs = starttls(fd, ctx.value().get(), server_name(t), pctx);
    if (!hs) return hs.error();
    ProtocolReport r;
    r.protocol = p;
    if (!hs.value().ssl) {
        r.error = hs.value().refusal;
        return r;
    }
    r.accepted = true;
    if (const SSL_CIPHER *c = SSL_get_current_cipher(hs.value().ssl.get())) r.cipher = SSL_CIPHER_get_name(c);
    return r;
}

Expected<ChainOutcome> chain_connect(const ProbeTarget &t, X509_STORE *store, const CancelCheck &cancel) {
    ProbeContext pctx = context_for(t, cancel);
    auto fd = connect_tcp(t.host, t.port, pctx);
    if (!fd) return fd.error();
    return chain_on_fd(fd.value().get(), t, store, pctx);
}

Expected<ProtocolReport> protocol_connect(const ProbeTarget &t, Protocol p, const CancelCheck &cancel) {
    ProbeContext pctx = context_for(t, cancel);
    auto fd = connect_tcp(t.host, t.port, pctx);
    if (!fd) return fd.error();
    return protocol_on_fd(fd.value().get(), t, p, pctx);
}

}  // namespace

bool run_parallel(const std::vector<std::function<void(const CancelCheck &)>> &tasks, const CancelCheck &cancel) {
    std::atomic<bool> stop{false};
    std::mutex mu;
    std::condition_variable cv;
    std::size_t finished = 0;
    CancelCheck worker_cancel = [&stop] { return stop.load(std::memory_order_relaxed); };
    std::vector<std::thread> threads;
    threads.reserve(tasks.size());
    try {
        for (const auto &task : tasks) {
            threads.push_back(start_quiet_thread([&, task] {
                try {
                    task(worker_cancel);
                } catch (...) {
                    // Tasks report through their own results; never let an exception end the process.
                }
                std::lock_guard<std::mutex> lock(mu);
                ++finished;
                cv.notify_all();
            }));
        }
    } catch (...) {
        // No thread to spare (EAGAIN): stop the ones started, then report.
        stop = true;
        for (auto &t : threads) t.join();
        throw;
    }
    bool canceled = false;
    std::exception_ptr failure;
    {
        std::unique_lock<std::mutex> lock(mu);
        // The caller's own way of waiting (a backend's latch, with its wait
        // event), in short slices: the workers cannot wake it.
        const WaitHook hook = wait_hook();
        while (finished < tasks.size()) {
            if (hook != nullptr) {
                lock.unlock();
                try {
                    hook(-1, 0, kCancelPollMs / 5);
                } catch (...) {
                    // Stop and join the workers (they use this frame) first.
                    failure = std::current_exception();
                    stop = true;
                }
                lock.lock();
                if (failure) break;
            } else {
                cv.wait_for(lock, std::chrono::milliseconds(kCancelPollMs));
            }
            if (!canceled && cancel) {
                lock.unlock();
                canceled = cancel();
                lock.lock();
                if (canceled) stop = true;
            }
        }
    }
    for (auto &t : threads) t.join();
    if (failure) std::rethrow_exception(failure);
    return canceled;
}

namespace {

// First inconclusive error in version order, cancel first.
std::optional<Error> first_error(const std::vector<std::optional<Expected<ProtocolReport>>> &results) {
    std::optional<Error> first;
    for (const auto &r : results) {
        if (!r) return make_error(sqlstate::kInternal, "a protocol probe did not finish");
        if (r->ok()) continue;
        if (r->error().sqlstate == sqlstate::kQueryCanceled) return r->error();
        if (!first) first = r->error();
    }
    return first;
}

}  // namespace

namespace {

// The CA file's store, loaded before connecting so that a bad file fails
// fast; null (the system store, loaded later) when there is no file.
Expected<X509StorePtr> ca_file_store(const ProbeTarget &target) {
    if (target.ca_file.empty()) return X509StorePtr();
    return load_trust_store(target.ca_file);
}

}  // namespace

Expected<ChainReport> probe_chain(const ProbeTarget &target, const CancelCheck &cancel) {
    if (auto err = validate_target(target)) return *err;
    auto store = ca_file_store(target);
    if (!store) return store.error();
    auto out = chain_connect(target, store.value().get(), cancel);
    if (!out) return out.error();
    if (!out.value().report) return make_error(sqlstate::kConnectionFailure, out.value().refusal);
    return std::move(*out.value().report);
}

Expected<ChainReport> probe_chain_on_fd(int fd, const ProbeTarget &target, const CancelCheck &cancel) {
    auto store = ca_file_store(target);
    if (!store) return store.error();
    ProbeContext pctx = context_for(target, cancel);
    auto out = chain_on_fd(fd, target, store.value().get(), pctx);
    if (!out) return out.error();
    if (!out.value().report) return make_error(sqlstate::kConnectionFailure, out.value().refusal);
    return std::move(*out.value().report);
}

Expected<ProtocolReport> probe_protocol_on_fd(int fd, const ProbeTarget &target, Protocol protocol,
                                              const CancelCheck &cancel) {
    ProbeContext pctx = context_for(target, cancel);
    return protocol_on_fd(fd, target, protocol, pctx);
}

namespace {

// The four version probes plus, when `with_chain`, the chain probe (against
// `store`, or the system store when null).
Expected<TargetReport> run_target(const ProbeTarget &target, bool with_chain, X509_STORE *store,
                                  const CancelCheck &cancel) {
    constexpr std::size_t kVersions = std::size(kProbedProtocols);
    std::vector<std::optional<Expected<ProtocolReport>>> versions(kVersions);
    std::optional<Expected<ChainOutcome>> chain;
    std::vector<std::function<void(const CancelCheck &)>> tasks;
    for (std::size_t i = 0; i < kVersions; ++i)
        tasks.emplace_back([&, i](const CancelCheck &c) {
            versions[i] = protocol_connect(target, kProbedProtocols[i], c);
        });
    if (with_chain)
        tasks.emplace_back([&](const CancelCheck &c) { chain = chain_connect(target, store, c); });
    try {
        if (run_parallel(tasks, cancel)) return canceled_error();
    } catch (const std::system_error &e) {
        return make_error(sqlstate::kOutOfMemory, std::string("could not start a probe thread: ") + e.what());
    }

    if (auto err = first_error(versions)) return *err;
    TargetReport report;
    for (auto &v : versions) report.protocols.push_back(std::move(*v).value());
    // A peer that answered 'S' and then closed or spoke something else on
    // every attempt is not a TLS server: the versions are unknown, not
    // refused (a refusal is a TLS alert).
    bool not_tls = true;
    for (const ProtocolReport &p : report.protocols) not_tls = not_tls && !p.accepted && is_not_tls_answer(p.error);
    if (not_tls && !report.protocols.empty())
        return make_error(sqlstate::kConnectionFailure, report.protocols.front().error, {},
                          "A PostgreSQL server that answers 'S' to SSLRequest continues with a TLS handshake.");
    if (with_chain) {
        if (!chain) return make_error(sqlstate::kInternal, "the chain probe did not finish");
        if (!chain->ok()) return chain->error();
        report.chain = std::move(chain->value().report);
        report.chain_error = std::move(chain->value().refusal);
    }
    return report;
}

}  // namespace

Expected<std::vector<ProtocolReport>> probe_protocols(const ProbeTarget &target, const CancelCheck &cancel) {
    if (auto err = validate_target(target)) return *err;
    auto report = run_target(target, false, nullptr, cancel);
    if (!report) return report.error();
    return std::move(report.value().protocols);
}

Expected<TargetReport> probe_target(const ProbeTarget &target, const CancelCheck &cancel) {
    if (auto err = validate_target(target)) return *err;
    auto store = ca_file_store(target);
    if (!store) return store.error();
    return run_target(target, true, store.value().get(), cancel);
}

}  // namespace tls_audit
