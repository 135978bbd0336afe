// The few words of this library's shared memory that every connection
// touches, gathered in one 64 kB-aligned window.
//
// Why: shared memory is mapped into a new backend page by page, at its
// first touch, and each fault maps at most the aligned 64 kB around it (the
// kernel's fault-around, for a first read). Words of two areas in two
// windows cost every connection two faults; in one window, one. So the
// areas on the connection path take their hot words from here instead of
// from allocations of their own (doc/benchmarks.md):
//  * the served-certificate capture: the reload time of the newest capture,
//    read by every TLS connection (hook_certs_served.cpp);
//  * the census header with its hot keys (census_internal.hpp).
// The session registry's slot, one per backend, cannot be here: there are
// too many.
#pragma once

#include <cstddef>

#include "postgres.hpp"

namespace tls_audit::pg {

constexpr std::size_t kHotWindow = 65536;

enum class HotPart { ServedCertificate, Census };

// Where each part starts in the window, and how many bytes it may take.
constexpr std::size_t kHotPartOffset[] = {0, 64};
constexpr std::size_t kHotPartCapacity[] = {64, kHotWindow - 64 - 64};

// Ask for the window's shared memory (each area that uses it calls this in
// its request hook; the space is requested once).
void request_hot_window();

// The part's memory (the caller holds AddinShmemInitLock). `first` is true
// when the caller is the first to ask for this part since the shared memory
// was made: it initializes the part then (the window starts zeroed).
void *hot_window_part(HotPart part, std::size_t size, bool &first);

}  // namespace tls_audit::pg
