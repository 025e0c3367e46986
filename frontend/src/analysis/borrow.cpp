// The borrow analysis: ARIA-023, mutable-xor-shared (issue 13, upstream
// bug249–bug251), on the dataflow engine (analysis/dataflow.h) over each
// function's control-flow graph (analysis/cfg.h).
//
// A borrow is a `$$m` (mutable) or `$$i` (shared) local initialised by a
// bare name, `$$m int8->:b = buf;`: it borrows what buf may hold until the
// end of the block that declares it (the ScopeEnd event: before the
// block's drops and defers run, since nothing can use the borrow then;
// a release in a defer is checked against the borrows of the blocks
// around it, which still live). A call borrows each argument that is a bare name and meets a
// `$$m` / `$$i` parameter, for the call only. At any point, one slot may
// have either one mutable borrow or any number of shared ones: a second
// `$$m`, or a `$$m` beside a `$$i`, is an error at the later borrow with
// a note at the one still live. A release (free, wildx_free) of a slot
// while a borrow of it is live is an error too: the borrow would dangle.
//
// The lattice (State): for each slot, the slots it may stand for (a
// declaration or an assignment from a bare name makes it an alias; the
// arms of an `if` join by union; an assignment replaces what the name
// held on that path), and the stack of live borrows. Borrows end with
// blocks, so every path to a point has the same borrows live; only the
// slots a borrow covers may grow while a loop settles. The stack is a
// chain of nodes shared between states (a copy is a pointer), and the
// analysis keeps one materialised copy of it, indexed by slot, which it
// moves to whatever stack a block starts from: a check costs what the new
// borrow names, not how many borrows are live (npk_scale: 200k).
//
// Checked functions: the root file's top-level functions, or every body
// with --strict (as the lifecycle analysis).
#include <algorithm>
#include <deque>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "analysis/analyses.h"
#include "analysis/cfg.h"
#include "analysis/checked.h"
#include "analysis/dataflow.h"
#include "analysis/drops.h"
#include "sema/sema.h"

namespace npk {
namespace {

constexpr const char* kAliasing = "ARIA-023";

using ast::Expr;
using ast::ExprKind;
using Slots = std::vector<int32_t>;  // sorted, unique

struct Borrow {
    Slots slots;     // what is borrowed (the slots the name may stand for)
    bool mut;
    std::string by;  // "'w'", or "parameter 'dst' of copy"
    Loc at;
};

// One live borrow on a stack of them (innermost last).
struct Node {
    Borrow b;
    uint32_t depth;       // the nesting of the scope it ends with
    const Node* parent;   // the borrow below it, or null
    uint32_t height;      // how many borrows the stack holds with it
};

struct BorrowState {
    std::vector<std::pair<int32_t, Slots>> aliases;  // sorted by slot; absent: the slot itself
    const Node* live = nullptr;
};

Slots united(const Slots& a, const Slots& b) {
    Slots out;
    std::set_union(a.begin(), a.end(), b.begin(), b.end(), std::back_inserter(out));
    return out;
}

class BorrowCheck {
public:
    using State = BorrowState;

    BorrowCheck(const Sema& s, Diagnostics& diag, const FuncInfo& fi)
        : s_(s), diag_(diag), fi_(fi), mut_(fi.slots.size(), -1), first_shared_(fi.slots.size(), -1),
          shared_(fi.slots.size(), 0) {}

    State entry() const { return {}; }

    bool join(State& into, const State& from) {
        bool changed = false;
        std::vector<std::pair<int32_t, Slots>> out;
        size_t i = 0, j = 0;
        const auto& a = into.aliases;
        const auto& b = from.aliases;
        while (i < a.size() || j < b.size()) {
            if (j == b.size() || (i < a.size() && a[i].first < b[j].first)) {
                out.emplace_back(a[i].first, united(a[i].second, {a[i].first}));
                changed |= out.back().second != a[i].second;
                ++i;
            } else if (i == a.size() || b[j].first < a[i].first) {
                out.emplace_back(b[j].first, united(b[j].second, {b[j].first}));
                changed = true;
                ++j;
            } else {
                out.emplace_back(a[i].first, united(a[i].second, b[j].second));
                changed |= out.back().second != a[i].second;
                ++i, ++j;
            }
        }
        into.aliases = std::move(out);
        const Node* joined = join_stacks(into.live, from.live);
        changed |= joined != into.live;
        into.live = joined;
        return changed;
    }

