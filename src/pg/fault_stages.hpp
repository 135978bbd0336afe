// Minor page faults per stage of the connection path, for finding which
// stage touches fresh pages (doc/benchmarks.md, "Where the per-connection
// cost goes"). Only in a build made with `make TLS_AUDIT_FAULT_STAGES=1`:
// each TLS_AUDIT_FAULT_MARK records the backend's ru_minflt so far, and the
// hook dispatcher logs the differences once, at LOG, at the end of the
// ClientAuthentication_hook. In every other build the marks compile to
// nothing, so the measured path is the shipped path plus a getrusage() per
// mark.
#pragma once

#ifdef TLS_AUDIT_FAULT_STAGES
#include <sys/resource.h>

namespace tls_audit::pg::fault_stages {

constexpr int kMaxMarks = 16;
struct Mark {
    const char *stage;
    long minflt;
};
inline Mark marks[kMaxMarks];
inline int mark_count = 0;

inline void mark(const char *stage) {
    rusage r;
    getrusage(RUSAGE_SELF, &r);
    if (mark_count < kMaxMarks) marks[mark_count++] = Mark{stage, r.ru_minflt};
}

// One LOG line: "stage +N" for each mark after the first (module.cpp).
void report();

}  // namespace tls_audit::pg::fault_stages

#define TLS_AUDIT_FAULT_MARK(stage) ::tls_audit::pg::fault_stages::mark(stage)
#else
#define TLS_AUDIT_FAULT_MARK(stage) ((void)0)
#endif
