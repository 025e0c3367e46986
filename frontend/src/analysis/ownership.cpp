// The ownership analysis (ownership.h): set-up, names and values, and
// the events of the graph other than calls (ownership_calls.cpp).
#include "analysis/ownership.h"

#include "analysis/attrs.h"
#include "analysis/checked.h"

namespace npk::ownership {

using ast::Expr;
using ast::ExprKind;

Analysis::Analysis(const Sema& s, const Summaries& sums, const ReturnSummaries& returns, Diagnostics* diag,
                   const ast::FuncDecl& fd, const DropSwitches& on)
    : s_(s), sums_(sums), returns_(returns), diag_(diag), fi_(s.func(&fd)), on_(on) {
    owned_.push_back({0, -1, 0});  // [0]: the empty stack
    calls_.assign(fi_.params.size(), -1);
    prepare(fd);
}

// What the analysis reads of the body once: each slot's declaration and
// kind, and which names are not a use where they appear.
void Analysis::prepare(const ast::FuncDecl& fd) {
    const size_t n = fi_.slots.size();
    decl_of_slot_.assign(n, nullptr);
    owner_slot_.assign(n, 0);
    heap_struct_.assign(n, 0);
    loaded_.assign(n, 0);
    if (!fd.body) return;
    ast::walk_stmt_exprs(*fd.body, [&](const Expr& x) { note_not_uses(x); });
    std::vector<const ast::Stmt*> todo{fd.body.get()};
    while (!todo.empty()) {
        const ast::Stmt* st = todo.back();
        todo.pop_back();
        if (st->kind == ast::StmtKind::VarDecl) {
            const auto& d = static_cast<const ast::VarDecl&>(*st);
            const int32_t slot = s_.slot[d.id];
            if (slot >= 0) {
                const auto i = static_cast<size_t>(slot);
                decl_of_slot_[i] = &d;
                owner_slot_[i] = (d.quals & (ast::Q_WILD | ast::Q_WILDX)) != 0 && d.init;
                heap_struct_[i] = raii_kind(d, on_) == DropKind::Wild;
                if (d.init && reads_memory(strip_casts(*d.init))) loaded_[i] = 1;
            }
        }
        ast::for_each_child(
            *st, [](const Expr&) {}, [&](const ast::Stmt& c) { todo.push_back(&c); });
    }
    // Parameters: a pointer is its own resource; so is what each pointer
    // field of a struct parameter points to.
    for (size_t i = 0; i < fi_.params.size(); ++i) {
        const Type* t = fi_.params[i];
        if (t->kind != TypeKind::Struct || !t->st) continue;
        for (size_t f = 0; f < t->st->fields.size(); ++f)
            if (t->st->fields[f].type && t->st->fields[f].type->is_ptr())
                param_fields_.push_back((static_cast<uint64_t>(i) << 32) | f);
    }
}

void Analysis::note_not_uses(const Expr& x) {
    auto skip = [&](const Expr& e) { not_a_use_.insert(strip_casts(e).id); };
    if (x.kind == ExprKind::Assign) {
        const auto& a = static_cast<const ast::Assign&>(x);
        if (a.target->kind == ExprKind::Name || a.target->kind == ExprKind::Member) skip(*a.target);
        if (a.target->kind == ExprKind::Name && s_.slot[a.target->id] >= 0) {
            if (reads_memory(strip_casts(*a.value))) loaded_[static_cast<size_t>(s_.slot[a.target->id])] = 1;
        }
    }
    if (x.kind == ExprKind::Member) {
        const auto& m = static_cast<const ast::Member&>(x);
        if (m.object->kind == ExprKind::Name) not_a_use_.insert(m.object->id);
    }
    if (x.kind == ExprKind::Call) {
        const auto& c = static_cast<const ast::Call&>(x);
        const Callee& k = s_.callee[c.id];
        const Releases rel = releases_of(k);
        if (k.kind == Callee::Kind::Extern)
            for (const auto& a : c.args) to_c_.insert(strip_casts(*a).id);
        for (size_t i = 0; i < c.args.size(); ++i) {
            const bool released = i < rel.size() && rel[i] >= 0;
            const Expr& a = *c.args[i];
            if (released || has_attr(s_, k, attrs::kInspects, i)) {
                if (a.kind == ExprKind::Name || a.kind == ExprKind::Member) skip(a);
            }
        }
    }
}

// ---- names and values ------------------------------------------------------

uint32_t Analysis::field_key(int32_t slot, uint32_t field) {
    const uint64_t k = (static_cast<uint64_t>(static_cast<uint32_t>(slot)) << 32) | field;
    auto [it, fresh] = field_ids_.emplace(k, static_cast<uint32_t>(field_names_.size()));
    if (fresh) {
        field_names_.emplace_back(slot, field);
        fields_of_slot_[slot].push_back(it->second);
    }
    return kFieldTag + it->second;
}

// The name key of a bare name or of a field of a local struct.
bool Analysis::key_of(const Expr& e, uint32_t& key) {
    if (e.kind == ExprKind::Name) {
        const int32_t slot = s_.slot[e.id];
        if (slot < 0) return false;
        key = static_cast<uint32_t>(slot);
        return true;
    }
    if (e.kind != ExprKind::Member) return false;
    const auto& m = static_cast<const ast::Member&>(e);
    if (m.object->kind != ExprKind::Name || s_.member[m.id].kind != MemberKind::Field) return false;
    const int32_t slot = s_.slot[m.object->id];
    if (slot < 0) return false;
    key = field_key(slot, s_.member[m.id].field);
    return true;
}

std::string Analysis::name_of_key(uint32_t key) const {
    if (key < kFieldTag) return fi_.slots[key].name;
    if (key == kMemory) return "memory";
    const auto [slot, field] = field_names_[key - kFieldTag];
    const Type* t = fi_.slots[static_cast<size_t>(slot)].type;
    const std::string f = t && t->st && field < t->st->fields.size() ? t->st->fields[field].name : "?";
    return fi_.slots[static_cast<size_t>(slot)].name + "." + f;
}

std::string Analysis::text_of(const Expr& e) const {
    const Expr& x = strip_casts(e);
    if (x.kind == ExprKind::Name && s_.slot[x.id] >= 0) return fi_.slots[static_cast<size_t>(s_.slot[x.id])].name;
    if (x.kind == ExprKind::Member) {
        const auto& m = static_cast<const ast::Member&>(x);
        if (m.object->kind == ExprKind::Name && s_.slot[m.object->id] >= 0 &&
            s_.member[m.id].kind == MemberKind::Field)
            return fi_.slots[static_cast<size_t>(s_.slot[m.object->id])].name + "." + m.member;
    }
    if (reads_memory(x))
        return "the pointer read back from memory at " + std::to_string(x.loc.line) + ":" + std::to_string(x.loc.col);
    return "the pointer";
}

Set Analysis::get(const State& st, uint32_t key) const {
    const Set* s = st.holds.find(key);
    return s ? *s : Set{};
}

// `key` holds `v` from here on: what it held before, and whether it was
// released through itself, no longer matter. A released resource that no
// name holds any more is forgotten: it cannot be named again, and a path
// where it never existed then joins with this one as it is (a loop that
// frees a block and allocates the next one).
void Analysis::put(State& st, uint32_t key, const Set& v) {
    const Set* before = st.holds.find(key);
    Set gone;
    if (before)
        for (uint32_t r : *before)
            if (!holds(v, r))
                if (const Fact* f = st.facts.find(r); f && f->life == Life::Released && !f->pending) gone.push_back(r);
    if (v.empty()) st.holds.erase(key);
    else st.holds.set(key, v);
    st.freed.erase(key);
    if (gone.empty()) return;
    // (a scan of every name: only when a name that held a released block
    // is bound again)
    st.holds.for_each([&](uint32_t, const Set& s) {
        gone.erase(std::remove_if(gone.begin(), gone.end(), [&](uint32_t r) { return holds(s, r); }), gone.end());
    });
    for (uint32_t r : gone) st.facts.erase(r);
}

// `v` is stored into memory: a pointer read back from memory may be any of it.
void Analysis::escape(State& st, const Set& v) {
    if (v.empty()) return;
    Set m = get(st, kMemory);
    unite(m, v);
    st.holds.set(kMemory, m);
}

Fact Analysis::fact(const State& st, uint32_t r) const {
    const Fact* f = st.facts.find(r);
    return f ? *f : Fact{};
}

// A new resource, `id`, bound by a declaration or an assignment whose
// value is no resource the analysis knows (an extern's #[fresh] pointer,
// a handle, a pointer read back from an empty memory).
uint32_t Analysis::fresh(State& st, uint32_t id, const Expr* init) {
    Fact f;
    if (init && starts_unsealed(*init)) f.seal = Seal::Unsealed;
    st.facts.set(id, f);
    return id;
}

// A store into memory: through `p[i]`, or into a field of what is not a
// local (a struct reached through a pointer or an index).
bool Analysis::into_memory(const Expr& target) const {
    if (target.kind == ExprKind::Index) return true;
    if (target.kind != ExprKind::Member) return false;
    const auto& m = static_cast<const ast::Member&>(target);
    if (s_.member[m.id].kind != MemberKind::Field) return false;
    if (m.object->kind == ExprKind::Name) {
        const int32_t slot = s_.slot[m.object->id];
        if (slot < 0) return false;
        const Type* t = fi_.slots[static_cast<size_t>(slot)].type;
        return t && t->is_ptr();  // p.f through a pointer to a struct
    }
    return true;
}
bool Analysis::reads_memory(const Expr& x) const {
    if (x.kind == ExprKind::Index) return true;
    return x.kind == ExprKind::Member && into_memory(x);
}
// Whether a pointer may come from memory: read back, or a name bound from a load.
bool Analysis::from_memory(const Expr& e) const {
    const Expr& x = strip_casts(e);
    if (x.kind == ExprKind::Name && s_.slot[x.id] >= 0) return loaded_[static_cast<size_t>(s_.slot[x.id])] != 0;
    return reads_memory(x);
}

// A name whose uses are checked: a pointer, or a `wild` / `wildx` name.
bool Analysis::tracked_slot(int32_t slot) const {
    if (slot < 0) return false;
    const auto i = static_cast<size_t>(slot);
    const Type* t = fi_.slots[i].type;
    return (t && t->is_ptr()) || owner_slot_[i] || heap_struct_[i];
}

// The resources a value may be.
Set Analysis::value(const Expr& e, State& st) {
    switch (e.kind) {
    case ExprKind::Name: {
        const int32_t slot = s_.slot[e.id];
        return slot >= 0 ? get(st, static_cast<uint32_t>(slot)) : Set{};
    }
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
        uint32_t key;
        if (key_of(e, key)) return get(st, key);
        if (into_memory(e)) return get(st, kMemory);
        const auto& m = static_cast<const ast::Member&>(e);
        if (s_.member[m.id].kind == MemberKind::Value) return value(*m.object, st);  // a Result's .val
        return {};
    }
    case ExprKind::Call: return call_value(static_cast<const ast::Call&>(e), st);
    case ExprKind::Index: return get(st, kMemory);  // a word read back may be what was stored
    case ExprKind::IntLit:
    case ExprKind::StrLit:
    case ExprKind::BoolLit:
    case ExprKind::Unary:
    case ExprKind::StructLit: return {};
    }
    return {};
}

