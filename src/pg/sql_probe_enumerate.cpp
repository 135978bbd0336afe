// tls_audit.probe_ciphers() and tls_audit.probe_groups(): the core's
// enumeration (src/core/probe/probe_enumerate.hpp), callable from SQL. Arguments,
// the allow-list and cancel handling are those of tls_audit.probe()
// (probe_args.hpp).
#include <string>

#include "guard.hpp"
#include "interrupts.hpp"
#include "probe/probe.hpp"
#include "sql_probe_args.hpp"
#include "probe/probe_enumerate.hpp"
#include "row.hpp"
#include "probe/tls_profiles.hpp"

#include "postgres.hpp"

extern "C" {
PG_FUNCTION_INFO_V1(tls_audit_probe_ciphers);
PG_FUNCTION_INFO_V1(tls_audit_probe_groups);
PG_FUNCTION_INFO_V1(tls_audit_profile_compliance);
}

using namespace tls_audit;
using namespace tls_audit::pg_probe;

namespace {

// Size in bits of a probed group.
int group_bits(const std::string &g) {
    if (g == "x25519") return 255;
    if (g == "x448") return 448;
    if (g == "P-256") return 256;
    if (g == "P-384") return 384;
    if (g == "P-521") return 521;
    if (is_ffdhe_group(g)) return std::stoi(g.substr(5));
    return 0;
}

}  // namespace

extern "C" Datum tls_audit_probe_ciphers(PG_FUNCTION_ARGS) {
    bool interrupted = false;
    Datum result = pg::guarded([&]() -> Datum {
        const ProbeTarget target = read_target(fcinfo, false);
        auto e = value_or_interrupted(enumerate_ciphers(target, pg::cancel_requested()), interrupted);
        if (!e) return Datum(0);
        ReturnSetInfo *rsinfo = pg::materialize(fcinfo);
        for (const ProtocolSuites &p : e->protocols) {
            int rank = 0;
            for (const AcceptedSuite &s : p.suites) {
                pg::Row row(rsinfo->setDesc);
                row.text(0, protocol_name(p.protocol));
                row.text(1, s.facts.name);
                row.text_or_null(2, s.facts.standard_name);
                row.text_or_null(3, s.key_exchange);
                row.text_or_null(4, s.authentication);
                row.text_or_null(5, s.encryption);
                row.int4(6, s.facts.bits);
                row.text(7, cipher_strength_name(s.strength));
                row.int4(8, ++rank);
                if (p.server_preference) row.boolean(9, *p.server_preference);
                else row.null(9);
                row.put(rsinfo);
            }
        }
        return Datum(0);
    });
    if (interrupted) service_interrupt();
    return result;
}

extern "C" Datum tls_audit_probe_groups(PG_FUNCTION_ARGS) {
    bool interrupted = false;
    Datum result = pg::guarded([&]() -> Datum {
        const ProbeTarget target = read_target(fcinfo, false);
        auto e = value_or_interrupted(enumerate_groups(target, pg::cancel_requested()), interrupted);
        if (!e) return Datum(0);
        ReturnSetInfo *rsinfo = pg::materialize(fcinfo);
        // 1.2 adds status and note; the 1.1 definition ends before them.
        const int columns = rsinfo->setDesc->natts;
        pg::check_columns(columns, 6, "tls_audit.probe_groups()", 4);
        const bool v12 = columns == 6;
        for (const GroupSupport &g : e->groups) {
            pg::Row row(rsinfo->setDesc);
            row.text(0, protocol_name(g.protocol));
            row.text(1, g.group);
            // NULL when the answer is unknown: undetermined (TLS 1.2 with an
            // ECDSA certificate) or a group this OpenSSL cannot offer.
            if (g.status == GroupStatus::Supported || g.status == GroupStatus::NotSupported)
                row.boolean(2, g.supported);
            else
                row.null(2);
            if (const int bits = group_bits(g.group); bits > 0) row.int4(3, bits);
            else row.null(3);
            if (v12) {
                row.text(4, group_status_name(g.status));
                row.text_or_null(5, g.note);
            }
            row.put(rsinfo);
        }
        // The DHE row: whether a DHE suite is accepted (TLSv1 to TLSv1.2) and
        // the size of the group the server chose.
        pg::Row row(rsinfo->setDesc);
        row.text(0, "TLSv1.2");
        row.text(1, "DHE");
        row.boolean(2, e->dhe_accepted);
        if (e->dhe_accepted) row.int4(3, e->dhe_bits);
        else row.null(3);
        if (v12) row.text(4, group_status_name(e->dhe_accepted ? GroupStatus::Supported : GroupStatus::NotSupported));
        row.put(rsinfo);
        return Datum(0);
    });
    if (interrupted) service_interrupt();
    return result;
}

// (host, port, profile, sni, timeout_ms)
extern "C" Datum tls_audit_profile_compliance(PG_FUNCTION_ARGS) {
    bool interrupted = false;
    Datum result = pg::guarded([&]() -> Datum {
        if (PG_ARGISNULL(2)) null_argument("profile");
        const std::string name = text_arg(fcinfo, 2);
        const TlsProfile *profile = find_profile(name);
        if (profile == nullptr) throw CoreError(unknown_profile_error(name));
        const ProbeTarget target = read_target(fcinfo, false, 3);
        auto report = value_or_interrupted(profile_compliance(target, *profile, pg::cancel_requested()), interrupted);
        if (!report) return Datum(0);
        const ProfileReport &r = *report;
        ReturnSetInfo *rsinfo = pg::materialize(fcinfo);
        auto put = [&](const Deviation *d) {
            pg::Row row(rsinfo->setDesc);
            row.text(0, r.profile);
            row.text(1, kMozillaGuidelinesVersion);
            row.boolean(2, r.compliant);
            if (d != nullptr) {
                row.text(3, d->category);
                row.text_or_null(4, d->subject);
                row.boolean(5, d->required);
                row.text(6, d->message);
            } else {
                row.null(3);
                row.null(4);
                row.null(5);
                row.text(6, "complies with Mozilla " + r.profile + " " + kMozillaGuidelinesVersion);
            }
            row.put(rsinfo);
        };
        for (const Deviation &d : r.deviations) put(&d);
        if (r.deviations.empty()) put(nullptr);
        return Datum(0);
    });
    if (interrupted) service_interrupt();
    return result;
}
