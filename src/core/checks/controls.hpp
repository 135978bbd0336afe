// Which audit-framework controls each check provides evidence for.
//
// The mapping is data: one Control row per framework control, naming the
// checks whose findings are the evidence. tls_audit.controls shows the rows,
// run_checks() and check_history carry the ids of a finding's controls, and
// compliance() and report() summarise per control. Add a row (or a check to a
// row) here and every one of them follows; doc/controls.md gives the source of
// every identifier (none is invented: a framework that cannot be cited is
// left out).
#pragma once

#include "base/pure_cpp.hpp"

#include <string>
#include <string_view>
#include <vector>

TLS_AUDIT_AREA(checks);

namespace tls_audit {

struct Framework {
    const char *key;     // "CIS", "DISA-STIG", ...: what compliance() takes
    const char *prefix;  // the id prefix: "CIS-PG-17" in "CIS-PG-17:6.9"
    const char *source;  // document name and version
};

struct Control {
    const char *framework;  // Framework::key
    const char *prefix;     // Framework::prefix of the document it comes from
    const char *id;         // the document's own identifier ("6.9", "V-261894")
    const char *title;      // short title, in our words
    std::vector<const char *> checks;  // the checks that provide evidence
};

// Every framework document cited, in display order.
const std::vector<Framework> &frameworks();
// Every control row, in display order.
const std::vector<Control> &controls();

// "CIS-PG-17:6.9": the form used in run_checks().controls.
std::string control_key(const Control &c);
// The source document of a control (its framework row's source).
std::string control_source(const Control &c);

// The control keys a check provides evidence for, in controls() order (empty
// for a check no control maps, and for an unknown name).
const std::vector<std::string> &controls_for_check(std::string_view check);

// The framework whose key or prefix matches `name` case-insensitively, or
// nullptr.
const Framework *find_framework(std::string_view name);

}  // namespace tls_audit
