// The handle analysis: ARIA-032, a handle that outlives its arena
// (nitpick-subset.md §8.3, issue 13).
//
// Facts, all read from the checker's tables (callees, slots, types):
// - an arena binding is a local initialised by HandleArena.create() or
//   npk_handle_arena_create() (`raw` / `drop` removed);
// - a handle binding is a local initialised by HandleArena.alloc(a, …) or
//   npk_handle_alloc(a, …) with `a` a bare name, or by another handle
//   binding; it belongs to a's slot (a local arena or a parameter);
// - a struct binding initialised by a literal whose fields are handle
//   bindings holds those handles;
// - a call destroys its argument i when the callee (extern or function)
//   says #[destroys_arena(p)] with p its parameter i (attrs.h), or is a
//   function whose body destroys parameter i (directly or through further
//   calls: summaries are composed to a fixed point, so a wrapper of a
//   wrapper counts).
//
// Rules, in every checked function (the root file's top-level functions;
// every body with --strict):
// - a use of a handle binding after a call that destroyed its arena, on
//   some path, is an error at the use, with a note at the destroying call;
// - `pass` / `return` of a handle (or of a struct holding one, or of a
//   literal or an alloc call making one) whose arena is a local of this
//   function is an error: the arena dies with the function (or leaks);
// - a Handle<T> binding passed as is to an extern is a warning: past the
//   C boundary no rule can follow it; @cast<int64>(h) says that is meant.
#include <algorithm>
#include <map>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "analysis/analyses.h"
#include "analysis/attrs.h"
#include "analysis/call_graph.h"
#include "analysis/checked.h"
#include "sema/sema.h"
#include "analysis/cfg.h"
#include "analysis/dataflow.h"
#include "analysis/drops.h"
#include "analysis/returns.h"

namespace npk {
namespace {

constexpr const char* kHandleEscape = "ARIA-032";

using ast::Expr;
using ast::ExprKind;

const Expr& strip(const Expr& e) { return strip_raw(e); }

// Which parameters each callee destroys.
class Summaries {
public:
    Summaries(const ast::Program& prog, const Sema& sema) : s_(sema) {
        for (const auto& m : prog.modules)
            for (const ast::ExternDecl& e : m->externs) seed(&e, sema.externs.at(&e).attrs);
        std::vector<const ast::FuncDecl*> all;
        for (const auto& [fd, info] : sema.funcs) {
            all.push_back(fd);
            seed(fd, info.attrs);
        }
        // Compose by a worklist over the call graph (call_graph.h): a
        // function is looked at again when a function it calls destroys more.
        summarise(all, s_, [&](const ast::FuncDecl* fd) { return infer(*fd); });
    }

    // The parameters a call of `c` destroys (empty if none).
    const std::vector<uint32_t>& destroyed(const Callee& c) const {
        static const std::vector<uint32_t> none;
        const void* key = c.kind == Callee::Kind::Extern ? static_cast<const void*>(c.ext)
                        : c.kind == Callee::Kind::Func   ? static_cast<const void*>(c.fn)
                                                          : nullptr;
        auto it = by_callee_.find(key);
        return it == by_callee_.end() ? none : it->second;
    }

private:
    // What #[destroys_arena(p)] says (the checker mapped p to its index).
    void seed(const void* key, const std::vector<AttrInfo>& attrs) {
        for (const AttrInfo& a : attrs)
            if (a.name == attrs::kDestroysArena)
                for (uint32_t i : a.params) add(key, i);
    }

    bool add(const void* key, uint32_t param) {
        auto& v = by_callee_[key];
        if (std::find(v.begin(), v.end(), param) != v.end()) return false;
        v.push_back(param);
        return true;
    }

    bool infer(const ast::FuncDecl& fd) {
        if (!fd.body) return false;
        const auto nparams = static_cast<int32_t>(fd.params.size());
        bool changed = false;
        walk_stmt_exprs(*fd.body, [&](const Expr& e) {
            if (e.kind != ExprKind::Call) return;
            const auto& c = static_cast<const ast::Call&>(e);
            for (uint32_t i : destroyed(s_.callee[c.id])) {
                if (i >= c.args.size() || c.args[i]->kind != ExprKind::Name) continue;
                const int32_t slot = s_.slot[c.args[i]->id];
                if (slot >= 0 && slot < nparams) changed |= add(&fd, static_cast<uint32_t>(slot));
            }
        });
        return changed;
    }

