// tls_audit.* values from the configuration files (or the command line) that
// PostgreSQL could not apply when this library was loaded.
//
// Why they get lost: the files are read before the library is loaded, so a
// tls_audit.* line first becomes a "placeholder" (a plain string, checked by
// nobody). DefineCustom*Variable() then replaces the placeholder with the
// real variable: it sets the variable to its boot default and re-applies the
// placeholder's values with set_config_option(..., elevel = WARNING) (guc.c,
// define_custom_variable). A value that fails parsing, the range or the check
// hook only yields guc.c's generic "invalid value for parameter" WARNING, and
// the boot default stays in effect: for tls_audit.probe_allowed_hosts the
// default is "any host". At a reload the same value is refused and the
// previous value kept, so only loading is affected.
//
// So _PG_init takes a snapshot of the placeholders before any area defines
// its variables, each area may ask whether its value was refused (right after
// its DefineCustom*Variable()), and after all areas are defined every refused
// value is reported with the reason and what is in effect instead.
#pragma once

namespace tls_audit::pg {

// Before the first DefineCustom*Variable() of _PG_init.
void snapshot_start_settings();

// After the DefineCustom*Variable() of `name`: true when the file (or command
// line) gave `name` a value at start that was not applied.
bool start_value_rejected(const char *name);

// After every area is defined: one WARNING per refused value, naming the
// parameter, the value, where it came from, the reason and what applies.
void report_start_settings();

}  // namespace tls_audit::pg
