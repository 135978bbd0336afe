// Module entry point: GUCs, hooks and shared-memory requests of every area.
#include "module.hpp"

#include "postgres.hpp"

extern "C" {
#include "utils/guc.h"
PG_MODULE_MAGIC;
void _PG_init(void);
}

namespace tls_audit::pg {

namespace {
bool preloaded = false;
}

bool loaded_at_startup() { return preloaded; }

}  // namespace tls_audit::pg

extern "C" void _PG_init(void) {
    tls_audit::pg::preloaded = process_shared_preload_libraries_in_progress;
    // Areas register their GUCs and hooks here, each in its own file.

    MarkGUCPrefixReserved("tls_audit");
}
