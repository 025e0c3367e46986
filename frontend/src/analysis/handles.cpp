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
#include "analysis/checked.h"
#include "sema/sema.h"
#include "syntax/scopes.h"

namespace npk {
namespace {

constexpr const char* kHandleEscape = "ARIA-032";

using ast::Expr;
using ast::ExprKind;
using ast::Stmt;
using ast::StmtKind;

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
        // Compose by a worklist over the call graph: a function is looked
        // at again when a function it calls destroys more. Summaries only
        // grow, over finitely many parameters, so this ends.
        std::unordered_map<const ast::FuncDecl*, std::vector<const ast::FuncDecl*>> callers;
        for (const ast::FuncDecl* fd : all)
            if (fd->body)
                walk_stmt_exprs(*fd->body, [&](const Expr& e) {
                    if (e.kind != ExprKind::Call) return;
                    const Callee& c = s_.callee[e.id];
                    if (c.kind == Callee::Kind::Func) callers[c.fn].push_back(fd);
                });
        std::vector<const ast::FuncDecl*> work = all;
        std::unordered_set<const ast::FuncDecl*> queued(all.begin(), all.end());
        while (!work.empty()) {
            const ast::FuncDecl* fd = work.back();
            work.pop_back();
            queued.erase(fd);
            if (!infer(*fd)) continue;
            for (const ast::FuncDecl* caller : callers[fd])
                if (queued.insert(caller).second) work.push_back(caller);
        }
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
};

struct Flow {
    std::map<int32_t, Destroyed> destroyed;  // arena slot → where (on some path)
    std::map<int32_t, Destroyed> freed;      // handle slot → where it was freed (on some path)
    bool reachable = true;
};

// Joins the facts of two paths: what holds on one only holds "maybe".
void join_map(std::map<int32_t, Destroyed>& mine, const std::map<int32_t, Destroyed>& other) {
    for (auto& [slot, d] : mine)
        if (!other.count(slot)) d.maybe = true;
    for (const auto& [slot, d] : other) {
        auto [it, fresh] = mine.emplace(slot, d);
        if (fresh) it->second.maybe = true;
    }
}

class FunctionChecker {
public:
    FunctionChecker(const Sema& sema, const Summaries& sum, Diagnostics& diag, const ast::FuncDecl& fd)
        : s_(sema), sum_(sum), diag_(diag), fi_(sema.func(&fd)), root_(fi_.slots.size()) {
        for (size_t i = 0; i < root_.size(); ++i) root_[i] = static_cast<int32_t>(i);
    }

    void check(const ast::FuncDecl& fd) {
        if (fd.body) block(*fd.body);
    }

    // ---- the scope walker's hooks (syntax/scopes.h) -------------------
    // Bindings are slots, so a scope's end changes nothing here.
    using Outcome = bool;
    void enter_scope(const ast::ScopeView&) {}
    Outcome stmt(const Stmt& s, Outcome) {
        statement(s);
        return false;
    }
    bool stops(Outcome) const { return false; }
    void leave_scope(const ast::ScopeView&, Outcome) {}

private:
    // ---- facts about bindings ----------------------------------------
    const std::string& name_of(int32_t slot) const { return fi_.slots[static_cast<size_t>(slot)].name; }
    bool is_param(int32_t slot) const { return slot < static_cast<int32_t>(fi_.params.size()); }
    int32_t slot_of(const Expr& e) const { return e.kind == ExprKind::Name ? s_.slot[e.id] : -1; }
    // A copy (declaration or assignment from a bare name, through `raw`,
    // `drop` or @cast) holds the same arena or the same handle as its
    // source: the slot it stands for, or -1.
    int32_t root(int32_t slot) const { return slot < 0 ? -1 : root_[static_cast<size_t>(slot)]; }
    int32_t copied_slot(const Expr& init) const {
        const Expr* e = &strip(init);
        while (e->kind == ExprKind::Cast) e = &strip(*static_cast<const ast::Cast&>(*e).operand);
        return slot_of(*e);
    }
    std::string destroyer(const Callee& k) const {
        const bool direct = k.kind == Callee::Kind::Extern || is_method(k, "HandleArena", "destroy");
        return direct ? "" : s_.func(k.fn).display;
    }

    // The arena a fresh handle comes from (alloc's first argument), or -1.
    int32_t alloc_arena(const Expr& init) const {
        const Expr& e = strip(init);
        if (e.kind != ExprKind::Call) return -1;
        const auto& c = static_cast<const ast::Call&>(e);
        const Callee& k = s_.callee[c.id];
        if (!is_method(k, "HandleArena", "alloc") && !is_extern(k, "npk_handle_alloc")) return -1;
        return c.args.empty() ? -1 : root(copied_slot(*c.args[0]));
    }

