#include "session_lookups.hpp"

#include "guard.hpp"
#include "hook_role_floor.hpp"
#include "base/protocol.hpp"

namespace tls_audit::pg {

namespace {

Datum name_datum(const char *text) {
    return call([&] {
        Name name = static_cast<Name>(palloc0(NAMEDATALEN));
        namestrcpy(name, text);
        return NameGetDatum(name);
    });
}

}  // namespace

const RoleFacts &SessionLookups::role(Oid role) {
    auto known = roles_.find(role);
    if (known != roles_.end()) return known->second;
    RoleFacts facts;
    facts.seen = visibility_.sees(role);
    if (names_and_floors_ && role != InvalidOid) {
        // As session_floor(): the floor of the role under its current name.
        const char *name = call([&] { return static_cast<const char *>(GetUserNameFromId(role, true)); });
        if (name != nullptr) {
            facts.name = name_datum(name);
            facts.floor = role_floor_entry(role, name);
            if (facts.floor != nullptr) {
                const char *floor = protocol_name(facts.floor->floor);
                facts.floor_text = call([&] { return PointerGetDatum(cstring_to_text(floor)); });
            }
        }
    }
    return roles_.emplace(role, facts).first->second;
}

std::optional<Datum> SessionLookups::database_name(Oid database) {
    if (database == InvalidOid) return std::nullopt;
    auto known = databases_.find(database);
    if (known != databases_.end()) return known->second;
    const char *name = call([&] { return static_cast<const char *>(get_database_name(database)); });
    std::optional<Datum> value;
    if (name != nullptr) value = name_datum(name);
    databases_.emplace(database, value);
    return value;
}

}  // namespace tls_audit::pg
