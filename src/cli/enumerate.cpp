#include "enumerate.hpp"

#include <algorithm>

namespace tls_audit::cli {

namespace {

std::string join(const std::vector<std::string> &v, const char *sep) {
    std::string out;
    for (const auto &s : v) {
        if (!out.empty()) out += sep;
        out += s;
    }
    return out;
}

std::string pad(std::string s, std::size_t width) {
    if (s.size() < width) s.append(width - s.size(), ' ');
    return s;
}

const char *preference_text(const ProtocolSuites &p) {
    if (!p.server_preference) return "";
    return *p.server_preference ? "server order" : "client order";
}

std::vector<std::string> groups_with(const GroupEnumeration &g, Protocol p, GroupStatus status) {
    std::vector<std::string> out;
    for (const auto &s : g.groups)
        if (s.protocol == p && s.status == status) out.push_back(s.group);
    return out;
}

// The note of the first row of `p` with `status` (they share one reason).
std::string note_of(const GroupEnumeration &g, Protocol p, GroupStatus status) {
    for (const auto &s : g.groups)
        if (s.protocol == p && s.status == status) return s.note;
    return {};
}

bool has_rows(const GroupEnumeration &g, Protocol p) {
    return std::any_of(g.groups.begin(), g.groups.end(), [&](const GroupSupport &s) { return s.protocol == p; });
}

}  // namespace

void check_enumeration(const Enumeration &e, std::vector<Finding> &out) {
    for (const auto &p : e.ciphers.protocols) {
        std::vector<std::string> insecure, weak;
        for (const auto &s : p.suites) {
            if (s.strength == CipherStrength::Insecure) insecure.push_back(s.facts.name);
            else if (s.strength == CipherStrength::Weak) weak.push_back(s.facts.name);
        }
        if (!insecure.empty())
            out.push_back({Status::Critical, "cipher_insecure",
                           std::string(protocol_name(p.protocol)) + " accepts insecure cipher suites: " +
                               join(insecure, ", ")});
        if (!weak.empty())
            out.push_back({Status::Warning, "cipher_weak",
                           std::string(protocol_name(p.protocol)) + " accepts weak cipher suites: " + join(weak, ", ")});
    }
    if (e.groups.dhe_accepted && e.groups.dhe_bits > 0 && e.groups.dhe_bits < kMinDheBits)
        out.push_back({Status::Warning, "dhe_group_small",
                       "DHE key exchange uses a " + std::to_string(e.groups.dhe_bits) + "-bit group (fewer than " +
                           std::to_string(kMinDheBits) + ")"});
}

void check_profile(const ProfileReport &p, std::vector<Finding> &out) {
    for (const auto &d : p.deviations)
        out.push_back({d.required ? Status::Critical : Status::Ok,
                       d.required ? "profile_deviation" : "profile_recommendation", d.message});
    if (p.compliant)
        out.push_back({Status::Ok, "profile_compliant",
                       "complies with Mozilla " + p.profile + " " + kMozillaGuidelinesVersion});
}

void write_profile_json(JsonWriter &w, const ProfileReport &p) {
    w.begin_object();
    w.key("name").value(p.profile);
    w.key("guidelines_version").value(kMozillaGuidelinesVersion);
    w.key("compliant").value(p.compliant);
    w.key("deviations").begin_array();
    for (const auto &d : p.deviations) {
        w.begin_object();
        w.key("category").value(d.category);
        w.key("subject").value(d.subject);
        w.key("required").value(d.required);
        w.key("message").value(d.message);
        w.end_object();
    }
    w.end_array();
    w.end_object();
}

void write_enumeration_text(std::ostringstream &out, const Enumeration &e) {
    out << "  cipher suites\n";
    for (const auto &p : e.ciphers.protocols) {
        out << "    " << pad(protocol_name(p.protocol), 9);
        if (p.suites.empty()) {
            out << "none" << (p.refusal.empty() ? "" : " (" + p.refusal + ")") << "\n";
            continue;
        }
        out << p.suites.size() << (p.suites.size() == 1 ? " suite" : " suites");
        if (p.server_preference) out << ", " << preference_text(p);
        out << "\n";
        for (const auto &s : p.suites)
            out << "      " << pad(s.facts.name, 32) << pad(s.key_exchange + "/" + s.authentication, 12)
                << pad(s.encryption, 20) << pad(std::to_string(s.facts.bits), 5) << cipher_strength_name(s.strength)
                << "\n";
    }
    out << "  groups\n";
    for (Protocol p : {Protocol::TLSv1_3, Protocol::TLSv1_2}) {
        out << "    " << pad(protocol_name(p), 9);
        if (!has_rows(e.groups, p)) {
            out << (p == Protocol::TLSv1_3 ? "TLSv1.3 not accepted" : "no ECDHE suite accepted") << "\n";
            continue;
        }
        auto g = groups_with(e.groups, p, GroupStatus::Supported);
        out << (g.empty() ? "none" : join(g, " ")) << "\n";
        // Never a silent omission: what could not be told, and what this
        // OpenSSL cannot offer, each on its own line.
        if (auto u = groups_with(e.groups, p, GroupStatus::Undetermined); !u.empty())
            out << "    " << pad("", 9) << "undetermined: " << join(u, " ")
                << (e.groups.certificate_curve.empty()
                        ? std::string()
                        : " (the server picks its certificate's curve " + e.groups.certificate_curve + ")")
                << "\n";
        if (auto n = groups_with(e.groups, p, GroupStatus::NotTestable); !n.empty())
            out << "    " << pad("", 9) << join(n, " ") << ": " << note_of(e.groups, p, GroupStatus::NotTestable)
                << "\n";
    }
    out << "    " << pad("DHE", 9)
        << (e.groups.dhe_accepted ? std::to_string(e.groups.dhe_bits) + " bits" : std::string("no DHE suite accepted"))
        << "\n";
}

void write_enumeration_json(JsonWriter &w, const Enumeration &e) {
    w.begin_object();
    w.key("protocols").begin_object();
    for (const auto &p : e.ciphers.protocols) {
        w.key(protocol_name(p.protocol)).begin_object();
        w.key("server_preference");
        if (p.server_preference) w.value(*p.server_preference);
        else w.null();
        w.key("refusal").string_or_null(p.refusal);
        w.key("suites").begin_array();
        for (const auto &s : p.suites) {
            w.begin_object();
            w.key("name").value(s.facts.name);
            w.key("standard_name").string_or_null(s.facts.standard_name);
            w.key("key_exchange").value(s.key_exchange);
            w.key("authentication").value(s.authentication);
            w.key("encryption").value(s.encryption);
            w.key("bits").value(s.facts.bits);
            w.key("strength").value(cipher_strength_name(s.strength));
            w.end_object();
        }
        w.end_array();
        w.end_object();
    }
    w.end_object();
    w.key("groups").begin_array();
    for (const auto &g : e.groups.groups) {
        w.begin_object();
        w.key("protocol").value(protocol_name(g.protocol));
        w.key("group").value(g.group);
        // null when unknown (status says why)
        w.key("supported");
        if (g.status == GroupStatus::Supported || g.status == GroupStatus::NotSupported) w.value(g.supported);
        else w.null();
        w.key("status").value(group_status_name(g.status));
        if (!g.note.empty()) w.key("note").value(g.note);
        w.end_object();
    }
    w.end_array();
    w.key("dhe").begin_object();
    w.key("accepted").value(e.groups.dhe_accepted);
    w.key("bits");
    if (e.groups.dhe_accepted) w.value(e.groups.dhe_bits);
    else w.null();
    w.end_object();
    w.end_object();
}

void write_enumeration_tap(std::ostringstream &out, const Enumeration &e) {
    for (const auto &p : e.ciphers.protocols) {
        out << "# suites " << protocol_name(p.protocol);
        if (p.suites.empty()) {
            out << " none\n";
            continue;
        }
        if (p.server_preference) out << " (" << preference_text(p) << ")";
        out << ":";
        for (const auto &s : p.suites) out << " " << s.facts.name << "(" << cipher_strength_name(s.strength) << ")";
        out << "\n";
    }
    for (Protocol p : {Protocol::TLSv1_3, Protocol::TLSv1_2}) {
        if (!has_rows(e.groups, p)) continue;
        auto g = groups_with(e.groups, p, GroupStatus::Supported);
        out << "# groups " << protocol_name(p) << ": " << (g.empty() ? "none" : join(g, " ")) << "\n";
        if (auto u = groups_with(e.groups, p, GroupStatus::Undetermined); !u.empty())
            out << "# groups " << protocol_name(p) << " undetermined: " << join(u, " ") << "\n";
        if (auto n = groups_with(e.groups, p, GroupStatus::NotTestable); !n.empty())
            out << "# groups " << protocol_name(p) << " " << note_of(e.groups, p, GroupStatus::NotTestable) << ": "
                << join(n, " ") << "\n";
    }
    out << "# dhe: " << (e.groups.dhe_accepted ? std::to_string(e.groups.dhe_bits) + " bits" : std::string("none"))
        << "\n";
}

std::string enumeration_perfdata(const std::string &label, const Enumeration &e) {
    int total = 0, weak = 0, insecure = 0;
    for (const auto &p : e.ciphers.protocols)
        for (const auto &s : p.suites) {
            ++total;
            if (s.strength == CipherStrength::Weak) ++weak;
            if (s.strength == CipherStrength::Insecure) ++insecure;
        }
    return " '" + label + "_suites'=" + std::to_string(total) + " '" + label + "_weak_suites'=" + std::to_string(weak) +
           ";0 '" + label + "_insecure_suites'=" + std::to_string(insecure) + ";;0";
}

}  // namespace tls_audit::cli
