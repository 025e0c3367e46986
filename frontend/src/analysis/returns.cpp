#include "analysis/returns.h"

#include <algorithm>
#include <utility>
#include <vector>

#include "analysis/call_graph.h"
#include "analysis/cfg.h"
#include "analysis/checked.h"
#include "analysis/dataflow.h"

namespace npk {
namespace {

using ast::Expr;
using ast::ExprKind;

// The lattice: for each slot that may hold a parameter, which ones; kept
// sparse (sorted by slot), since most slots hold none.
struct MayHold {
    std::vector<std::pair<int32_t, ParamSet>> slots;

    ParamSet get(int32_t slot) const {
        auto it = std::lower_bound(slots.begin(), slots.end(), std::pair<int32_t, ParamSet>{slot, 0});
        return it != slots.end() && it->first == slot ? it->second : 0;
    }
    void set(int32_t slot, ParamSet v) {
        auto it = std::lower_bound(slots.begin(), slots.end(), std::pair<int32_t, ParamSet>{slot, 0});
        if (it != slots.end() && it->first == slot) {
            if (v) it->second = v;
            else slots.erase(it);
        } else if (v) {
            slots.insert(it, {slot, v});
        }
    }
};

class MayReturn {
public:
    using State = MayHold;

    MayReturn(const Sema& s, const FuncInfo& fi, const ReturnSummaries& sums) : s_(s), fi_(fi), sums_(sums) {}

    State entry() const {
        State st;
        for (size_t i = 0; i < fi_.params.size(); ++i) st.set(static_cast<int32_t>(i), param_bit(i));
        return st;
    }

    bool join(State& into, const State& from) const {
        bool changed = false;
        for (const auto& [slot, v] : from.slots) {
            const ParamSet old = into.get(slot);
            if ((old | v) != old) {
                into.set(slot, old | v);
                changed = true;
            }
        }
        return changed;
    }

    void transfer(const Event& e, State& st, bool report) {
        switch (e.kind) {
        case EventKind::Declare: {
            const int32_t slot = s_.slot[e.decl->id];
            if (slot >= 0) st.set(slot, e.decl->init ? value(*e.decl->init, st) : 0);
            return;
        }
        case EventKind::Eval:
            if (e.expr->kind == ExprKind::Assign) assign(static_cast<const ast::Assign&>(*e.expr), st);
            return;
        case EventKind::Leave:
            // Counted from the fixed point only (the reporting pass).
            if (report && e.leave->transfers() && e.leave->value) returned_ |= value(*e.leave->value, st);
            return;
        case EventKind::Drop:
        case EventKind::ScopeEnd:
        case EventKind::DeferBegin:
        case EventKind::DeferWritten:
        case EventKind::DeferEnd: return;
        }
    }

    ParamSet returned() const { return returned_; }

private:
    void assign(const ast::Assign& a, State& st) {
        const ParamSet v = value(*a.value, st);
        if (a.target->kind == ExprKind::Name) {
            const int32_t slot = s_.slot[a.target->id];
            if (slot >= 0) st.set(slot, v);
        } else if (a.target->kind == ExprKind::Member) {  // s.f = e: s may hold e too
            const Expr& obj = *static_cast<const ast::Member&>(*a.target).object;
            const int32_t slot = obj.kind == ExprKind::Name ? s_.slot[obj.id] : -1;
            if (slot >= 0) st.set(slot, st.get(slot) | v);
        }
    }

    // The parameters the value of `e` may be.
    ParamSet value(const Expr& e, const State& st) const {
        return ast::visit(e, ast::Overload{
            [](const ast::IntLit&) -> ParamSet { return 0; },
            [](const ast::StrLit&) -> ParamSet { return 0; },
            [](const ast::BoolLit&) -> ParamSet { return 0; },
            [&](const ast::Name& n) -> ParamSet { return s_.slot[n.id] >= 0 ? st.get(s_.slot[n.id]) : 0; },
            [](const ast::Unary&) -> ParamSet { return 0; },
            [&](const ast::Binary& b) -> ParamSet {  // pointer arithmetic keeps its base
                if (b.op != ast::BinaryOp::Add && b.op != ast::BinaryOp::Sub) return 0;
                return value(*b.lhs, st) | value(*b.rhs, st);
            },
            [&](const ast::Assign& a) -> ParamSet { return value(*a.value, st); },
            [&](const ast::Call& c) -> ParamSet { return call(c, st); },
            [&](const ast::Member& m) -> ParamSet { return value(*m.object, st); },
            [&](const ast::StructLit& l) -> ParamSet {
                ParamSet v = 0;
                for (const ast::FieldInit& f : l.fields)
                    if (f.value) v |= value(*f.value, st);
                return v;
            },
            [&](const ast::Raw& r) -> ParamSet { return value(*r.operand, st); },
            [&](const ast::Drop& d) -> ParamSet { return value(*d.operand, st); },
            [&](const ast::Cast& c) -> ParamSet { return value(*c.operand, st); },
            [](const ast::Index&) -> ParamSet { return 0; },  // an integer element
        });
    }

    ParamSet call(const ast::Call& c, const State& st) const {
        const Callee& callee = s_.callee[c.id];
        ParamSet v = 0;
        switch (callee.kind) {
        case Callee::Kind::None:
        case Callee::Kind::Builtin: return 0;
        case Callee::Kind::Func: {
            const ParamSet may = sums_.of(callee.fn);
            for (size_t i = 0; i < c.args.size(); ++i)
                if (may & param_bit(i)) v |= value(*c.args[i], st);
            return v;
        }
        case Callee::Kind::Extern:
            if (has_attr(s_, callee, attrs::kFresh)) return 0;
            for (const auto& a : c.args)
                if (s_.type_of(*a) && s_.type_of(*a)->is_ptr()) v |= value(*a, st);
            return v;
        }
        return v;
    }

    const Sema& s_;
    const FuncInfo& fi_;
    const ReturnSummaries& sums_;
    ParamSet returned_ = 0;
};

}  // namespace

// A worklist over the call graph: every function starts at "returns no
// parameter" and is analysed again whenever a callee's summary grew.
// Summaries only grow, over a finite set: this ends, with no round limit.
ReturnSummaries return_summaries(const ast::Program& prog, const Sema& sema) {
    Graphs graphs(sema, drop_switches(prog));
    return return_summaries(prog, sema, graphs);
}

ReturnSummaries return_summaries(const ast::Program& prog, const Sema& sema, Graphs& graphs) {
    ReturnSummaries sums;
    std::vector<const ast::FuncDecl*> all;
    for (const auto& m : prog.modules)
        for (const ast::FuncDecl* f : module_functions(*m, true))
            if (f->body && sema.funcs.count(f)) {
                all.push_back(f);
                sums.may_return[f] = 0;
            }
    summarise(all, sema, [&](const ast::FuncDecl* f) {
        const FuncInfo& fi = sema.func(f);
        if (fi.params.empty()) return false;  // nothing to return of
        const Cfg& g = graphs.of(*f);
        MayReturn a(sema, fi, sums);
        const Solution<MayReturn> sol = solve(g, a);
        report(g, a, sol);  // the Leave events, from the fixed point
        ParamSet& mine = sums.may_return[f];
        if ((mine | a.returned()) == mine) return false;
        mine |= a.returned();
        return true;
    });
    return sums;
}

}  // namespace npk
