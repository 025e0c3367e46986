// The run-time half of what a block releases when it ends (§9.3); the
// interpreter decides when, analysis/drops.h decides what.
#pragma once

#include <cstdint>
#include <string>

#include "analysis/drops.h"
#include "diag/diag.h"
#include "syntax/ast.h"

namespace npk {

// Gives back what a drop.npk binding of kind `k` (Wild, Wildx, Jit or
// Arena) holds in its word: npk_free, npk_wildx_free (a refusal says so
// on stderr, as every runtime refusal does) or npk_handle_arena_destroy.
void release_raii(DropKind k, uint64_t word);

// The --trace-drops line, on stderr after stdout is flushed:
//   npk: drop KIND 'NAME' in FUNC (FILE:LINE:COL)
// KIND is drop_kind_name(k), "impl:S" for a drop method of struct S.
void trace_drop(const ast::Program& prog, DropKind k, const std::string& struct_name,
                const std::string& binding, const std::string& func, Loc decl);

}  // namespace npk