    void transfer(const Event& e, State& st, bool report) {
        report_ = report;
        switch (e.kind) {
        case EventKind::Eval:
            if (e.expr->kind == ExprKind::Call) call(static_cast<const ast::Call&>(*e.expr), st);
            if (e.expr->kind == ExprKind::Assign) assign(static_cast<const ast::Assign&>(*e.expr), st);
            return;
        case EventKind::Declare: declare(*e.decl, e.depth, st); return;
        case EventKind::ScopeEnd:
            while (st.live && st.live->depth >= e.depth) st.live = st.live->parent;
            return;
        case EventKind::Drop:
        case EventKind::DeferBegin:
        case EventKind::DeferWritten:
        case EventKind::DeferEnd:
        case EventKind::Leave: return;
        }
    }

private:
    const std::string& name_of(int32_t slot) const { return fi_.slots[static_cast<size_t>(slot)].name; }

    static const Slots* find(const State& st, int32_t slot) {
        auto it = std::lower_bound(st.aliases.begin(), st.aliases.end(), std::pair<int32_t, Slots>{slot, {}},
                                   [](const auto& x, const auto& y) { return x.first < y.first; });
        return it != st.aliases.end() && it->first == slot ? &it->second : nullptr;
    }
    static void set(State& st, int32_t slot, Slots v) {
        auto it = std::lower_bound(st.aliases.begin(), st.aliases.end(), std::pair<int32_t, Slots>{slot, {}},
                                   [](const auto& x, const auto& y) { return x.first < y.first; });
        if (v.size() == 1 && v[0] == slot) {  // the identity is not stored
            if (it != st.aliases.end() && it->first == slot) st.aliases.erase(it);
            return;
        }
        if (it != st.aliases.end() && it->first == slot) it->second = std::move(v);
        else st.aliases.insert(it, {slot, std::move(v)});
    }

    // The slots a bare name may stand for: itself, or what it was made
    // an alias of (by a declaration or an assignment from a bare name).
    bool roots(const Expr& e, const State& st, Slots& out) const {
        const Expr& x = strip_raw(e);
        if (x.kind != ExprKind::Name) return false;
        const int32_t slot = s_.slot[x.id];
        if (slot < 0) return false;
        const Slots* a = find(st, slot);
        out = a ? *a : Slots{slot};
        return true;
    }

    // ---- the stack of live borrows -----------------------------------
    const Node* push(const Node* parent, Borrow b, uint32_t depth) {
        nodes_.push_back({std::move(b), depth, parent, parent ? parent->height + 1 : 1});
        return &nodes_.back();
    }

    // Two stacks of one program point: the same borrows, whose slots may
    // differ while a loop settles (united). Returns `a` when it covers b.
    const Node* join_stacks(const Node* a, const Node* b) {
        if (a == b || !b) return a;
        if (!a) return b;
        while (a->height > b->height) a = a->parent;  // (not expected: one point, one nesting)
        while (b->height > a->height) b = b->parent;
        if (a == b) return a;
        const Node* parent = join_stacks(a->parent, b->parent);
        Slots slots = united(a->b.slots, b->b.slots);
        if (parent == a->parent && slots == a->b.slots && a->b.mut == b->b.mut) return a;
        Borrow merged = a->b;
        merged.slots = std::move(slots);
        merged.mut = a->b.mut || b->b.mut;
        return push(parent, std::move(merged), a->depth);
    }

    bool materialised(const Node* n) const { return n->height <= mat_.size() && mat_[n->height - 1] == n; }

    // Makes mat_ (and the slot indexes) the stack `top`.
    void rebase(const Node* top) {
        std::vector<const Node*> path;
        const Node* n = top;
        while (n && !materialised(n)) {
            path.push_back(n);
            n = n->parent;
        }
        const size_t keep = n ? n->height : 0;
        while (mat_.size() > keep) pop_mat();
        for (auto it = path.rbegin(); it != path.rend(); ++it) push_mat(&(*it)->b, *it);
    }

    void push_mat(const Borrow* b, const Node* n) {
        const auto at = static_cast<int32_t>(mat_.size());
        for (int32_t r : b->slots) {
            const auto i = static_cast<size_t>(r);
            if (b->mut) mut_[i] = at;
            else if (shared_[i]++ == 0) first_shared_[i] = at;
        }
        mat_.push_back(n);
        mat_borrow_.push_back(b);
    }
    void pop_mat() {
        const Borrow& b = *mat_borrow_.back();
        for (int32_t r : b.slots) {
            const auto i = static_cast<size_t>(r);
            if (b.mut) mut_[i] = -1;
            else if (--shared_[i] == 0) first_shared_[i] = -1;
        }
        mat_.pop_back();
        mat_borrow_.pop_back();
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
        const Borrow& o = *mat_borrow_[static_cast<size_t>(found)];
        if (!first_report(b.at, slot)) return true;
        diag_.error(b.at, kAliasing,
                    std::string("Cannot borrow '") + name_of(slot) + "' as " +
                        (b.mut ? "mutable ($$m)" : "shared ($$i)") + " for " + b.by +
                        ": it is already borrowed " + (o.mut ? "mutably" : "shared") + " by " + o.by +
                        " (mutable XOR shared)");
        diag_.note(o.at, o.by + " borrows '" + name_of(slot) + "' here, " +
                             (o.by[0] == '\'' ? "until its block ends" : "for the call"));
        return true;
    }

