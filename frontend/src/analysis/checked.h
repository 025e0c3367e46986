// Small facts every analysis of issue 13 shares (borrows, handles, drops).
#pragma once

#include <cstddef>
#include <string_view>
#include <vector>

#include "syntax/ast.h"

namespace npk {

struct Sema;
struct Callee;

// The bodies an analysis checks, in source order: the root file's
// top-level functions (as upstream), or with `strict` every function
// and Type method of every file.
std::vector<const ast::FuncDecl*> checked_functions(const ast::Program& prog, bool strict);

// The functions of one module §8.2 checks, in source order: its
// top-level functions, and with `strict` its Type and impl methods too.
std::vector<const ast::FuncDecl*> module_functions(const ast::Module& m, bool strict);

// `e` without the `raw` / `drop` around it.
const ast::Expr& strip_raw(const ast::Expr& e);
// ... and without any @cast either (a value passed through unchanged).
const ast::Expr& strip_casts(const ast::Expr& e);

// Whether what a call calls has the attribute `name` (attrs.h) on its
// parameter `param`, or at all with `param` == kAnyParam.
inline constexpr size_t kAnyParam = ~size_t{0};
bool has_attr(const Sema& s, const Callee& c, std::string_view name, size_t param = kAnyParam);

using ast::walk_expr;
using ast::walk_stmt_exprs;

// The one expression of a leave (exit / pass / fail / return) or an
// expression statement (nullptr for a bare `pass;` or `return;` and for
// every other kind of statement).
const ast::Expr* operand_of(const ast::Stmt& s);

}  // namespace npk