// What a call may return: a new block (alloc, wildx_alloc), what a
// function may return of its arguments (returns.h), any pointer argument
// of an extern that is not #[fresh]; never an argument it releases.
Set Analysis::call_value(const ast::Call& c, State& st) {
    const Callee& k = s_.callee[c.id];
    if (k.kind == Callee::Kind::None) return {};
    if (k.kind == Callee::Kind::Builtin) return allocates(k) ? Set{c.id} : Set{};
    const Type* t = s_.type_of(c);
    if (t && t->is_result()) t = t->elem;
    if (!t || !t->is_ptr() || has_attr(s_, k, attrs::kFresh)) return {};
    const ParamSet may = k.kind == Callee::Kind::Func ? returns_.of(k.fn) : ~ParamSet{0};
    const Releases rel = releases_of(k);
    Set out;
    for (size_t i = 0; i < c.args.size(); ++i) {
        if (!(may & param_bit(i)) || (i < rel.size() && rel[i] >= 0)) continue;
        const Type* at = s_.type_of(*c.args[i]);
        if (k.kind == Callee::Kind::Extern && !(at && at->is_ptr())) continue;
        unite(out, value(*c.args[i], st));
    }
    return out;
}

// ---- the lattice -------------------------------------------------------------

State Analysis::entry() {
    State st;
    for (size_t i = 0; i < fi_.params.size() && i < fi_.slots.size(); ++i) {
        if (!fi_.params[i]->is_ptr()) continue;
        const uint32_t r = kParamTag | static_cast<uint32_t>(i);
        st.facts.set(r, Fact{});
        st.holds.set(static_cast<uint32_t>(i), Set{r});
    }
    for (size_t n = 0; n < param_fields_.size(); ++n) {
        const uint32_t r = kParamFieldTag | static_cast<uint32_t>(n);
        st.facts.set(r, Fact{});
        const auto param = static_cast<int32_t>(param_fields_[n] >> 32);
        st.holds.set(field_key(param, static_cast<uint32_t>(param_fields_[n] & 0xffffffffu)), Set{r});
    }
    return st;
}

