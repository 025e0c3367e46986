// The lifecycle checker: ARIA-014 (leak), ARIA-015 (use after free) and
// ARIA-022 (double free) for `wild` / `wildx` bindings, as
// nitpick-subset.md §8.2 states them.
//
// One forward walk per function body over a flow state (one entry per
// tracked binding). `if` forks the state and joins it; `defer` checks
// its body on a copy and keeps only what the body releases. The walk
// reads the tree and the checker's facts (Sema: which slot a name or a
// declaration is, what a call calls) and writes nothing but diagnostics;
// scopes come from the shared scope walker (syntax/scopes.h).
//
// Choices the spec leaves open (each pinned by a test):
// - An `if` arm that is a single statement (no braces) is a scope of
//   its own, as a braced arm is: a declaration or a `defer` there ends
//   with the arm.
// - Code after a statement that leaves the function is still checked,
//   from the state at that statement (after an `if` whose arms both
//   leave: from the state before the `if`, as §8.2 says); the end of its
//   block is unreachable, so no scope-exit leak is reported there.
// - The conditional-release warning of a defer carries no ARIA code.
// - `a && b`, `a || b`: `b` may not run, so its effects join with the
//   state after `a` like an `if` without `else`.
// - Assignment `p = e` to a tracked binding re-initialises it: `e` is
//   checked first (a use of `p` in `e` is a use), then `p` is live with
//   a pending obligation again (§8.2: any initializer creates one). If
//   the old value was still owed a release (pending, or freed only by a
//   defer that will now free the new value), it is lost: ARIA-014
//   "Memory leak: wild variable 'p' was overwritten before being
//   freed". A binding covered by a defer stays covered (the defer frees
//   whatever `p` holds when it runs). `p.f = e` is not a use of `p`.
#include <algorithm>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "analysis/analyses.h"
#include "sema/sema.h"
#include "syntax/scopes.h"

namespace npk {
namespace {

constexpr const char* kLeak = "ARIA-014";
constexpr const char* kUseAfterFree = "ARIA-015";
constexpr const char* kDoubleFree = "ARIA-022";

// §8.2 "Release call": these callee names, or these endings.
bool is_release_name(std::string_view name) {
    static constexpr std::string_view kExact[] = {
        "free",    "wildx_free",  "npk_free",      "dealloc",     "deallocate",
        "destroy", "close",       "dispose",       "cleanup",     "arena_reset",
        "arena_destroy", "buffer_free", "string_free",
    };
    static constexpr std::string_view kEndings[] = {"_free", "_close", "_destroy", "_release"};
    for (std::string_view e : kExact)
        if (name == e) return true;
    for (std::string_view e : kEndings)
        if (name.size() >= e.size() && name.substr(name.size() - e.size()) == e) return true;
    return false;
}

// The name a release is recognised by, from what the checker resolved
// the callee to: the builtin's or the extern's name, or the mangled
// `Jit_free` for `Jit.free(...)` (FuncDecl::mangled).
std::string callee_name(const Callee& c) {
    switch (c.kind) {
    case Callee::Kind::Builtin: return builtin_name(c.builtin);
    case Callee::Kind::Extern: return c.ext->name;
    case Callee::Kind::Func: return c.fn->mangled();
    case Callee::Kind::None: break;
    }
    return {};
}

std::string quoted(const std::string& name) { return "'" + name + "'"; }

enum class Life : uint8_t { Live, Released, Maybe };  // Maybe: released on some path only
enum class Deferred : uint8_t { No, Maybe, Sure };    // freed by a pending defer

struct VarState {
    Life life = Life::Live;
    bool pending = true;              // the release obligation
    Deferred deferred = Deferred::No;
    Loc freed_at;                     // the release behind Released / Maybe
    Loc deferred_at;                  // the release inside the covering defer
};

struct Flow {
    std::vector<VarState> vars;  // by binding id; entries of closed scopes are stale
    bool reachable = true;
};

// Control from two flowing paths meets (§8.2 "Branches").
void join_into(Flow& a, const Flow& b) {
    if (a.vars.size() < b.vars.size()) a.vars.resize(b.vars.size());
    for (size_t i = 0; i < b.vars.size(); ++i) {
        VarState& x = a.vars[i];
        const VarState& y = b.vars[i];
        if (x.life != y.life) {
            if (x.freed_at.line == 0) x.freed_at = y.freed_at;
            x.life = Life::Maybe;
        }
        x.pending = x.pending || y.pending;
        if (y.deferred > x.deferred) {
            x.deferred = y.deferred;
            x.deferred_at = y.deferred_at;
        }
    }
}

struct Binding {
    std::string name;
    Loc decl;
};

struct DeferEntry {  // a tracked binding a `defer` of this scope releases
    uint32_t binding;
    bool sure;
    Loc release;
};

struct Scope {
    std::vector<uint32_t> tracked;   // bindings declared here
    std::vector<DeferEntry> defers;
};

// Releases seen while checking a defer body, for that defer.
struct DeferFrame {
    uint32_t first_inner;  // bindings from here on are the body's own
    std::vector<std::pair<uint32_t, Loc>> released;
};

class FunctionChecker {
public:
    FunctionChecker(const Sema& sema, Diagnostics& diag) : s_(sema), diag_(diag) {}