    const Sema& s_;
    std::unordered_map<const void*, std::vector<uint32_t>> by_callee_;
};

bool is_method(const Callee& c, const char* owner, const char* name) {
    return c.kind == Callee::Kind::Func && c.fn->owner == owner && c.fn->name == name;
}
bool is_extern(const Callee& c, const char* name) { return c.kind == Callee::Kind::Extern && c.ext->name == name; }

struct Destroyed {
    Loc at;              // the destroying call
    std::string how;     // "" for a destroy of its own, else the callee that did it
    bool maybe = false;  // on some path only
    bool operator==(const Destroyed& o) const {
        return at.offset == o.at.offset && at.file == o.at.file && how == o.how && maybe == o.maybe;
    }
};

using Set = std::vector<int32_t>;  // sorted, unique slots

void unite(Set& into, const Set& from) {
    Set out;
    std::set_union(into.begin(), into.end(), from.begin(), from.end(), std::back_inserter(out));
    into = std::move(out);
}

// What holds on the paths to one point. Slots stand for arenas and
// handles; a copy (declaration or assignment from a bare name, through
// `raw`, `drop` or @cast) stands for what its source stands for, on that
// path, and the arms of an `if` join by union.
struct HandleState {
    std::map<int32_t, Destroyed> destroyed;  // arena slot → where (on some path)
    std::map<int32_t, Destroyed> freed;      // handle slot → where it was freed (on some path)
    std::map<int32_t, Set> root;             // slot → the slots it may stand for (absent: itself)
    std::map<int32_t, Set> arena_of;         // handle slot → the arena slots it may come from
    std::map<int32_t, Set> view_of;          // pointer slot → the handles whose memory it may be
    std::map<int32_t, Set> held;             // struct slot → the handle slots its fields may hold
    bool operator==(const HandleState&) const = default;
};

// Joins the facts of two paths: what holds on one only holds "maybe".
void join_map(std::map<int32_t, Destroyed>& mine, const std::map<int32_t, Destroyed>& other) {
    for (auto& [slot, d] : mine)
        if (!other.count(slot)) d.maybe = true;
    for (const auto& [slot, d] : other) {
        auto [it, fresh] = mine.emplace(slot, d);
        if (fresh) it->second.maybe = true;
        else if (d.maybe) it->second.maybe = true;
    }
}

void join_sets(std::map<int32_t, Set>& mine, const std::map<int32_t, Set>& other, bool identity) {
    for (auto& [slot, s] : mine)
        if (identity && !other.count(slot)) unite(s, {slot});
    for (const auto& [slot, s] : other) {
        auto [it, fresh] = mine.emplace(slot, s);
        if (fresh && identity) unite(it->second, {slot});
        else if (!fresh) unite(it->second, s);
    }
}

class HandleCheck {
public:
    using State = HandleState;

    HandleCheck(const Sema& sema, const Summaries& sum, const ReturnSummaries& returns, Diagnostics& diag,
                const ast::FuncDecl& fd)
        : s_(sema), sum_(sum), returns_(returns), diag_(diag), fi_(sema.func(&fd)) {
        // Which slots ever hold an arena this function creates, and which
        // names are assigned to (a target is no use of what it held).
        ast::walk_stmt_exprs(*fd.body, [&](const Expr& e) {
            if (e.kind != ExprKind::Assign) return;
            const auto& a = static_cast<const ast::Assign&>(e);
            if (a.target->kind == ExprKind::Name) {
                targets_.insert(a.target->id);
                if (creates_arena(*a.value)) local_arenas_.insert(s_.slot[a.target->id]);
            }
        });
        scan_decls(*fd.body);
    }

    State entry() const { return {}; }

