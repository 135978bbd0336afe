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

#include "base/openssl_compat.hpp"
#include "base/openssl_ptr.hpp"
#include "probe/probe_parallel.hpp"
#include "probe/probe_tls.hpp"
#include "sessions/session.hpp"

namespace tls_audit {

namespace {

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
    std::string group;       // negotiated key-exchange group (OpenSSL's name), when known
    std::string cert_curve;  // the server certificate's curve (kProbedGroups name), when ECDSA
    int dh_bits = 0;         // size of the server's ephemeral key
    std::string refusal;
};

// OpenSSL's name for a group of kProbedGroups.
std::string openssl_group(const std::string &g) {
    if (g == "x25519") return "X25519";
    if (g == "x448") return "X448";
    return g;
}

std::string lower(std::string s) {
    std::transform(s.begin(), s.end(), s.begin(), [](unsigned char ch) { return static_cast<char>(std::tolower(ch)); });
    return s;
}

// Whether the negotiated group (OpenSSL's TLS name: "secp256r1", "x25519",
// "X25519MLKEM768", ...) is the probed group `g` (a kProbedGroups name).
bool same_group(const std::string &g, const std::string &negotiated) {
    const std::string n = lower(negotiated);
    if (g == "P-256") return n == "secp256r1" || n == "prime256v1" || n == "p-256";
    if (g == "P-384") return n == "secp384r1" || n == "p-384";
    if (g == "P-521") return n == "secp521r1" || n == "p-521";
    return n == lower(g);
}

// The kProbedGroups name of a certificate curve, "" when the certificate's
// key is not on a named curve the probe knows.
std::string curve_of(SSL *ssl) {
    X509Ptr peer(openssl_compat::get1_peer_certificate(ssl));
    if (!peer) return {};
    switch (openssl_compat::ec_curve_nid(X509_get0_pubkey(peer.get()))) {
    case NID_X9_62_prime256v1: return "P-256";
    case NID_secp384r1: return "P-384";
    case NID_secp521r1: return "P-521";
    default: return {};
    }
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
    pick.cert_curve = curve_of(ssl);
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

// The group steps that need no earlier answer: slot 0 TLS 1.3 with
// defaults, then TLS 1.3 per group the local OpenSSL can offer, then DHE.
// TLS 1.2 is one sequential step (tls12_groups()): it needs the server's
// certificate curve first.
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
        if (!local_group_available(g)) continue;  // a NotTestable row, collect_groups()
        Offer o = v13;
        o.groups = openssl_group(g);
        add(o, g, Protocol::TLSv1_3);
    }
    Offer dhe;
    dhe.up_to = TLS1_2_VERSION;
    dhe.cipher_list = "kDHE";
    add(dhe, "dhe", Protocol::TLSv1_2);
    return plan;
}

GroupSupport row(Protocol p, const std::string &g, GroupStatus status, std::string note = {}) {
    GroupSupport s;
    s.protocol = p;
    s.group = g;
    s.status = status;
    s.supported = status == GroupStatus::Supported;
    s.note = std::move(note);
    return s;
}

// An accepted offer of `g`: supported when the server negotiated it.
GroupSupport judge_accepted(Protocol p, const std::string &g, const Pick &pick, const std::string &cert_curve) {
    if (pick.group.empty())
        return row(p, g, GroupStatus::Undetermined,
                   "the handshake succeeded but this OpenSSL cannot read which group the server chose");
    if (same_group(g, pick.group)) return row(p, g, GroupStatus::Supported);
    if (!cert_curve.empty() && same_group(cert_curve, pick.group))
        return row(p, g, GroupStatus::Undetermined,
                   "the server chose its certificate's curve " + cert_curve + " over " + g +
                       "; in TLS 1.2 an offer of " + g + " must include that curve");
    return row(p, g, GroupStatus::Undetermined, "the server chose " + pick.group + ", which was not offered first");
}

// TLS 1.2 ECDHE, in order: one handshake with the default groups (does the
// server accept ECDHE at all, and which curve has its certificate), then one
// per curve. An ECDSA server can only use its certificate when the client
// lists the certificate's curve, so every offer carries it after the
// candidate; which group the server then picked tells the answer.
struct Tls12Groups {
    bool ecdhe_accepted = false;
    std::string certificate_curve;
    std::vector<GroupSupport> rows;
};