    void check(const ast::FuncDecl& f) {
        if (!f.body) return;
        binding_of_slot_.assign(s_.func(&f).slots.size(), -1);  // parameters are never tracked
        block(*f.body);
    }

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
    // §8.2 "Tracked binding". §9.2 (drop RAII) adds its exception here
    // and nowhere else: a recognised RAII binding is not tracked.
    static bool tracks(const ast::VarDecl& d) {
        return (d.quals & (ast::Q_WILD | ast::Q_WILDX)) != 0 && d.init != nullptr;
    }

    // ---- names: the checker resolved every one to a slot --------------
    int64_t binding_of(const ast::Expr& e) const {
        if (e.kind != ast::ExprKind::Name) return -1;
        int32_t slot = s_.slot[e.id];
        return slot < 0 ? -1 : binding_of_slot_[static_cast<size_t>(slot)];
    }
    VarState& var(uint32_t b) { return flow_.vars[b]; }
    const std::string& name_of(uint32_t b) const { return bindings_[b].name; }
    void note_declared(uint32_t b) { diag_.note(bindings_[b].decl, quoted(name_of(b)) + " declared here"); }
    void note_at(Loc at, const std::string& text) {
        if (at.line != 0) diag_.note(at, text);
    }

    // ---- statements --------------------------------------------------
    void statement(const ast::Stmt& s) {
        switch (s.kind) {
        case ast::StmtKind::VarDecl: declare(static_cast<const ast::VarDecl&>(s)); break;
        case ast::StmtKind::If: if_stmt(static_cast<const ast::If&>(s)); break;
        case ast::StmtKind::Defer: defer_stmt(static_cast<const ast::Defer&>(s)); break;
        case ast::StmtKind::Block: block(static_cast<const ast::Block&>(s)); break;
        case ast::StmtKind::Exit:
            leave(s, static_cast<const ast::Exit&>(s).value.get(), false);
            break;
        case ast::StmtKind::Pass:
            leave(s, static_cast<const ast::Pass&>(s).value.get(), true);
            break;
        case ast::StmtKind::Fail:
            leave(s, static_cast<const ast::Fail&>(s).value.get(), false);
            break;
        case ast::StmtKind::Return:
            leave(s, static_cast<const ast::Return&>(s).value.get(), true);
            break;
        case ast::StmtKind::ExprStmt: expr(*static_cast<const ast::ExprStmt&>(s).expr); break;
        }
    }

    void block(const ast::Block& b) { ast::walk_scope(*this, ast::block_scope(b)); }
    void arm(const ast::StmtPtr& s) { ast::walk_scope(*this, ast::arm_scope(s)); }

    void close_scope(Loc end) {
        Scope& sc = scopes_.back();
        if (flow_.reachable) {
            for (uint32_t b : sc.tracked) {
                if (!var(b).pending) continue;
                diag_.error(end, kLeak,
                            "Memory leak: wild variable " + quoted(name_of(b)) +
                                " was not freed before scope exit");
                note_declared(b);
            }
        }
        // The scope's defers run now: what they release is released
        // from here on (it matters for bindings of outer scopes).
        for (const DeferEntry& d : sc.defers) {
            VarState& v = var(d.binding);
            if (v.life != Life::Released) {
                v.life = d.sure ? Life::Released : Life::Maybe;
                v.freed_at = d.release;
            }
            v.pending = false;
            v.deferred = Deferred::No;
        }
        scopes_.pop_back();
    }

    void declare(const ast::VarDecl& d) {
        if (d.init) expr(*d.init);  // before the name exists: `wild T:p = p;` reads the outer p
        if (!tracks(d)) return;
        const int32_t slot = s_.slot[d.id];
        if (slot < 0) return;
        const auto b = static_cast<uint32_t>(bindings_.size());
        bindings_.push_back({d.name, d.name_loc.line != 0 ? d.name_loc : d.loc});
        if (flow_.vars.size() <= b) flow_.vars.resize(b + 1);
        flow_.vars[b] = VarState{};
        binding_of_slot_[static_cast<size_t>(slot)] = b;
        scopes_.back().tracked.push_back(b);
    }