bool Analysis::join(State& into, const State& from) {
    bool changed = into.facts.join_with(from.facts, [](uint32_t, const Fact* a, const Fact* b) -> std::optional<Fact> {
        if (a && b) return join_fact(*a, *b);
        return join_absent(a ? *a : *b);
    });
    changed |= into.holds.join_with(from.holds, [](uint32_t, const Set* a, const Set* b) -> std::optional<Set> {
        if (!a) return *b;
        if (!b) return *a;
        Set out = *a;
        unite(out, *b);
        return out;
    });
    changed |= into.freed.join_with(from.freed, [](uint32_t, const NameFreed* a, const NameFreed* b) -> std::optional<NameFreed> {
        if (a && b) return NameFreed{a->at, a->maybe || b->maybe};
        return NameFreed{a ? a->at : b->at, true};
    });
    // Scopes nest: every path to a point opened the same ones (see OwnedNode).
    return changed;
}

// ---- events ------------------------------------------------------------------

void Analysis::transfer(const Event& e, State& st, bool report) {
    report_ = report;
    switch (e.kind) {
    case EventKind::Eval: eval(*e.expr, st); return;
    case EventKind::Declare: declare(*e.decl, e.depth, st); return;
    case EventKind::Drop: drop(e, st); return;
    case EventKind::ScopeEnd: scope_end(e, st); return;
    case EventKind::Leave: leave(*e.leave, st); return;
    case EventKind::DeferWritten: defer_written(e, st); return;
    case EventKind::DeferBegin:
    case EventKind::DeferEnd: return;
    }
}

