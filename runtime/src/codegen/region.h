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

// Records the one function of a sealed page (`len` bytes of code at its
// start) in the signature table with its name ("" for the default one)
// and tells the tools. False, after reporting for `op`, when memory runs
// out; the page is the caller's to free then.
bool publish_alone(void* page, size_t len, Sig sig, const char* name, const char* op);

}  // namespace npk::codegen
