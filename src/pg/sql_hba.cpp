// tls_audit.hba_rules (view over tls_audit.hba_rule_rows()),
// tls_audit.can_connect() and tls_audit.plaintext_paths(): pg_hba.conf as an
// access matrix. The glue reads pg_hba_file_rules, the roles, databases and
// memberships through SPI with the caller's privileges (pg_hba_file_rules is
// superuser-only unless granted); the core decides (hba_match.hpp).
#include "sql_hba.hpp"

#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include "guard.hpp"
#include "row.hpp"

#include "postgres.hpp"

extern "C" {
PG_FUNCTION_INFO_V1(tls_audit_hba_rule_rows);
PG_FUNCTION_INFO_V1(tls_audit_can_connect);
PG_FUNCTION_INFO_V1(tls_audit_plaintext_paths);
}

using namespace tls_audit;

namespace {

std::optional<std::string> cell(HeapTuple tuple, TupleDesc desc, int col) {
    char *v = pg::call([&] { return SPI_getvalue(tuple, desc, col); });
    if (v == nullptr) return std::nullopt;
    return std::string(v);
}

// A text[] column as strings (NULL: empty).
std::vector<std::string> text_array(HeapTuple tuple, TupleDesc desc, int col) {
    std::vector<std::string> out;
    bool isnull = false;
    Datum d = pg::call([&] { return SPI_getbinval(tuple, desc, col, &isnull); });
    if (isnull) return out;
    Datum *elems = nullptr;
    bool *nulls = nullptr;
    int n = 0;
    pg::call([&] {
        ArrayType *arr = DatumGetArrayTypeP(d);
        deconstruct_array(arr, TEXTOID, -1, false, TYPALIGN_INT, &elems, &nulls, &n);
    });
    for (int i = 0; i < n; ++i) {
        if (nulls[i]) continue;
        Datum e = elems[i];
        char *s = pg::call([&] { return text_to_cstring(DatumGetTextPP(e)); });
        out.emplace_back(s);
    }
    return out;
}

// Run `sql` (SPI connected) and hand each row to `each`.
template <class Each> void each_row(const char *sql, int columns, Each &&each) {
    const int rc = pg::call([&] { return SPI_execute(sql, true, 0); });
    if (rc != SPI_OK_SELECT || SPI_tuptable == nullptr || SPI_tuptable->tupdesc->natts != columns)
        throw CoreError(make_error(sqlstate::kInternal, std::string("unexpected result from ") + sql));
    SPITupleTable *table = SPI_tuptable;
    const uint64 rows = SPI_processed;
    for (uint64 r = 0; r < rows; ++r) each(table->vals[r], table->tupdesc);
}

hba::Matrix read_matrix() {
    hba::Matrix m;
    int position = 0;
    const char *hba_file = pg::call([] { return GetConfigOption("hba_file", true, false); });
    const std::string main_file = hba_file != nullptr ? hba_file : "";
    each_row(pg::compat::kHbaFileRulesQuery, 10, [&](HeapTuple t, TupleDesc d) {
        hba::Rule r;
        // The view lists the lines in the order the server tries them
        // (include files where they are included).
        r.order = ++position;
        r.file_name = cell(t, d, 1).value_or("");
        r.line_number = static_cast<int>(std::strtol(cell(t, d, 2).value_or("0").c_str(), nullptr, 10));
        r.type = cell(t, d, 3).value_or("");
        r.databases = text_array(t, d, 4);
        r.roles = text_array(t, d, 5);
        r.address = cell(t, d, 6).value_or("");
        r.netmask = cell(t, d, 7).value_or("");
        r.auth_method = cell(t, d, 8).value_or("");
        r.options = text_array(t, d, 9);
        r.error = cell(t, d, 10).value_or("");
        r.main_file = r.file_name.empty() || r.file_name == main_file;
        m.rules.push_back(std::move(r));
    });
    each_row("SELECT rolname::text FROM pg_catalog.pg_roles", 1, [&](HeapTuple t, TupleDesc d) {
        if (auto v = cell(t, d, 1)) m.env.roles.insert(*v);
    });
    each_row("SELECT datname::text FROM pg_catalog.pg_database", 1, [&](HeapTuple t, TupleDesc d) {
        if (auto v = cell(t, d, 1)) m.env.databases.insert(*v);
    });
    // hba.c is_member(): is_member_of_role_nosuper(), every grant followed
    // upward whatever its INHERIT or SET option; superuser-ness ignored.
    each_row("WITH RECURSIVE m(member, grp) AS ("
             " SELECT member, roleid FROM pg_catalog.pg_auth_members"
             " UNION"
             " SELECT m.member, a.roleid FROM m JOIN pg_catalog.pg_auth_members AS a ON a.member = m.grp)"
             " SELECT r.rolname::text, g.rolname::text FROM m"
             " JOIN pg_catalog.pg_roles AS r ON r.oid = m.member JOIN pg_catalog.pg_roles AS g ON g.oid = m.grp",
             2, [&](HeapTuple t, TupleDesc d) {
                 auto member = cell(t, d, 1), group = cell(t, d, 2);
                 if (member && group) m.env.member_of[*member].insert(*group);
             });
    const char *ssl = pg::call([] { return GetConfigOption("ssl", true, false); });
    m.env.ssl = ssl != nullptr && std::strcmp(ssl, "on") == 0;
    m.env.gss_supported = pg::compat::kGssBuild;
    m.env.regex_entries = pg::compat::kHbaRegexEntries;
    m.env.interfaces = hba::local_interfaces();
    // hba.c compiles "/regex" entries with REG_ADVANCED in the C collation,
    // as the ~ operator does.
    m.env.regex_match = [](const std::string &pattern, const std::string &subject) {
        const char *p = pattern.data(), *s = subject.data();
        const int plen = static_cast<int>(pattern.size()), slen = static_cast<int>(subject.size());
        return pg::call([&] {
            return DatumGetBool(DirectFunctionCall2Coll(textregexeq, C_COLLATION_OID,
                                                        PointerGetDatum(cstring_to_text_with_len(s, slen)),
                                                        PointerGetDatum(cstring_to_text_with_len(p, plen))));
        });
    };
    return m;
}

std::string arg_text(FunctionCallInfo fcinfo, int n) {
    char *s = pg::call([&] { return text_to_cstring(PG_GETARG_TEXT_PP(n)); });
    return s;
}

void put_int_array(pg::Row &row, int col, const std::vector<int> &values) {
    std::vector<Datum> elems;
    elems.reserve(values.size());
    for (int v : values) elems.push_back(Int32GetDatum(v));
    Datum *items = elems.data();
    const int count = static_cast<int>(elems.size());
    row.datum(col, pg::call([&] { return PointerGetDatum(construct_array(items, count, INT4OID, 4, true, TYPALIGN_INT)); }));
}

hba::Matrix connected_matrix() {
    pg::call([] {
        if (SPI_connect() != SPI_OK_CONNECT) elog(ERROR, "SPI_connect failed");
    });
    auto m = pg::read_hba_matrix();
    pg::call([] { SPI_finish(); });
    return std::move(m).take();
}

}  // namespace