    void if_stmt(const ast::If& s) {
        expr(*s.cond);
        // Each arm starts reachable, so that an `if` in dead code still
        // joins by what its own arms do.
        const bool live = flow_.reachable;
        Flow before = flow_;
        before.reachable = true;
        flow_ = before;
        arm(s.then_body);
        Flow then_flow = std::move(flow_);
        flow_ = before;
        if (s.else_body) arm(s.else_body);
        // An arm that left the function does not flow into the join; if
        // neither flows, the (dead) code after the if starts from the
        // state before it.
        if (then_flow.reachable && flow_.reachable) {
            join_into(flow_, then_flow);
        } else if (then_flow.reachable) {
            flow_ = std::move(then_flow);
        } else if (!flow_.reachable) {
            flow_ = std::move(before);
            flow_.reachable = false;
        }
        flow_.reachable = flow_.reachable && live;
    }

    void defer_stmt(const ast::Defer& d) {
        const Flow saved = flow_;
        frames_.push_back({static_cast<uint32_t>(bindings_.size()), {}});
        flow_.reachable = true;  // the body is checked as a region of its own
        block(*d.body);
        DeferFrame frame = std::move(frames_.back());
        frames_.pop_back();
        const Flow body_end = std::move(flow_);
        flow_ = saved;  // the body runs later: its effects do not flow on

        std::vector<uint32_t> seen;
        for (const auto& [b, loc] : frame.released) {
            if (std::find(seen.begin(), seen.end(), b) != seen.end()) continue;
            seen.push_back(b);
            const bool sure = body_end.vars[b].life == Life::Released;
            if (!sure) {
                diag_.warning(d.loc, "",
                              "Defer block contains conditional/loop - free of " +
                                  quoted(name_of(b)) + " may not execute on all paths");
                diag_.note(loc, quoted(name_of(b)) + " is freed here");
            }
            VarState& v = var(b);
            v.pending = false;
            const Deferred k = sure ? Deferred::Sure : Deferred::Maybe;
            if (k > v.deferred) {
                v.deferred = k;
                v.deferred_at = loc;
            }
            scopes_.back().defers.push_back({b, sure, loc});
        }
    }

    // exit / pass / fail / return.
    void leave(const ast::Stmt& s, const ast::Expr* value, bool transfers) {
        if (value) expr(*value);  // the operand is evaluated first (§6.3)
        if (transfers && value) {
            const int64_t b = binding_of(*value);
            if (b >= 0) var(static_cast<uint32_t>(b)).pending = false;  // ownership moves to the caller
        }
        for (const Scope& sc : scopes_) {
            for (uint32_t b : sc.tracked) {
                if (!var(b).pending) continue;
                diag_.error(s.loc, kLeak,
                            "Memory leak on early exit: wild variable " + quoted(name_of(b)) +
                                " was not freed before pass/fail/return/exit");
                note_declared(b);
            }
        }
        flow_.reachable = false;
    }

    // ---- expressions -------------------------------------------------
    void expr(const ast::Expr& e) {
        using K = ast::ExprKind;
        switch (e.kind) {
        case K::IntLit:
        case K::StrLit:
        case K::BoolLit: break;
        case K::Name: use(static_cast<const ast::Name&>(e)); break;
        case K::Unary: expr(*static_cast<const ast::Unary&>(e).operand); break;
        case K::Binary: {
            const auto& b = static_cast<const ast::Binary&>(e);
            expr(*b.lhs);
            if (b.op == ast::BinaryOp::And || b.op == ast::BinaryOp::Or) {
                const Flow lhs_done = flow_;
                expr(*b.rhs);
                join_into(flow_, lhs_done);
            } else {
                expr(*b.rhs);
            }
            break;
        }
        case K::Assign: assign(static_cast<const ast::Assign&>(e)); break;
        case K::Call: call(static_cast<const ast::Call&>(e)); break;
        case K::Member: member_object(*static_cast<const ast::Member&>(e).object); break;
        case K::StructLit:
            for (const auto& f : static_cast<const ast::StructLit&>(e).fields)
                if (f.value) expr(*f.value);
            break;
        case K::Raw: expr(*static_cast<const ast::Raw&>(e).operand); break;
        case K::Drop: expr(*static_cast<const ast::Drop&>(e).operand); break;  // ⚑ a use, not a release
        }
    }

    // The object of `x.f` is not a use of `x` (§8.2); a computed object is
    // checked as usual.
    void member_object(const ast::Expr& obj) {
        if (obj.kind != ast::ExprKind::Name) expr(obj);
    }