    // The handle whose memory a value is (HandleArena.deref(h) or
    // npk_handle_deref(h), through raw / @cast), or -1.
    int32_t deref_handle(const Expr& init) const {
        const Expr* e = &strip(init);
        while (e->kind == ExprKind::Cast) e = &strip(*static_cast<const ast::Cast&>(*e).operand);
        if (e->kind != ExprKind::Call) return -1;
        const auto& c = static_cast<const ast::Call&>(*e);
        const Callee& k = s_.callee[c.id];
        if (!is_method(k, "HandleArena", "deref") && !is_extern(k, "npk_handle_deref")) return -1;
        return c.args.empty() ? -1 : root(copied_slot(*c.args[0]));
    }
    // The handle a call frees (HandleArena.free(h), npk_handle_free(h)), or -1.
    int32_t freed_handle(const ast::Call& c) const {
        const Callee& k = s_.callee[c.id];
        if (!is_method(k, "HandleArena", "free") && !is_extern(k, "npk_handle_free")) return -1;
        return c.args.empty() ? -1 : root(copied_slot(*c.args[0]));
    }

    bool creates_arena(const Expr& init) const {
        const Expr& e = strip(init);
        if (e.kind != ExprKind::Call) return false;
        const Callee& k = s_.callee[static_cast<const ast::Call&>(e).id];
        return is_method(k, "HandleArena", "create") || is_extern(k, "npk_handle_arena_create");
    }

    void declare(const ast::VarDecl& d) {
        const int32_t slot = s_.slot[d.id];
        if (slot < 0 || !d.init) return;
        bind(slot, *d.init);
        if (d.init->kind == ExprKind::StructLit)
            for (const ast::FieldInit& f : static_cast<const ast::StructLit&>(*d.init).fields)
                if (const int32_t h = f.value ? root(copied_slot(*f.value)) : -1; handle_arena_.count(h))
                    held_[slot].push_back(h);
    }

    // `slot` is given `value` (a declaration or an assignment).
    void bind(int32_t slot, const Expr& value) {
        const auto i = static_cast<size_t>(slot);
        root_[i] = slot;
        handle_arena_.erase(slot);
        flow_.freed.erase(slot);  // a new value: whatever was freed under this name was another handle
        view_of_.erase(slot);
        // A pointer to a handle's memory, taken while the handle is alive
        // (after its free or its arena's destroy, deref gives 0: no view).
        if (const int32_t h = deref_handle(value); h >= 0 && fi_.slots[i].type->is_ptr() && !dead(h))
            view_of_[slot] = h;
        if (const int32_t from = copied_slot(value); from >= 0) {
            root_[i] = root(from);
            return;
        }
        if (creates_arena(value)) {
            local_arenas_.push_back(slot);
            flow_.destroyed.erase(slot);  // a new arena under this name
        }
        if (const int32_t arena = alloc_arena(value); arena >= 0) handle_arena_[slot] = arena;
    }

    bool is_local_arena(int32_t slot) const {
        return std::find(local_arenas_.begin(), local_arenas_.end(), slot) != local_arenas_.end();
    }

    // ---- statements --------------------------------------------------
    void block(const ast::Block& b) { ast::walk_scope(*this, ast::block_scope(b)); }
    void arm(const ast::StmtPtr& s) { ast::walk_scope(*this, ast::arm_scope(s)); }

    void statement(const Stmt& s) {
        ast::visit(s, ast::Overload{
            [&](const ast::VarDecl& d) {
                if (d.init) expr(*d.init);
                declare(d);
            },
            [&](const ast::If& i) {
                expr(*i.cond);
                const Flow before = flow_;
                arm(i.then_body);
                Flow then_flow = std::move(flow_);
                flow_ = before;
                if (i.else_body) arm(i.else_body);
                join(then_flow);
            },
            [&](const ast::Defer& d) {
                // The body runs when its block ends: check its uses against the
                // state here, and keep its destroys out of the code after it.
                const Flow saved = flow_;
                block(*d.body);
                flow_ = saved;
            },
            [&](const ast::Block& b) { block(b); },
            [&](const ast::Leave& l) {
                if (l.value) expr(*l.value);
                // What `pass` and `return` hand out must not escape.
                if (l.value && l.transfers()) escape(*l.value);
                flow_.reachable = false;
            },
            [&](const ast::ExprStmt& e) { expr(*e.expr); },
            [&](const ast::While& w) { loop(w); },
            [&](const ast::Break&) { flow_.reachable = false; },
            [&](const ast::Continue&) { flow_.reachable = false; },
        });
    }