namespace tls_audit::pg {

Expected<hba::Matrix> read_hba_matrix() {
    try {
        return pg::in_subtransaction([] { return read_matrix(); });
    } catch (const pg::PgError &e) {
        return make_error(unpack_sql_state(e.edata()->sqlerrcode), e.what(),
                          "Reading pg_hba.conf needs the privileges of pg_hba_file_rules (superuser, or SELECT "
                          "on pg_hba_file_rules and EXECUTE on pg_hba_file_rules()).");
    }
}

}  // namespace tls_audit::pg

enum HbaRuleColumn {
    kRRuleNumber, kRFileName, kRLineNumber, kRType, kRDatabases, kRRoles, kRAddress, kRNetmask, kRScope,
    kRTlsRequired, kREncryptionRequired, kRClientCert, kRAuthMethod, kRAuthStrength, kRShadowedBy,
    kRShadowedByFile, kRError, kRuleColumns
};

extern "C" Datum tls_audit_hba_rule_rows(PG_FUNCTION_ARGS) {
    return pg::guarded([&]() -> Datum {
        const hba::Matrix m = connected_matrix();
        ReturnSetInfo *rsinfo = pg::materialize(fcinfo);
        pg::check_columns(rsinfo->setDesc->natts, kRuleColumns, "tls_audit.hba_rule_rows()");
        for (std::size_t i = 0; i < m.rules.size(); ++i) {
            const hba::Rule &r = m.rules[i];
            pg::Row row(rsinfo->setDesc);
            row.int4(kRRuleNumber, r.order);
            row.text_or_null(kRFileName, r.file_name);
            row.int4(kRLineNumber, r.line_number);
            if (r.active()) {
                row.text(kRType, r.type);
                row.text_array(kRDatabases, r.databases);
                row.text_array(kRRoles, hba::describe_roles(r, m.env));
                row.text_or_null(kRAddress, r.address);
                row.text_or_null(kRNetmask, r.netmask);
                row.text(kRScope, hba::address_scope(r, m.env));
                row.boolean(kRTlsRequired, hba::tls_required(r));
                row.boolean(kREncryptionRequired, hba::encryption_required(r));
                row.text(kRClientCert, hba::client_cert(r));
                row.text(kRAuthMethod, r.auth_method);
                row.text(kRAuthStrength, hba::auth_strength(r.auth_method));
                if (auto by = hba::shadowed_by(m.rules, i, m.env)) {
                    row.int4(kRShadowedBy, m.rules[*by].line_number);
                    row.text_or_null(kRShadowedByFile, m.rules[*by].file_name);
                }
            }
            row.text_or_null(kRError, r.error);
            row.put(rsinfo);
        }
        return Datum(0);
    });
}

