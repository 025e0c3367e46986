// Small facts every analysis of issue 13 shares (borrows, handles, drops).
#pragma once

#include <vector>

#include "syntax/ast.h"

namespace npk {

// The bodies an analysis checks, in source order: the root file's
// top-level functions (as upstream), or with `strict` every function
// and Type method of every file.
std::vector<const ast::FuncDecl*> checked_functions(const ast::Program& prog, bool strict);

// `e` without the `raw` / `drop` around it.
const ast::Expr& strip_raw(const ast::Expr& e);

// Calls `f` on every expression inside `e`, `e` first (pre-order).
template <class F>
void walk_expr(const ast::Expr& e, F&& f) {
    f(e);
    switch (e.kind) {
    case ast::ExprKind::Unary: walk_expr(*static_cast<const ast::Unary&>(e).operand, f); break;
    case ast::ExprKind::Binary: {
        const auto& b = static_cast<const ast::Binary&>(e);
        walk_expr(*b.lhs, f);
        walk_expr(*b.rhs, f);
        break;
    }
    case ast::ExprKind::Assign: {
        const auto& a = static_cast<const ast::Assign&>(e);
        walk_expr(*a.value, f);
        walk_expr(*a.target, f);
        break;
    }
    case ast::ExprKind::Call: {
        const auto& c = static_cast<const ast::Call&>(e);
        walk_expr(*c.callee, f);
        for (const auto& a : c.args) walk_expr(*a, f);
        break;
    }
    case ast::ExprKind::Member: walk_expr(*static_cast<const ast::Member&>(e).object, f); break;
    case ast::ExprKind::StructLit:
        for (const auto& fi : static_cast<const ast::StructLit&>(e).fields)
            if (fi.value) walk_expr(*fi.value, f);
        break;
    case ast::ExprKind::Raw: walk_expr(*static_cast<const ast::Raw&>(e).operand, f); break;
    case ast::ExprKind::Drop: walk_expr(*static_cast<const ast::Drop&>(e).operand, f); break;
    case ast::ExprKind::Cast: walk_expr(*static_cast<const ast::Cast&>(e).operand, f); break;
    default: break;
    }
}

// The one expression of an exit / pass / fail / return / expression
// statement (nullptr for a bare `pass;` or `return;` and for every other
// kind of statement).
const ast::Expr* operand_of(const ast::Stmt& s);

}  // namespace npk