    // A loop's body may run again after it destroyed an arena: every
    // destroy in the loop (nested loops and branches included) holds, on
    // some path, from the loop's head on, and after the loop.
    void loop(const ast::While& w) {
        walk_stmt_exprs(w, [&](const Expr& e) {
            if (e.kind != ExprKind::Call) return;
            const auto& c = static_cast<const ast::Call&>(e);
            if (const int32_t h = freed_handle(c); h >= 0 && !flow_.freed.count(h))
                flow_.freed[h] = Destroyed{c.loc, "", true};
            for (uint32_t i : sum_.destroyed(s_.callee[c.id])) {
                const int32_t slot = i < c.args.size() ? root(slot_of(*c.args[i])) : -1;
                if (slot >= 0 && !flow_.destroyed.count(slot))
                    flow_.destroyed[slot] = Destroyed{c.loc, destroyer(s_.callee[c.id]), true};
            }
        });
        const bool live = flow_.reachable;
        expr(*w.cond);
        block(*w.body);
        flow_.reachable = live;
    }

    void join(const Flow& other) {
        if (!other.reachable) return;
        if (!flow_.reachable) {
            flow_ = other;
            return;
        }
        join_map(flow_.destroyed, other.destroyed);
        join_map(flow_.freed, other.freed);
    }

    // ---- expressions: uses in evaluation order, then the call's effect --
    void expr(const Expr& e) {
        switch (e.kind) {
        case ExprKind::Name: use(e); break;
        case ExprKind::Call: {
            const auto& c = static_cast<const ast::Call&>(e);
            for (const auto& a : c.args) expr(*a);
            call(c);
            break;
        }
        case ExprKind::Unary: expr(*static_cast<const ast::Unary&>(e).operand); break;
        case ExprKind::Binary: {
            const auto& b = static_cast<const ast::Binary&>(e);
            expr(*b.lhs);
            expr(*b.rhs);
            break;
        }
        case ExprKind::Assign: {
            const auto& a = static_cast<const ast::Assign&>(e);
            expr(*a.value);
            if (a.target->kind == ExprKind::Member) expr(*static_cast<const ast::Member&>(*a.target).object);
            if (a.target->kind == ExprKind::Index) {
                expr(*static_cast<const ast::Index&>(*a.target).object);
                expr(*static_cast<const ast::Index&>(*a.target).index);
            }
            if (const int32_t slot = slot_of(*a.target); slot >= 0) bind(slot, *a.value);
            break;
        }
        case ExprKind::Member: {
            const Expr& obj = *static_cast<const ast::Member&>(e).object;
            if (obj.kind != ExprKind::Name || s_.slot[obj.id] >= 0) expr(obj);  // not a Type name
            break;
        }
        case ExprKind::StructLit:
            for (const auto& f : static_cast<const ast::StructLit&>(e).fields)
                if (f.value) expr(*f.value);
            break;
        case ExprKind::Raw: expr(*static_cast<const ast::Raw&>(e).operand); break;
        case ExprKind::Drop: expr(*static_cast<const ast::Drop&>(e).operand); break;
        case ExprKind::Cast: expr(*static_cast<const ast::Cast&>(e).operand); break;
        case ExprKind::Index: {
            const auto& x = static_cast<const ast::Index&>(e);
            expr(*x.object);
            expr(*x.index);
            break;
        }
        case ExprKind::IntLit:
        case ExprKind::StrLit:
        case ExprKind::BoolLit: break;
        }
    }

    void use(const Expr& name) {
        const int32_t slot = s_.slot[name.id];
        if (auto v = view_of_.find(root(slot)); slot >= 0 && v != view_of_.end()) view_use(name, slot, v->second);
        auto h = handle_arena_.find(root(slot));
        if (slot < 0 || h == handle_arena_.end()) return;
        auto d = flow_.destroyed.find(h->second);
        if (d == flow_.destroyed.end()) return;
        const std::string arena = "'" + name_of(h->second) + "'";
        diag_.error(name.loc, kHandleEscape,
                    "Handle '" + name_of(slot) + "' is used after its arena " + arena +
                        (d->second.maybe ? " may have been destroyed (on some path)" : " was destroyed") +
                        ": it dereferences to 0 from then on");
        diag_.note(d->second.at, d->second.how.empty()
                                     ? "arena " + arena + " destroyed here"
                                     : "arena " + arena + " destroyed here, by '" + d->second.how +
                                           "', which destroys the arena it is given");
    }

    bool dead(int32_t handle) const {
        if (auto f = flow_.freed.find(handle); f != flow_.freed.end() && !f->second.maybe) return true;
        auto a = handle_arena_.find(handle);
        if (a == handle_arena_.end()) return false;
        auto d = flow_.destroyed.find(a->second);
        return d != flow_.destroyed.end() && !d->second.maybe;
    }

