// GUCs of the per-role protocol floor: tls_audit.role_min_protocol (parsed
// once per reload by the check hook into a fixed-size RoleFloorList kept as
// the GUC's `extra`) and tls_audit.enforce_floor.
#include "guc_role_floor.hpp"

#include <cstring>

#include "guard.hpp"
#include "base/hot_path.hpp"
#include "guc_start_settings.hpp"

#include "postgres.hpp"

namespace tls_audit::pg {

namespace {

constexpr const char *kListName = "tls_audit.role_min_protocol";
constexpr const char *kEnforceName = "tls_audit.enforce_floor";

char *list_setting = nullptr;
int enforce_setting = static_cast<int>(EnforceFloor::Off);

const struct config_enum_entry enforce_options[] = {
    {"off", static_cast<int>(EnforceFloor::Off), false},
    {"log", static_cast<int>(EnforceFloor::Log), false},
    {"on", static_cast<int>(EnforceFloor::On), false},
    {nullptr, 0, false},
};

// The check hook's `extra` for the list: the parsed form and whether the
// value comes from the files (so that assigning it ends a refusal at start).
struct ListExtra {
    bool from_file;
    RoleFloorList list;
};

const RoleFloorList empty_list{};
const RoleFloorList *current_list = &empty_list;

// Fail closed (see guc_probe.cpp for the pattern): set when the files' value
// at load time was refused, cleared only when a value from the files is
// applied.
bool list_refused = false;
bool enforce_refused = false;
bool defining = false;

bool check_list(char **newval, void **extra, GucSource source) {
    const char *text = *newval != nullptr ? *newval : "";
    char message[512] = "";
    char hint[512] = "";
    // Parsed into a static (4 kB, plain data), copied into guc.c's block once valid.
    static RoleFloorList list;
    bool ok = false;
    try {
        auto result = parse_role_floors(text);
        ok = result.ok();
        if (ok) {
            std::memcpy(static_cast<void *>(&list), &result.value(), sizeof list);
        } else {
            strlcpy(message, result.error().message.c_str(), sizeof message);
            strlcpy(hint, result.error().hint.c_str(), sizeof hint);
        }
    } catch (...) {
        strlcpy(message, "could not parse the list", sizeof message);
    }
    if (!ok) {
        GUC_check_errdetail("%s", message);
        if (hint[0] != '\0') GUC_check_errhint("%s", hint);
        return false;
    }
    auto *parsed = static_cast<ListExtra *>(compat::guc_extra_alloc(sizeof(ListExtra)));
    if (parsed == nullptr) return false;
    std::memcpy(static_cast<void *>(&parsed->list), &list, sizeof list);
    parsed->from_file = !defining && source == PGC_S_FILE;
    *extra = parsed;
    return true;
}

void assign_list(const char *newval, void *extra) {
    (void)newval;
    const auto *parsed = static_cast<const ListExtra *>(extra);
    current_list = parsed != nullptr ? &parsed->list : &empty_list;
    if (parsed != nullptr && parsed->from_file) list_refused = false;
}

bool check_enforce(int *newval, void **extra, GucSource source) {
    (void)newval;
    bool *marker = static_cast<bool *>(compat::guc_extra_alloc(sizeof(bool)));
    if (marker == nullptr) return false;
    *marker = !defining && source == PGC_S_FILE;
    *extra = marker;
    return true;
}

void assign_enforce(int newval, void *extra) {
    (void)newval;
    if (extra != nullptr && *static_cast<bool *>(extra)) enforce_refused = false;
}

}  // namespace

TLS_AUDIT_HOT EnforceFloor enforce_floor() {
    if (enforce_refused) return EnforceFloor::On;
    return static_cast<EnforceFloor>(enforce_setting);
}

TLS_AUDIT_HOT const RoleFloorList &role_floor_list() { return *current_list; }

TLS_AUDIT_HOT bool role_floor_list_refused() { return list_refused; }

void define_role_floor_gucs() {
    defining = true;
    DefineCustomStringVariable(
        kListName, "Oldest TLS protocol version allowed per role (name=protocol, +group=protocol, *=protocol).",
        "A comma-separated list such as etl=TLSv1.3, +reporting=TLSv1.3, *=TLSv1.2: a role, the members of a "
        "role (+name), or every other role (*); the most specific entry wins. tls_audit.sessions shows it; "
        "tls_audit.enforce_floor decides whether a session below it is logged or refused.",
        &list_setting, "", PGC_SIGHUP, 0, check_list, assign_list, nullptr);
    DefineCustomEnumVariable(
        kEnforceName, "What to do with a TCP session below its role's tls_audit.role_min_protocol floor.",
        "off: nothing; log: one LOG line and census outcome policy_violation; on: refuse the connection "
        "(FATAL, SQLSTATE 28000). Unix-socket sessions are never affected.",
        &enforce_setting, static_cast<int>(EnforceFloor::Off), enforce_options, PGC_SIGHUP, 0, check_enforce,
        assign_enforce, nullptr);
    defining = false;
    list_refused = start_value_rejected(kListName);
    enforce_refused = start_value_rejected(kEnforceName);
}

}  // namespace tls_audit::pg
