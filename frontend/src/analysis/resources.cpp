// Resources, not names (issue 16, item 4): the use-after-release and
// double-release rules (ARIA-015, ARIA-022) over may-alias sets of
// abstract resources, on the dataflow engine over each function's
// control-flow graph.
//
// It runs after the lifecycle check (analyses.cpp: only when that found
// nothing) and catches what its one-block-per-name model cannot: a name
// that holds one block on one path and another on the other. An abstract
// resource is a heap block or W^X page allocated in the function (by
// `alloc` / `wildx_alloc`, one per call site). Each slot, and each field
// of a struct local, maps to the set of resources it may hold: a
// declaration or an assignment replaces the set on its path (a name,
// `raw` / `drop` / @cast, pointer arithmetic, a field, a struct literal,
// what a helper may return of its arguments: returns.h; an extern any
// pointer argument unless #[fresh]); the arms of an `if` join by union. A
// release (free, wildx_free, a callee's #[releases] / #[consumes] or
// body summary, a drop.npk drop) through any alias releases what the
// name may hold; a resource released on one path only is "maybe". A use
// (`p[i]`, passing p to a function or an extern not #[inspects], `pass
// p`) of a released resource is ARIA-015, a second release ARIA-022; the
// message says "may" when only some paths released it or the name only
// may hold it.
//
// Memory is not followed: a resource whose address is stored through
// `p[i]` (or into a field of a struct reached through a pointer, or
// passed to a function that may store that parameter) escapes into one
// may-alias set per function, and a value loaded from memory may
// be any of those. A release through it may release each ("may have been
// released through a pointer read back from memory at L:C"). A drop.npk
// `wild S` heap struct is a resource of its own, released by its Drop
// event: naming it afterwards (in its scope's defers) is ARIA-015.
#include <algorithm>
#include <map>
#include <memory>
#include <string>
#include <unordered_set>
#include <vector>

#include "analysis/analyses.h"
#include "analysis/attrs.h"
#include "analysis/cfg.h"
#include "analysis/checked.h"
#include "analysis/dataflow.h"
#include "analysis/drops.h"
#include "analysis/lifecycle_state.h"
#include "analysis/returns.h"
#include "sema/sema.h"

namespace npk {
namespace {

using ast::Expr;
using ast::ExprKind;
using Set = std::vector<uint32_t>;  // resources (allocation call ids), sorted

void unite(Set& into, const Set& from) {
    Set out;
    std::set_union(into.begin(), into.end(), from.begin(), from.end(), std::back_inserter(out));
    into = std::move(out);
}

struct Released {
    Loc at;
    bool maybe = false;
    bool via_memory = false;  // through a pointer read back from memory (it may have been another one)
    bool operator==(const Released& o) const {
        return at.offset == o.at.offset && at.file == o.at.file && maybe == o.maybe && via_memory == o.via_memory;
    }
};

// Which parameters each function may store into memory (its own stores,
// and what it passes on to a function that stores that parameter).
using Stores = std::unordered_map<const ast::FuncDecl*, ParamSet>;

struct ResState {
    std::map<uint64_t, Set> holds;          // slot (or slot << 32 | field + 1) → resources
    std::map<uint32_t, Released> released;  // resource → where
    bool operator==(const ResState&) const = default;
};

uint64_t slot_key(int32_t slot) { return static_cast<uint32_t>(slot); }
// What escaped into memory in this function: every resource whose
// address was stored through `p[i]` (a word, at any offset) or into a
// field the check does not follow. A pointer read back from memory may be
// any of them (one set for the whole function: where two tables may
// alias, the check cannot tell them apart).
constexpr uint64_t kMemory = ~uint64_t{0};
// The resource of a drop.npk `wild S` heap struct, by slot (allocation
// call ids are node ids, below this bit).
constexpr uint32_t kHeapStruct = 0x80000000u;
uint64_t field_key(int32_t slot, uint32_t field) {
    return (static_cast<uint64_t>(static_cast<uint32_t>(slot)) << 32) | (field + 1);
}

class ResourceCheck {
public:
    using State = ResState;

    ResourceCheck(const Sema& s, const lifecycle::Summaries& sums, const ReturnSummaries& returns,
                  Diagnostics& diag, const ast::FuncDecl& fd, DropSwitches on, const Stores& stores)
        : s_(s), sums_(sums), returns_(returns), diag_(diag), fi_(s.func(&fd)), on_(on), stores_(stores) {
        find_relevant(fd);
    }

