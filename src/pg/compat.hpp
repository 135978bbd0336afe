// Every difference between the PostgreSQL majors this extension builds
// against (15, 17, 18) lives here, and nowhere else tests PG_VERSION_NUM.
// 16 passes through the same blocks but no test runs on it (no Debian release
// the test suite uses carries it: doc/testing.md), so it is not claimed.
// Each block says which release changed what; call sites use the names
// below and need no version test (the shape of citus' pg_version_compat.h).
// Included by postgres.hpp, after the headers every version has.
#pragma once

#if PG_VERSION_NUM < 150000
#error "pg_tls_audit needs PostgreSQL 15 or newer"
#endif

extern "C" {
// 17 replaced BackendId (storage/backendid.h, 1-based, from the sinval
// array) with ProcNumber (storage/procnumber.h, 0-based PGPROC index).
#if PG_VERSION_NUM >= 170000
#include "storage/procnumber.h"
#else
#include "storage/backendid.h"
#endif
}

namespace tls_audit::pg::compat {

// This backend's slot among MaxBackends, 0-based; -1 before it has one.
// 15: MyBackendId is 1..MaxBackends once the backend joined sinval
// (InvalidBackendId = -1 before). 17+: MyProcNumber indexes ProcGlobal's
// PGPROC array, whose first MaxBackends entries are the regular backends
// (clients, walsenders, autovacuum and background workers).
inline int backend_slot() {
#if PG_VERSION_NUM >= 170000
    return MyProcNumber == INVALID_PROC_NUMBER ? -1 : static_cast<int>(MyProcNumber);
#else
    return MyBackendId == InvalidBackendId ? -1 : MyBackendId - 1;
#endif
}

// The local copy of backend status entry `index` (1-based, up to
// pgstat_fetch_stat_numbackends()). 16 renamed
// pgstat_fetch_stat_local_beentry() to pgstat_get_local_beentry_by_index().
inline LocalPgBackendStatus *local_beentry_by_index(int index) {
#if PG_VERSION_NUM >= 160000
    return pgstat_get_local_beentry_by_index(index);
#else
    return pgstat_fetch_stat_local_beentry(index);
#endif
}

// 17 added ALPN to the server's TLS handshake (libpq 17+ offers
// "postgresql"; direct TLS, sslnegotiation=direct, requires it). Which
// protocol was selected is read from OpenSSL (alpn_selected() in the core),
// the same on every version; whether TLS started directly or after an
// SSLRequest is not kept by any version's server.

// 18 added ssl_tls13_ciphers (the TLS 1.3 suites; before, OpenSSL's default
// TLS 1.3 suites were always enabled) and renamed ssl_ecdh_curve to
// ssl_groups, a colon-separated list (ssl_ecdh_curve stays as an alias).
inline constexpr bool kHasTls13Ciphers = PG_VERSION_NUM >= 180000;
inline constexpr const char *kGroupsSetting = PG_VERSION_NUM >= 180000 ? "ssl_groups" : "ssl_ecdh_curve";
// be_tls_init() loads it with SSL_CTX_set1_groups_list() on 18, as one curve
// name (OBJ_sn2nid) before.
inline constexpr bool kGroupsIsList = PG_VERSION_NUM >= 180000;

// 18 deprecates MD5 password authentication (a WARNING when an MD5 password
// is set; removal announced for a future release).
inline constexpr bool kMd5Deprecated = PG_VERSION_NUM >= 180000;

// GSSAPI encryption exists only in servers built with GSSAPI (ENABLE_GSS;
// Debian's packages are, our source builds are not): a build setting rather
// than a version, kept here with the other differences between servers.
inline bool gss_encrypted(Port *port) {
#ifdef ENABLE_GSS
    return be_gssapi_get_enc(port);
#else
    (void)port;
    return false;
#endif
}

// pg_hba.conf as the server parsed it (pg_hba_file_rules), in the order the
// server tries the lines. 16 added include files (include, include_if_exists,
// include_dir: the view's rule_number and file_name columns; line_number is
// then per file) and "/regex" entries for databases and users (before, a
// leading slash is part of a plain name). The columns, in this order:
// file_name (NULL on 15), line_number, type, database, user_name, address,
// netmask, auth_method, options, error.
inline constexpr bool kHbaRegexEntries = PG_VERSION_NUM >= 160000;
inline constexpr const char *kHbaFileRulesQuery =
    PG_VERSION_NUM >= 160000
        ? "SELECT file_name, line_number, type, database, user_name, address, netmask, auth_method, options, "
          "error FROM pg_catalog.pg_hba_file_rules"
        : "SELECT NULL::text, line_number, type, database, user_name, address, netmask, auth_method, options, "
          "error FROM pg_catalog.pg_hba_file_rules";
// hostgssenc lines can match only on a server built with GSSAPI.
#ifdef ENABLE_GSS
inline constexpr bool kGssBuild = true;
#else
inline constexpr bool kGssBuild = false;
#endif

// 18 added PG_MODULE_MAGIC_EXT, which also names the module and its version
// (shown by pg_get_loaded_modules()). Its designated initializers leave
// fields to zero, which -Wextra reports under C++: module.cpp silences that
// around `TLS_AUDIT_MODULE_MAGIC;`.
#if PG_VERSION_NUM >= 180000
#define TLS_AUDIT_MODULE_MAGIC PG_MODULE_MAGIC_EXT(.name = "pg_tls_audit", .version = TLS_AUDIT_VERSION_STRING)
#else
#define TLS_AUDIT_MODULE_MAGIC PG_MODULE_MAGIC
#endif

// Memory for a GUC check hook's *extra, which guc.c frees itself. 16 moved
// GUC memory into a memory context: extras must come from guc_malloc()
// (freed with pfree()); 15 frees them with free(), and its guc_malloc() is
// static. NULL when out of memory (the check hook then fails).
inline void *guc_extra_alloc(size_t size) {
#if PG_VERSION_NUM >= 160000
    return guc_malloc(LOG, size);
#else
    return malloc(size);
#endif
}

// The wait event a backend shows in pg_stat_activity while a probe waits on
// the network. 17 added custom wait events (WaitEventExtensionNew(), one id
// per name in shared memory, shown as type Extension, event TlsAuditProbe);
// before, extensions share PG_WAIT_EXTENSION (shown as Extension/Extension).
inline uint32 probe_wait_event() {
#if PG_VERSION_NUM >= 170000
    static uint32 id = 0;
    if (id == 0) id = WaitEventExtensionNew("TlsAuditProbe");
    return id;
#else
    return PG_WAIT_EXTENSION;
#endif
}
inline constexpr const char *kProbeWaitEventName = PG_VERSION_NUM >= 170000 ? "TlsAuditProbe" : "Extension";

// The same for a backend waiting on a pgbouncer admin console
// (tls_audit.pooler_*(), run_checks()).
inline uint32 pooler_wait_event() {
#if PG_VERSION_NUM >= 170000
    static uint32 id = 0;
    if (id == 0) id = WaitEventExtensionNew("TlsAuditPooler");
    return id;
#else
    return PG_WAIT_EXTENSION;
#endif
}
inline constexpr const char *kPoolerWaitEventName = PG_VERSION_NUM >= 170000 ? "TlsAuditPooler" : "Extension";

// The file of the pg_hba.conf line that admitted a connection. 16 added
// include files (HbaLine.sourcefile); before, every line is in hba_file:
// nullptr (the caller shows no file).
inline const char *hba_source_file(const HbaLine *hba) {
#if PG_VERSION_NUM >= 160000
    return hba->sourcefile;
#else
    (void)hba;
    return nullptr;
#endif
}

// Whether a successful password exchange on an `md5` line ran SCRAM, when
// the server keeps it: 18 stores the SCRAM keys of a completed exchange in
// the Port (has_scram_keys, set by auth-scram.c for postgres_fdw/dblink
// pass-through). 1 = SCRAM ran, 0 = it did not, -1 = the version does not
// say (before 18: the caller looks at the role's secret instead).
inline int scram_keys_known(const Port *port) {
#if PG_VERSION_NUM >= 180000
    return port->has_scram_keys ? 1 : 0;
#else
    (void)port;
    return -1;
#endif
}

// ===========================================================================
// FRAGILE INTERNALS
// What follows relies on PostgreSQL internals that no API promises, so a
// minor release may break it. Each part says why it exists, the versions it
// was checked against, what happens when it is wrong, and the test that fails
// when the assumption breaks. Check every part when adding a major.
// ===========================================================================

// --- 1. An info callback given to a TLS context while OpenSSL builds it
// Why: the walreceiver, the logical replication workers and the slot
//   synchronization worker connect with libpq in their own process; no view
//   shows the TLS of those links. hook_outbound.cpp registers an SSL_CTX
//   ex_data index in the postmaster; its new callback, which OpenSSL calls
//   from SSL_CTX_new, sets the new context's info callback in those
//   processes, and the info callback records each finished handshake.
// Assumes: SSL_CTX_new calls the ex_data new callbacks on the context it
//   builds (documented) and sets no info callback after them (not
//   documented: the field is zeroed at allocation and only
//   SSL_CTX_set_info_callback writes it); libpq sets none of its own
//   (checked in its source: none up to 18). The process kinds are told by
//   MyBackendType and MyLogicalRepWorker (makes_replication_links() below).
// Checked: OpenSSL 3.0 (Debian 12) and 3.5 (Debian 13) with PostgreSQL 15,
//   17 and 18.
// When wrong: no handshake is recorded, and live_tls says "connected without
//   TLS" for a link that has TLS; nothing else changes (the callback only
//   copies values under a spinlock, fail-open).
// Test: test/t/090_outbound.pl asserts live_tls shows the TLS protocol and
//   cipher of a real primary_conninfo walreceiver and of a subscription's
//   apply worker, and "connected without TLS" for sslmode=disable links.
inline bool makes_replication_links() {
    if (MyBackendType == B_WAL_RECEIVER) return true;
#if PG_VERSION_NUM >= 170000
    if (MyBackendType == B_SLOTSYNC_WORKER) return true;
#endif
    return MyBackendType == B_BG_WORKER && MyLogicalRepWorker != nullptr;
}

// --- 2. The scan of guc_tables.h
// Why: a tls_audit.* value written in postgresql.conf before the library was
//   loaded exists only as a placeholder; guc_start_settings.cpp reads those
//   placeholders (to say which values were refused at start,
//   settings_not_applied) by scanning every GUC and reading a placeholder as
//   a config_string.
// Assumes: get_guc_variables() returns every GUC, placeholders included
//   (16 keeps them in a hash table and returns a palloc'd array; 15 returns
//   its own array, sized by GetNumConfigOptions()); a placeholder is a
//   config_string whose config_generic is its first member (the static_assert
//   below fails the build when that changes).
// Checked: 15, 17, 18.
// When wrong: the scan finds no placeholder: no value is reported as refused
//   at start (the settings themselves still fail closed in their check hooks).
// Test: test/t/035_settings_start.pl asserts settings_not_applied names the
//   invalid tls_audit.* values of the configuration files.
inline struct config_generic **guc_variables(int *count) {
#if PG_VERSION_NUM >= 160000
    return get_guc_variables(count);
#else
    *count = GetNumConfigOptions();
    return get_guc_variables();
#endif
}
static_assert(offsetof(struct config_string, gen) == 0,
              "guc_tables.h: config_string no longer starts with its config_generic (guc_start_settings.cpp)");

// --- 3. Threads inside a backend
// Why: a probe (tls_audit.probe*, run_checks(), the enumeration) connects to
//   several targets, or tries direct TLS, at once; the core runs each on its
//   own std::thread (core/probe: probe.cpp, probe_direct.cpp,
//   probe_enumerate.cpp) inside the calling backend.
// Assumes: those threads never call PostgreSQL (the core includes no
//   PostgreSQL header: the build refuses one) and allocate with malloc only;
//   they start with every signal blocked (probe_io's start_quiet_thread), so
//   SIGINT, SIGTERM and the latch's SIGURG reach the main thread; only the
//   main thread waits on the latch and checks for interrupts (guc_probe.cpp's
//   wait hook), and it joins every thread before returning to PostgreSQL.
// Checked: 15, 17, 18 (a backend is single-threaded as far as PostgreSQL
//   knows; nothing there changed in these releases).
// When wrong: a thread that cannot be started is an error of the probe
//   (out of memory, 53200), never a crash; a cancel during a probe is
//   answered within the poll interval.
// Test: test/t/050_probe.pl (statement_timeout and pg_cancel_backend stop a
//   probe promptly), 051_probe_wait_event.pl (the wait event while the
//   threads run), 055_probe_enumerate.pl (parallel enumeration).

// The server's major version, for messages.
inline constexpr int kMajorVersion = PG_VERSION_NUM / 10000;
// The whole version number (180001), for decisions the core makes by version
// (pq_key_exchange: 18's ssl_groups takes a list, ssl_ecdh_curve one curve).
inline constexpr int kVersionNum = PG_VERSION_NUM;

}  // namespace tls_audit::pg::compat
