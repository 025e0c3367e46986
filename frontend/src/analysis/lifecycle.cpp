// The lifecycle checker: ARIA-014 (leak), ARIA-015 (use after free) and
// ARIA-022 (double free), as docs/language.md ("Lifecycle rules") states
// them for users: every pointer local and parameter is tracked for its
// release state, only `wild` / `wildx` owe a release; names that may
// hold one block (a declaration, an assignment, @cast, a struct field, a
// call's return value: lifecycle_bindings.h) share its state; what a
// call releases comes from the callee (builtins, #[releases] /
// #[consumes], bodies: summaries by a worklist over the call graph),
// never from its name.
//
// One forward walk per function body over a flow state (one entry per
// tracked block, analysis/flow_state.h). `if` forks the state and joins
// it; `a && b` / `a || b` join `b`'s effects like an `if` without `else`.
// A `defer` body is checked twice: where it is written (against the state
// there, keeping what it releases for the scope's end, as upstream does)
// and at every exit where it runs (run_scope_exits: after drop.npk's
// releases, DROP-DEC-010). `while` walks its body quietly to the loop
// head's fixed point, then once more reporting; loops nested inside
// those quiet rounds take one pass each, so nesting costs linear time.
// Code after a leave is still checked from the state at the leave; the
// end of its block is unreachable, so no scope-exit leak is reported.
#include <algorithm>
#include <cassert>
#include <cstdint>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "analysis/analyses.h"
#include "analysis/attrs.h"
#include "analysis/call_graph.h"
#include "analysis/drops.h"
#include "analysis/flow_state.h"
#include "analysis/lifecycle_bindings.h"
#include "analysis/lifecycle_state.h"
#include "sema/sema.h"
#include "syntax/scopes.h"

namespace npk {
namespace {

using namespace lifecycle;


class FunctionChecker : private Bindings {
public:
    // `diag` null: a quiet walk that only works out what the function
    // releases of its parameters (for the summaries).
    FunctionChecker(const Sema& sema, Diagnostics* diag, const Summaries& summaries)
        : Bindings(sema, summaries, diag) {}

    void check(const ast::FuncDecl& f) {
        if (!f.body) return;
        const FuncInfo& fi = s_.func(&f);
        fi_ = &fi;
        binding_of_slot_.assign(fi.slots.size(), -1);
        // Parameters are tracked for their release state only: the caller
        // owns what they point to.
        for (size_t i = 0; i < fi.params.size(); ++i) {
            if (!fi.params[i]->is_ptr()) continue;
            VarState v;
            v.pending = false;
            const uint32_t b = new_binding(fi.slots[i].name, fi.slots[i].loc, new_block(v, Origin::Unknown));
            binding_of_slot_[i] = b;
            param_binding_.emplace_back(static_cast<uint32_t>(i), b);
        }
        param_fields(fi);
        released_.assign(fi.params.size(), -1);
        calls_.assign(fi.params.size(), -1);
        block(*f.body);
        if (flow_.reachable) note_param_releases();
    }

    // What the function releases of its parameters (after check()).
    const Releases& param_releases() const { return released_; }
    // ... and through the pointer fields of its struct parameters.
    using Bindings::field_releases;
    // Which parameters it calls through as code (after check()).
    const Releases& param_calls() const { return calls_; }

    // ---- the scope walker's hooks (syntax/scopes.h) -------------------
    using Outcome = bool;  // unused: the flow state says what is reachable
    void enter_scope(const ast::ScopeView&) { scopes_.emplace_back(); }
    Outcome stmt(const ast::Stmt& s, Outcome) {
        statement(s);
        return false;
    }
    bool stops(Outcome) const { return false; }
    void leave_scope(const ast::ScopeView& sc, Outcome) { close_scope(sc.end); }

private:
    // Where the function ends (a leave, or falling off the end): which
    // parameters it has released, for its summary.
    void note_param_releases() {
        for (const auto& [param, b] : param_binding_) {
            const VarState& v = flow_.get(block_of(b));
            if (v.life != Life::Live && released_[param] < 0) released_[param] = static_cast<int8_t>(v.freed_as);
        }
        note_field_releases();
    }