    // Whether any slot needs following (else the function is skipped).
    bool any_relevant() const {
        return heap_structs_ || std::find(relevant_.begin(), relevant_.end(), true) != relevant_.end();
    }

    State entry() const { return {}; }

    bool join(State& into, const State& from) const {
        const State before = into;
        for (const auto& [k, set] : from.holds) unite(into.holds[k], set);
        for (auto& [r, rel] : into.released)
            if (!from.released.count(r)) rel.maybe = true;
        for (const auto& [r, rel] : from.released) {
            auto [it, fresh] = into.released.emplace(r, rel);
            if (fresh || rel.maybe) it->second.maybe = true;
        }
        return !(before == into);
    }

    void transfer(const Event& e, State& st, bool report) {
        report_ = report;
        switch (e.kind) {
        case EventKind::Declare:
            if (const int32_t slot = s_.slot[e.decl->id]; slot >= 0) {
                bind(slot, e.decl->init.get(), st);
                if (heap_structs_) st.released.erase(kHeapStruct | static_cast<uint32_t>(slot));
            }
            return;
        case EventKind::Eval: eval(*e.expr, st); return;
        case EventKind::Drop:
            if (e.entry.kind == DropKind::Wild && e.entry.slot >= 0)  // the heap struct itself
                st.released[kHeapStruct | static_cast<uint32_t>(e.entry.slot)] = Released{e.at};
            if (e.entry.kind == DropKind::Wild || e.entry.kind == DropKind::Wildx || e.entry.kind == DropKind::Jit)
                release(get(st, slot_key(e.entry.slot)), e.at, e.entry.decl->name, st);
            return;
        case EventKind::Leave:
            if (e.leave->transfers() && e.leave->value) use(*e.leave->value, st);
            return;
        case EventKind::ScopeEnd:
        case EventKind::DeferBegin:
        case EventKind::DeferWritten:
        case EventKind::DeferEnd: return;
        }
    }

private:
    // The slots worth following: those connected, through declarations
    // and assignments that mention them, to a name or field assigned
    // after its declaration (a union-find over the body). A name only
    // ever bound once holds one block on every path, which the lifecycle
    // check follows exactly; leaving such names out keeps the states
    // small (npk_scale: 100k pointers and 100k ifs stay linear).
    void find_relevant(const ast::FuncDecl& fd) {
        const size_t n = fi_.slots.size();
        std::vector<size_t> parent(n);
        for (size_t i = 0; i < n; ++i) parent[i] = i;
        auto find = [&](size_t x) {
            while (parent[x] != x) x = parent[x] = parent[parent[x]];
            return x;
        };
        std::vector<bool> assigned(n, false);
        // With a store into memory: the pointers stored, and the slots
        // bound from a load (they may be a pointer read back).
        std::vector<int32_t> loaded, stored;
        bool escapes = false;
        loaded_.assign(n, false);
        auto note_load = [&](int32_t target, const Expr& value) {
            if (target >= 0 && mentions_load(value)) loaded.push_back(target);
        };
        auto link = [&](int32_t target, const Expr& value) {
            if (target < 0) return;
            ast::walk_expr(value, [&](const Expr& x) {
                if (x.kind == ExprKind::Name && s_.slot[x.id] >= 0)
                    parent[find(static_cast<size_t>(s_.slot[x.id]))] = find(static_cast<size_t>(target));
            });
        };
        std::vector<const ast::Stmt*> todo{fd.body.get()};
        while (!todo.empty()) {
            const ast::Stmt* st = todo.back();
            todo.pop_back();
            if (st->kind == ast::StmtKind::VarDecl) {
                const auto& d = static_cast<const ast::VarDecl&>(*st);
                if (d.init) link(s_.slot[d.id], *d.init), note_load(s_.slot[d.id], *d.init);
                if (raii_kind(d, on_) == DropKind::Wild) heap_structs_ = true;
            }
            ast::for_each_child(
                *st,
                [&](const Expr& e) {
                    ast::walk_expr(e, [&](const Expr& x) {
                        if (x.kind == ExprKind::Call) {
                            const auto& c = static_cast<const ast::Call&>(x);
                            const ParamSet keeps = stored_by(s_.callee[c.id]);
                            for (size_t i = 0; i < c.args.size(); ++i)
                                if (keeps & param_bit(i)) escapes = true, note_stored(*c.args[i], stored);
                        }
                        if (x.kind != ExprKind::Assign) return;
                        const auto& a = static_cast<const ast::Assign&>(x);
                        if (into_memory(*a.target)) {
                            escapes = true;
                            note_stored(*a.value, stored);
                            return;
                        }
                        const Expr* t = a.target.get();
                        if (t->kind == ExprKind::Member) t = static_cast<const ast::Member&>(*t).object.get();
                        if (t->kind != ExprKind::Name || s_.slot[t->id] < 0) return;
                        assigned[static_cast<size_t>(s_.slot[t->id])] = true;
                        link(s_.slot[t->id], *a.value);
                        note_load(s_.slot[t->id], *a.value);
                    });
                },
                [&](const ast::Stmt& c) { todo.push_back(&c); });
        }
        if (escapes)
            for (int32_t t : loaded) assigned[static_cast<size_t>(t)] = loaded_[static_cast<size_t>(t)] = true;
        std::unordered_set<size_t> stored_roots;
        for (int32_t v : stored) assigned[static_cast<size_t>(v)] = true, stored_roots.insert(find(static_cast<size_t>(v)));
        for (size_t i = 0; i < fi_.params.size() && i < n; ++i)
            if (stored_roots.count(find(i))) stored_params_ |= param_bit(i);
        std::vector<bool> root_relevant(n, false);
        for (size_t i = 0; i < n; ++i)
            if (assigned[i]) root_relevant[find(i)] = true;
        relevant_.assign(n, false);
        for (size_t i = 0; i < n; ++i) relevant_[i] = root_relevant[find(i)];
    }
    void note_stored(const Expr& value, std::vector<int32_t>& out) const {
        ast::walk_expr(value, [&](const Expr& v) {
            if (v.kind == ExprKind::Name && s_.slot[v.id] >= 0) out.push_back(s_.slot[v.id]);
        });
    }
    // The parameters a callee may store into memory (a function of the
    // program; an extern is taken not to keep what it is given).
    ParamSet stored_by(const Callee& k) const {
        if (k.kind != Callee::Kind::Func) return 0;
        auto it = stores_.find(k.fn);
        return it == stores_.end() ? 0 : it->second;
    }

public:
    ParamSet stored_params() const { return stored_params_; }

private:
    // A store into memory: through `p[i]`, or into a field of what is not
    // a local (a struct reached through a pointer or an index).
    bool into_memory(const Expr& target) const {
        if (target.kind == ExprKind::Index) return true;
        if (target.kind != ExprKind::Member) return false;
        const auto& m = static_cast<const ast::Member&>(target);
        return m.object->kind != ExprKind::Name && s_.member[m.id].kind == MemberKind::Field;
    }
    // Whether a value reads memory (a load through `p[i]`, or a field the
    // check does not follow).
    bool mentions_load(const Expr& value) const {
        bool found = false;
        ast::walk_expr(value, [&](const Expr& x) { found = found || reads_memory(x); });
        return found;
    }
    bool reads_memory(const Expr& x) const {
        if (x.kind == ExprKind::Index) return true;
        return x.kind == ExprKind::Member && into_memory(x);
    }
    bool relevant(int32_t slot) const { return slot >= 0 && relevant_[static_cast<size_t>(slot)]; }

