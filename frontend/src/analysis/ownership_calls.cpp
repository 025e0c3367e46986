// The ownership analysis (ownership.h): calls, releases and uses, the W^X
// page state, reporting, the callee summaries and the check's entry.
#include <algorithm>
#include <optional>

#include "analysis/analyses.h"
#include "analysis/attrs.h"
#include "analysis/call_graph.h"
#include "analysis/checked.h"
#include "analysis/dataflow.h"
#include "analysis/ownership.h"

namespace npk::ownership {

using ast::Expr;
using ast::ExprKind;

namespace {

const char* origin_text(Origin o) {
    return o == Origin::Heap ? "a heap block from alloc, which only free releases"
                             : "a W^X page from wildx_alloc, which only wildx_free releases";
}

std::string where(Loc at) { return std::to_string(at.line) + ":" + std::to_string(at.col); }

// How a resource was released, for a message.
std::string how(const Fact& f, bool maybe, const std::string& already) {
    if (f.via_memory) return "may have been released through a pointer read back from memory at " + where(f.freed_at);
    return maybe ? "may have been released" + already + " (on some path)" : "was released" + already;
}

bool is_param(uint32_t r) { return (r & 0xF0000000u) == kParamTag; }

}  // namespace

// ---- reporting (nothing in a quiet run, nor while the engine settles) -------

void Analysis::error(Loc at, const char* code, const std::string& msg) {
    muted_ = !diag_ || !report_ || !reported_.insert(std::to_string(at.offset) + msg).second;
    if (!muted_) diag_->error(at, code, msg);
}
void Analysis::warning(Loc at, const std::string& msg) {
    muted_ = !diag_ || !report_ || !reported_.insert(std::to_string(at.offset) + msg).second;
    if (!muted_) diag_->warning(at, "", msg);
}
void Analysis::note(Loc at, const std::string& text) {
    if (!muted_ && at.line != 0) diag_->note(at, text);
}
void Analysis::note_declared(int32_t slot) {
    if (slot < 0) return;
    const SlotInfo& si = fi_.slots[static_cast<size_t>(slot)];
    const ast::VarDecl* d = decl_of_slot_[static_cast<size_t>(slot)];
    note(d && d->name_loc.line != 0 ? d->name_loc : si.loc, "'" + si.name + "' declared here");
}

// ---- what callees do ----------------------------------------------------------

// What a call releases, by parameter index (-1: nothing): builtins,
// #[releases] / #[consumes], or the callee's body (its summary).
Releases Analysis::releases_of(const Callee& c) const {
    Releases out;
    auto mark = [&](size_t i, Origin kind) {
        if (out.size() <= i) out.resize(i + 1, -1);
        out[i] = static_cast<int8_t>(kind);
    };
    if (c.kind == Callee::Kind::Builtin) {
        if (c.builtin == Builtin::Free) mark(0, Origin::Heap);
        if (c.builtin == Builtin::WildxFree) mark(0, Origin::Page);
        return out;
    }
    for (const AttrInfo& a : s_.attrs_of(c))
        if (attr_releases_argument(a.name))
            for (uint32_t p : a.params) mark(p, Origin::Unknown);
    if (c.kind == Callee::Kind::Func)
        if (auto it = sums_.find(c.fn); it != sums_.end())
            for (size_t i = 0; i < it->second.releases.size(); ++i)
                if (it->second.releases[i] >= 0 && (i >= out.size() || out[i] < 0))
                    mark(i, static_cast<Origin>(it->second.releases[i]));
    return out;
}

// Whether a call runs its argument `param` as code: #[calls(p)], or a
// function whose body does.
bool Analysis::calls_through(const Callee& c, size_t param) const {
    if (has_attr(s_, c, attrs::kCalls, param)) return true;
    if (c.kind != Callee::Kind::Func) return false;
    auto it = sums_.find(c.fn);
    return it != sums_.end() && param < it->second.calls.size() && it->second.calls[param] > 0;
}

// A fresh resource that starts unsealed: a wildx_alloc page, or what a
// callee marked #[unsealed] returns (Jit.region()).
bool Analysis::starts_unsealed(const Expr& init) const {
    const Expr& e = strip_casts(init);
    if (e.kind != ExprKind::Call) return false;
    const Callee& k = s_.callee[e.id];
    if (k.kind == Callee::Kind::Builtin) return k.builtin == Builtin::WildxAlloc;
    return has_attr(s_, k, attrs::kUnsealed);
}

// The parameters a callee may store into memory (a function of the
// program; an extern is taken not to keep what it is given).
ParamSet Analysis::stored_by(const Callee& c) const {
    if (c.kind != Callee::Kind::Func) return 0;
    auto it = sums_.find(c.fn);
    return it == sums_.end() ? 0 : it->second.stores;
}

// ---- calls, releases and uses ---------------------------------------------------

void Analysis::call(const ast::Call& c, State& st) {
    const Callee& k = s_.callee[c.id];
    if (allocates(k)) {
        Fact f;  // a new block at this call site (a loop's next one is live again)
        f.origin = k.builtin == Builtin::Alloc ? Origin::Heap : Origin::Page;
        if (k.builtin == Builtin::WildxAlloc) f.seal = Seal::Unsealed;
        st.facts.set(c.id, f);
        return;
    }
    if (const ParamSet kept = stored_by(k))
        for (size_t i = 0; i < c.args.size(); ++i)
            if (kept & param_bit(i))
                escape(st, value(*c.args[i], st));
    page_call(c, st);
    const Releases rel = releases_of(k);
    // A pointer read back from memory and handed on is a use (a name is
    // checked as itself).
    for (size_t i = 0; i < c.args.size(); ++i) {
        const Expr& a = *c.args[i];
        if ((i < rel.size() && rel[i] >= 0) || has_attr(s_, k, attrs::kInspects, i) || !reads_memory(strip_casts(a)))
            continue;
        if (s_.type_of(a) && s_.type_of(a)->is_ptr()) use(a, st);
    }
    for (size_t i = 0; i < c.args.size() && i < rel.size(); ++i)
        if (rel[i] >= 0) release(*c.args[i], static_cast<Origin>(rel[i]), c.loc, st);
    // A callee that releases a pointer field of its struct parameter i,
    // given a local struct: what that field holds.
    if (k.kind != Callee::Kind::Func) return;
    auto it = sums_.find(k.fn);
    if (it == sums_.end()) return;
    for (const auto& [key, kind] : it->second.field_releases) {
        const size_t i = key >> 32;
        if (i >= c.args.size() || c.args[i]->kind != ExprKind::Name || s_.slot[c.args[i]->id] < 0) continue;
        const int32_t slot = s_.slot[c.args[i]->id];
        const uint32_t fk = field_key(slot, static_cast<uint32_t>(key & 0xffffffffu));
        release_set(get(st, fk), static_cast<Origin>(kind), c.loc, name_of_key(fk), &fk, false, st);
        st.freed.set(fk, NameFreed{c.loc, false});
    }
}

void Analysis::release(const Expr& arg, Origin kind, Loc at, State& st) {
    const Set held = value(arg, st);
    if (held.empty()) return;
    uint32_t key = 0;
    const bool named = key_of(strip_casts(arg), key);
    release_set(held, kind, at, text_of(arg), named ? &key : nullptr, from_memory(arg), st);
    if (named) st.freed.set(key, NameFreed{at, false});
}

// `held` (what the released value may be) is released at `at`, through
// the name `key` (null: a value that is no name).
void Analysis::release_set(const Set& held, Origin kind, Loc at, const std::string& name, const uint32_t* key,
                           bool via_memory, State& st) {
    const bool named = key != nullptr;
    const uint32_t name_key = named ? *key : kMemory;
    const int32_t through = named && *key < kFieldTag ? static_cast<int32_t>(*key) : -1;
    if (held.empty()) return;
    // A defer's (or a drop's) own release, where it runs: accounted when
    // the defer was written.
    bool all_accounted = true;
    for (uint32_t r : held) {
        Fact f = fact(st, r);
        if (f.deferred == Deferred::No || !same_loc(f.deferred_at, at)) {
            all_accounted = false;
            continue;
        }
        f.life = Life::Released;
        f.freed_at = at;
        f.deferred = Deferred::No;
        f.pending = false;
        st.facts.set(r, f);
    }
    if (all_accounted) return;
    if (held.size() == 1 && !via_memory && !fact(st, held[0]).via_memory) {
        const uint32_t r = held[0];
        Fact f = fact(st, r);
        if (kind != Origin::Unknown && f.origin != Origin::Unknown && kind != f.origin) {
            error(at, "", "Mismatched release of '" + name + "': it holds " + origin_text(f.origin));
            note_declared(through);
        }
        const std::string message = "Double free of variable '" + name + "' (already freed)";
        if (f.life == Life::Released) {
            error(at, kDoubleFree, message);
            note(f.freed_at, "first freed here");
            return;
        }
        if (f.life == Life::Maybe) {
            error(at, kDoubleFree, message);
            note(f.freed_at, "first freed here (on some path)");
        } else if (f.raii) {
            error(at, kDoubleFree, message);
            note(f.deferred_at,
                 "drop.npk releases '" + name + "' when its block ends: an explicit release frees it twice");
        } else if (f.deferred != Deferred::No) {
            error(at, kDoubleFree, message);
            note(f.deferred_at, "first freed here, by a defer that runs when its block ends");
        }
        f.life = Life::Released;
        f.pending = false;
        f.freed_at = at;
        f.freed_as = kind != Origin::Unknown ? kind : f.origin;
        st.facts.set(r, f);
        return;
    }
    for (uint32_t r : held) {
        const Fact f = fact(st, r);
        if (f.life == Life::Live && f.deferred == Deferred::No) continue;
        const bool single = held.size() == 1 && !via_memory;
        error(at, kDoubleFree,
              "Double free of '" + name + "': the block it " + (single ? "holds " : "may hold ") +
                  (f.life == Life::Live ? std::string("is released by a defer or a drop already")
                                        : how(f, f.life == Life::Maybe || held.size() > 1, " already")));
        note(f.life == Life::Live ? f.deferred_at : f.freed_at, "released here");
        break;
    }
    // The name holds one of them on every path: one that no other name
    // (nor memory) may hold is released whichever it is (on a path where
    // the name holds another, nothing can reach it); the others may be.
    std::vector<uint32_t> shared;
    if (named)
        st.holds.for_each([&](uint32_t k, const Set& s) {
            if (k == name_key) return;
            for (uint32_t r : s)
                if (holds(held, r)) shared.push_back(r);
        });
    for (uint32_t r : held) {
        Fact f = fact(st, r);
        const bool sure = named && !via_memory && std::find(shared.begin(), shared.end(), r) == shared.end();
        if (f.life == Life::Live || (sure && f.life == Life::Maybe)) {
            f.life = sure ? Life::Released : Life::Maybe;
            f.freed_at = at;
            f.freed_as = kind != Origin::Unknown ? kind : f.origin;
            f.via_memory = via_memory;
        }
        if (sure || (through >= 0 && f.owner == through)) f.pending = false;
        st.facts.set(r, f);
    }
}

// A use of a name (or a field of a local struct) that holds one released
// resource, or was released through itself: on every path, or on some.
void Analysis::released_name(const Expr& e, const std::string& name, bool maybe, Loc freed_at) {
    if (!maybe) {
        error(e.loc, kUseAfterFree, "Use after free: variable '" + name + "' was already freed");
        note(freed_at, "freed here");
        return;
    }
    error(e.loc, kUseAfterFree,
          "Use of wild pointer '" + name + "' with unknown state (may have been freed or moved in a branch)");
    note(freed_at, "may have been freed here");
}

// A use of what `e` (a name, or a field of a local struct) may hold.
void Analysis::use(const Expr& e, State& st) {
    const std::string name = text_of(e);
    uint32_t key;
    if (key_of(e, key))
        if (const NameFreed* nf = st.freed.find(key)) return released_name(e, name, nf->maybe, nf->at);
    const Set held = value(e, st);
    const bool via_memory = from_memory(e);
    const bool single = held.size() == 1 && !via_memory;
    for (uint32_t r : held) {
        const Fact f = fact(st, r);
        if (f.life == Life::Live || (f.raii && to_c_.count(e.id))) continue;
        if (single && !f.via_memory) return released_name(e, name, f.life == Life::Maybe, f.freed_at);
        error(e.loc, kUseAfterFree,
              "Use after free: '" + name + "' " + (single ? "holds" : "may hold") + " a block that " +
                  how(f, f.life == Life::Maybe || held.size() > 1, ""));
        note(f.freed_at, "released here");
        return;
    }
}

// A drop.npk `wild S` named (a field read or written, the struct passed)
// after its scope's drop released it: in that scope's defers, since
// drops run first.
void Analysis::read_heap_struct(const Expr& name, State& st) {
    const int32_t slot = s_.slot[name.id];
    for (uint32_t r : get(st, static_cast<uint32_t>(slot))) {
        const Fact f = fact(st, r);
        if (f.life == Life::Live) continue;
        error(name.loc, kUseAfterFree,
              "Use after free: the heap struct '" + fi_.slots[static_cast<size_t>(slot)].name + "' " +
                  (f.life == Life::Maybe ? "may have been" : "was") +
                  " released by its scope's drop (drops run before the scope's defers)");
        note(f.freed_at, "released here, where its scope ends");
        return;
    }
}

// ---- W^X page state: allocated → written → sealed (→ released) --------------

void Analysis::page_call(const ast::Call& c, State& st) {
    const Callee& k = s_.callee[c.id];
    auto seal = [&](const Expr& arg) {
        for (uint32_t r : value(arg, st)) {
            Fact f = fact(st, r);
            if (f.seal == Seal::None) continue;
            f.seal = Seal::Sealed;
            f.sealed_at = c.loc;
            st.facts.set(r, f);
        }
    };
    if (k.kind == Callee::Kind::Builtin && k.builtin == Builtin::WildxSeal && !c.args.empty()) {
        if (strip_casts(*c.args[0]).kind == ExprKind::Binary) return interior_seal(*c.args[0], st);
        return seal(*c.args[0]);
    }
    for (size_t i = 0; i < c.args.size(); ++i)
        if (has_attr(s_, k, attrs::kSeals, i)) seal(*c.args[i]);
    for (size_t i = 0; i < c.args.size(); ++i) {
        if (!calls_through(k, i)) continue;
        const Set held = value(*c.args[i], st);
        for (uint32_t r : held)
            if (is_param(r) && (r & 0x0FFFFFFFu) < calls_.size()) calls_[r & 0x0FFFFFFFu] = 1;
        for (uint32_t r : held) {
            const Fact f = fact(st, r);
            if (f.seal != Seal::Unsealed && f.seal != Seal::Maybe) continue;
            const bool maybe = f.seal == Seal::Maybe;
            error(c.args[i]->loc, kUseAfterFree,
                  "Call through '" + text_of(*c.args[i]) + "'" +
                      (maybe ? " that may not have been sealed on the path through the branch that skips its seal"
                             : " before its seal: its code is not executable yet"));
            if (maybe) note(f.sealed_at, "sealed here on one path only");
            else note_declared(f.owner);
            break;
        }
    }
}

// wildx_seal(e) where e is computed from a page but is not the page: the
// runtime seals whole pages only.
void Analysis::interior_seal(const Expr& arg, State& st) {
    std::string page;
    ast::walk_expr(arg, [&](const Expr& x) {
        if (!page.empty() || x.kind != ExprKind::Name || s_.slot[x.id] < 0) return;
        for (uint32_t r : get(st, static_cast<uint32_t>(s_.slot[x.id])))
            if (fact(st, r).seal != Seal::None) page = fi_.slots[static_cast<size_t>(s_.slot[x.id])].name;
    });
    if (page.empty()) return;
    error(arg.loc, kUseAfterFree,
          "Seal of a pointer inside page '" + page +
              "': wildx_seal takes the page itself (the address wildx_alloc gave)");
}

// p[i] = v on a sealed page: it is read+execute now.
void Analysis::page_store(const Expr& target, State& st) {
    const Expr& object = *static_cast<const ast::Index&>(target).object;
    for (uint32_t r : value(object, st)) {
        const Fact f = fact(st, r);
        if (f.seal != Seal::Sealed && f.seal != Seal::Maybe) continue;
        error(target.loc, kUseAfterFree,
              "Store into '" + text_of(object) + "'" +
                  (f.seal == Seal::Maybe ? " that may have been sealed" : " after its seal") +
                  ": sealed code is read+execute, never written again");
        note(f.sealed_at, "sealed here");
        return;
    }
}

// ---- summaries and the check -------------------------------------------------------

Summary Analysis::summary(const State* at_exit) const {
    Summary out;
    out.releases.assign(fi_.params.size(), -1);
    out.calls = calls_;
    if (!at_exit) return out;
    for (size_t i = 0; i < fi_.params.size(); ++i) {
        const Fact* f = at_exit->facts.find(kParamTag | static_cast<uint32_t>(i));
        if (f && f->life != Life::Live) out.releases[i] = static_cast<int8_t>(f->freed_as);
    }
    for (size_t n = 0; n < param_fields_.size(); ++n) {
        const Fact* f = at_exit->facts.find(kParamFieldTag | static_cast<uint32_t>(n));
        if (f && f->life != Life::Live) out.field_releases.emplace(param_fields_[n], static_cast<int8_t>(f->freed_as));
    }
    if (const Set* m = at_exit->holds.find(kMemory))
        for (uint32_t r : *m)
            if (is_param(r)) out.stores |= param_bit(r & 0x0FFFFFFFu);
    return out;
}

// What every function does to its parameters: its body's analysis, read
// at its exit, again whenever the summary of a function it calls grew
// (call_graph.h), with no round limit.
Summaries summaries(const ast::Program& prog, const Sema& sema, const ReturnSummaries& returns, Graphs& graphs) {
    Summaries sums;
    std::vector<const ast::FuncDecl*> all;
    for (const auto& m : prog.modules) {
        std::vector<const ast::FuncDecl*> fs = module_functions(*m, true);
        all.insert(all.end(), fs.begin(), fs.end());
    }
    const DropSwitches on = drop_switches(prog);
    summarise(all, sema, [&](const ast::FuncDecl* f) {
        if (!f->body) return false;
        bool params = false;  // a summary is about pointers (or structs of them) the caller passes
        for (const Type* t : sema.func(f).params) params = params || t->is_ptr() || t->kind == TypeKind::Struct;
        if (!params) return false;
        Analysis a(sema, sums, returns, nullptr, *f, on);
        const Cfg& g = graphs.of(*f);
        const Solution<Analysis> sol = solve(g, a);
        const Summary now = a.summary(sol.in[g.exit] ? &*sol.in[g.exit] : nullptr);
        Summary& mine = sums[f];
        bool grew = false;
        auto merge = [&](Releases& into, const Releases& from) {
            if (into.size() < from.size()) into.resize(from.size(), -1);
            for (size_t i = 0; i < from.size(); ++i)
                if (from[i] >= 0 && into[i] < 0) into[i] = from[i], grew = true;
        };
        merge(mine.releases, now.releases);
        merge(mine.calls, now.calls);
        if ((mine.stores | now.stores) != mine.stores) mine.stores |= now.stores, grew = true;
        for (const auto& [key, kind] : now.field_releases)
            if (mine.field_releases.emplace(key, kind).second) grew = true;
        return grew;
    });
    return sums;
}

}  // namespace npk::ownership

namespace npk {

void check_lifecycle(const ast::Program& prog, const Sema& sema, const Options& opts, Diagnostics& diag) {
    Shared shared(prog, sema);
    check_lifecycle(prog, sema, opts, diag, shared);
}

void check_lifecycle(const ast::Program& prog, const Sema& sema, const Options& opts, Diagnostics& diag,
                     Shared& shared) {
    using ownership::Analysis;
    const ownership::Summaries sums = ownership::summaries(prog, sema, shared.returns(), shared.graphs);
    const DropSwitches on = drop_switches(prog);
    for (size_t i = 0; i < prog.modules.size(); ++i) {
        const ast::Module& m = *prog.modules[i];
        // Upstream checks only the root file's top-level functions;
        // --strict checks every body of every file.
        if (!opts.strict && i != 0 && !m.is_root) continue;
        for (const ast::FuncDecl* f : module_functions(m, opts.strict)) {
            if (!f->body) continue;
            Analysis a(sema, sums, shared.returns(), &diag, *f, on);
            const Cfg& g = shared.graphs.of(*f);
            const Solution<Analysis> sol = solve(g, a);
            report(g, a, sol);
        }
    }
}

}  // namespace npk