    // ---- statements --------------------------------------------------
    void statement(const ast::Stmt& s) {
        switch (s.kind) {
        case ast::StmtKind::VarDecl: declare(static_cast<const ast::VarDecl&>(s)); break;
        case ast::StmtKind::If: if_stmt(static_cast<const ast::If&>(s)); break;
        case ast::StmtKind::Defer: defer_stmt(static_cast<const ast::Defer&>(s)); break;
        case ast::StmtKind::Block: block(static_cast<const ast::Block&>(s)); break;
        case ast::StmtKind::Leave: {
            const auto& l = static_cast<const ast::Leave&>(s);
            leave(s, l.value.get(), l.transfers());
            break;
        }
        case ast::StmtKind::ExprStmt: expr(*static_cast<const ast::ExprStmt&>(s).expr); break;
        case ast::StmtKind::While: while_stmt(static_cast<const ast::While&>(s)); break;
        case ast::StmtKind::Break: loop_jump(s, true); break;
        case ast::StmtKind::Continue: loop_jump(s, false); break;
        }
    }

    // ---- loops (the snapshots: analysis/lifecycle_state.h) -------------
    // One walk of the loop from `head`: the condition, then the body.
    // Returns the state that goes back to the head; `breaks` gets the
    // states that leave the loop by `break`. The flow state is left as
    // it was.
    Snapshot loop_pass(const ast::While& s, const Snapshot& head, std::vector<Snapshot>& breaks) {
        LoopFrame frame{};
        Flow::Delta d = flow_.isolated([&] {
            for (const auto& [k, v] : head.vals) flow_.set(k) = v;
            flow_.reachable = true;
            expr(*s.cond);
            loops_.push_back({scopes_.size(), flow_.depth() - 1, {}, {}});
            block(*s.body);
            frame = std::move(loops_.back());
            loops_.pop_back();
        });
        Snapshot back;
        back.reachable = d.reachable;
        for (auto& [k, v] : d.after) back.vals[k] = v;
        for (const Snapshot& c : frame.continues) merge_into(flow_, back, c);
        breaks = std::move(frame.breaks);
        return back;
    }

    void while_stmt(const ast::While& s) {
        const bool live = flow_.reachable;
        const auto known = static_cast<uint32_t>(blocks_.size());
        Snapshot head;  // the state before the loop: as for `if`, a dead loop is checked by what it does
        std::vector<Snapshot> breaks;
        if (quiet_) {
            // Inside the rounds of an enclosing loop (or a summary walk of
            // one): one pass, its head joined with what comes back. Each
            // statement's effect on a block is a constant or a join with a
            // constant, so a second pass from that join changes nothing;
            // and one pass per nesting level keeps nested loops linear
            // (depth d costs d passes of the body, not 9^d). The rounds
            // and the reporting pass below still run for every loop.
            Snapshot next;
            merge_into(flow_, next, loop_pass(s, head, breaks));
            head = std::move(next);
        } else {
            quiet_ = true;
            // The states only move up a finite lattice (live → maybe,
            // discharged → pending), so this ends after a few rounds.
            for (int round = 0; round < 8; ++round) {
                Snapshot next;
                merge_into(flow_, next, loop_pass(s, head, breaks));
                if (same_head(flow_, next, head, known)) break;
                head = std::move(next);
            }
            quiet_ = false;
            loop_pass(s, head, breaks);
        }
        const bool forever = s.cond->kind == ast::ExprKind::BoolLit && static_cast<const ast::BoolLit&>(*s.cond).value;
        Snapshot out = head;
        if (forever) out = Snapshot{false, {}};
        for (const Snapshot& b : breaks) merge_into(flow_, out, b);
        if (!out.reachable) {  // nothing leaves the loop: the code after it is dead
            out = std::move(head);
            out.reachable = false;
        }
        for (const auto& [k, v] : out.vals) flow_.set(k) = v;
        flow_.reachable = out.reachable && live;
    }