    static Set get(const State& st, uint64_t key) {
        auto it = st.holds.find(key);
        return it == st.holds.end() ? Set{} : it->second;
    }
    const std::string& name_of(int32_t slot) const { return fi_.slots[static_cast<size_t>(slot)].name; }

    // The resources a value may be.
    Set value(const Expr& e, const State& st) const {
        switch (e.kind) {
        case ExprKind::Name: return relevant(s_.slot[e.id]) ? get(st, slot_key(s_.slot[e.id])) : Set{};
        case ExprKind::Raw: return value(*static_cast<const ast::Raw&>(e).operand, st);
        case ExprKind::Drop: return value(*static_cast<const ast::Drop&>(e).operand, st);
        case ExprKind::Cast: return value(*static_cast<const ast::Cast&>(e).operand, st);
        case ExprKind::Assign: return value(*static_cast<const ast::Assign&>(e).value, st);
        case ExprKind::Binary: {
            const auto& b = static_cast<const ast::Binary&>(e);
            if (b.op != ast::BinaryOp::Add && b.op != ast::BinaryOp::Sub) return {};
            Set out = value(*b.lhs, st);
            unite(out, value(*b.rhs, st));
            return out;
        }
        case ExprKind::Member: {
            const auto& m = static_cast<const ast::Member&>(e);
            const int32_t obj = m.object->kind == ExprKind::Name ? s_.slot[m.object->id] : -1;
            if (obj >= 0 && s_.member[m.id].kind == MemberKind::Field)
                return get(st, field_key(obj, s_.member[m.id].field));
            if (into_memory(e)) return get(st, kMemory);
            return value(*m.object, st);  // a Result's .val
        }
        case ExprKind::Call: return call_value(static_cast<const ast::Call&>(e), st);
        case ExprKind::IntLit:
        case ExprKind::StrLit:
        case ExprKind::BoolLit:
        case ExprKind::Unary:
        case ExprKind::StructLit: return {};
        case ExprKind::Index: return get(st, kMemory);  // a word read back may be what escaped
        }
        return {};
    }