void Analysis::eval(const Expr& e, State& st) {
    switch (e.kind) {
    case ExprKind::Name:
        if (s_.slot[e.id] >= 0 && heap_struct_[static_cast<size_t>(s_.slot[e.id])])
            read_heap_struct(e, st);
        else if (!not_a_use_.count(e.id) && tracked_slot(s_.slot[e.id]))
            use(e, st);
        return;
    case ExprKind::Member: {
        uint32_t key;
        if (!not_a_use_.count(e.id) && key_of(e, key) && st.holds.find(key)) use(e, st);
        return;
    }
    case ExprKind::Assign: assign(static_cast<const ast::Assign&>(e), st); return;
    case ExprKind::Call: call(static_cast<const ast::Call&>(e), st); return;
    case ExprKind::IntLit:
    case ExprKind::StrLit:
    case ExprKind::BoolLit:
    case ExprKind::Unary:
    case ExprKind::Binary:
    case ExprKind::StructLit:
    case ExprKind::Raw:
    case ExprKind::Drop:
    case ExprKind::Cast: return;
    case ExprKind::Index: {  // through a pointer read back from memory (a name is checked as itself)
        const Expr& object = *static_cast<const ast::Index&>(e).object;
        if (reads_memory(strip_casts(object))) use(object, st);
        return;
    }
    }
}

