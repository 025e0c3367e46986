// The run-time half of what a block releases when it ends (§9.3) -- the
// interpreter decides when, analysis/drops.h decides what -- and the
// runtime calls behind the heap builtins, with their roles for the gate.
#pragma once

#include <cstdint>
#include <string>

#include "analysis/drops.h"
#include "diag/diag.h"
#include "run/gate.h"
#include "sema/sema.h"
#include "syntax/ast.h"

namespace npk {

// Gives back what a drop.npk binding of kind `k` (Wild, Wildx, Jit or
// Arena) holds in its word: npk_free, npk_wildx_free or
// npk_handle_arena_destroy, after the interpreter's gate allowed it.
// Returns what the runtime call returned (0 for the void ones).
uint64_t release_raii(DropKind k, uint64_t word);

// The runtime call behind a heap builtin (alloc, free, wildx_alloc,
// wildx_seal, wildx_free) with its one argument word; returns the result
// word (0 for free).
uint64_t call_heap_builtin(Builtin b, uint64_t word);

// The gate's role of a builtin (None for print_i32 / print_i64).
RuntimeRole builtin_role(Builtin b);

// The gate's role of that release (HeapFree, PageFree, ArenaDestroy).
RuntimeRole release_role(DropKind k);

// The --trace-drops line, on stderr after stdout is flushed:
//   npk: drop KIND 'NAME' in FUNC (FILE:LINE:COL)
// KIND is drop_kind_name(k), "impl:S" for a drop method of struct S.
void trace_drop(const ast::Program& prog, DropKind k, const std::string& struct_name,
                const std::string& binding, const std::string& func, Loc decl);

}  // namespace npk