    Set call_value(const ast::Call& c, const State& st) const {
        const Callee& k = s_.callee[c.id];
        Set out;
        switch (k.kind) {
        case Callee::Kind::None: return out;
        case Callee::Kind::Builtin:
            if (k.builtin == Builtin::Alloc || k.builtin == Builtin::WildxAlloc) out.push_back(c.id);
            return out;
        case Callee::Kind::Func: {
            const ParamSet may = returns_.of(k.fn);
            for (size_t i = 0; i < c.args.size(); ++i)
                if (may & param_bit(i)) unite(out, value(*c.args[i], st));
            return out;
        }
        case Callee::Kind::Extern:
            for (const AttrInfo& a : s_.attrs_of(k))
                if (a.name == attrs::kFresh) return out;
            for (const auto& a : c.args)
                if (s_.type_of(*a) && s_.type_of(*a)->is_ptr()) unite(out, value(*a, st));
            return out;
        }
        return out;
    }

    void bind(int32_t slot, const Expr* init, State& st) {
        if (!relevant(slot)) return;
        st.holds.erase(slot_key(slot));
        // The fields of a struct local start again too.
        auto lo = st.holds.lower_bound(field_key(slot, 0));
        auto hi = st.holds.lower_bound(field_key(slot + 1, 0));
        st.holds.erase(lo, hi);
        if (!init) return;
        if (init->kind == ExprKind::StructLit) {
            for (const ast::FieldInit& f : static_cast<const ast::StructLit&>(*init).fields)
                if (f.value && s_.field_init[f.value->id].kind == MemberKind::Field) {
                    Set v = value(*f.value, st);
                    if (!v.empty()) st.holds[field_key(slot, s_.field_init[f.value->id].field)] = v;
                }
            return;
        }
        Set v = value(*init, st);
        if (!v.empty()) st.holds[slot_key(slot)] = std::move(v);
    }

    void eval(const Expr& e, State& st) {
        switch (e.kind) {
        case ExprKind::Assign: {
            const auto& a = static_cast<const ast::Assign&>(e);
            if (into_memory(*a.target)) {
                Set v = value(*a.value, st);
                if (!v.empty()) unite(st.holds[kMemory], v);
            } else if (a.target->kind == ExprKind::Name && s_.slot[a.target->id] >= 0) {
                bind(s_.slot[a.target->id], a.value.get(), st);
            } else if (a.target->kind == ExprKind::Member) {
                const auto& m = static_cast<const ast::Member&>(*a.target);
                const int32_t obj = m.object->kind == ExprKind::Name ? s_.slot[m.object->id] : -1;
                if (obj >= 0 && s_.member[m.id].kind == MemberKind::Field) {
                    Set v = value(*a.value, st);
                    if (v.empty()) st.holds.erase(field_key(obj, s_.member[m.id].field));
                    else st.holds[field_key(obj, s_.member[m.id].field)] = std::move(v);
                }
            }
            return;
        }
        case ExprKind::Index: use(*static_cast<const ast::Index&>(e).object, st); return;
        case ExprKind::Name: read_heap_struct(e, st); return;
        case ExprKind::Call: call(static_cast<const ast::Call&>(e), st); return;
        case ExprKind::IntLit:
        case ExprKind::StrLit:
        case ExprKind::BoolLit:
        case ExprKind::Unary:
        case ExprKind::Binary:
        case ExprKind::Member:
        case ExprKind::StructLit:
        case ExprKind::Raw:
        case ExprKind::Drop:
        case ExprKind::Cast: return;
        }
    }

