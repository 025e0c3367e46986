// lower.h — from a recorded program to finished host code (private; no
// asmjit here: the rest of the runtime never sees it).
#pragma once

#include "codegen/program.h"

#include <cstddef>
#include <cstdint>

namespace npk::codegen {

// Machine code for the host, finished (registers allocated, encoded) but
// not yet at its final address.
struct Compiled;

// Whether this host has a code generator (x86-64 System V, AArch64).
bool host_has_codegen();

// Compiles `p` for the host. Returns nullptr after reporting for `op`
// (NPK_ERR_UNSUPPORTED_HOST, NPK_ERR_JIT_CODEGEN, NPK_ERR_OUT_OF_MEMORY).
Compiled* compile(const Program& p, const char* op, const void* subject);

// An upper bound of the code's size at any address.
size_t max_size(const Compiled* c);

// Relocates the code for address `dst`, copies it there (dst has
// max_size bytes of room) and returns its final size, or 0 after
// reporting for `op`.
size_t place(Compiled* c, void* dst, const char* op);

void destroy(Compiled* c);

}  // namespace npk::codegen

namespace npk::codegen {

// Fills `n` bytes with instructions that trap on the host (x86 int3;
// AArch64 zero words are permanently undefined): the gaps between the
// functions of a region.
void trap_fill(void* p, size_t n);

}  // namespace npk::codegen
