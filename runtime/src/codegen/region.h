// region.h — code regions: many functions in few wildx allocations,
// sealed once (private part of npk/jitbuild.h).
#pragma once

#include <npk/jitbuild.h>

#include "codegen/program.h"

#include <cstddef>

namespace npk::codegen {

// The region's entry point for finished, position-independent code: finds
// room for `len` bytes, copies `code` there and records `sig`. What
// npk_jit_region_add does after compiling; the benchmarks time it alone.
// Returns where the function will live, or NULL after reporting for `op`.
void* region_add_code(npk_jit_region* r, const void* code, size_t len, Sig sig, const char* op);

}  // namespace npk::codegen