    // What a call releases, by parameter: builtins, #[releases] /
    // #[consumes], or the callee's body (lifecycle's summaries).
    std::vector<bool> releases(const Callee& k, size_t n) const {
        std::vector<bool> out(n, false);
        if (k.kind == Callee::Kind::Builtin) {
            if ((k.builtin == Builtin::Free || k.builtin == Builtin::WildxFree) && n > 0) out[0] = true;
            return out;
        }
        for (const AttrInfo& a : s_.attrs_of(k))
            if (attr_releases_argument(a.name))
                for (uint32_t p : a.params)
                    if (p < n) out[p] = true;
        if (k.kind == Callee::Kind::Func)
            if (auto it = sums_.find(k.fn); it != sums_.end())
                for (size_t i = 0; i < it->second.releases.size() && i < n; ++i)
                    if (it->second.releases[i] >= 0) out[i] = true;
        return out;
    }
    bool inspects(const Callee& k, size_t param) const {
        for (const AttrInfo& a : s_.attrs_of(k))
            if (a.name == attrs::kInspects)
                for (uint32_t p : a.params)
                    if (p == param) return true;
        return false;
    }

    void call(const ast::Call& c, State& st) {
        const Callee& k = s_.callee[c.id];
        // A new allocation at a call site (a loop's next iteration): the
        // resource of that site is live again. (A name still holding the
        // previous one is the lifecycle check's business.)
        if (k.kind == Callee::Kind::Builtin && (k.builtin == Builtin::Alloc || k.builtin == Builtin::WildxAlloc))
            st.released.erase(c.id);
        const ParamSet stored = stored_by(k);
        for (size_t i = 0; i < c.args.size(); ++i)  // a callee keeps the pointer in memory
            if (stored & param_bit(i))
                if (Set v = value(*c.args[i], st); !v.empty()) unite(st.holds[kMemory], v);
        const std::vector<bool> rel = releases(k, c.args.size());
        for (size_t i = 0; i < c.args.size(); ++i) {
            if (rel[i] || inspects(k, i) || k.kind == Callee::Kind::Builtin) continue;
            if (s_.type_of(*c.args[i]) && s_.type_of(*c.args[i])->is_ptr()) use(*c.args[i], st);
        }
        for (size_t i = 0; i < c.args.size(); ++i)
            if (rel[i])
                release(value(*c.args[i], st), c.loc, text_of(*c.args[i]), st, from_memory(*c.args[i]));
    }

    std::string text_of(const Expr& e) const {
        const Expr& x = strip_raw(e);
        if (x.kind == ExprKind::Name) return static_cast<const ast::Name&>(x).name;
        if (const Expr* load = read_back(e)) return "the pointer read back from memory at " + where(load->loc);
        return "the pointer";
    }
    static std::string where(Loc at) { return std::to_string(at.line) + ":" + std::to_string(at.col); }
    // The load a pointer value is read back by (through casts), if any.
    static const Expr& strip_casts(const Expr& e) {
        const Expr* x = &e;
        for (;;) {
            if (x->kind == ExprKind::Raw) x = static_cast<const ast::Raw&>(*x).operand.get();
            else if (x->kind == ExprKind::Drop) x = static_cast<const ast::Drop&>(*x).operand.get();
            else if (x->kind == ExprKind::Cast) x = static_cast<const ast::Cast&>(*x).operand.get();
            else return *x;
        }
    }
    const Expr* read_back(const Expr& e) const {
        const Expr& x = strip_casts(e);
        return reads_memory(x) ? &x : nullptr;
    }
    // Whether a pointer may come from memory: read back, or a name bound
    // from a load.
    bool from_memory(const Expr& e) const {
        const Expr& x = strip_casts(e);
        if (x.kind == ExprKind::Name && s_.slot[x.id] >= 0) return loaded_[static_cast<size_t>(s_.slot[x.id])];
        return reads_memory(x);
    }

    bool first(Loc at) { return report_ && reported_.insert(at.offset).second; }

    // How a resource was released, for a message ("was released", "may
    // have been released through a pointer read back from memory at L:C").
    static std::string how(const Released& rel, bool maybe, const char* already) {
        if (rel.via_memory) return "may have been released through a pointer read back from memory at " + where(rel.at);
        return maybe ? std::string("may have been released") + already + " (on some path)"
                     : std::string("was released") + already;
    }