    bool join(State& into, const State& from) const {
        State before = into;
        join_map(into.destroyed, from.destroyed);
        join_map(into.freed, from.freed);
        join_sets(into.root, from.root, true);
        join_sets(into.arena_of, from.arena_of, false);
        join_sets(into.view_of, from.view_of, false);
        join_sets(into.held, from.held, false);
        return !(before == into);
    }

    void transfer(const Event& e, State& st, bool report) {
        report_ = report;
        switch (e.kind) {
        case EventKind::Eval: eval(*e.expr, st); return;
        case EventKind::Declare: declare(*e.decl, st); return;
        case EventKind::Leave:
            if (e.leave->value && e.leave->transfers()) escape(*e.leave->value, st);
            return;
        // drop.npk destroys an arena binding where its block ends, and a
        // handle kept past that dereferences to 0, which bug294 relies
        // on: a drop is not a destroy for this rule (an explicit one is).
        case EventKind::Drop:
        case EventKind::ScopeEnd:
        case EventKind::DeferBegin:
        case EventKind::DeferWritten:
        case EventKind::DeferEnd: return;
        }
    }

private:
    void scan_decls(const ast::Stmt& s) {
        if (s.kind == ast::StmtKind::VarDecl) {
            const auto& d = static_cast<const ast::VarDecl&>(s);
            if (d.init && creates_arena(*d.init)) local_arenas_.insert(s_.slot[d.id]);
        }
        ast::for_each_child(s, [](const Expr&) {}, [&](const ast::Stmt& x) { scan_decls(x); });
    }

    // ---- facts about bindings ----------------------------------------
    const std::string& name_of(int32_t slot) const { return fi_.slots[static_cast<size_t>(slot)].name; }
    int32_t slot_of(const Expr& e) const { return e.kind == ExprKind::Name ? s_.slot[e.id] : -1; }
    static Set roots(int32_t slot, const State& st) {
        if (slot < 0) return {};
        auto it = st.root.find(slot);
        return it == st.root.end() ? Set{slot} : it->second;
    }
    static Set get(const std::map<int32_t, Set>& m, int32_t slot) {
        auto it = m.find(slot);
        return it == m.end() ? Set{} : it->second;
    }
    // The slot a value copies (a bare name, through raw / drop / @cast), or -1.
    int32_t copied_slot(const Expr& init) const {
        return slot_of(strip_casts(init));
    }
    // What a value copies: a bare name's roots, or what a helper given
    // names may return of them (analysis/returns.h: `h2 = same(h)`).
    Set copied_roots(const Expr& init, const State& st) const {
        const Expr& e = strip(init);
        if (e.kind == ExprKind::Call && s_.callee[e.id].kind == Callee::Kind::Func) {
            const auto& c = static_cast<const ast::Call&>(e);
            const ParamSet may = returns_.of(s_.callee[c.id].fn);
            Set out;
            for (size_t i = 0; i < c.args.size(); ++i)
                if (may & param_bit(i)) unite(out, copied_roots(*c.args[i], st));
            return out;
        }
        return roots(copied_slot(init), st);
    }
    std::string destroyer(const Callee& k) const {
        const bool direct = k.kind == Callee::Kind::Extern || is_method(k, "HandleArena", "destroy");
        return direct ? "" : s_.func(k.fn).display;
    }

    // The first argument of a call of HandleArena.<method> or extern `ext`, or null.
    const Expr* arg0_of(const Expr& init, const char* method, const char* ext) const {
        const Expr* e = &strip_casts(init);
        if (e->kind != ExprKind::Call) return nullptr;
        const auto& c = static_cast<const ast::Call&>(*e);
        const Callee& k = s_.callee[c.id];
        if (!is_method(k, "HandleArena", method) && !is_extern(k, ext)) return nullptr;
        return c.args.empty() ? nullptr : c.args[0].get();
    }
    // The arenas a fresh handle comes from (alloc's first argument).
    Set alloc_arenas(const Expr& init, const State& st) const {
        const Expr& e = strip(init);
        if (e.kind != ExprKind::Call) return {};
        const Expr* a = arg0_of(e, "alloc", "npk_handle_alloc");
        return a ? copied_roots(*a, st) : Set{};
    }