    // break / continue: leaves the scopes opened inside the loop, whose
    // blocks must be released by now and whose defers run.
    void loop_jump(const ast::Stmt& s, bool is_break) {
        assert(!loops_.empty() && "the type checker rejects break / continue outside a loop");
        run_scope_exits(loops_.back().scope_depth, -1);
        LoopFrame& loop = loops_.back();
        Snapshot out;
        out.reachable = flow_.reachable;
        flow_.each_changed_since(loop.journal, [&](uint32_t k, const VarState& v) { out.vals[k] = v; });
        for (size_t i = loop.scope_depth; i < scopes_.size(); ++i) {
            const Scope& sc = scopes_[i];
            for (uint32_t k : sc.owned) {
                if (!flow_.reachable || !flow_.get(k).pending) continue;
                error(s.loc, kLeak,
                      "Memory leak: wild variable " + quoted(owner_name(k)) + " was not freed before " +
                          (is_break ? "break" : "continue"));
                note_declared(k);
            }
            for (const DeferEntry& d : sc.defers) {
                VarState v = flow_.get(d.block);
                if (v.life != Life::Released) v.life = d.sure ? Life::Released : Life::Maybe;
                v.freed_at = d.release;
                v.pending = false;
                v.deferred = Deferred::No;
                out.vals[d.block] = v;
            }
        }
        (is_break ? loop.breaks : loop.continues).push_back(std::move(out));
        flow_.reachable = false;
    }

    void block(const ast::Block& b) { ast::walk_scope(*this, ast::block_scope(b)); }
    void arm(const ast::StmtPtr& s) { ast::walk_scope(*this, ast::arm_scope(s)); }

    void close_scope(Loc end) {
        run_scope_exits(scopes_.size() - 1, -1);
        Scope& sc = scopes_.back();
        if (flow_.reachable) {
            for (uint32_t k : sc.owned) {
                if (!flow_.get(k).pending) continue;
                error(end, kLeak,
                      "Memory leak: wild variable " + quoted(owner_name(k)) + " was not freed before scope exit");
                note_declared(k);
            }
        }
        // The scope's defers run now: what they release is released
        // from here on (it matters for blocks of outer scopes).
        for (const DeferEntry& d : sc.defers) {
            VarState& v = flow_.set(d.block);
            if (v.life != Life::Released) {
                v.life = d.sure ? Life::Released : Life::Maybe;
                v.freed_at = d.release;
            }
            v.pending = false;
            v.deferred = Deferred::No;
        }
        scopes_.pop_back();
    }

    // §8.2 "Tracked binding" (an owner: `wild` / `wildx` with an
    // initializer) and, for release state only, any pointer local with
    // an initializer. §9.2 (drop RAII) adds its exception here and
    // nowhere else: a recognised RAII binding is not tracked.
    void declare(const ast::VarDecl& d) {
        if (d.init) expr(*d.init);  // before the name exists: `wild T:p = p;` reads the outer p
        const int32_t slot = s_.slot[d.id];
        if (!d.init || slot < 0) return;
        if (d.init->kind == ast::ExprKind::StructLit) fields_of(d, slot, static_cast<const ast::StructLit&>(*d.init));
        const bool owns = (d.quals & (ast::Q_WILD | ast::Q_WILDX)) != 0;
        const bool pointer = fi_->slots[static_cast<size_t>(slot)].type->is_ptr();
        if (!owns && !pointer) return;
        const Loc decl = d.name_loc.line != 0 ? d.name_loc : d.loc;
        const int64_t source = pointer ? alias_of(*d.init) : -1;
        uint32_t k;
        if (source >= 0) {
            // An alias: the same block under another name.
            k = block_of(static_cast<uint32_t>(source));
        } else {
            VarState v;
            v.pending = false;
            const Origin from = origin_of(*d.init);
            if (starts_unsealed(*d.init)) v.seal = Seal::Unsealed;  // fresh code memory, not sealed
            k = new_block(v, from);
        }
        const uint32_t b = new_binding(d.name, decl, k);
        binding_of_slot_[static_cast<size_t>(slot)] = b;
        if (owns && blocks_[k].owner < 0) {
            // The first `wild` name of a block owes its release.
            blocks_[k].owner = b;
            const VarState& now = flow_.get(k);
            if (now.life == Life::Live && now.deferred == Deferred::No) flow_.set(k).pending = true;
            scopes_.back().owned.push_back(k);
            if (raii_ && raii_kind(d, *raii_) != DropKind::None) {
                // drop.npk releases it when its block ends: it owes nothing,
                // and an explicit release would be a second one (⚑ §9.2: ARIA-022).
                VarState& v = flow_.set(k);
                v.pending = false;
                v.deferred = Deferred::Sure;
                v.deferred_at = decl;
                v.raii = true;
            }
        }
    }

