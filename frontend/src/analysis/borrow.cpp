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
#include <algorithm>
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
    std::vector<int32_t> slots;  // what is borrowed (the slots the name may stand for)
    bool mut;
    std::string by;      // "'w'", or "parameter 'dst' of copy"
    Loc at;
};

class FunctionChecker {
public:
    FunctionChecker(const Sema& sema, Diagnostics& diag, const ast::FuncDecl& fd)
        : s_(sema), diag_(diag), fi_(sema.func(&fd)), aliases_(fi_.slots.size()),
          mut_(fi_.slots.size(), -1), first_shared_(fi_.slots.size(), -1), shared_(fi_.slots.size(), 0) {
        for (size_t i = 0; i < aliases_.size(); ++i) aliases_[i] = {static_cast<int32_t>(i)};
    }

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
        end_borrows(marks_.back());  // the scope's borrows end with it
        marks_.pop_back();
    }

private:
    const std::string& name_of(int32_t slot) const { return fi_.slots[static_cast<size_t>(slot)].name; }

    void block(const ast::Block& b) { ast::walk_scope(*this, ast::block_scope(b)); }
    void arm(const ast::StmtPtr& s) { ast::walk_scope(*this, ast::arm_scope(s)); }

    // A loop body is walked once: a borrow declared in it ends with each
    // iteration, and the borrows live around the loop are live throughout.
    void statement(const Stmt& s) {
        ast::visit(s, ast::Overload{
            [&](const ast::VarDecl& d) { declare(d); },
            [&](const ast::If& i) {
                expr(*i.cond);
                arm(i.then_body);
                if (i.else_body) arm(i.else_body);
            },
            [&](const ast::Defer& d) { block(*d.body); },
            [&](const ast::Block& b) { block(b); },
            [&](const ast::Leave& l) {
                if (l.value) expr(*l.value);
            },
            [&](const ast::ExprStmt& e) { expr(*e.expr); },
            [&](const ast::While& w) {
                expr(*w.cond);
                block(*w.body);
            },
            [](const ast::Break&) {},
            [](const ast::Continue&) {},
        });
    }

    // The slots a bare name may stand for: itself, and what it was made an
    // alias of (by a declaration or an assignment from a bare name).
    const std::vector<int32_t>* roots(const Expr& e) const {
        const Expr& x = strip_raw(e);
        if (x.kind != ExprKind::Name) return nullptr;
        const int32_t slot = s_.slot[x.id];
        return slot < 0 ? nullptr : &aliases_[static_cast<size_t>(slot)];
    }

    void declare(const ast::VarDecl& d) {
        if (d.init) expr(*d.init);
        const int32_t slot = s_.slot[d.id];
        const std::vector<int32_t>* from = d.init ? roots(*d.init) : nullptr;
        const uint32_t kind = d.quals & (ast::Q_DOLLAR_I | ast::Q_DOLLAR_M);
        // A plain copy stands for what its source stands for; a borrow is
        // a name of its own (borrowing from it borrows the borrow).
        if (slot >= 0 && from && kind == 0) aliases_[static_cast<size_t>(slot)] = *from;
        if (kind == 0 || !from) return;
        Borrow b{*from, (kind & ast::Q_DOLLAR_M) != 0, "'" + d.name + "'", d.name_loc};
        if (!conflicts(b)) start_borrow(std::move(b));
    }

    // `q = p`: q may now hold what p holds (as well as what it held: the
    // walk does not follow which arm of an `if` ran).
    void assign(const ast::Assign& a) {
        if (a.target->kind != ExprKind::Name) return;
        const int32_t slot = s_.slot[a.target->id];
        const std::vector<int32_t>* from = roots(*a.value);
        if (slot < 0 || !from) return;
        std::vector<int32_t>& mine = aliases_[static_cast<size_t>(slot)];
        for (int32_t r : *from)
            if (std::find(mine.begin(), mine.end(), r) == mine.end()) mine.push_back(r);
    }

    // The live borrows are indexed by slot (the one mutable borrow, the
    // oldest shared one and how many), so a check costs what the new
    // borrow names, not how many borrows are live.
    void start_borrow(Borrow b) {
        const auto at = static_cast<int32_t>(live_.size());
        for (int32_t r : b.slots) {
            const auto i = static_cast<size_t>(r);
            if (b.mut) {
                mut_[i] = at;
            } else {
                if (shared_[i]++ == 0) first_shared_[i] = at;
            }
        }
        live_.push_back(std::move(b));
    }

    // Ends the borrows started since live_ had `mark` entries (last first).
    void end_borrows(size_t mark) {
        while (live_.size() > mark) {
            const Borrow& b = live_.back();
            for (int32_t r : b.slots) {
                const auto i = static_cast<size_t>(r);
                if (b.mut) mut_[i] = -1;
                else if (--shared_[i] == 0) first_shared_[i] = -1;
            }
            live_.pop_back();
        }
    }

    // The live borrow `b` conflicts with, and the slot they share, or -1.
    int32_t conflict_of(const Borrow& b, int32_t& slot) const {
        for (int32_t r : b.slots) {
            const auto i = static_cast<size_t>(r);
            slot = r;
            if (mut_[i] >= 0) return mut_[i];
            if (b.mut && shared_[i] > 0) return first_shared_[i];
        }
        return -1;
    }

    // Reports `b` against the live borrows; true if it conflicts.
    bool conflicts(const Borrow& b) {
        int32_t slot = -1;
        const int32_t found = conflict_of(b, slot);
        if (found < 0) return false;
        const Borrow& o = live_[static_cast<size_t>(found)];
        diag_.error(b.at, kAliasing,
                    std::string("Cannot borrow '") + name_of(slot) + "' as " +
                        (b.mut ? "mutable ($$m)" : "shared ($$i)") + " for " + b.by +
                        ": it is already borrowed " + (o.mut ? "mutably" : "shared") + " by " + o.by +
                        " (mutable XOR shared)");
        diag_.note(o.at, o.by + " borrows '" + name_of(slot) + "' here, " +
                             (o.by[0] == '\'' ? "until its block ends" : "for the call"));
        return true;
    }

    // Every call inside `e` borrows its arguments for the call; every
    // assignment may make an alias.
    void expr(const Expr& e) {
        walk_expr(e, [&](const Expr& x) {
            if (x.kind == ExprKind::Call) call(static_cast<const ast::Call&>(x));
            if (x.kind == ExprKind::Assign) assign(static_cast<const ast::Assign&>(x));
        });
    }

    void call(const ast::Call& c) {
        const Callee& k = s_.callee[c.id];
        if (k.kind == Callee::Kind::Builtin && (k.builtin == Builtin::Free || k.builtin == Builtin::WildxFree)) {
            released(c);
            return;
        }
        if (k.kind != Callee::Kind::Func) return;
        // The call's own borrows, checked against the live ones and each
        // other; they end with the call.
        const size_t mark = live_.size();
        for (size_t i = 0; i < c.args.size() && i < k.fn->params.size(); ++i) {
            const uint32_t q = k.fn->params[i].quals & (ast::Q_DOLLAR_I | ast::Q_DOLLAR_M);
            const std::vector<int32_t>* from = roots(*c.args[i]);
            if (q == 0 || !from) continue;
            Borrow b{*from, (q & ast::Q_DOLLAR_M) != 0,
                     "parameter '" + k.fn->params[i].name + "' of " + s_.func(k.fn).display, c.args[i]->loc};
            if (!conflicts(b)) start_borrow(std::move(b));
        }
        end_borrows(mark);
    }

    void released(const ast::Call& c) {
        const std::vector<int32_t>* from = c.args.empty() ? nullptr : roots(*c.args[0]);
        if (!from) return;
        for (int32_t r : *from) {
            const auto i = static_cast<size_t>(r);
            const int32_t found = mut_[i] >= 0 ? mut_[i] : first_shared_[i];
            if (found < 0) continue;
            const Borrow& o = live_[static_cast<size_t>(found)];
            diag_.error(c.loc, kAliasing,
                        "'" + name_of(r) + "' is released while " + o.by +
                            " still borrows it: end the borrow's block first");
            diag_.note(o.at, o.by + " borrows '" + name_of(r) + "' here, until its block ends");
            return;
        }
    }

    const Sema& s_;
    Diagnostics& diag_;
    const FuncInfo& fi_;
    std::vector<std::vector<int32_t>> aliases_;  // by slot: the slots it may stand for
    std::vector<int32_t> mut_;           // by slot: index in live_ of its mutable borrow, or -1
    std::vector<int32_t> first_shared_;  // by slot: index in live_ of its oldest shared borrow, or -1
    std::vector<uint32_t> shared_;       // by slot: how many shared borrows are live
    std::vector<Borrow> live_;    // innermost last
    std::vector<size_t> marks_;   // live_'s size when each open scope began
};

}  // namespace

void check_borrows(const ast::Program& prog, const Sema& sema, const Options& opts, Diagnostics& diag) {
    for (const ast::FuncDecl* f : checked_functions(prog, opts.strict)) FunctionChecker(sema, diag, *f).check(*f);
}

}  // namespace npk