    bool creates_arena(const Expr& init) const {
        const Expr& e = strip(init);
        if (e.kind != ExprKind::Call) return false;
        const Callee& k = s_.callee[static_cast<const ast::Call&>(e).id];
        return is_method(k, "HandleArena", "create") || is_extern(k, "npk_handle_arena_create");
    }
    bool is_local_arena(int32_t slot) const { return local_arenas_.count(slot) != 0; }

    // The handles a value may be: a copy of a handle binding, a struct
    // field that holds one, or (through a helper) ... only names here.
    Set handles_in(const Expr& v, const State& st) const {
        const Expr* e = &strip_casts(v);
        Set out;
        if (e->kind == ExprKind::Member) {  // s.f: what s's fields may hold
            const int32_t obj = slot_of(*static_cast<const ast::Member&>(*e).object);
            for (int32_t r : roots(obj, st)) unite(out, get(st.held, r));
            return out;
        }
        for (int32_t r : roots(slot_of(*e), st))
            if (st.arena_of.count(r)) unite(out, {r});
        return out;
    }

    void declare(const ast::VarDecl& d, State& st) {
        const int32_t slot = s_.slot[d.id];
        if (slot < 0) return;
        if (!d.init) {
            reset(slot, st);
            return;
        }
        bind(slot, *d.init, st);
        if (d.init->kind == ExprKind::StructLit) {
            Set held;
            for (const ast::FieldInit& f : static_cast<const ast::StructLit&>(*d.init).fields)
                if (f.value) unite(held, handles_in(*f.value, st));
            if (!held.empty()) st.held[slot] = held;
        }
    }

    void reset(int32_t slot, State& st) {
        st.root.erase(slot);
        st.arena_of.erase(slot);
        st.freed.erase(slot);  // a new value: whatever was freed under this name was another handle
        st.view_of.erase(slot);
        st.held.erase(slot);
        if (is_local_arena(slot)) st.destroyed.erase(slot);
    }

    // `slot` is given `value` (a declaration or an assignment).
    void bind(int32_t slot, const Expr& value, State& st) {
        const auto i = static_cast<size_t>(slot);
        // A pointer to a handle's memory, taken while the handle is alive
        // (after its free or its arena's destroy, deref gives 0: no view).
        Set view;
        if (const Expr* h = arg0_of(value, "deref", "npk_handle_deref"); h && fi_.slots[i].type->is_ptr())
            for (int32_t r : copied_roots(*h, st))
                if (!dead(r, st)) unite(view, {r});
        const Set from_roots = copied_roots(value, st);
        const Set arenas = alloc_arenas(value, st);
        const Set field_handles = value.kind == ExprKind::Member ? handles_in(value, st) : Set{};
        reset(slot, st);
        if (!view.empty()) st.view_of[slot] = view;
        if (!from_roots.empty()) {
            if (!(from_roots.size() == 1 && from_roots[0] == slot)) st.root[slot] = from_roots;
            return;
        }
        if (!field_handles.empty()) {  // `int64:h = s.h`: a copy of the handles s may hold
            st.root[slot] = field_handles;
            return;
        }
        if (!arenas.empty()) st.arena_of[slot] = arenas;
    }

    // ---- events --------------------------------------------------------
    void eval(const Expr& e, State& st) {
        switch (e.kind) {
        case ExprKind::Name:
            if (!targets_.count(e.id)) use(e, st);
            return;
        case ExprKind::Call: call(static_cast<const ast::Call&>(e), st); return;
        case ExprKind::Assign: {
            const auto& a = static_cast<const ast::Assign&>(e);
            if (const int32_t slot = slot_of(*a.target); slot >= 0) bind(slot, *a.value, st);
            if (a.target->kind == ExprKind::Member) {  // s.f = h: s may hold h
                const int32_t obj = slot_of(*static_cast<const ast::Member&>(*a.target).object);
                const Set h = handles_in(*a.value, st);
                if (obj >= 0 && !h.empty()) unite(st.held[obj], h);
            }
            return;
        }
        case ExprKind::Member: member_use(static_cast<const ast::Member&>(e), st); return;
        case ExprKind::IntLit:
        case ExprKind::StrLit:
        case ExprKind::BoolLit:
        case ExprKind::Unary:
        case ExprKind::Binary:
        case ExprKind::StructLit:
        case ExprKind::Raw:
        case ExprKind::Drop:
        case ExprKind::Cast:
        case ExprKind::Index: return;
        }
    }

