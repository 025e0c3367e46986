// The scopes of a function body, and the one walker over them that the
// type checker, every analysis and the interpreter share.
//
// A scope is a block (a function body, a `{ ... }` statement, a defer
// body, a braced `if` arm) or an `if` arm that is one statement without
// braces: that statement is a scope of its own, exactly as if it were
// braced, so a declaration or a `defer` there ends with the arm. This
// rule is written here and nowhere else.
//
// A pass plugs in by providing, for its own idea of what a statement
// yields (`Outcome`: "ends the function" for the checker, a control-flow
// signal for the interpreter, nothing for a flow analysis):
//
//   using Outcome = ...;                      // default-constructible
//   void enter_scope(const ast::ScopeView&);  // a scope opens
//   Outcome stmt(const ast::Stmt&, Outcome so_far);
//   bool stops(const Outcome&) const;         // skip the rest of the scope
//   void leave_scope(const ast::ScopeView&, const Outcome&);  // it closes
//
// and calling walk_scope(pass, block_scope(b)) for a block or
// walk_scope(pass, arm_scope(s.then_body)) for an arm. Scope-end work
// (the checker's name table, a leak at the closing brace, the defers
// and drops that run there) goes into leave_scope, which also runs when
// `stops` cut the scope short. An exception thrown by `stmt` (the
// interpreter's `exit`) leaves without leave_scope.
#pragma once

#include <cstddef>
#include <span>

#include "syntax/ast.h"

namespace npk::ast {

struct ScopeView {
    std::span<const StmtPtr> stmts;
    Loc end;               // the closing '}', or the arm's statement
    const Stmt* owner;     // the Block, or the arm's statement
};

inline ScopeView block_scope(const Block& b) { return {b.stmts, b.close_loc, &b}; }

inline ScopeView arm_scope(const StmtPtr& arm) {
    if (arm->kind == StmtKind::Block) return block_scope(static_cast<const Block&>(*arm));
    return {std::span<const StmtPtr>(&arm, 1), arm->loc, arm.get()};
}

template <class Pass>
typename Pass::Outcome walk_scope(Pass& pass, const ScopeView& scope) {
    pass.enter_scope(scope);
    typename Pass::Outcome out{};
    for (const StmtPtr& s : scope.stmts) {
        out = pass.stmt(*s, out);
        if (pass.stops(out)) break;
    }
    pass.leave_scope(scope, out);
    return out;
}

}  // namespace npk::ast