// §8.2 "Tracked binding": a declaration gives its name what the
// initializer may be (a new resource if nothing known); a `wild` /
// `wildx` name becomes the owner of what has none, and owes its release
// (a drop.npk RAII binding owes nothing: its Drop releases it).
void Analysis::declare(const ast::VarDecl& d, uint32_t depth, State& st) {
    const int32_t slot = s_.slot[d.id];
    if (slot < 0) return;
    const auto key = static_cast<uint32_t>(slot);
    if (auto it = fields_of_slot_.find(slot); it != fields_of_slot_.end())
        for (uint32_t f : it->second) st.holds.erase(kFieldTag + f);
    if (!d.init) {
        put(st, key, {});
        return;
    }
    Set v;
    if (d.init->kind == ExprKind::StructLit) {
        for (const ast::FieldInit& f : static_cast<const ast::StructLit&>(*d.init).fields)
            if (f.value && s_.field_init[f.value->id].kind == MemberKind::Field) {
                const Set fv = value(*f.value, st);
                if (!fv.empty()) st.holds.set(field_key(slot, s_.field_init[f.value->id].field), fv);
            }
    } else {
        v = value(*d.init, st);
    }
    const auto i = static_cast<size_t>(slot);
    if (v.empty() && (tracked_slot(slot))) v = {fresh(st, d.id, d.init.get())};
    put(st, key, v);
    if (!owner_slot_[i]) return;
    const Loc decl = d.name_loc.line != 0 ? d.name_loc : d.loc;
    const bool raii = raii_kind(d, on_) != DropKind::None;
    bool owns = false;
    for (uint32_t r : v) {
        Fact f = fact(st, r);
        if (f.owner >= 0) continue;
        owns = true;
        f.owner = slot;
        if (f.life == Life::Live && f.deferred == Deferred::No) f.pending = true;
        if (raii) {  // ⚑ §9.2: an explicit release too would be a second one (ARIA-022)
            f.pending = false;
            f.deferred = Deferred::Sure;
            f.deferred_at = decl;
            f.raii = true;
        }
        st.facts.set(r, f);
    }
    if (!owns) return;
    const uint64_t k = (static_cast<uint64_t>(st.owned) << 32) | static_cast<uint32_t>(slot);
    auto [it, fresh_node] = owned_index_.emplace(k, static_cast<uint32_t>(owned_.size()));
    if (fresh_node) owned_.push_back({depth, slot, st.owned});
    st.owned = it->second;
}

