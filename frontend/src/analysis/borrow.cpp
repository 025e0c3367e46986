// The borrow analysis: ARIA-023, mutable-xor-shared (issue 13, upstream
// bug249–bug251).
//
// A borrow is a `$$m` (mutable) or `$$i` (shared) local initialised by a
// bare name, `$$m int8->:b = buf;`: it borrows buf's slot until the end
// of the block that declares it. A call borrows each argument that is a
// bare name and meets a `$$m` / `$$i` parameter, for the call only.
// At any point, one slot may have either one mutable borrow or any number
// of shared ones: a second `$$m`, or a `$$m` beside a `$$i`, is an error
// at the later borrow with a note at the one still live. A release call
// (free, wildx_free) of a slot while a borrow of it is live is an error
// too: the borrow would dangle. When the borrow's block ends, the slot
// is free to be released.
//
// Checked functions: the root file's top-level functions, or every body
// with --strict (as the lifecycle analysis).
#include <string>
#include <vector>

#include "analysis/analyses.h"
#include "analysis/checked.h"
#include "sema/sema.h"
#include "syntax/scopes.h"

namespace npk {
namespace {

constexpr const char* kAliasing = "ARIA-023";

using ast::Expr;
using ast::ExprKind;
using ast::Stmt;
using ast::StmtKind;

struct Borrow {
    int32_t slot;        // what is borrowed
    bool mut;
    std::string by;      // "'w'", or "parameter 'dst' of copy"
    Loc at;
};

class FunctionChecker {
public:
    FunctionChecker(const Sema& sema, Diagnostics& diag, const ast::FuncDecl& fd)
        : s_(sema), diag_(diag), fi_(sema.func(&fd)) {}

    void check(const ast::FuncDecl& fd) {
        if (fd.body) block(*fd.body);
    }

    // ---- the scope walker's hooks (syntax/scopes.h) -------------------
    using Outcome = bool;  // unused: borrows end with scopes, not with control flow
    void enter_scope(const ast::ScopeView&) { marks_.push_back(live_.size()); }
    Outcome stmt(const Stmt& s, Outcome) {
        statement(s);
        return false;
    }
    bool stops(Outcome) const { return false; }
    void leave_scope(const ast::ScopeView&, Outcome) {
        live_.resize(marks_.back());  // the scope's borrows end with it
        marks_.pop_back();
    }

private:
    const std::string& name_of(int32_t slot) const { return fi_.slots[static_cast<size_t>(slot)].name; }

    void block(const ast::Block& b) { ast::walk_scope(*this, ast::block_scope(b)); }
    void arm(const ast::StmtPtr& s) { ast::walk_scope(*this, ast::arm_scope(s)); }

    void statement(const Stmt& s) {
        switch (s.kind) {
        case StmtKind::VarDecl: declare(static_cast<const ast::VarDecl&>(s)); break;
        case StmtKind::If: {
            const auto& i = static_cast<const ast::If&>(s);
            expr(*i.cond);
            arm(i.then_body);
            if (i.else_body) arm(i.else_body);
            break;
        }
        case StmtKind::Defer: block(*static_cast<const ast::Defer&>(s).body); break;
        case StmtKind::Block: block(static_cast<const ast::Block&>(s)); break;
        default:
            if (const Expr* v = operand_of(s)) expr(*v);
            break;
        }
    }

    void declare(const ast::VarDecl& d) {
        if (d.init) expr(*d.init);
        const uint32_t kind = d.quals & (ast::Q_DOLLAR_I | ast::Q_DOLLAR_M);
        if (kind == 0 || !d.init || d.init->kind != ExprKind::Name) return;
        const int32_t slot = s_.slot[d.init->id];
        if (slot < 0) return;
        Borrow b{slot, (kind & ast::Q_DOLLAR_M) != 0, "'" + d.name + "'", d.name_loc};
        if (conflicts(b, live_)) return;
        live_.push_back(std::move(b));
    }

    // Reports `b` against every live borrow of the same slot; true if it conflicts.
    bool conflicts(const Borrow& b, const std::vector<Borrow>& against) {
        for (const Borrow& o : against) {
            if (o.slot != b.slot || (!o.mut && !b.mut)) continue;
            diag_.error(b.at, kAliasing,
                        std::string("Cannot borrow '") + name_of(b.slot) + "' as " +
                            (b.mut ? "mutable ($$m)" : "shared ($$i)") + " for " + b.by +
                            ": it is already borrowed " + (o.mut ? "mutably" : "shared") + " by " + o.by +
                            " (mutable XOR shared)");
            diag_.note(o.at, o.by + " borrows '" + name_of(b.slot) + "' here, " +
                                 (o.by[0] == '\'' ? "until its block ends" : "for the call"));
            return true;
        }
        return false;
    }

    // Every call inside `e` borrows its arguments for the call.
    void expr(const Expr& e) {
        walk_expr(e, [&](const Expr& x) {
            if (x.kind == ExprKind::Call) call(static_cast<const ast::Call&>(x));
        });
    }

    void call(const ast::Call& c) {
        const Callee& k = s_.callee[c.id];
        if (k.kind == Callee::Kind::Builtin && (k.builtin == Builtin::Free || k.builtin == Builtin::WildxFree)) {
            released(c);
            return;
        }
        if (k.kind != Callee::Kind::Func) return;
        // The call's own borrows, checked against the live ones and each other.
        std::vector<Borrow> during = live_;
        for (size_t i = 0; i < c.args.size() && i < k.fn->params.size(); ++i) {
            const uint32_t q = k.fn->params[i].quals & (ast::Q_DOLLAR_I | ast::Q_DOLLAR_M);
            if (q == 0 || c.args[i]->kind != ExprKind::Name) continue;
            const int32_t slot = s_.slot[c.args[i]->id];
            if (slot < 0) continue;
            Borrow b{slot, (q & ast::Q_DOLLAR_M) != 0,
                     "parameter '" + k.fn->params[i].name + "' of " + s_.func(k.fn).display, c.args[i]->loc};
            if (!conflicts(b, during)) during.push_back(std::move(b));
        }
    }

    void released(const ast::Call& c) {
        if (c.args.empty() || c.args[0]->kind != ExprKind::Name) return;
        const int32_t slot = s_.slot[c.args[0]->id];
        for (const Borrow& o : live_) {
            if (o.slot != slot) continue;
            diag_.error(c.loc, kAliasing,
                        "'" + name_of(slot) + "' is released while " + o.by +
                            " still borrows it: end the borrow's block first");
            diag_.note(o.at, o.by + " borrows '" + name_of(slot) + "' here, until its block ends");
            return;
        }
    }

    const Sema& s_;
    Diagnostics& diag_;
    const FuncInfo& fi_;
    std::vector<Borrow> live_;    // innermost last
    std::vector<size_t> marks_;   // live_'s size when each open scope began
};

}  // namespace

void check_borrows(const ast::Program& prog, const Sema& sema, const Options& opts, Diagnostics& diag) {
    for (const ast::FuncDecl* f : checked_functions(prog, opts.strict)) FunctionChecker(sema, diag, *f).check(*f);
}

}  // namespace npk
