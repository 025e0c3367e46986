// The lifecycle checker's names and blocks (analysis/lifecycle.cpp):
// which binding a name or a struct field denotes, which block each
// binding is (aliases share one), what a value may alias, where a block
// came from and what a call releases; a W^X page's seal state; how
// findings are reported. The
// checker's walk (lifecycle.cpp) derives from this and adds the
// statements, loops, defers and scope exits.
#pragma once

#include <cstdint>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "analysis/attrs.h"
#include "analysis/checked.h"
#include "analysis/lifecycle_state.h"
#include "analysis/returns.h"
#include "sema/sema.h"

namespace npk::lifecycle {

inline constexpr const char* kLeak = "ARIA-014";
inline constexpr const char* kUseAfterFree = "ARIA-015";
inline constexpr const char* kDoubleFree = "ARIA-022";

inline std::string quoted(const std::string& name) { return "'" + name + "'"; }

class Bindings {
protected:
    // `diag` null: a quiet walk (summaries) that reports nothing.
    Bindings(const Sema& sema, const Summaries& summaries, Diagnostics* diag)
        : s_(sema), summaries_(summaries), diag_(diag) {}

    // ---- reporting (nothing in a quiet walk) ----------------------------
    // A loop's quiet passes report nothing either.
    // A defer body is walked at every exit it runs at: each finding once.
    // (Its notes go with it: none after a repeat.)
    void error(Loc at, const char* code, const std::string& msg) {
        muted_ = !diag_ || quiet_ || !reported_.insert(std::to_string(at.offset) + msg).second;
        if (!muted_) diag_->error(at, code, msg);
    }
    void warning(Loc at, const std::string& msg) {
        muted_ = !diag_ || quiet_;
        if (!muted_) diag_->warning(at, "", msg);
    }
    void note_at(Loc at, const std::string& text) {
        if (!muted_ && at.line != 0) diag_->note(at, text);
    }
    void note_declared(uint32_t block) {
        const int64_t owner = blocks_[block].owner;
        if (owner >= 0) note_at(bindings_[owner].decl, quoted(bindings_[owner].name) + " declared here");
    }


    // ---- bindings and blocks ------------------------------------------
    uint32_t new_block(const VarState& v, Origin origin) {
        const uint32_t k = flow_.add(v);
        if (blocks_.size() <= k) blocks_.resize(k + 1);
        blocks_[k] = BlockInfo{origin, -1};
        return k;
    }
    uint32_t new_binding(const std::string& name, Loc decl, uint32_t block) {
        bindings_.push_back({name, decl, block});
        return static_cast<uint32_t>(bindings_.size() - 1);
    }
    // The binding a bare name denotes (the checker resolved it to a
    // slot), or the one a field `s.f` of a local struct holds.
    int64_t binding_of(const ast::Expr& e) const {
        if (e.kind == ast::ExprKind::Member) {
            auto it = field_binding_.find(field_key(e));
            return it == field_binding_.end() ? -1 : it->second;
        }
        if (e.kind != ast::ExprKind::Name) return -1;
        int32_t slot = s_.slot[e.id];
        return slot < 0 ? -1 : binding_of_slot_[static_cast<size_t>(slot)];
    }
    // (slot of the struct, field index) of `s.f`, or ~0 if it is not one.
    uint64_t field_key(const ast::Expr& e) const {
        const auto& m = static_cast<const ast::Member&>(e);
        if (m.object->kind != ast::ExprKind::Name || s_.member[m.id].kind != MemberKind::Field) return ~0ull;
        const int32_t slot = s_.slot[m.object->id];
        return slot < 0 ? ~0ull : (static_cast<uint64_t>(slot) << 32) | s_.member[m.id].field;
    }
    // The binding whose block a value may be: a name or a field, through
    // `raw`, `drop` and @cast (to an integer and back too), or a call that
    // returns a pointer and is given exactly one tracked pointer that it
    // does not release and may return: a function whose summary says it
    // may return that parameter (analysis/returns.h), or an extern not
    // declared #[fresh] (it may return its argument, as memset does).
    int64_t alias_of(const ast::Expr& e) const {
        const ast::Expr* x = &e;
        while (x->kind == ast::ExprKind::Raw || x->kind == ast::ExprKind::Drop || x->kind == ast::ExprKind::Cast) {
            if (x->kind == ast::ExprKind::Raw) x = static_cast<const ast::Raw&>(*x).operand.get();
            else if (x->kind == ast::ExprKind::Drop) x = static_cast<const ast::Drop&>(*x).operand.get();
            else x = static_cast<const ast::Cast&>(*x).operand.get();
        }
        if (x->kind != ast::ExprKind::Call) return binding_of(*x);
        const Type* t = s_.type_of(*x);
        if (t->is_result()) t = t->elem;
        if (!t || !t->is_ptr() || s_.callee[x->id].kind == Callee::Kind::Builtin) return -1;
        // An argument the call releases (or consumes) is not what it returns.
        const Callee& callee = s_.callee[x->id];
        if (has_attr(callee, attrs::kFresh, ~size_t{0})) return -1;
        uint64_t may_return = ~uint64_t{0};
        if (callee.kind == Callee::Kind::Func) {
            auto it = summaries_.find(callee.fn);
            if (it != summaries_.end()) may_return = it->second.may_return;
        }
        const Releases rel = releases_of(callee);
        const auto& args = static_cast<const ast::Call&>(*x).args;
        int64_t found = -1;
        for (size_t i = 0; i < args.size(); ++i) {
            const auto& a = args[i];
            if (!(may_return & param_bit(i))) continue;
            if (!s_.type_of(*a)->is_ptr() || (i < rel.size() && rel[i] >= 0)) continue;
            const int64_t b = alias_of(*a);
            if (b < 0) continue;
            if (found >= 0 && block_of(static_cast<uint32_t>(found)) != block_of(static_cast<uint32_t>(b))) return -1;
            found = b;
        }
        return found;
    }
    uint32_t block_of(uint32_t binding) const { return bindings_[binding].block; }
    const std::string& owner_name(uint32_t block) const {
        const int64_t owner = blocks_[block].owner;
        return bindings_[owner >= 0 ? static_cast<size_t>(owner) : 0].name;
    }