void Analysis::assign(const ast::Assign& a, State& st) {
    const Expr& target = *a.target;
    Set v = value(*a.value, st);
    if (into_memory(target)) {
        if (target.kind == ExprKind::Index) page_store(target, st);
        escape(st, v);
        return;
    }
    uint32_t key;
    if (!key_of(target, key)) return;
    if (target.kind == ExprKind::Member) {
        put(st, key, v);
        return;
    }
    const int32_t slot = static_cast<int32_t>(key);
    const Set old = get(st, key);
    if (!v.empty() && v == old) return;  // already the same block
    const Expr& src = strip_casts(*a.value);
    const bool is_fresh = v.empty() || (src.kind == ExprKind::Call && allocates(s_.callee[src.id]));
    if (v.empty() && tracked_slot(slot)) v = {fresh(st, a.id, a.value.get())};
    // What the name owned and still owes leaks now, unless it holds it again.
    Deferred inherited = Deferred::No;
    Loc inherited_at{};
    bool reported = false;
    for (uint32_t r : old) {
        if (holds(v, r)) continue;
        Fact f = fact(st, r);
        if (f.owner != slot) continue;
        if (f.deferred > inherited) inherited = f.deferred, inherited_at = f.deferred_at;
        const bool owed = f.life != Life::Released && (f.pending || f.deferred != Deferred::No);
        if (owed && !reported) {
            reported = true;
            error(a.loc, kLeak,
                  "Memory leak: wild variable '" + fi_.slots[key].name + "' was overwritten before being freed");
            note_declared(slot);
        }
        f.owner = -1;
        f.pending = false;
        st.facts.set(r, f);
    }
    put(st, key, v);
    if (!owner_slot_[static_cast<size_t>(slot)] || !is_fresh) return;
    for (uint32_t r : v) {
        Fact f = fact(st, r);
        if (f.owner >= 0 && f.owner != slot) continue;
        f.owner = slot;
        f.deferred = inherited;  // a defer of the name releases what it holds when it runs
        f.deferred_at = inherited_at;
        f.pending = f.life == Life::Live && inherited == Deferred::No;
        st.facts.set(r, f);
    }
}

// drop.npk releases an RAII binding where its block ends (before the
// block's defers): what it holds is released here, as its declaration
// said it would be.
void Analysis::drop(const Event& e, State& st) {
    const DropKind k = e.entry.kind;
    if (k != DropKind::Wild && k != DropKind::Wildx && k != DropKind::Jit) return;
    if (e.entry.slot < 0) return;
    for (uint32_t r : get(st, static_cast<uint32_t>(e.entry.slot))) {
        Fact f = fact(st, r);
        if (!f.raii) continue;
        f.life = Life::Released;
        f.freed_at = e.at;
        f.freed_as = k == DropKind::Wild ? Origin::Heap : Origin::Page;
        f.deferred = Deferred::No;
        f.pending = false;
        st.facts.set(r, f);
    }
}

// The owners of scopes at nesting `down_to` and deeper end here: what
// they still owe leaks ("<what>: wild variable 'p' <how>").
void Analysis::check_leaks(State& st, uint32_t down_to, Loc at, const char* what, const std::string& how) {
    while (st.owned != 0 && owned_[st.owned].depth >= down_to) {
        const OwnedNode n = owned_[st.owned];
        for (uint32_t r : get(st, static_cast<uint32_t>(n.slot))) {
            const Fact f = fact(st, r);
            if (f.owner != n.slot || !f.pending) continue;
            error(at, kLeak,
                  std::string(what) + ": wild variable '" + fi_.slots[static_cast<size_t>(n.slot)].name + "' " + how);
            note_declared(n.slot);
            break;
        }
        st.owned = n.parent;
    }
}

void Analysis::scope_end(const Event& e, State& st) {
    std::string how = "was not freed before scope exit";
    if (e.jump) how = e.jump->kind == ast::StmtKind::Break ? "was not freed before break" : "was not freed before continue";
    check_leaks(st, e.depth, e.jump ? e.jump->loc : e.at, "Memory leak", how);
}

// exit / pass / fail / return: the value handed to the caller is the
// caller's now; whatever else is still owed leaks.
void Analysis::leave(const ast::Leave& l, State& st) {
    if (l.transfers() && l.value) {
        const Set held = value(*l.value, st);
        handed_out(*l.value, held, st);
        for (uint32_t r : held) {
            Fact f = fact(st, r);
            if (!f.pending) continue;
            f.pending = false;
            st.facts.set(r, f);
        }
    }
    check_leaks(st, 0, l.loc, "Memory leak on early exit", "was not freed before pass/fail/return/exit");
}