    void if_stmt(const ast::If& s) {
        expr(*s.cond);
        // Each arm starts reachable, so that an `if` in dead code still
        // joins by what its own arms do.
        const bool live = flow_.reachable;
        flow_.reachable = true;
        Flow::Delta then_d = flow_.isolated([&] { arm(s.then_body); });
        Flow::Delta else_d = flow_.isolated([&] {
            if (s.else_body) arm(s.else_body);
        });
        // An arm that left the function does not flow into the join; if
        // neither flows, the (dead) code after the if starts from the
        // state before it.
        if (then_d.reachable && else_d.reachable) {
            flow_.apply(else_d);
            std::unordered_set<uint32_t> in_then;
            for (const auto& [k, v] : then_d.after) {
                in_then.insert(k);
                VarState x = flow_.get(k);
                join_var(x, v);
                flow_.set(k) = x;
            }
            for (const auto& [k, before] : else_d.before) {
                if (in_then.count(k)) continue;
                VarState x = flow_.get(k);
                join_var(x, before);  // the then arm left it as it was
                flow_.set(k) = x;
            }
        } else if (then_d.reachable) {
            flow_.apply(then_d);
        } else if (else_d.reachable) {
            flow_.apply(else_d);
        } else {
            flow_.reachable = false;
        }
        flow_.reachable = flow_.reachable && live;
    }

    void defer_stmt(const ast::Defer& d) {
        frames_.push_back({static_cast<uint32_t>(blocks_.size()), {}});
        // The body is checked as a region of its own; it runs later, so
        // its effects do not flow on.
        // Checked here against the state here (what upstream does), and
        // again where it runs (run_scope_exits).
        Flow::Delta body = flow_.isolated([&] {
            flow_.reachable = true;
            block(*d.body);
        });
        scopes_.back().defer_bodies.push_back(d.body.get());
        DeferFrame frame = std::move(frames_.back());
        frames_.pop_back();
        std::unordered_map<uint32_t, Life> at_end;
        for (const auto& [k, v] : body.after) at_end[k] = v.life;

        std::unordered_set<uint32_t> seen;
        for (const auto& [k, loc] : frame.released) {
            if (!seen.insert(k).second) continue;
            auto it = at_end.find(k);
            const bool sure = (it != at_end.end() ? it->second : flow_.get(k).life) == Life::Released;
            if (!sure) {
                warning(d.loc, "Defer block contains conditional/loop - free of " + quoted(owner_name(k)) +
                                   " may not execute on all paths");
                note_at(loc, quoted(owner_name(k)) + " is freed here");
            }
            VarState& v = flow_.set(k);
            v.pending = false;
            const Deferred kind = sure ? Deferred::Sure : Deferred::Maybe;
            if (kind > v.deferred) {
                v.deferred = kind;
                v.deferred_at = loc;
            }
            scopes_.back().defers.push_back({k, sure, loc});
        }
    }

    // exit / pass / fail / return.
    void leave(const ast::Stmt& s, const ast::Expr* value, bool transfers) {
        if (value) expr(*value);  // the operand is evaluated first (§6.3)
        int64_t kept = -1;
        if (transfers && value) {
            const int64_t b = binding_of(*value);
            if (b >= 0) flow_.set(block_of(static_cast<uint32_t>(b))).pending = false;  // the caller owns it now
            kept = handed_out(*value, b);
        }
        if (static_cast<const ast::Leave&>(s).runs_scope_exits()) run_scope_exits(0, kept);
        note_param_releases();
        for (const Scope& sc : scopes_) {
            for (uint32_t k : sc.owned) {
                if (!flow_.get(k).pending) continue;
                error(s.loc, kLeak,
                      "Memory leak on early exit: wild variable " + quoted(owner_name(k)) +
                          " was not freed before pass/fail/return/exit");
                note_declared(k);
            }
        }
        flow_.reachable = false;
    }