    // The allocator behind an initializer: a direct call of a builtin.
    Origin origin_of(const ast::Expr& init) const {
        if (init.kind != ast::ExprKind::Call) return Origin::Unknown;
        const Callee& c = s_.callee[init.id];
        if (c.kind != Callee::Kind::Builtin) return Origin::Unknown;
        if (c.builtin == Builtin::Alloc) return Origin::Heap;
        if (c.builtin == Builtin::WildxAlloc) return Origin::Page;
        return Origin::Unknown;
    }

    // What a call releases, by parameter index (-1: nothing).
    Releases releases_of(const Callee& c) const {
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
        if (c.kind == Callee::Kind::Func) {
            auto it = summaries_.find(c.fn);
            if (it != summaries_.end())
                for (size_t i = 0; i < it->second.releases.size(); ++i)
                    if (it->second.releases[i] >= 0 && (i >= out.size() || out[i] < 0))
                        mark(i, static_cast<Origin>(it->second.releases[i]));
        }
        return out;
    }


    // The pointer fields of a struct parameter `b` are tracked like
    // parameters (`free(b.ptr)` releases what the caller put there), for
    // the summary's field releases (issue 16).
    void param_fields(const FuncInfo& fi) {
        for (size_t i = 0; i < fi.params.size(); ++i) {
            const Type* t = fi.params[i];
            if (t->kind != TypeKind::Struct || !t->st) continue;
            for (size_t f = 0; f < t->st->fields.size(); ++f) {
                if (!t->st->fields[f].type || !t->st->fields[f].type->is_ptr()) continue;
                VarState v;
                v.pending = false;
                const uint64_t key = (static_cast<uint64_t>(i) << 32) | f;
                const uint32_t b = new_binding(fi.slots[i].name + "." + t->st->fields[f].name, fi.slots[i].loc,
                                               new_block(v, Origin::Unknown));
                field_binding_[key] = b;  // slot i is parameter i
                param_field_binding_.emplace_back(key, b);
            }
        }
    }

    // Where the function ends: which parameter fields it has released.
    void note_field_releases() {
        for (const auto& [key, b] : param_field_binding_) {
            const VarState& v = flow_.get(block_of(b));
            if (v.life != Life::Live && !field_released_.count(key))
                field_released_[key] = static_cast<int8_t>(v.freed_as);
        }
    }

public:
    // What the function released through the pointer fields of its
    // struct parameters (after a walk), for its summary.
    const std::map<uint64_t, int8_t>& field_releases() const { return field_released_; }

protected:
    // A callee that releases a field of its struct parameter i, given a
    // local struct whose field is a name of a block: that block.
    void field_releases_of_call(const ast::Call& c, std::vector<std::pair<uint32_t, Origin>>& released) const {
        const Callee& k = s_.callee[c.id];
        if (k.kind != Callee::Kind::Func) return;
        auto it = summaries_.find(k.fn);
        if (it == summaries_.end()) return;
        for (const auto& [key, kind] : it->second.field_releases) {
            const size_t i = key >> 32;
            if (i >= c.args.size() || c.args[i]->kind != ast::ExprKind::Name) continue;
            const int32_t slot = s_.slot[c.args[i]->id];
            if (slot < 0) continue;
            auto fb = field_binding_.find((static_cast<uint64_t>(slot) << 32) | (key & 0xffffffffu));
            if (fb != field_binding_.end() && fb->second >= 0)
                released.emplace_back(static_cast<uint32_t>(fb->second), static_cast<Origin>(kind));
        }
    }