    // A finding is reported once, though a defer body is lowered at every
    // exit where it runs.
    bool first_report(Loc at, int32_t slot) {
        return report_ && reported_.insert({at.offset, slot}).second;
    }

    // ---- events ------------------------------------------------------
    void declare(const ast::VarDecl& d, uint32_t depth, State& st) {
        const int32_t slot = s_.slot[d.id];
        Slots from;
        const bool named = d.init && roots(*d.init, st, from);
        const uint32_t kind = d.quals & (ast::Q_DOLLAR_I | ast::Q_DOLLAR_M);
        // A plain copy stands for what its source stands for; a borrow is
        // a name of its own (borrowing from it borrows the borrow).
        if (slot >= 0) set(st, slot, named && kind == 0 ? from : Slots{slot});
        if (kind == 0 || !named) return;
        Borrow b{std::move(from), (kind & ast::Q_DOLLAR_M) != 0, "'" + d.name + "'", d.name_loc};
        rebase(st.live);
        if (conflicts(b)) return;
        st.live = push(st.live, std::move(b), depth);
        push_mat(&st.live->b, st.live);
    }

    // `q = p`: on this path q now stands for what p stands for.
    void assign(const ast::Assign& a, State& st) {
        if (a.target->kind != ExprKind::Name) return;
        const int32_t slot = s_.slot[a.target->id];
        Slots from;
        if (slot < 0) return;
        set(st, slot, roots(*a.value, st, from) ? from : Slots{slot});
    }

    void call(const ast::Call& c, State& st) {
        const Callee& k = s_.callee[c.id];
        if (k.kind == Callee::Kind::Builtin && (k.builtin == Builtin::Free || k.builtin == Builtin::WildxFree)) {
            released(c, st);
            return;
        }
        if (k.kind != Callee::Kind::Func) return;
        // The call's own borrows, checked against the live ones and each
        // other; they end with the call.
        rebase(st.live);
        std::deque<Borrow> own;
        for (size_t i = 0; i < c.args.size() && i < k.fn->params.size(); ++i) {
            const uint32_t q = k.fn->params[i].quals & (ast::Q_DOLLAR_I | ast::Q_DOLLAR_M);
            Slots from;
            if (q == 0 || !roots(*c.args[i], st, from)) continue;
            Borrow b{std::move(from), (q & ast::Q_DOLLAR_M) != 0,
                     "parameter '" + k.fn->params[i].name + "' of " + s_.func(k.fn).display, c.args[i]->loc};
            if (conflicts(b)) continue;
            own.push_back(std::move(b));
            push_mat(&own.back(), nullptr);
        }
        for (size_t i = 0; i < own.size(); ++i) pop_mat();
    }

    void released(const ast::Call& c, const State& st) {
        Slots from;
        if (c.args.empty() || !roots(*c.args[0], st, from)) return;
        rebase(st.live);
        for (int32_t r : from) {
            const auto i = static_cast<size_t>(r);
            const int32_t found = mut_[i] >= 0 ? mut_[i] : first_shared_[i];
            if (found < 0) continue;
            const Borrow& o = *mat_borrow_[static_cast<size_t>(found)];
            if (first_report(c.loc, r)) {
                diag_.error(c.loc, kAliasing,
                            "'" + name_of(r) + "' is released while " + o.by +
                                " still borrows it: end the borrow's block first");
                diag_.note(o.at, o.by + " borrows '" + name_of(r) + "' here, until its block ends");
            }
            return;
        }
    }

    const Sema& s_;
    Diagnostics& diag_;
    const FuncInfo& fi_;
    bool report_ = false;
    std::set<std::pair<uint32_t, int32_t>> reported_;
    std::deque<Node> nodes_;                 // every stack node (the states share them)
    std::vector<const Node*> mat_;           // the materialised stack, innermost last (null: a call's own)
    std::vector<const Borrow*> mat_borrow_;  // its borrows
    std::vector<int32_t> mut_;           // by slot: index in mat_ of its mutable borrow, or -1
    std::vector<int32_t> first_shared_;  // by slot: index in mat_ of its oldest shared borrow, or -1
    std::vector<uint32_t> shared_;       // by slot: how many shared borrows are live
};

}  // namespace

void check_borrows(const ast::Program& prog, const Sema& sema, const Options& opts, Diagnostics& diag,
                   Shared& shared) {
    for (const ast::FuncDecl* f : checked_functions(prog, opts.strict)) {
        if (!f->body) continue;
        const Cfg& g = shared.graphs.of(*f);
        BorrowCheck a(sema, diag, sema.func(f));
        const Solution<BorrowCheck> sol = solve(g, a);
        report(g, a, sol);
    }
}

}  // namespace npk