    bool first(Loc at, const std::string& msg) {
        return report_ && reported_.insert(std::to_string(at.offset) + msg).second;
    }

    void use(const Expr& name, const State& st) {
        const int32_t slot = s_.slot[name.id];
        if (slot < 0) return;
        for (int32_t r : roots(slot, st)) {
            for (int32_t h : get(st.view_of, r)) view_use(name, slot, h, st);
            for (int32_t a : get(st.arena_of, r))
                if (auto d = st.destroyed.find(a); d != st.destroyed.end()) {
                    after_destroy(name.loc, "Handle '" + name_of(slot) + "'", a, d->second);
                    return;
                }
        }
    }

    // `s.h` where s holds handles: a use of each (issue 16: a copy through
    // a struct field).
    void member_use(const ast::Member& m, const State& st) {
        const int32_t obj = slot_of(*m.object);
        if (obj < 0 || s_.member[m.id].kind != MemberKind::Field) return;
        for (int32_t r : roots(obj, st))
            for (int32_t h : get(st.held, r))
                for (int32_t a : get(st.arena_of, h))
                    if (auto d = st.destroyed.find(a); d != st.destroyed.end()) {
                        after_destroy(m.loc, "Handle '" + name_of(obj) + "." + m.member + "'", a, d->second);
                        return;
                    }
    }

    void after_destroy(Loc at, const std::string& what, int32_t arena_slot, const Destroyed& d) {
        const std::string arena = "'" + name_of(arena_slot) + "'";
        const std::string msg = what + " is used after its arena " + arena +
                                (d.maybe ? " may have been destroyed (on some path)" : " was destroyed") +
                                ": it dereferences to 0 from then on";
        if (!first(at, msg)) return;
        diag_.error(at, kHandleEscape, msg);
        diag_.note(d.at, d.how.empty() ? "arena " + arena + " destroyed here"
                                       : "arena " + arena + " destroyed here, by '" + d.how +
                                             "', which destroys the arena it is given");
    }

    bool dead(int32_t handle, const State& st) const {
        if (auto f = st.freed.find(handle); f != st.freed.end() && !f->second.maybe) return true;
        for (int32_t a : get(st.arena_of, handle))
            if (auto d = st.destroyed.find(a); d != st.destroyed.end() && !d->second.maybe) return true;
        return false;
    }

    // A use of memory a handle's deref gave, after the handle was freed
    // or its arena destroyed (on some path).
    void view_use(const Expr& name, int32_t slot, int32_t handle, const State& st) {
        const Destroyed* d = nullptr;
        std::string why;
        if (auto f = st.freed.find(handle); f != st.freed.end()) {
            d = &f->second;
            why = "handle '" + name_of(handle) + "'" + (d->maybe ? " may have been freed" : " was freed");
        } else {
            for (int32_t a : get(st.arena_of, handle))
                if (auto x = st.destroyed.find(a); x != st.destroyed.end()) {
                    d = &x->second;
                    why = "the arena '" + name_of(a) + "' of handle '" + name_of(handle) + "'" +
                          (d->maybe ? " may have been destroyed" : " was destroyed");
                    break;
                }
        }
        if (!d) return;
        const std::string msg = "'" + name_of(slot) + "' is memory of a handle, used after " + why +
                                ": that memory is released with it";
        if (!first(name.loc, msg)) return;
        diag_.error(name.loc, kHandleEscape, msg);
        diag_.note(d->at, "released here");
    }