    // `S:s = S{f: p, ...}`: the field s.f is another name of p's block.
    void fields_of(const ast::VarDecl& d, int32_t slot, const ast::StructLit& lit) {
        for (const ast::FieldInit& f : lit.fields) {
            const int64_t src = f.value ? alias_of(*f.value) : -1;
            if (src < 0 || s_.field_init[f.value->id].kind != MemberKind::Field) continue;
            const uint64_t key = (static_cast<uint64_t>(slot) << 32) | s_.field_init[f.value->id].field;
            field_binding_[key] = new_binding(d.name + "." + f.name, f.loc, block_of(static_cast<uint32_t>(src)));
        }
    }

    // Whether the callee has attribute `name` on parameter `param`
    // (param ~0u: the attribute at all).
    bool has_attr(const Callee& c, std::string_view name, size_t param) const {
        for (const AttrInfo& a : s_.attrs_of(c)) {
            if (a.name != name) continue;
            if (param == ~size_t{0}) return true;
            for (uint32_t p : a.params)
                if (p == param) return true;
        }
        return false;
    }

    // A fresh resource that starts unsealed: a wildx_alloc page, or what a
    // callee marked #[unsealed] returns (Jit.region()).
    bool starts_unsealed(const ast::Expr& init) const {
        if (origin_of(init) == Origin::Page) return true;
        const ast::Expr& e = npk::strip_raw(init);
        return e.kind == ast::ExprKind::Call && has_attr(s_.callee[e.id], attrs::kUnsealed, ~size_t{0});
    }

    // Whether a call runs its argument `param` as code: #[calls(p)] on
    // the callee, or a function whose body does.
    bool calls_through(const Callee& c, size_t param) const {
        for (const AttrInfo& a : s_.attrs_of(c))
            if (a.name == attrs::kCalls)
                for (uint32_t p : a.params)
                    if (p == param) return true;
        if (c.kind != Callee::Kind::Func) return false;
        auto it = summaries_.find(c.fn);
        return it != summaries_.end() && param < it->second.calls.size() && it->second.calls[param] > 0;
    }

    // #[inspects(p)]: the call reads p's address only (a state query),
    // so a released p is no use there.
    bool inspects(const Callee& c, size_t param) const {
        for (const AttrInfo& a : s_.attrs_of(c))
            if (a.name == attrs::kInspects)
                for (uint32_t p : a.params)
                    if (p == param) return true;
        return false;
    }

    // `pass v` / `return v`: what the caller receives must outlive the
    // scope exits that run now. Returns the RAII block the pass moves out
    // (its own binding by name, as the interpreter moves it), or -1.
    int64_t handed_out(const ast::Expr& value, int64_t b) {
        const Type* t = s_.type_of(value);
        const int64_t a = t->is_ptr() || (t->is_result() && t->elem->is_ptr()) ? alias_of(value) : -1;
        if (a < 0) return -1;
        const uint32_t k = block_of(static_cast<uint32_t>(a));
        const VarState& v = flow_.get(k);
        if (v.raii) {
            if (b >= 0 && blocks_[k].owner == b) return k;
            error(value.loc, kUseAfterFree,
                  "The caller would receive a released block: drop.npk releases " + quoted(owner_name(k)) +
                      " when the function returns, and this is another name of it; pass " +
                      quoted(owner_name(k)) + " itself to move it out");
            note_declared(k);
        } else if (v.deferred != Deferred::No && v.life != Life::Released) {
            error(value.loc, kUseAfterFree,
                  "The caller would receive a released block: a defer releases " + quoted(bindings_[a].name) +
                      " when the function returns");
            note_at(v.deferred_at, "released here, by the defer");
        }
        return -1;
    }

