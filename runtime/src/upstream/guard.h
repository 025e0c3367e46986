// guard.h — WildXGuard pages as the assembler and the C ABI share them
// (private to upstream/).
#pragma once
#include <nitpick/runtime/allocators.h>

#include "codegen/program.h"

#include <cstddef>
#include <cstdint>

namespace npk::upstream {

// Code nobody described: in the signature table, never invoked.
inline constexpr codegen::Sig kUnknownSig = codegen::kSigUnknown;

// A fresh WRITABLE page as a guard; an all-zero guard on failure (the
// registry has reported why).
WildXGuard alloc_guard(size_t size);

// WRITABLE -> EXECUTABLE, then publishes the page as one function of
// `code_len` bytes with `sig` for the signature table and the tools.
// Returns 0, or -1 after reporting through fail() under `op`.
int32_t seal_guard(WildXGuard* g, const char* op, codegen::Sig sig, size_t code_len);

// Whether the guard's page may be called: the host runs generated code
// and the registry holds the page EXECUTABLE. Reports under `op` if not.
bool callable(const WildXGuard* g, const char* op);

}  // namespace npk::upstream