    // What runs when the scopes from `first` on are left (the innermost
    // first): drop.npk's releases of their RAII bindings, all of them
    // before any defer (§9.3, DROP-DEC-010; `kept` is moved out by a
    // pass), then their defer bodies, last written first. The bodies are
    // checked here, where they run, against the state here; what they
    // release is accounted where they were written (defer_stmt), so this
    // walk leaves the state as it was and reports no double release of
    // its own.
    void run_scope_exits(size_t first, int64_t kept) {
        if (!flow_.reachable || diag_ == nullptr || quiet_) return;
        bool any = false;
        for (size_t i = first; i < scopes_.size(); ++i) any = any || !scopes_[i].defer_bodies.empty();
        if (!any) return;
        const bool was = replaying_;
        replaying_ = true;
        flow_.isolated([&] {
            for (size_t i = scopes_.size(); i-- > first;)
                for (uint32_t k : scopes_[i].owned) {
                    if (!flow_.get(k).raii || static_cast<int64_t>(k) == kept) continue;
                    VarState& v = flow_.set(k);
                    v.life = Life::Released;
                    v.freed_at = v.deferred_at;
                    v.deferred = Deferred::No;
                }
            for (size_t i = scopes_.size(); i-- > first;) {
                const std::vector<const ast::Block*> bodies = scopes_[i].defer_bodies;
                for (auto it = bodies.rbegin(); it != bodies.rend(); ++it) {
                    flow_.reachable = true;
                    block(**it);
                }
            }
        });
        replaying_ = was;
    }

    // ---- expressions -------------------------------------------------
    void expr(const ast::Expr& e) {
        using K = ast::ExprKind;
        switch (e.kind) {
        case K::IntLit:
        case K::StrLit:
        case K::BoolLit: break;
        case K::Name: use(e, static_cast<const ast::Name&>(e).name); break;
        case K::Unary: expr(*static_cast<const ast::Unary&>(e).operand); break;
        case K::Binary: {
            const auto& b = static_cast<const ast::Binary&>(e);
            expr(*b.lhs);
            if (b.op == ast::BinaryOp::And || b.op == ast::BinaryOp::Or) {
                // The right side may not run: its effects join with the
                // state after the left side.
                Flow::Delta rhs = flow_.isolated([&] { expr(*b.rhs); });
                for (const auto& [k, v] : rhs.after) {
                    VarState x = v;
                    join_var(x, flow_.get(k));
                    flow_.set(k) = x;
                }
            } else {
                expr(*b.rhs);
            }
            break;
        }
        case K::Assign: assign(static_cast<const ast::Assign&>(e)); break;
        case K::Call: call(static_cast<const ast::Call&>(e)); break;
        case K::Member: {
            const auto& m = static_cast<const ast::Member&>(e);
            member_object(*m.object);
            if (const int64_t b = binding_of(m); b >= 0) use(m, bindings_[static_cast<size_t>(b)].name);
            break;
        }
        case K::StructLit:
            for (const auto& f : static_cast<const ast::StructLit&>(e).fields)
                if (f.value) expr(*f.value);
            break;
        case K::Raw: expr(*static_cast<const ast::Raw&>(e).operand); break;
        case K::Drop: expr(*static_cast<const ast::Drop&>(e).operand); break;  // ⚑ a use, not a release
        case K::Cast: expr(*static_cast<const ast::Cast&>(e).operand); break;
        case K::Index:
            expr(*static_cast<const ast::Index&>(e).object);
            expr(*static_cast<const ast::Index&>(e).index);
            break;
        }
    }

    // The object of `x.f` is not a use of `x` (§8.2); a computed object is
    // checked as usual.
    void member_object(const ast::Expr& obj) {
        if (obj.kind != ast::ExprKind::Name) expr(obj);
    }

    void use(const ast::Expr& n, const std::string& name) {
        const int64_t b = binding_of(n);
        if (b < 0) return;
        const VarState& v = flow_.get(block_of(static_cast<uint32_t>(b)));
        if (v.life == Life::Released) {
            error(n.loc, kUseAfterFree, "Use after free: variable " + quoted(name) + " was already freed");
            note_at(v.freed_at, "freed here");
        } else if (v.life == Life::Maybe) {
            error(n.loc, kUseAfterFree,
                  "Use of wild pointer " + quoted(name) +
                      " with unknown state (may have been freed or moved in a branch)");
            note_at(v.freed_at, "may have been freed here");
        }
    }