    // A use of memory a handle's deref gave, after the handle was freed
    // or its arena destroyed (on some path).
    void view_use(const Expr& name, int32_t slot, int32_t handle) {
        const Destroyed* d = nullptr;
        std::string why;
        if (auto f = flow_.freed.find(handle); f != flow_.freed.end()) {
            d = &f->second;
            why = "handle '" + name_of(handle) + "'" + (d->maybe ? " may have been freed" : " was freed");
        } else if (auto a = handle_arena_.find(handle); a != handle_arena_.end()) {
            if (auto x = flow_.destroyed.find(a->second); x != flow_.destroyed.end()) {
                d = &x->second;
                why = "the arena '" + name_of(a->second) + "' of handle '" + name_of(handle) + "'" +
                      (d->maybe ? " may have been destroyed" : " was destroyed");
            }
        }
        if (!d) return;
        diag_.error(name.loc, kHandleEscape,
                    "'" + name_of(slot) + "' is memory of a handle, used after " + why +
                        ": that memory is released with it");
        diag_.note(d->at, "released here");
    }

    void call(const ast::Call& c) {
        const Callee& k = s_.callee[c.id];
        if (const int32_t h = freed_handle(c); h >= 0 && !flow_.freed.count(h)) flow_.freed[h] = Destroyed{c.loc, ""};
        for (uint32_t i : sum_.destroyed(k)) {
            if (i >= c.args.size()) continue;
            const int32_t slot = root(copied_slot(*c.args[i]));
            if (slot < 0 || flow_.destroyed.count(slot)) continue;
            flow_.destroyed[slot] = Destroyed{c.loc, destroyer(k)};
        }
        if (k.kind != Callee::Kind::Extern) return;
        for (const auto& a : c.args) {
            const int32_t slot = slot_of(*a);
            if (slot < 0 || !fi_.slots[static_cast<size_t>(slot)].type->is_handle()) continue;
            diag_.warning(a->loc, kHandleEscape,
                          "Handle '" + name_of(slot) + "' is passed to extern '" + k.ext->name +
                              "' as a plain int64: past the C boundary no check follows it; write @cast<int64>(" +
                              name_of(slot) + ") to make that explicit");
        }
    }

    // `pass v` / `return v`: v must not carry a handle into a local arena.
    void escape(const Expr& v) {
        const Expr& e = strip(v);
        if (const int32_t arena = alloc_arena(e); arena >= 0 && is_local_arena(arena)) {
            escape_error(e.loc, "The handle allocated here", arena);
            return;
        }
        if (e.kind == ExprKind::StructLit) {
            const auto& lit = static_cast<const ast::StructLit&>(e);
            for (const auto& f : lit.fields) {
                if (!f.value) continue;
                if (lit.type_name == "Result" && f.name == "val") escape(*f.value);  // return Result{val: ...}
                else escape_field(*f.value);
            }
            return;
        }
        const int32_t slot = slot_of(e);
        if (slot < 0) return;
        if (auto h = handle_arena_.find(root(slot)); h != handle_arena_.end() && is_local_arena(h->second))
            escape_error(e.loc, "Handle '" + name_of(slot) + "'", h->second);
        if (auto held = held_.find(slot); held != held_.end())
            for (int32_t hs : held->second)
                if (is_local_arena(handle_arena_.at(hs)))
                    escape_error(e.loc, "'" + name_of(slot) + "' holds handle '" + name_of(hs) + "', which",
                                 handle_arena_.at(hs));
    }

    void escape_field(const Expr& value) {
        const int32_t slot = slot_of(value);
        if (auto h = handle_arena_.find(root(slot)); slot >= 0 && h != handle_arena_.end() && is_local_arena(h->second))
            escape_error(value.loc, "Handle '" + name_of(slot) + "'", h->second);
    }

    void escape_error(Loc at, const std::string& what, int32_t arena) {
        diag_.error(at, kHandleEscape,
                    what + " is returned but its arena '" + name_of(arena) +
                        "' is local to this function: the handle is dead once the arena is destroyed");
        diag_.note(fi_.slots[static_cast<size_t>(arena)].loc, "arena '" + name_of(arena) + "' created here");
    }

    const Sema& s_;
    const Summaries& sum_;
    Diagnostics& diag_;
    const FuncInfo& fi_;
    Flow flow_;
    std::vector<int32_t> root_;  // by slot: the slot whose arena or handle it holds (itself unless a copy)
    std::vector<int32_t> local_arenas_;
    std::unordered_map<int32_t, int32_t> handle_arena_;       // handle slot → arena slot
    std::unordered_map<int32_t, int32_t> view_of_;            // pointer slot → the handle it derefs
    std::unordered_map<int32_t, std::vector<int32_t>> held_;  // struct slot → handle slots
};

}  // namespace

void check_handles(const ast::Program& prog, const Sema& sema, const Options& opts, Diagnostics& diag) {
    const Summaries sum(prog, sema);
    for (const ast::FuncDecl* f : checked_functions(prog, opts.strict)) FunctionChecker(sema, sum, diag, *f).check(*f);
}

}  // namespace npk
