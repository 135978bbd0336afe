#include "probe/probe_enumerate.hpp"

#include <algorithm>
#include <cctype>
#include <atomic>
#include <functional>
#include <map>
#include <mutex>
#include <new>
#include <system_error>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/ssl.h>

#include "base/openssl_ptr.hpp"
#include "probe/probe_parallel.hpp"
#include "probe/probe_tls.hpp"
#include "sessions/session.hpp"

namespace tls_audit {

namespace {

// Everything OpenSSL has for TLS up to 1.2, including NULL encryption
// (COMPLEMENTOFALL), at security level 0.
constexpr const char *kAllSuites = "ALL:COMPLEMENTOFALL:@SECLEVEL=0";

// The TLS 1.3 suites of RFC 8446 that OpenSSL implements.
constexpr const char *kTls13Suites[] = {"TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384",
                                        "TLS_CHACHA20_POLY1305_SHA256", "TLS_AES_128_CCM_SHA256",
                                        "TLS_AES_128_CCM_8_SHA256"};

// Connections of one target at a time.
constexpr std::size_t kMaxParallel = 8;

std::string join(const std::vector<std::string> &names, const char *sep) {
    std::string out;
    for (const auto &n : names) {
        if (!out.empty()) out += sep;
        out += n;
    }
    return out;
}

SslCtxPtr bare_context() {
    SslCtxPtr ctx(SSL_CTX_new(TLS_client_method()));
    if (!ctx) throw std::bad_alloc();
    SSL_CTX_set_security_level(ctx.get(), 0);
    return ctx;
}

// Every suite object this OpenSSL knows, by OpenSSL name (TLS 1.3 included).
const std::map<std::string, const SSL_CIPHER *> &known_suites() {
    static const std::map<std::string, const SSL_CIPHER *> known = [] {
        std::map<std::string, const SSL_CIPHER *> m;
        SslCtxPtr ctx = bare_context();
        SSL_CTX_set_cipher_list(ctx.get(), kAllSuites);
        SSL_CTX_set_ciphersuites(ctx.get(), join({std::begin(kTls13Suites), std::end(kTls13Suites)}, ":").c_str());
        STACK_OF(SSL_CIPHER) *all = SSL_CTX_get_ciphers(ctx.get());
        for (int i = 0; i < sk_SSL_CIPHER_num(all); ++i) {
            const SSL_CIPHER *c = sk_SSL_CIPHER_value(all, i);
            m.emplace(SSL_CIPHER_get_name(c), c);
        }
        ERR_clear_error();
        return m;
    }();
    return known;
}

std::vector<std::string> compute_candidates(Protocol p) {
    std::vector<std::string> out;
    if (p == Protocol::TLSv1_3) {
        for (const char *name : kTls13Suites) {
            SslCtxPtr ctx = bare_context();
            if (SSL_CTX_set_ciphersuites(ctx.get(), name) == 1) out.emplace_back(name);
        }
        ERR_clear_error();
        return out;
    }
    auto ctx = make_probe_context(p);
    if (!ctx || SSL_CTX_set_cipher_list(ctx.value().get(), kAllSuites) != 1) {
        ERR_clear_error();
        return out;
    }
    SslPtr ssl(SSL_new(ctx.value().get()));
    if (!ssl) throw std::bad_alloc();
    // Filtered by protocol version and by what a client without PSK or SRP
    // credentials can offer.
    STACK_OF(SSL_CIPHER) *supported = SSL_get1_supported_ciphers(ssl.get());
    for (int i = 0; i < sk_SSL_CIPHER_num(supported); ++i) {
        const SSL_CIPHER *c = sk_SSL_CIPHER_value(supported, i);
        if (std::string(SSL_CIPHER_get_version(c)) == "TLSv1.3") continue;
        out.emplace_back(SSL_CIPHER_get_name(c));
    }
    sk_SSL_CIPHER_free(supported);
    ERR_clear_error();
    return out;
}

std::string strip_prefix(const char *sn, const char *prefix) {
    std::string s = sn != nullptr ? sn : "";
    std::string pre = prefix;
    if (s.rfind(pre, 0) == 0) s = s.substr(pre.size());
    if (s == "ANY") return "any";
    if (s == "NULL") return "none";
    return s;
}

// One handshake with a given offer.
struct Offer {
    std::optional<Protocol> only;  // nullopt: TLSv1 .. up_to
    int up_to = TLS1_3_VERSION;
    std::string cipher_list;       // up to TLS 1.2; empty: the probe's default
    std::string suites13;          // TLS 1.3; empty: OpenSSL's default
    std::string groups;            // OpenSSL group list; empty: the default
};

struct Pick {
    bool accepted = false;
    std::string cipher;
    std::string group;  // negotiated key-exchange group, when known
    int dh_bits = 0;    // size of the server's ephemeral key
    std::string refusal;
};

// OpenSSL's name for a group of kProbedGroups.
std::string openssl_group(const std::string &g) {
    if (g == "x25519") return "X25519";
    if (g == "x448") return "X448";
    return g;
}

Expected<Pick> try_offer(const ProbeTarget &t, const Offer &offer, const CancelCheck &cancel) {
    auto ctx = make_probe_context(offer.only);
    if (!ctx) return ctx.error();
    SSL_CTX *c = ctx.value().get();
    bool ok = true;
    if (!offer.only) ok = SSL_CTX_set_max_proto_version(c, offer.up_to) == 1;
    if (ok && !offer.cipher_list.empty())
        ok = SSL_CTX_set_cipher_list(c, (offer.cipher_list + ":@SECLEVEL=0").c_str()) == 1;
    if (ok && !offer.suites13.empty()) ok = SSL_CTX_set_ciphersuites(c, offer.suites13.c_str()) == 1;
    if (ok && !offer.groups.empty()) ok = SSL_CTX_set1_groups_list(c, offer.groups.c_str()) == 1;
    if (!ok)
        return make_error(sqlstate::kInternal, "could not configure the enumeration's SSL context: " +
                                                   take_openssl_error("unknown error"));
    ProbeContext pctx = context_for(t, cancel);
    auto fd = connect_tcp(t.host, t.port, pctx);
    if (!fd) return fd.error();
    auto hs = starttls(fd.value().get(), c, server_name(t), pctx);
    if (!hs) return hs.error();
    Pick pick;
    SSL *ssl = hs.value().ssl.get();
    if (ssl == nullptr) {
        pick.refusal = hs.value().refusal;
        return pick;
    }
    pick.accepted = true;
    if (const SSL_CIPHER *cipher = SSL_get_current_cipher(ssl)) pick.cipher = SSL_CIPHER_get_name(cipher);
    pick.group = group_name(ssl);
    EVP_PKEY *key = nullptr;
    if (SSL_get_server_tmp_key(ssl, &key) == 1 && key != nullptr) {
        pick.dh_bits = EVP_PKEY_bits(key);
        EVP_PKEY_free(key);
    }
    ERR_clear_error();
    return pick;
}

// Offer `names` (TLS 1.3 suites or up-to-1.2 cipher names) for `p`.
Offer offer_for(Protocol p, const std::vector<std::string> &names) {
    Offer o;
    o.only = p;
    if (p == Protocol::TLSv1_3) o.suites13 = join(names, ":");
    else o.cipher_list = join(names, ":");
    return o;
}

// Offer everything in `remaining`, remove what the server picked, repeat.
// Returns the picks in order; `refusal` gets why the first offer failed.
Expected<std::vector<std::string>> offer_and_remove(const ProbeTarget &t, Protocol p,
                                                    std::vector<std::string> remaining, std::string &refusal,
                                                    const CancelCheck &cancel) {
    std::vector<std::string> picked;
    const std::size_t rounds = remaining.size();
    for (std::size_t round = 0; round < rounds && !remaining.empty(); ++round) {
        auto pick = try_offer(t, offer_for(p, remaining), cancel);
        if (!pick) return pick.error();
        if (!pick.value().accepted) {
            if (picked.empty()) refusal = pick.value().refusal;
            break;
        }
        auto it = std::find(remaining.begin(), remaining.end(), pick.value().cipher);
        if (it == remaining.end())
            return make_error("08P01",
                              "server " + format_host_port(t.host, t.port) + " chose cipher suite \"" +
                                  pick.value().cipher + "\", which was not offered");
        remaining.erase(it);
        picked.push_back(pick.value().cipher);
    }
    return picked;
}

AcceptedSuite describe_or_name(const std::string &name) {
    if (auto d = describe_suite(name)) return *d;
    AcceptedSuite s;
    s.facts.name = name;
    return s;
}

Expected<ProtocolSuites> enumerate_protocol(const ProbeTarget &t, Protocol p, const CancelCheck &cancel) {
    ProtocolSuites out;
    out.protocol = p;
    std::vector<std::string> order;
    if (p == Protocol::TLSv1_3) {
        // One suite at a time finds the set, then offer/remove orders it.
        std::vector<std::string> accepted;
        for (const auto &name : candidate_suites(p)) {
            auto pick = try_offer(t, offer_for(p, {name}), cancel);
            if (!pick) return pick.error();
            if (pick.value().accepted) accepted.push_back(name);
            else if (out.refusal.empty()) out.refusal = pick.value().refusal;
        }
        if (accepted.size() >= 2) {
            std::string ignored;
            auto ordered = offer_and_remove(t, p, accepted, ignored, cancel);
            if (!ordered) return ordered.error();
            order = std::move(ordered).value();
        } else {
            order = accepted;
        }
    } else {
        auto ordered = offer_and_remove(t, p, candidate_suites(p), out.refusal, cancel);
        if (!ordered) return ordered.error();
        order = std::move(ordered).value();
    }
    if (!order.empty()) out.refusal.clear();
    if (order.size() >= 2) {
        // Offered in reverse: a server that follows the client picks the
        // last one of its earlier picks, one with its own order the first.
        std::vector<std::string> reversed(order.rbegin(), order.rend());
        auto pick = try_offer(t, offer_for(p, reversed), cancel);
        if (!pick) return pick.error();
        if (pick.value().accepted) out.server_preference = pick.value().cipher == order.front();
    }
    for (const auto &name : order) out.suites.push_back(describe_or_name(name));
    return out;
}

// A task returns false when its answer leaves the whole enumeration unknown.
using Task = std::function<bool(const CancelCheck &)>;

// Run tasks at most kMaxParallel at a time (each worker takes the next task).
// The first task that fails stops the others (they see a cancel), so that an
// unreachable target costs one timeout, not one per task.
bool run_bounded(const std::vector<Task> &tasks, const CancelCheck &cancel) {
    std::atomic<std::size_t> next{0};
    std::atomic<bool> failed{false};
    std::vector<std::function<void(const CancelCheck &)>> workers(
        std::min(kMaxParallel, tasks.size()), [&](const CancelCheck &c) {
            CancelCheck stop = [&] { return failed.load() || (c && c()); };
            for (std::size_t i; (i = next++) < tasks.size();) {
                if (stop()) return;
                if (!tasks[i](stop)) failed = true;
            }
        });
    return run_parallel(workers, cancel);
}

// The error of a failed step; a step that stopped because another failed
// (57014) ranks after the failure itself. The caller's own cancel was
// already reported by run_bounded().
template <typename T>
std::optional<Error> first_error(const std::vector<std::optional<Expected<T>>> &results) {
    std::optional<Error> first, stopped;
    bool missing = false;
    for (const auto &r : results) {
        if (!r) {
            missing = true;
            continue;
        }
        if (r->ok()) continue;
        if (r->error().sqlstate == sqlstate::kQueryCanceled) {
            if (!stopped) stopped = r->error();
        } else if (!first) {
            first = r->error();
        }
    }
    if (first) return first;
    if (stopped) return stopped;
    if (missing) return make_error(sqlstate::kInternal, "an enumeration step did not finish");
    return std::nullopt;
}

// The group steps: slot 0 TLS 1.3 with defaults, 1..N TLS 1.3 per group,
// then TLS 1.2 ECDHE with defaults, then TLS 1.2 ECDHE per curve, then DHE.
struct GroupPlan {
    std::vector<Offer> offers;
    std::vector<std::string> group;  // per offer: the single group offered, or ""
    std::vector<Protocol> protocol;
};

GroupPlan group_plan() {
    GroupPlan plan;
    auto add = [&](Offer o, const std::string &g, Protocol p) {
        plan.offers.push_back(std::move(o));
        plan.group.push_back(g);
        plan.protocol.push_back(p);
    };
    Offer v13;
    v13.only = Protocol::TLSv1_3;
    add(v13, "", Protocol::TLSv1_3);
    for (const char *g : kProbedGroups) {
        Offer o = v13;
        o.groups = openssl_group(g);
        add(o, g, Protocol::TLSv1_3);
    }
    Offer ecdhe;
    ecdhe.only = Protocol::TLSv1_2;
    ecdhe.cipher_list = "kECDHE";
    add(ecdhe, "", Protocol::TLSv1_2);
    for (const char *g : kProbedGroups) {
        if (is_ffdhe_group(g)) continue;
        Offer o = ecdhe;
        o.groups = openssl_group(g);
        add(o, g, Protocol::TLSv1_2);
    }
    Offer dhe;
    dhe.up_to = TLS1_2_VERSION;
    dhe.cipher_list = "kDHE";
    add(dhe, "dhe", Protocol::TLSv1_2);
    return plan;
}

GroupEnumeration collect_groups(const GroupPlan &plan, const std::vector<std::optional<Expected<Pick>>> &picks) {
    GroupEnumeration out;
    bool base_ok[2] = {false, false};  // TLS 1.3, TLS 1.2 ECDHE
    for (std::size_t i = 0; i < plan.offers.size(); ++i) {
        const Pick &pick = picks[i]->value();
        const std::string &g = plan.group[i];
        int slot = plan.protocol[i] == Protocol::TLSv1_3 ? 0 : 1;
        if (g.empty()) {
            base_ok[slot] = pick.accepted;
        } else if (g == "dhe") {
            out.dhe_accepted = pick.accepted;
            out.dhe_bits = pick.accepted ? pick.dh_bits : 0;
        } else if (base_ok[slot]) {
            GroupSupport s;
            s.protocol = plan.protocol[i];
            s.group = g;
            s.supported = pick.accepted;
            out.groups.push_back(s);
        }
    }
    return out;
}

}  // namespace

bool is_ffdhe_group(const std::string &group) { return group.rfind("ffdhe", 0) == 0; }

std::vector<std::string> candidate_suites(Protocol p) {
    static std::mutex mu;
    static std::map<Protocol, std::vector<std::string>> cache;
    std::lock_guard<std::mutex> lock(mu);
    auto it = cache.find(p);
    if (it == cache.end()) it = cache.emplace(p, compute_candidates(p)).first;
    return it->second;
}

std::vector<std::string> untestable_suites() {
    std::vector<std::string> offered;
    for (Protocol p : kProbedProtocols) {
        auto c = candidate_suites(p);
        offered.insert(offered.end(), c.begin(), c.end());
    }
    std::vector<std::string> out;
    for (const auto &[name, cipher] : known_suites()) {
        (void)cipher;
        if (std::find(offered.begin(), offered.end(), name) == offered.end()) out.push_back(name);
    }
    return out;
}

std::optional<AcceptedSuite> describe_suite(const std::string &openssl_name) {
    const auto &known = known_suites();
    auto it = known.find(openssl_name);
    if (it == known.end()) return std::nullopt;
    AcceptedSuite s;
    s.facts = describe_cipher(it->second);
    s.key_exchange = strip_prefix(OBJ_nid2sn(s.facts.kx_nid), "Kx");
    s.authentication = strip_prefix(OBJ_nid2sn(s.facts.auth_nid), "Auth");
    if (s.facts.cipher_nid == NID_undef) {
        s.encryption = "none";
    } else {
        // "AES-128-GCM", "CHACHA20-POLY1305", "CAMELLIA-256-CBC", ...
        const char *ln = OBJ_nid2ln(s.facts.cipher_nid);
        s.encryption = ln != nullptr ? ln : "";
        std::transform(s.encryption.begin(), s.encryption.end(), s.encryption.begin(),
                       [](unsigned char ch) { return static_cast<char>(std::toupper(ch)); });
    }
    s.strength = cipher_strength(s.facts);
    return s;
}

namespace {

struct EnumerationSlots {
    std::vector<std::optional<Expected<ProtocolSuites>>> protocols;
    GroupPlan plan;
    std::vector<std::optional<Expected<Pick>>> picks;
};

void add_cipher_tasks(const ProbeTarget &t, EnumerationSlots &s,
                      std::vector<Task> &tasks) {
    s.protocols.resize(std::size(kProbedProtocols));
    for (std::size_t i = 0; i < s.protocols.size(); ++i)
        tasks.emplace_back([&t, &s, i](const CancelCheck &c) {
            s.protocols[i] = enumerate_protocol(t, kProbedProtocols[i], c);
            return s.protocols[i]->ok();
        });
}

void add_group_tasks(const ProbeTarget &t, EnumerationSlots &s,
                     std::vector<Task> &tasks) {
    s.plan = group_plan();
    s.picks.resize(s.plan.offers.size());
    for (std::size_t i = 0; i < s.picks.size(); ++i)
        tasks.emplace_back([&t, &s, i](const CancelCheck &c) {
            s.picks[i] = try_offer(t, s.plan.offers[i], c);
            return s.picks[i]->ok();
        });
}

std::optional<Error> run_tasks(const std::vector<Task> &tasks,
                               const CancelCheck &cancel) {
    try {
        if (run_bounded(tasks, cancel)) return canceled_error();
    } catch (const std::system_error &e) {
        return make_error(sqlstate::kOutOfMemory, std::string("could not start a probe thread: ") + e.what());
    }
    return std::nullopt;
}

}  // namespace

Expected<CipherEnumeration> enumerate_ciphers(const ProbeTarget &target, const CancelCheck &cancel) {
    if (auto err = validate_target(target)) return *err;
    EnumerationSlots s;
    std::vector<Task> tasks;
    add_cipher_tasks(target, s, tasks);
    if (auto err = run_tasks(tasks, cancel)) return *err;
    if (auto err = first_error(s.protocols)) return *err;
    CipherEnumeration out;
    for (auto &p : s.protocols) out.protocols.push_back(std::move(*p).value());
    return out;
}

Expected<GroupEnumeration> enumerate_groups(const ProbeTarget &target, const CancelCheck &cancel) {
    if (auto err = validate_target(target)) return *err;
    EnumerationSlots s;
    std::vector<Task> tasks;
    add_group_tasks(target, s, tasks);
    if (auto err = run_tasks(tasks, cancel)) return *err;
    if (auto err = first_error(s.picks)) return *err;
    return collect_groups(s.plan, s.picks);
}

Expected<Enumeration> enumerate_target(const ProbeTarget &target, const CancelCheck &cancel) {
    if (auto err = validate_target(target)) return *err;
    EnumerationSlots s;
    std::vector<Task> tasks;
    // The long offer/remove loops first, so that the group handshakes fill
    // the other workers meanwhile.
    add_cipher_tasks(target, s, tasks);
    add_group_tasks(target, s, tasks);
    if (auto err = run_tasks(tasks, cancel)) return *err;
    auto e1 = first_error(s.protocols);
    auto e2 = first_error(s.picks);
    if (e1 && (e1->sqlstate != sqlstate::kQueryCanceled || !e2)) return *e1;
    if (e2) return *e2;
    Enumeration out;
    for (auto &p : s.protocols) out.ciphers.protocols.push_back(std::move(*p).value());
    out.groups = collect_groups(s.plan, s.picks);
    return out;
}

}  // namespace tls_audit
