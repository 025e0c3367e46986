// Summaries of callees, by a worklist over the call graph (issue 16: no
// round limit). Each analysis that summarises functions (lifecycle's
// releases, handles' destroys, returns.h's may-return) says what one
// function's summary is from its body and its callees' summaries; this
// runs it again on every caller of a function whose summary grew, until
// nothing grows. Summaries only grow, over a finite set, so it ends.
#pragma once

#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "sema/sema.h"
#include "syntax/ast.h"

namespace npk {

// `grow(f)` analyses f and returns whether its summary grew. Every
// function of `all` is analysed at least once, in the order given.
template <class Grow>
void summarise(const std::vector<const ast::FuncDecl*>& all, const Sema& sema, Grow&& grow) {
    // callers[f]: the functions whose bodies call f.
    std::unordered_map<const ast::FuncDecl*, std::vector<const ast::FuncDecl*>> callers;
    for (const ast::FuncDecl* f : all) {
        if (!f->body) continue;
        ast::walk_stmt_exprs(*f->body, [&](const ast::Expr& e) {
            if (e.kind != ast::ExprKind::Call) return;
            const Callee& c = sema.callee[e.id];
            if (c.kind != Callee::Kind::Func) return;
            auto& list = callers[c.fn];
            if (list.empty() || list.back() != f) list.push_back(f);
        });
    }
    std::vector<const ast::FuncDecl*> work(all.rbegin(), all.rend());
    std::unordered_set<const ast::FuncDecl*> queued(all.begin(), all.end());
    while (!work.empty()) {
        const ast::FuncDecl* f = work.back();
        work.pop_back();
        queued.erase(f);
        if (!grow(f)) continue;
        for (const ast::FuncDecl* caller : callers[f])
            if (queued.insert(caller).second) work.push_back(caller);
    }
}

}  // namespace npk