Expected<Tls12Groups> tls12_groups(const ProbeTarget &t, const CancelCheck &cancel) {
    Tls12Groups out;
    Offer ecdhe;
    ecdhe.only = Protocol::TLSv1_2;
    ecdhe.cipher_list = "kECDHE";
    auto base = try_offer(t, ecdhe, cancel);
    if (!base) return base.error();
    if (!base.value().accepted) return out;
    out.ecdhe_accepted = true;
    out.certificate_curve = base.value().cert_curve;
    const std::string &cert = out.certificate_curve;
    for (const char *g : kProbedGroups) {
        if (is_ffdhe_group(g) || is_hybrid_group(g)) continue;  // not ECDHE groups of TLS 1.2
        if (!local_group_available(g)) {
            out.rows.push_back(row(Protocol::TLSv1_2, g, GroupStatus::NotTestable,
                                   "not supported by this " + local_openssl_version()));
            continue;
        }
        Offer o = ecdhe;
        o.groups = openssl_group(g);
        if (!cert.empty() && cert != g) o.groups += ":" + openssl_group(cert);
        auto pick = try_offer(t, o, cancel);
        if (!pick) return pick.error();
        if (!pick.value().accepted) out.rows.push_back(row(Protocol::TLSv1_2, g, GroupStatus::NotSupported));
        else out.rows.push_back(judge_accepted(Protocol::TLSv1_2, g, pick.value(), cert));
    }
    return out;
}

GroupEnumeration collect_groups(const GroupPlan &plan, const std::vector<std::optional<Expected<Pick>>> &picks,
                                const Tls12Groups &v12) {
    GroupEnumeration out;
    bool v13_ok = false;
    std::map<std::string, const Pick *> v13;
    for (std::size_t i = 0; i < plan.offers.size(); ++i) {
        const Pick &pick = picks[i]->value();
        const std::string &g = plan.group[i];
        if (g.empty()) {
            v13_ok = pick.accepted;
        } else if (g == "dhe") {
            out.dhe_accepted = pick.accepted;
            out.dhe_bits = pick.accepted ? pick.dh_bits : 0;
        } else {
            v13[g] = &pick;
        }
    }
    if (v13_ok) {
        for (const char *g : kProbedGroups) {
            auto it = v13.find(g);
            if (it == v13.end())
                out.groups.push_back(row(Protocol::TLSv1_3, g, GroupStatus::NotTestable,
                                         "not supported by this " + local_openssl_version()));
            else if (!it->second->accepted)
                out.groups.push_back(row(Protocol::TLSv1_3, g, GroupStatus::NotSupported));
            else
                out.groups.push_back(judge_accepted(Protocol::TLSv1_3, g, *it->second, {}));
        }
    }
    if (v12.ecdhe_accepted) out.groups.insert(out.groups.end(), v12.rows.begin(), v12.rows.end());
    out.certificate_curve = v12.certificate_curve;
    return out;
}

}  // namespace

bool is_ffdhe_group(const std::string &group) { return group.rfind("ffdhe", 0) == 0; }

bool is_hybrid_group(const std::string &group) { return lower(group).find("mlkem") != std::string::npos; }

bool local_group_available(const std::string &group) {
    static std::mutex mu;
    static std::map<std::string, bool> cache;
    std::lock_guard<std::mutex> lock(mu);
    auto it = cache.find(group);
    if (it == cache.end())
        it = cache.emplace(group, openssl_compat::group_available(openssl_group(group).c_str())).first;
    return it->second;
}

std::string local_openssl_version() {
    // "OpenSSL 3.0.17 1 Jul 2025": the name and the version number.
    std::string v = openssl_compat::version_text();
    auto first = v.find(' ');
    auto second = first == std::string::npos ? first : v.find(' ', first + 1);
    return second == std::string::npos ? v : v.substr(0, second);
}

const char *group_status_name(GroupStatus s) {
    switch (s) {
    case GroupStatus::Supported: return "supported";
    case GroupStatus::NotSupported: return "not supported";
    case GroupStatus::Undetermined: return "undetermined";
    case GroupStatus::NotTestable: return "not testable";
    }
    return "undetermined";
}

namespace {

struct EnumerationSlots {
    std::vector<std::optional<Expected<ProtocolSuites>>> protocols;
    GroupPlan plan;
    std::vector<std::optional<Expected<Pick>>> picks;
    std::vector<std::optional<Expected<Tls12Groups>>> v12;  // one slot (first_error() takes a vector)
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
    s.v12.resize(1);
    tasks.emplace_back([&t, &s](const CancelCheck &c) {
        s.v12[0] = tls12_groups(t, c);
        return s.v12[0]->ok();
    });
}

std::optional<Error> group_error(const EnumerationSlots &s) {
    auto e1 = first_error(s.picks);
    auto e2 = first_error(s.v12);
    if (e1 && (e1->sqlstate != sqlstate::kQueryCanceled || !e2)) return e1;
    return e2 ? e2 : e1;
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
    if (auto err = group_error(s)) return *err;
    return collect_groups(s.plan, s.picks, s.v12[0]->value());
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
    auto e2 = group_error(s);
    if (e1 && (e1->sqlstate != sqlstate::kQueryCanceled || !e2)) return *e1;
    if (e2) return *e2;
    Enumeration out;
    for (auto &p : s.protocols) out.ciphers.protocols.push_back(std::move(*p).value());
    out.groups = collect_groups(s.plan, s.picks, s.v12[0]->value());
    return out;
}

}  // namespace tls_audit