    void use(const ast::Name& n) {
        const int64_t found = binding_of(n);
        if (found < 0) return;
        const auto b = static_cast<uint32_t>(found);
        const VarState& v = var(b);
        if (v.life == Life::Released) {
            diag_.error(n.loc, kUseAfterFree,
                        "Use after free: variable " + quoted(n.name) + " was already freed");
            note_at(v.freed_at, "freed here");
        } else if (v.life == Life::Maybe) {
            diag_.error(n.loc, kUseAfterFree,
                        "Use of wild pointer " + quoted(n.name) +
                            " with unknown state (may have been freed or moved in a branch)");
            note_at(v.freed_at, "may have been freed here");
        }
    }

    void call(const ast::Call& c) {
        // A Name callee names a function; a Type method's object is a Type.
        if (c.callee->kind == ast::ExprKind::Member)
            member_object(*static_cast<const ast::Member&>(*c.callee).object);
        int64_t released = -1;
        if (!c.args.empty() && is_release_name(callee_name(s_.callee[c.id]))) released = binding_of(*c.args.front());
        for (size_t i = 0; i < c.args.size(); ++i)
            if (i != 0 || released < 0) expr(*c.args[i]);  // the released argument is no use
        if (released >= 0) release(static_cast<uint32_t>(released), c.loc);
    }

    void release(uint32_t b, Loc at) {
        for (DeferFrame& f : frames_)
            if (b < f.first_inner) f.released.emplace_back(b, at);
        VarState& v = var(b);
        const std::string message = "Double free of variable " + quoted(name_of(b)) + " (already freed)";
        if (v.life == Life::Released) {
            diag_.error(at, kDoubleFree, message);
            note_at(v.freed_at, "first freed here");
            return;
        }
        if (v.life == Life::Maybe) {
            diag_.error(at, kDoubleFree, message);
            note_at(v.freed_at, "first freed here (on some path)");
        } else if (v.deferred != Deferred::No) {
            diag_.error(at, kDoubleFree, message);
            note_at(v.deferred_at, "first freed here, by a defer that runs when its block ends");
        }
        v.life = Life::Released;
        v.pending = false;
        v.freed_at = at;
    }

    void assign(const ast::Assign& a) {
        expr(*a.value);
        if (a.target->kind == ast::ExprKind::Member) {
            member_object(*static_cast<const ast::Member&>(*a.target).object);
            return;
        }
        const int64_t found = binding_of(*a.target);
        if (found < 0) {
            if (a.target->kind != ast::ExprKind::Name) expr(*a.target);
            return;
        }
        const auto b = static_cast<uint32_t>(found);
        VarState& v = var(b);
        const bool owed = v.life != Life::Released && (v.pending || v.deferred != Deferred::No);
        if (owed) {
            diag_.error(a.loc, kLeak,
                        "Memory leak: wild variable " + quoted(name_of(b)) +
                            " was overwritten before being freed");
            note_declared(b);
        }
        v.life = Life::Live;
        v.pending = v.deferred == Deferred::No;
        v.freed_at = {};
    }

    const Sema& s_;
    Diagnostics& diag_;
    std::vector<int64_t> binding_of_slot_;  // by slot of the function: its binding, or -1
    std::vector<Binding> bindings_;  // by id, in declaration order
    std::vector<Scope> scopes_;
    std::vector<DeferFrame> frames_;
    Flow flow_;
};

// The functions §8.2 checks in one module, in source order.
std::vector<const ast::FuncDecl*> checked_functions(const ast::Module& m, bool strict) {
    std::vector<const ast::FuncDecl*> out;
    for (const auto& f : m.funcs) out.push_back(f.get());
    if (strict) {
        for (const auto& t : m.types)
            for (const auto& f : t.methods) out.push_back(f.get());
        for (const auto& i : m.impls)
            for (const auto& f : i.methods) out.push_back(f.get());
    }
    std::stable_sort(out.begin(), out.end(), [](const ast::FuncDecl* a, const ast::FuncDecl* b) {
        return a->loc.offset < b->loc.offset;
    });
    return out;
}

}  // namespace

void check_lifecycle(const ast::Program& prog, const Sema& sema, const Options& opts, Diagnostics& diag) {
    for (size_t i = 0; i < prog.modules.size(); ++i) {
        const ast::Module& m = *prog.modules[i];
        // Upstream checks only the root file's top-level functions;
        // --strict checks every body of every file.
        if (!opts.strict && i != 0 && !m.is_root) continue;
        for (const ast::FuncDecl* f : checked_functions(m, opts.strict)) FunctionChecker(sema, diag).check(*f);
    }
}

}  // namespace npk