enum CanConnectColumn {
    kCOutcome, kCRuleNumber, kCFileName, kCLineNumber, kCType, kCAuthMethod, kCAuthStrength, kCTlsRequired,
    kCEncryptionRequired, kCClientCert, kCOtherwiseLine, kCDetail, kCanConnectColumns
};

// can_connect(role text, database text, address inet, transport text, replication boolean)
extern "C" Datum tls_audit_can_connect(PG_FUNCTION_ARGS) {
    return pg::guarded([&]() -> Datum {
        auto bad = [](std::string message, std::string hint) {
            return CoreError(make_error(sqlstate::kInvalidParameter, std::move(message), std::move(hint)));
        };
        if (PG_ARGISNULL(0)) throw bad("role must not be NULL", "Name the role that would log in.");
        if (PG_ARGISNULL(3))
            throw bad("transport must not be NULL", "Use 'tls', 'tcp', 'gss' or 'unix'.");
        hba::Request q;
        q.role = arg_text(fcinfo, 0);
        q.replication = !PG_ARGISNULL(4) && PG_GETARG_BOOL(4);
        if (!PG_ARGISNULL(1)) q.database = arg_text(fcinfo, 1);
        else if (!q.replication)
            throw bad("database must not be NULL", "Name the database, or pass replication => true.");
        const std::string transport = arg_text(fcinfo, 3);
        const auto t = hba::parse_transport(transport);
        if (!t) throw bad("unknown transport \"" + transport + "\"", "Use 'tls', 'tcp', 'gss' or 'unix'.");
        q.transport = *t;
        if (!PG_ARGISNULL(2)) {
            Datum inet = PG_GETARG_DATUM(2);
            char *text = pg::call([&] { return DatumGetCString(DirectFunctionCall1(inet_out, inet)); });
            q.address = hba::parse_ip(text);
            if (!q.address)
                throw bad(std::string("address \"") + text + "\" is not a single host address",
                          "Pass the client's own address, e.g. '192.0.2.10' (no network).");
        }
        TupleDesc desc = pg::result_descriptor(fcinfo);
        pg::check_columns(desc->natts, kCanConnectColumns, "tls_audit.can_connect()");
        const hba::Matrix m = connected_matrix();
        const hba::Decision d = hba::decide(m.rules, q, m.env).take();
        pg::Row row(desc);
        row.text(kCOutcome, d.outcome);
        if (d.rule) {
            const hba::Rule &r = m.rules[*d.rule];
            row.int4(kCRuleNumber, r.order);
            row.text_or_null(kCFileName, r.file_name);
            row.int4(kCLineNumber, r.line_number);
            row.text(kCType, r.type);
            row.text(kCAuthMethod, r.auth_method);
            row.text(kCAuthStrength, hba::auth_strength(r.auth_method));
            row.boolean(kCTlsRequired, hba::tls_required(r));
            row.boolean(kCEncryptionRequired, hba::encryption_required(r));
            row.text(kCClientCert, hba::client_cert(r));
        }
        if (d.otherwise) row.int4(kCOtherwiseLine, m.rules[*d.otherwise].line_number);
        std::string detail = d.detail;
        for (const auto &r : m.rules)
            if (!r.active()) {
                detail += "; pg_hba.conf has lines with errors: a reload keeps the rules loaded before, and this "
                          "answer is for the file as it is now";
                break;
            }
        row.text(kCDetail, detail);
        return row.as_composite();
    });
}

enum PathColumn {
    kPRuleNumber, kPFileName, kPLineNumber, kPType, kPRoles, kPDatabases, kPScope, kPTransport, kPAuthMethod,
    kPAuthStrength, kPReason, kPEarlier, kPathColumns
};

extern "C" Datum tls_audit_plaintext_paths(PG_FUNCTION_ARGS) {
    return pg::guarded([&]() -> Datum {
        const hba::Matrix m = connected_matrix();
        ReturnSetInfo *rsinfo = pg::materialize(fcinfo);
        pg::check_columns(rsinfo->setDesc->natts, kPathColumns, "tls_audit.plaintext_paths()");
        for (const auto &p : hba::plaintext_paths(m.rules, m.env)) {
            const hba::Rule &r = m.rules[p.rule];
            pg::Row row(rsinfo->setDesc);
            row.int4(kPRuleNumber, r.order);
            row.text_or_null(kPFileName, r.file_name);
            row.int4(kPLineNumber, r.line_number);
            row.text(kPType, r.type);
            row.text_array(kPRoles, hba::describe_roles(r, m.env));
            row.text_array(kPDatabases, r.databases);
            row.text(kPScope, p.scope);
            row.text(kPTransport, hba::transport_name(p.transport));
            row.text(kPAuthMethod, r.auth_method);
            row.text(kPAuthStrength, hba::auth_strength(r.auth_method));
            row.text(kPReason, p.reason);
            std::vector<int> earlier;
            for (auto j : p.earlier) earlier.push_back(m.rules[j].line_number);
            put_int_array(row, kPEarlier, earlier);
            row.put(rsinfo);
        }
        return Datum(0);
    });
}