    // ---- W^X page state: allocated → written → sealed (→ released) ----
    // wildx_seal seals a whole page; a call through a page (#[calls(p)],
    // or a function that does) needs it sealed.
    void page_call(const ast::Call& c) {
        const Callee& k = s_.callee[c.id];
        if (k.kind == Callee::Kind::Builtin && k.builtin == Builtin::WildxSeal && !c.args.empty()) {
            const int64_t b = alias_of(*c.args[0]);
            if (b < 0) return interior_seal(*c.args[0]);
            VarState& v = flow_.set(block_of(static_cast<uint32_t>(b)));
            if (v.seal != Seal::None) {
                v.seal = Seal::Sealed;
                v.sealed_at = c.loc;
            }
            return;
        }
        for (size_t i = 0; i < c.args.size(); ++i) {
            if (!has_attr(k, attrs::kSeals, i)) continue;
            const int64_t b = alias_of(*c.args[i]);
            if (b < 0) continue;
            VarState& v = flow_.set(block_of(static_cast<uint32_t>(b)));
            if (v.seal != Seal::None) {
                v.seal = Seal::Sealed;
                v.sealed_at = c.loc;
            }
        }
        for (size_t i = 0; i < c.args.size(); ++i) {
            if (!calls_through(k, i)) continue;
            const int64_t b = alias_of(*c.args[i]);
            if (b < 0) continue;
            const uint32_t blk = block_of(static_cast<uint32_t>(b));
            for (const auto& [param, pb] : param_binding_)
                if (block_of(pb) == blk) calls_[param] = 1;
            const VarState& v = flow_.get(blk);
            if (v.seal != Seal::Unsealed && v.seal != Seal::Maybe) continue;
            error(c.args[i]->loc, kUseAfterFree,
                  "Call through " + quoted(bindings_[b].name) +
                      (v.seal == Seal::Maybe ? " that may not have been sealed on the path through "
                                             : " before its seal: ") +
                      (v.seal == Seal::Maybe ? "the branch that skips its seal" : "its code is not executable yet"));
            if (v.seal == Seal::Maybe) note_at(v.sealed_at, "sealed here on one path only");
            else note_declared(blk);
        }
    }

    // wildx_seal(e) where e is computed from a page but is not the page:
    // the runtime seals whole pages only.
    void interior_seal(const ast::Expr& arg) {
        int64_t page = -1;
        walk_expr(arg, [&](const ast::Expr& x) {
            const int64_t b = binding_of(x);
            if (b >= 0 && flow_.get(block_of(static_cast<uint32_t>(b))).seal != Seal::None) page = b;
        });
        if (page < 0) return;
        error(arg.loc, kUseAfterFree,
              "Seal of a pointer inside page " + quoted(bindings_[page].name) +
                  ": wildx_seal takes the page itself (the address wildx_alloc gave)");
    }

    // p[i] = v on a sealed page: it is read+execute now.
    void page_store(const ast::Expr& target) {
        if (target.kind != ast::ExprKind::Index) return;
        const int64_t b = alias_of(*static_cast<const ast::Index&>(target).object);
        if (b < 0) return;
        const VarState& v = flow_.get(block_of(static_cast<uint32_t>(b)));
        if (v.seal != Seal::Sealed && v.seal != Seal::Maybe) return;
        error(target.loc, kUseAfterFree,
              "Store into " + quoted(bindings_[b].name) +
                  (v.seal == Seal::Maybe ? " that may have been sealed" : " after its seal") +
                  ": sealed code is read+execute, never written again");
        note_at(v.sealed_at, "sealed here");
    }

    const Sema& s_;
    const FuncInfo* fi_ = nullptr;
    const Summaries& summaries_;
    std::vector<int64_t> binding_of_slot_;  // by slot of the function: its binding, or -1
    std::vector<Binding> bindings_;
    std::unordered_map<uint64_t, int64_t> field_binding_;  // field_key(s.f) → its binding
    std::vector<BlockInfo> blocks_;         // by flow entry
    std::vector<std::pair<uint32_t, uint32_t>> param_binding_;  // parameter index, binding
    std::vector<std::pair<uint64_t, uint32_t>> param_field_binding_;  // (parameter << 32 | field), binding
    std::map<uint64_t, int8_t> field_released_;  // for the summary: see Summary::field_releases
    Releases calls_;                        // by parameter: called through as code (1), for summaries
    Flow flow_;
    Diagnostics* diag_;
    bool quiet_ = false;  // a loop's quiet rounds
    bool muted_ = false;  // the last error was a repeat: its notes go too
    std::unordered_set<std::string> reported_;
};

}  // namespace npk::lifecycle