    // `held` (what `e` may hold) is released at `at`.
    void release(const Set& held, Loc at, const std::string& name, State& st, bool via_memory = false) {
        if (held.empty()) return;
        for (uint32_t r : held)
            if (auto it = st.released.find(r); it != st.released.end()) {
                const bool maybe = it->second.maybe || held.size() > 1;
                if (first(at)) {
                    diag_.error(at, "ARIA-022",
                                "Double free of '" + name + "': the block it " +
                                    (held.size() > 1 || via_memory ? "may hold " : "holds ") + how(it->second, maybe, " already"));
                    diag_.note(it->second.at, "released here");
                }
                return;
            }
        for (uint32_t r : held) st.released[r] = Released{at, held.size() > 1 || via_memory, via_memory};
    }

    void use(const Expr& e, const State& st) {
        const Set held = value(e, st);
        const bool via_memory = from_memory(e);
        for (uint32_t r : held)
            if (auto it = st.released.find(r); it != st.released.end()) {
                const bool maybe = it->second.maybe || held.size() > 1;
                if (first(e.loc)) {
                    diag_.error(e.loc, "ARIA-015",
                                "Use after free: '" + text_of(e) + "' " +
                                    (held.size() > 1 || via_memory ? "may hold" : "holds") + " a block that " +
                                    how(it->second, maybe, ""));
                    diag_.note(it->second.at, "released here");
                }
                return;
            }
    }

    // A drop.npk `wild S` named (a field read or written, the struct
    // passed) after its scope's drop released it: in that scope's defers,
    // since drops run first.
    void read_heap_struct(const Expr& name, const State& st) {
        if (!heap_structs_) return;
        const int32_t slot = s_.slot[name.id];
        if (slot < 0) return;
        auto it = st.released.find(kHeapStruct | static_cast<uint32_t>(slot));
        if (it == st.released.end() || !first(name.loc)) return;
        diag_.error(name.loc, "ARIA-015",
                    "Use after free: the heap struct '" + name_of(slot) + "' " +
                        (it->second.maybe ? "may have been" : "was") +
                        " released by its scope's drop (drops run before the scope's defers)");
        diag_.note(it->second.at, "released here, where its scope ends");
    }

    const Sema& s_;
    const lifecycle::Summaries& sums_;
    const ReturnSummaries& returns_;
    Diagnostics& diag_;
    const FuncInfo& fi_;
    std::vector<bool> relevant_;  // by slot: see find_relevant
    std::vector<bool> loaded_;    // by slot: bound from a load in a function that stores pointers
    DropSwitches on_;
    const Stores& stores_;
    ParamSet stored_params_ = 0;  // the parameters this function may store into memory
    bool heap_structs_ = false;   // a drop.npk `wild S` is declared
    bool report_ = false;
    std::unordered_set<uint32_t> reported_;
};

}  // namespace

void check_resources(const ast::Program& prog, const Sema& sema, const Options& opts, Diagnostics& diag,
                     Shared& shared) {
    // The summaries are computed only if some function has a name worth
    // following (most programs have none).
    std::unique_ptr<lifecycle::Summaries> sums;
    const lifecycle::Summaries none;
    const ReturnSummaries no_returns;
    const DropSwitches on = drop_switches(prog);
    // Which parameters each function may store into memory, to a fixed
    // point over calls (a set only grows; each pass is linear).
    Stores stores;
    for (bool changed = true; changed;) {
        changed = false;
        for (const ast::FuncDecl* f : checked_functions(prog, true)) {
            if (!f->body) continue;
            const ParamSet p = ResourceCheck(sema, none, no_returns, diag, *f, on, stores).stored_params();
            if (p != (stores.count(f) ? stores[f] : 0)) stores[f] = p, changed = true;
        }
    }
    for (const ast::FuncDecl* f : checked_functions(prog, opts.strict)) {
        if (!f->body) continue;
        if (!ResourceCheck(sema, none, no_returns, diag, *f, on, stores).any_relevant()) continue;
        if (!sums) {
            sums = std::make_unique<lifecycle::Summaries>(lifecycle::release_summaries(prog, sema, shared.returns()));
        }
        ResourceCheck a(sema, *sums, shared.returns(), diag, *f, on, stores);
        const Cfg& g = shared.graphs.of(*f);
        const Solution<ResourceCheck> sol = solve(g, a);
        report(g, a, sol);
    }
}

}  // namespace npk