// `pass v` / `return v`: what the caller receives must outlive the scope
// exits that run now.
void Analysis::handed_out(const ast::Expr& value, const Set& held, State& st) {
    const Type* t = s_.type_of(value);
    if (!(t->is_ptr() || (t->is_result() && t->elem && t->elem->is_ptr()))) return;
    const Expr& x = strip_casts(value);
    const int32_t by = x.kind == ExprKind::Name ? s_.slot[x.id] : -1;
    for (uint32_t r : held) {
        const Fact f = fact(st, r);
        if (f.raii && f.life != Life::Released) {
            if (by >= 0 && f.owner == by && &x == &value) continue;  // moved out: not dropped
            const std::string owner = f.owner >= 0 ? fi_.slots[static_cast<size_t>(f.owner)].name : text_of(value);
            error(value.loc, kUseAfterFree,
                  "The caller would receive a released block: drop.npk releases '" + owner +
                      "' when the function returns, and this is another name of it; pass '" + owner +
                      "' itself to move it out");
            note_declared(f.owner);
            return;
        }
        if (f.deferred != Deferred::No && f.life != Life::Released && !f.raii) {
            error(value.loc, kUseAfterFree,
                  "The caller would receive a released block: a defer releases '" + text_of(value) +
                      "' when the function returns");
            note(f.deferred_at, "released here, by the defer");
            return;
        }
    }
}

// A `defer` is written: what its body releases is owed no more (the
// defer releases it when it runs, at every exit of the scope; the body's
// own release is then no second one). A release behind an `if`, a loop
// or `&&` / `||` in the body may not run: a warning, and only "maybe".
void Analysis::defer_written(const Event& e, State& st) {
    std::vector<std::pair<const ast::Call*, bool>> calls;  // the body's calls; sure to run?
    collect_calls(*e.entry.defer, true, calls);
    for (const auto& [c, sure] : calls) {
        const Releases rel = releases_of(s_.callee[c->id]);
        for (size_t i = 0; i < c->args.size() && i < rel.size(); ++i) {
            if (rel[i] < 0) continue;
            const Set held = value(*c->args[i], st);
            const Deferred kind = sure && held.size() == 1 ? Deferred::Sure : Deferred::Maybe;
            for (uint32_t r : held) {
                Fact f = fact(st, r);
                if (!sure) {
                    const std::string who =
                        f.owner >= 0 ? fi_.slots[static_cast<size_t>(f.owner)].name : text_of(*c->args[i]);
                    warning(e.at, "Defer block contains conditional/loop - free of '" + who +
                                      "' may not execute on all paths");
                    note(c->loc, "'" + who + "' is freed here");
                }
                f.pending = false;
                if (kind > f.deferred) {
                    f.deferred = kind;
                    f.deferred_at = c->loc;
                }
                st.facts.set(r, f);
            }
        }
    }
}

void Analysis::collect_calls(const ast::Stmt& s, bool sure, std::vector<std::pair<const ast::Call*, bool>>& out) const {
    const bool inner = sure && s.kind != ast::StmtKind::If && s.kind != ast::StmtKind::While;
    ast::for_each_child(
        s, [&](const Expr& e) { collect_calls(e, inner, out); },
        [&](const ast::Stmt& c) { collect_calls(c, inner, out); });
}

void Analysis::collect_calls(const Expr& e, bool sure, std::vector<std::pair<const ast::Call*, bool>>& out) const {
    if (e.kind == ExprKind::Binary) {
        const auto& b = static_cast<const ast::Binary&>(e);
        if (b.op == ast::BinaryOp::And || b.op == ast::BinaryOp::Or) {
            collect_calls(*b.lhs, sure, out);
            collect_calls(*b.rhs, false, out);
            return;
        }
    }
    ast::for_each_child(e, [&](const Expr& c) { collect_calls(c, sure, out); });
    if (e.kind == ExprKind::Call) out.emplace_back(static_cast<const ast::Call*>(&e), sure);
}

}  // namespace npk::ownership
