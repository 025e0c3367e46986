// Small facts every analysis of issue 13 shares (borrows, handles, drops).
#pragma once

#include <vector>

#include "syntax/ast.h"

namespace npk {

// The bodies an analysis checks, in source order: the root file's
// top-level functions (as upstream), or with `strict` every function
// and Type method of every file.
std::vector<const ast::FuncDecl*> checked_functions(const ast::Program& prog, bool strict);

// The functions of one module §8.2 checks, in source order: its
// top-level functions, and with `strict` its Type and impl methods too.
std::vector<const ast::FuncDecl*> module_functions(const ast::Module& m, bool strict);

// `e` without the `raw` / `drop` around it.
const ast::Expr& strip_raw(const ast::Expr& e);

using ast::walk_expr;
using ast::walk_stmt_exprs;

// The one expression of a leave (exit / pass / fail / return) or an
// expression statement (nullptr for a bare `pass;` or `return;` and for
// every other kind of statement).
const ast::Expr* operand_of(const ast::Stmt& s);

}  // namespace npk