    void call(const ast::Call& c) {
        // A Name callee names a function; a Type method's object is a Type.
        if (c.callee->kind == ast::ExprKind::Member)
            member_object(*static_cast<const ast::Member&>(*c.callee).object);
        const Releases rel = releases_of(s_.callee[c.id]);
        std::vector<std::pair<uint32_t, Origin>> released;  // binding, kind
        for (size_t i = 0; i < c.args.size(); ++i) {
            const int64_t b = i < rel.size() && rel[i] >= 0 ? binding_of(*c.args[i]) : -1;
            if (b >= 0) released.emplace_back(static_cast<uint32_t>(b), static_cast<Origin>(rel[i]));
            else if (!inspects(s_.callee[c.id], i) || binding_of(*c.args[i]) < 0) expr(*c.args[i]);
            // (a released argument is no use, nor one the callee only inspects)
        }
        field_releases_of_call(c, released);
        page_call(c);
        for (const auto& [b, kind] : released) release(b, kind, c.loc);
    }

    void release(uint32_t b, Origin kind, Loc at) {
        const uint32_t k = block_of(b);
        for (DeferFrame& f : frames_)
            if (k < f.first_inner) f.released.emplace_back(k, at);
        const Origin origin = blocks_[k].origin;
        if (kind != Origin::Unknown && origin != Origin::Unknown && kind != origin) {
            error(at, "", "Mismatched release of " + quoted(bindings_[b].name) + ": it holds " +
                              origin_text(origin));
            note_at(bindings_[b].decl, quoted(bindings_[b].name) + " declared here");
        }
        VarState& v = flow_.set(k);
        if (replaying_) {  // a defer's release, accounted where it was written
            v.life = Life::Released;
            v.freed_at = at;
            return;
        }
        const std::string message = "Double free of variable " + quoted(bindings_[b].name) + " (already freed)";
        if (v.life == Life::Released) {
            error(at, kDoubleFree, message);
            note_at(v.freed_at, "first freed here");
            return;
        }
        if (v.life == Life::Maybe) {
            error(at, kDoubleFree, message);
            note_at(v.freed_at, "first freed here (on some path)");
        } else if (v.raii) {
            error(at, kDoubleFree, message);
            note_at(v.deferred_at, "drop.npk releases " + quoted(bindings_[b].name) +
                                       " when its block ends: an explicit release frees it twice");
        } else if (v.deferred != Deferred::No) {
            error(at, kDoubleFree, message);
            note_at(v.deferred_at, "first freed here, by a defer that runs when its block ends");
        }
        v.life = Life::Released;
        v.pending = false;
        v.freed_at = at;
        v.freed_as = kind != Origin::Unknown ? kind : origin;
    }

    void assign(const ast::Assign& a) {
        expr(*a.value);
        const int64_t src = alias_of(*a.value);  // `q = p`: q becomes another name of p's block
        if (a.target->kind == ast::ExprKind::Member) {
            const auto& m = static_cast<const ast::Member&>(*a.target);
            member_object(*m.object);
            if (const uint64_t key = field_key(m); key != ~0ull) {
                if (src >= 0) field_binding_[key] = new_binding(bindings_[src].name, m.loc, block_of(static_cast<uint32_t>(src)));
                else field_binding_.erase(key);
            }
            return;
        }
        page_store(*a.target);
        const int64_t found = binding_of(*a.target);
        if (found < 0) {
            if (a.target->kind != ast::ExprKind::Name) expr(*a.target);
            const int32_t slot = a.target->kind == ast::ExprKind::Name ? s_.slot[a.target->id] : -1;
            if (slot >= 0 && src >= 0)  // a pointer declared without a value
                binding_of_slot_[static_cast<size_t>(slot)] =
                    new_binding(static_cast<const ast::Name&>(*a.target).name, a.target->loc,
                                block_of(static_cast<uint32_t>(src)));
            return;
        }
        const uint32_t k = block_of(static_cast<uint32_t>(found));
        if (src >= 0 && block_of(static_cast<uint32_t>(src)) == k) return;  // already the same block
        VarState& v = flow_.set(k);
        const bool owner = blocks_[k].owner == found;
        const bool owed = v.life != Life::Released && (v.pending || v.deferred != Deferred::No);
        if (owed && (owner || src < 0)) {
            error(a.loc, kLeak,
                  "Memory leak: wild variable " + quoted(bindings_[found].name) + " was overwritten before being freed");
            note_declared(k);
        }
        if (src >= 0) {
            // An alias now: the block it held keeps its state (and loses
            // its owner, whose obligation was reported above if still owed).
            if (owner) {
                blocks_[k].owner = -1;
                v.pending = false;
            }
            bindings_[found].block = block_of(static_cast<uint32_t>(src));
            return;
        }
        // The binding holds a new value: live, owed if it has an owner,
        // from whatever allocator (no longer known).
        v.life = Life::Live;
        v.pending = blocks_[k].owner >= 0 && v.deferred == Deferred::No;
        v.freed_at = {};
        v.seal = starts_unsealed(*a.value) ? Seal::Unsealed : Seal::None;
        blocks_[k].origin = Origin::Unknown;
    }