    void call(const ast::Call& c, State& st) {
        const Callee& k = s_.callee[c.id];
        if (const Expr* h = arg0_of(c, "free", "npk_handle_free"))
            for (int32_t r : copied_roots(*h, st))
                if (!st.freed.count(r)) st.freed[r] = Destroyed{c.loc, ""};
        for (uint32_t i : sum_.destroyed(k)) {
            if (i >= c.args.size()) continue;
            for (int32_t a : copied_roots(*c.args[i], st))
                if (!st.destroyed.count(a) || st.destroyed[a].maybe) st.destroyed[a] = Destroyed{c.loc, destroyer(k)};
        }
        if (k.kind != Callee::Kind::Extern) return;
        for (const auto& a : c.args) {
            const int32_t slot = slot_of(*a);
            if (slot < 0 || !fi_.slots[static_cast<size_t>(slot)].type->is_handle()) continue;
            const std::string msg = "Handle '" + name_of(slot) + "' is passed to extern '" + k.ext->name +
                                    "' as a plain int64: past the C boundary no check follows it; write @cast<int64>(" +
                                    name_of(slot) + ") to make that explicit";
            if (first(a->loc, msg)) diag_.warning(a->loc, kHandleEscape, msg);
        }
    }

    // `pass v` / `return v`: v must not carry a handle into a local arena.
    void escape(const Expr& v, const State& st) {
        const Expr& e = strip(v);
        for (int32_t arena : alloc_arenas(e, st))
            if (is_local_arena(arena)) {
                escape_error(e.loc, "The handle allocated here", arena);
                return;
            }
        if (e.kind == ExprKind::StructLit) {
            const auto& lit = static_cast<const ast::StructLit&>(e);
            for (const auto& f : lit.fields) {
                if (!f.value) continue;
                if (lit.type_name == "Result" && f.name == "val") escape(*f.value, st);  // return Result{val: ...}
                else escape_handle(*f.value, st);
            }
            return;
        }
        const int32_t slot = slot_of(e);
        if (slot < 0) return escape_handle(e, st);  // s.h
        escape_handle(e, st);
        for (int32_t r : roots(slot, st))
            for (int32_t hs : get(st.held, r))
                for (int32_t a : get(st.arena_of, hs))
                    if (is_local_arena(a))
                        escape_error(e.loc, "'" + name_of(slot) + "' holds handle '" + name_of(hs) + "', which", a);
    }

    void escape_handle(const Expr& value, const State& st) {
        const int32_t slot = slot_of(value);
        const std::string what = slot >= 0 ? "Handle '" + name_of(slot) + "'" : "The handle returned here";
        for (int32_t h : handles_in(value, st))
            for (int32_t a : get(st.arena_of, h))
                if (is_local_arena(a)) {
                    escape_error(value.loc, what, a);
                    return;
                }
    }

    void escape_error(Loc at, const std::string& what, int32_t arena) {
        const std::string msg = what + " is returned but its arena '" + name_of(arena) +
                                "' is local to this function: the handle is dead once the arena is destroyed";
        if (!first(at, msg)) return;
        diag_.error(at, kHandleEscape, msg);
        diag_.note(fi_.slots[static_cast<size_t>(arena)].loc, "arena '" + name_of(arena) + "' created here");
    }

    const Sema& s_;
    const Summaries& sum_;
    const ReturnSummaries& returns_;
    Diagnostics& diag_;
    const FuncInfo& fi_;
    bool report_ = false;
    std::unordered_set<std::string> reported_;
    std::unordered_set<int32_t> local_arenas_;  // slots given an arena this function creates
    std::unordered_set<uint32_t> targets_;      // Name ids that are assignment targets
};

}  // namespace

void check_handles(const ast::Program& prog, const Sema& sema, const Options& opts, Diagnostics& diag,
                   Shared& shared) {
    const Summaries sum(prog, sema);
    const ReturnSummaries& returns = shared.returns();
    for (const ast::FuncDecl* f : checked_functions(prog, opts.strict)) {
        if (!f->body) continue;
        const Cfg& g = shared.graphs.of(*f);
        HandleCheck a(sema, sum, returns, diag, *f);
        const Solution<HandleCheck> sol = solve(g, a);
        report(g, a, sol);
    }
}

}  // namespace npk
