// sinks.h — the tools behind tools.h, one file each (private to tools/).
#pragma once

#include "tools/tools.h"

namespace npk::tools {

// perf.cpp: a line per function in /tmp/perf-<pid>.map; a code-load
// record per function in jit-<pid>.dump.
void perf_map_publish(const CodeSpan* fns, size_t n);
void jitdump_publish(const CodeSpan* fns, size_t n);

// gdb_jit.cpp: one in-memory ELF object per allocation, registered with
// the GDB JIT interface; gdb_retire unregisters it (a no-op for an
// allocation never registered).
void gdb_publish(uintptr_t base, size_t span, const CodeSpan* fns, size_t n);
void gdb_retire(uintptr_t base);

}  // namespace npk::tools