    const DropSwitches* raii_ = nullptr;  // null in a quiet walk: summaries ignore drop.npk

public:
    // The drop.npk switches of the program (§9.1), for the checking walk.
    FunctionChecker& with_raii(const DropSwitches& on) {
        raii_ = &on;
        return *this;
    }

private:
    Releases released_;
    std::vector<Scope> scopes_;
    std::vector<DeferFrame> frames_;
    std::vector<LoopFrame> loops_;
    bool replaying_ = false;  // walking a defer body where it runs
};

// What every function with a body releases of its parameters, from what
// its body does (quiet walks). A function that calls a releasing helper
// releases in turn: summarise (call_graph.h) walks a function again
// whenever the summary of a function it calls grew, with no round limit
// (at most functions × parameters growths).
Summaries compute_summaries(const ast::Program& prog, const Sema& sema, const ReturnSummaries& returns) {
    Summaries sums;
    std::vector<const ast::FuncDecl*> all;
    for (const auto& m : prog.modules) {
        std::vector<const ast::FuncDecl*> fs = module_functions(*m, true);
        all.insert(all.end(), fs.begin(), fs.end());
    }
    // Which parameters each may return (the dataflow engine on its graph).
    for (const ast::FuncDecl* f : all) sums[f].may_return = returns.of(f);
    summarise(all, sema, [&](const ast::FuncDecl* f) {
        FunctionChecker walk(sema, nullptr, sums);
        walk.check(*f);
        bool grew = false;
        auto merge = [&](Releases& mine, const Releases& now) {
            if (mine.size() < now.size()) mine.resize(now.size(), -1);
            for (size_t i = 0; i < now.size(); ++i)
                if (now[i] >= 0 && mine[i] < 0) {
                    mine[i] = now[i];
                    grew = true;
                }
        };
        merge(sums[f].releases, walk.param_releases());
        merge(sums[f].calls, walk.param_calls());
        for (const auto& [key, kind] : walk.field_releases())
            if (sums[f].field_releases.emplace(key, kind).second) grew = true;
        return grew;
    });
    return sums;
}

}  // namespace

namespace lifecycle {
Summaries release_summaries(const ast::Program& prog, const Sema& sema, const ReturnSummaries& returns) {
    return compute_summaries(prog, sema, returns);
}
}  // namespace lifecycle

void check_lifecycle(const ast::Program& prog, const Sema& sema, const Options& opts, Diagnostics& diag) {
    Shared shared(prog, sema);
    check_lifecycle(prog, sema, opts, diag, shared);
}

void check_lifecycle(const ast::Program& prog, const Sema& sema, const Options& opts, Diagnostics& diag,
                     Shared& shared) {
    const Summaries sums = release_summaries(prog, sema, shared.returns());
    const DropSwitches raii = drop_switches(prog);
    for (size_t i = 0; i < prog.modules.size(); ++i) {
        const ast::Module& m = *prog.modules[i];
        // Upstream checks only the root file's top-level functions;
        // --strict checks every body of every file.
        if (!opts.strict && i != 0 && !m.is_root) continue;
        for (const ast::FuncDecl* f : module_functions(m, opts.strict)) FunctionChecker(sema, &diag, sums).with_raii(raii).check(*f);
    }
}

}  // namespace npk
