// The type checker (nitpick-subset.md §3–§7): names, types and
// conversions, statements, Result<T> consumption, builtins and extern
// signatures, then the entry points (§6.1).
//
// It checks every body of the program (top-level functions, Type methods,
// impl methods, imported files) and records what it learns in Sema; it
// never touches the tree. Errors are reported and checking goes on, so a
// run shows every error of the phase; an expression whose type could not
// be worked out gets the Error type, which converts silently to anything
// so one mistake gives one message.
#include <algorithm>
#include <cassert>
#include <cstdint>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "sema.h"

// Keeps a function out of the recursive paths that call it (see check_expr).
#define NPK_COLD [[gnu::noinline]]

namespace npk {

const char* builtin_name(Builtin b) {
    switch (b) {
    case Builtin::Alloc: return "alloc";
    case Builtin::Free: return "free";
    case Builtin::WildxAlloc: return "wildx_alloc";
    case Builtin::WildxSeal: return "wildx_seal";
    case Builtin::WildxFree: return "wildx_free";
    case Builtin::PrintI32: return "print_i32";
    }
    return "?";
}

namespace {

using namespace ast;

bool lookup_builtin(const std::string& name, Builtin& out) {
    static const std::pair<const char*, Builtin> table[] = {
        {"alloc", Builtin::Alloc},           {"free", Builtin::Free},
        {"wildx_alloc", Builtin::WildxAlloc}, {"wildx_seal", Builtin::WildxSeal},
        {"wildx_free", Builtin::WildxFree},   {"print_i32", Builtin::PrintI32},
    };
    for (const auto& [n, b] : table)
        if (name == n) {
            out = b;
            return true;
        }
    return false;
}

bool is_upper(const std::string& s) { return !s.empty() && s[0] >= 'A' && s[0] <= 'Z'; }

// An unsuffixed integer literal, or `-` applied to one (§6.4: "-LIT
// counts as a literal of negative value").
struct LitValue {
    uint64_t magnitude = 0;
    bool negative = false;
};

bool unsuffixed_literal(const Expr& e, LitValue& out) {
    if (e.kind == ExprKind::IntLit) {
        const auto& lit = static_cast<const IntLit&>(e);
        if (lit.has_suffix) return false;
        out.magnitude = lit.value;
        out.negative = false;
        return true;
    }
    if (e.kind == ExprKind::Unary) {
        const auto& u = static_cast<const Unary&>(e);
        if (u.op != UnaryOp::Neg || u.operand->kind != ExprKind::IntLit) return false;
        const auto& lit = static_cast<const IntLit&>(*u.operand);
        if (lit.has_suffix) return false;
        out.magnitude = lit.value;
        out.negative = lit.value != 0;
        return true;
    }
    return false;
}

// Does the value fit the integer type? tbb ranges are symmetric: their
// minimum is the ERR sentinel, never a literal.
bool literal_fits(const LitValue& v, const Type* t) {
    uint32_t bits = t->bits;
    if (bits == 0 || bits > 64) return false;
    uint64_t pos_max, neg_max;  // largest magnitude allowed, positive / negative
    switch (t->kind) {
    case TypeKind::Int:
        pos_max = (bits == 64) ? INT64_MAX : ((uint64_t{1} << (bits - 1)) - 1);
        neg_max = pos_max + 1;
        break;
    case TypeKind::UInt:
        pos_max = (bits == 64) ? UINT64_MAX : ((uint64_t{1} << bits) - 1);
        neg_max = 0;
        break;
    case TypeKind::Tbb:
        pos_max = (bits == 64) ? INT64_MAX : ((uint64_t{1} << (bits - 1)) - 1);
        neg_max = pos_max;
        break;
    default: return false;
    }
    return v.negative ? v.magnitude <= neg_max : v.magnitude <= pos_max;
}

std::string lit_str(const LitValue& v) {
    return (v.negative ? "-" : "") + std::to_string(v.magnitude);
}

// Result<T> facts at one point of a function (§6.2, "no checky no val"):
// slots proven not to hold an error, and slots whose is_error was read.
struct Facts {
    std::vector<int32_t> ok, tested;

    static bool has(const std::vector<int32_t>& v, int32_t s) {
        return std::find(v.begin(), v.end(), s) != v.end();
    }
    static void add(std::vector<int32_t>& v, int32_t s) {
        if (!has(v, s)) v.push_back(s);
    }
    void forget(int32_t s) {
        ok.erase(std::remove(ok.begin(), ok.end(), s), ok.end());
        tested.erase(std::remove(tested.begin(), tested.end(), s), tested.end());
    }
    // Where two paths join: proven on both, tested on either.
    static Facts meet(const Facts& a, const Facts& b) {
        Facts out;
        for (int32_t s : a.ok)
            if (has(b.ok, s)) out.ok.push_back(s);
        out.tested = a.tested;
        for (int32_t s : b.tested) add(out.tested, s);
        return out;
    }
};

enum class TypeUse { Local, Param, Return, Field, ExternParam, ExternReturn };

class Checker {
public:
    Checker(const Program& prog, Diagnostics& diag, Sema& sema)
        : prog_(prog), diag_(diag), s_(sema), errors_at_start_(diag.error_count()) {}

    void run() {
        size_t n = prog_.next_id + 1;
        s_.expr_type.assign(n, nullptr);
        s_.operand_type.assign(n, nullptr);
        s_.callee.assign(n, Callee{});
        s_.member.assign(n, MemberInfo{});
        s_.slot.assign(n, -1);
        s_.struct_lit.assign(n, nullptr);
        scopes_.resize(prog_.modules.size());

        declare_structs();
        build_scopes();
        resolve_struct_fields();
        declare_functions();
        declare_externs();
        check_impls();
        for (const FuncDecl* f : func_order_) check_body(*f);
        // §8.1: entry points are a phase of their own, after the types.
        if (diag_.error_count() == errors_at_start_) check_entry_points();
    }

private:
    // ------------------------------------------------------------------
    // Module-level names.
    // ------------------------------------------------------------------
    struct CallName {            // what a bare `name(...)` can call
        const FuncDecl* fn = nullptr;
        const ExternDecl* ext = nullptr;
        uint32_t module = 0;     // where it is declared
        Loc loc;
    };
    struct TypeName {            // what a capitalised name can mean
        const TypeDecl* type = nullptr;
        const StructInfo* st = nullptr;
        uint32_t module = 0;
        Loc loc;
    };
    struct ModuleScope {
        std::unordered_map<std::string, CallName> calls;
        std::unordered_map<std::string, TypeName> types;
    };

    void error(Loc loc, const std::string& msg) { diag_.error(loc, "", msg); }
    void note(Loc loc, const std::string& msg) { diag_.note(loc, msg); }
    const Module& mod(uint32_t m) const { return *prog_.modules[m]; }

    void declare_structs() {
        for (uint32_t m = 0; m < prog_.modules.size(); ++m) {
            for (const StructDecl& sd : mod(m).structs) {
                auto st = std::make_unique<StructInfo>();
                st->name = sd.name;
                st->decl = &sd;
                st->module = m;
                struct_of_[&sd] = st.get();
                s_.structs.push_back(std::move(st));
            }
        }
    }

    // Adds a name to a module's scope; a second definition is an error at
    // `loc` with a note at the first. `why` says how the name got there.
    void add_call(uint32_t m, const std::string& name, CallName c, const std::string& why) {
        auto [it, fresh] = scopes_[m].calls.emplace(name, c);
        if (fresh) return;
        const CallName& old = it->second;
        if (old.fn == c.fn && old.ext == c.ext) return;  // the same thing imported twice
        error(c.loc, "'" + name + "' " + why + " clashes with another '" + name + "' visible in " +
                         mod(m).path);
        note(old.loc, "the other '" + name + "' is declared here");
    }

    void add_type(uint32_t m, const std::string& name, TypeName t, const std::string& why) {
        auto [it, fresh] = scopes_[m].types.emplace(name, t);
        if (fresh) return;
        const TypeName& old = it->second;
        if (old.type == t.type && old.st == t.st) return;
        error(t.loc, "'" + name + "' " + why + " clashes with another '" + name + "' visible in " +
                         mod(m).path);
        note(old.loc, "the other '" + name + "' is declared here");
    }

    void build_scopes() {
        // Own declarations first, so duplicates inside a file are reported
        // at the second declaration.
        for (uint32_t m = 0; m < prog_.modules.size(); ++m) {
            const Module& md = mod(m);
            for (const auto& f : md.funcs)
                add_call(m, f->name, CallName{f.get(), nullptr, m, f->name_loc}, "(function)");
            for (const ExternDecl& e : md.externs)
                add_call(m, e.name, CallName{nullptr, &e, m, e.name_loc}, "(extern)");
            for (const TypeDecl& t : md.types)
                add_type(m, t.name, TypeName{&t, nullptr, m, t.loc}, "(Type)");
            for (const StructDecl& sd : md.structs)
                add_type(m, sd.name, TypeName{nullptr, struct_of_.at(&sd), m, sd.loc}, "(struct)");
        }
        // Then imports (§3): every Type, every pub func and pub struct of
        // the imported file; its other functions and externs stay private.
        for (uint32_t m = 0; m < prog_.modules.size(); ++m) {
            for (const UseDecl& u : mod(m).uses) {
                if (u.resolved_module == 0) continue;  // the loader reported it
                uint32_t from = u.resolved_module - 1;
                const Module& src = mod(from);
                if (u.form == UseDecl::Form::Alias) {
                    error(u.loc, "'use \"" + u.path + "\" as " + u.alias +
                                     "' is not supported by npk: use '.*' or '.{names}'");
                    continue;
                }
                auto wanted = [&](const std::string& name) {
                    if (u.form != UseDecl::Form::Names) return true;
                    return std::find(u.names.begin(), u.names.end(), name) != u.names.end();
                };
                std::string why = "(imported from " + src.path + ")";
                std::vector<std::string> found;
                for (const TypeDecl& t : src.types)
                    if (wanted(t.name)) {
                        add_type(m, t.name, TypeName{&t, nullptr, from, u.loc}, why);
                        found.push_back(t.name);
                    }
                for (const StructDecl& sd : src.structs)
                    if (sd.is_pub && wanted(sd.name)) {
                        add_type(m, sd.name, TypeName{nullptr, struct_of_.at(&sd), from, u.loc}, why);
                        found.push_back(sd.name);
                    }
                for (const auto& f : src.funcs)
                    if (f->is_pub && wanted(f->name)) {
                        add_call(m, f->name, CallName{f.get(), nullptr, from, u.loc}, why);
                        found.push_back(f->name);
                    }
                // A `pub extern` names a C symbol: a file that declares the
                // same symbol itself keeps its own declaration, no clash.
                for (const ExternDecl& e : src.externs)
                    if (e.is_pub && wanted(e.name)) {
                        auto own = scopes_[m].calls.find(e.name);
                        if (own == scopes_[m].calls.end() || !own->second.ext || own->second.module != m)
                            add_call(m, e.name, CallName{nullptr, &e, from, u.loc}, why);
                        found.push_back(e.name);
                    }
                if (u.form == UseDecl::Form::Names)
                    for (const std::string& n : u.names)
                        if (std::find(found.begin(), found.end(), n) == found.end())
                            error(u.loc, "'" + n + "' is not exported by " + src.path +
                                             " (only Types, pub func, pub extern and pub struct are)");
            }
        }
    }

    const TypeName* find_type_name(uint32_t m, const std::string& name) const {
        auto it = scopes_[m].types.find(name);
        return it == scopes_[m].types.end() ? nullptr : &it->second;
    }

    // ------------------------------------------------------------------
    // Types as written → Types.
    // ------------------------------------------------------------------
    const Type* resolve_type(const TypeRef& r, uint32_t m, TypeUse use) {
        TypeTable& T = s_.types;
        bool in_extern = use == TypeUse::ExternParam || use == TypeUse::ExternReturn;
        const Type* base = nullptr;
        switch (r.base) {
        case TypeRef::Base::Int:
        case TypeRef::Base::UInt:
        case TypeRef::Base::Tbb: {
            const char* fam = r.base == TypeRef::Base::Int ? "int" : r.base == TypeRef::Base::UInt ? "uint" : "tbb";
            if (r.bits != 8 && r.bits != 16 && r.bits != 32 && r.bits != 64) {
                error(r.loc, std::string("'") + fam + std::to_string(r.bits) +
                                 "' is not supported by npk: integer widths are 8, 16, 32 and 64 bits");
                return T.error();
            }
            base = r.base == TypeRef::Base::Int ? T.int_type(r.bits)
                 : r.base == TypeRef::Base::UInt ? T.uint_type(r.bits) : T.tbb_type(r.bits);
            break;
        }
        case TypeRef::Base::Bool: base = T.boolean(); break;
        case TypeRef::Base::Nil:
            if (r.ptr != TypeRef::Ptr::None || use != TypeUse::Return) {
                error(r.loc, in_extern ? "'NIL' cannot appear in an extern signature: use 'void' as the return type"
                                       : "'NIL' is only a function return type");
                return T.error();
            }
            return T.nil();
        case TypeRef::Base::Named:
            if (r.name == "void") {
                if (use == TypeUse::ExternReturn && r.ptr == TypeRef::Ptr::None) return T.void_type();
                error(r.loc, r.ptr != TypeRef::Ptr::None
                                 ? "'void" + std::string(r.ptr == TypeRef::Ptr::C ? "*" : "->") +
                                       "' is not a pointer type: write '?*' (or '?->') for an untyped pointer"
                                 : "'void' is only allowed as the return type of an extern func");
                return T.error();
            } else {
                const TypeName* tn = find_type_name(m, r.name);
                if (!tn) {
                    error(r.loc, "Unknown type '" + r.name + "'");
                    return T.error();
                }
                if (!tn->st) {
                    error(r.loc, "'" + r.name + "' is a Type (a namespace of functions), not a value type");
                    return T.error();
                }
                base = T.structure(tn->st);
            }
            break;
        case TypeRef::Base::Result: {
            if (in_extern) {
                error(r.loc, "Result<T> cannot cross the C ABI: an extern returns and takes plain values");
                return T.error();
            }
            if (use == TypeUse::Field) {
                error(r.loc, "a struct field cannot be a Result<T>");
                return T.error();
            }
            if (!r.inner) return T.error();
            const Type* inner = resolve_type(*r.inner, m, TypeUse::Return);
            if (inner->is_error()) return inner;
            if (inner->kind == TypeKind::Void) return T.error();
            base = T.result(inner);
            break;
        }
        case TypeRef::Base::Handle: {
            if (!r.inner) return T.error();
            const Type* inner = resolve_type(*r.inner, m, TypeUse::Field);
            if (inner->is_error()) return inner;
            base = T.handle(inner);
            break;
        }
        case TypeRef::Base::Erased: base = nullptr; break;
        }

        if (r.ptr == TypeRef::Ptr::None) {
            if (!base) {  // `?` alone: the parser only makes it with a pointer
                error(r.loc, "'?' must be followed by '->' or '*'");
                return T.error();
            }
            return base;
        }
        if (base && (base->is_result() || base->kind == TypeKind::Nil)) {
            error(r.loc, "cannot point to '" + base->str() + "'");
            return T.error();
        }
        bool c = r.ptr == TypeRef::Ptr::C;
        if (c && !in_extern) {
            error(r.loc, "'" + (base ? base->str() : std::string("?")) +
                             "*' is a C pointer, allowed only in extern signatures: write '" +
                             (base ? base->str() : std::string("?")) + "->'");
            return T.error();
        }
        return T.pointer(base, c);
    }

    void resolve_struct_fields() {
        for (auto& stp : s_.structs) {
            StructInfo& st = *stp;
            for (const StructField& f : st.decl->fields) {
                const Type* t = resolve_type(f.type, st.module, TypeUse::Field);
                if (st.find(f.name) >= 0) {
                    error(f.loc, "duplicate field '" + f.name + "' in struct '" + st.name + "'");
                    continue;
                }
                st.fields.push_back(FieldInfo{f.name, t, 0, f.loc});
            }
        }
        for (auto& stp : s_.structs) {
            std::vector<const StructInfo*> path;
            layout(*stp, path);
        }
    }

    // C layout of a heap struct; a struct that contains itself by value
    // has none.
    bool layout(StructInfo& st, std::vector<const StructInfo*>& path) {
        if (st.laid_out) return true;
        if (std::find(path.begin(), path.end(), &st) != path.end()) {
            error(st.decl->loc, "struct '" + st.name + "' contains itself (a struct field must be a smaller value; use a pointer)");
            return false;
        }
        path.push_back(&st);
        uint32_t off = 0, align = 1;
        bool ok = true;
        for (FieldInfo& f : st.fields) {
            if (f.type->kind == TypeKind::Struct) {
                ok = layout(const_cast<StructInfo&>(*f.type->st), path) && ok;
                if (!ok) continue;
            }
            uint32_t a = c_align_of(f.type), sz = c_size_of(f.type);
            off = (off + a - 1) / a * a;
            f.offset = off;
            off += sz;
            align = std::max(align, a);
        }
        path.pop_back();
        st.size = (off + align - 1) / align * align;
        st.align = align;
        st.laid_out = true;
        return ok;
    }

    // ------------------------------------------------------------------
    // Functions and externs.
    // ------------------------------------------------------------------
    void declare_func(const FuncDecl& f, uint32_t m, const std::string& display, bool top_level) {
        FuncInfo info;
        info.decl = &f;
        info.module = m;
        info.display = display;
        if (top_level && f.name == "main") info.role = FuncRole::Main;
        if (top_level && f.name == "failsafe") info.role = FuncRole::Failsafe;
        info.ret = resolve_type(f.ret, m, TypeUse::Return);
        for (const Param& p : f.params) {
            const Type* t = resolve_type(p.type, m, TypeUse::Param);
            for (const SlotInfo& other : info.slots)
                if (other.name == p.name) {
                    error(p.loc, "duplicate parameter '" + p.name + "'");
                    note(other.loc, "the first '" + p.name + "' is here");
                }
            info.params.push_back(t);
            SlotInfo slot;
            slot.name = p.name;
            slot.type = t;
            slot.param = true;
            slot.loc = p.loc;
            info.slots.push_back(slot);
        }
        info.call_type = info.role == FuncRole::Main ? s_.types.int32() : s_.types.result(info.ret);
        s_.funcs.emplace(&f, std::move(info));
        func_order_.push_back(&f);
    }

    void declare_functions() {
        for (uint32_t m = 0; m < prog_.modules.size(); ++m) {
            const Module& md = mod(m);
            for (const auto& f : md.funcs) declare_func(*f, m, f->name, true);
            for (const TypeDecl& t : md.types) {
                for (size_t i = 0; i < t.methods.size(); ++i) {
                    const FuncDecl& f = *t.methods[i];
                    for (size_t j = 0; j < i; ++j)
                        if (t.methods[j]->name == f.name) {
                            error(f.name_loc, "duplicate method '" + f.name + "' in Type '" + t.name + "'");
                            note(t.methods[j]->name_loc, "the first '" + f.name + "' is here");
                        }
                    declare_func(f, m, t.name + "." + f.name, false);
                }
            }
            for (const ImplDecl& im : md.impls)
                for (const auto& f : im.methods) declare_func(*f, m, im.for_type + "." + f->name, false);
        }
    }

    void declare_externs() {
        for (uint32_t m = 0; m < prog_.modules.size(); ++m) {
            for (const ExternDecl& e : mod(m).externs) {
                ExternInfo info;
                info.decl = &e;
                info.module = m;
                info.valid = true;
                info.ret = resolve_type(e.ret, m, TypeUse::ExternReturn);
                if (info.ret->is_error()) info.valid = false;
                else if (!ctype_of(info.ret, true, info.sig.ret)) {
                    error(e.ret.loc, "extern '" + e.name + "': return type '" + info.ret->str() +
                                         "' has no C form (libffi): use an integer, bool, a pointer or void");
                    info.valid = false;
                }
                for (const Param& p : e.params) {
                    const Type* t = resolve_type(p.type, m, TypeUse::ExternParam);
                    info.params.push_back(t);
                    CType c = CType::Void;
                    if (t->is_error()) info.valid = false;
                    else if (!ctype_of(t, false, c)) {
                        error(p.type.loc, "extern '" + e.name + "': parameter '" + p.name + "' of type '" +
                                              t->str() + "' has no C form (libffi): use an integer, bool or a pointer");
                        info.valid = false;
                    }
                    info.sig.params.push_back(c);
                }
                s_.externs.emplace(&e, std::move(info));
            }
        }
    }

    // §3: impl:Drop:for:S = { func:drop = NIL(...) {...}; } — S must
    // exist, exactly one method `drop` returning NIL, one impl per S.
    void check_impls() {
        std::unordered_map<const StructInfo*, const ImplDecl*> seen;
        for (uint32_t m = 0; m < prog_.modules.size(); ++m) {
            for (const ImplDecl& im : mod(m).impls) {
                if (im.trait != "Drop") {
                    error(im.loc, "'impl:" + im.trait + "' is not supported by npk: only 'impl:Drop:for:S'");
                    continue;
                }
                const TypeName* tn = find_type_name(m, im.for_type);
                if (!tn || !tn->st) {
                    error(im.loc, "impl:Drop:for:" + im.for_type + ": type '" + im.for_type +
                                      "' is not defined (no struct of that name is visible here)");
                    continue;
                }
                auto [it, fresh] = seen.emplace(tn->st, &im);
                if (!fresh) {
                    error(im.loc, "duplicate impl:Drop:for:" + im.for_type);
                    note(it->second->loc, "the first impl is here");
                }
                if (im.methods.size() != 1) {
                    error(im.loc, "impl:Drop:for:" + im.for_type + " must have exactly one method, 'drop'");
                    continue;
                }
                if (im.methods[0]->name != "drop") {
                    error(im.methods[0]->name_loc, "the method of impl:Drop:for:" + im.for_type +
                                                       " must be named 'drop', not '" + im.methods[0]->name + "'");
                    continue;
                }
                const FuncInfo& fi = s_.funcs.at(im.methods[0].get());
                if (fi.ret->kind != TypeKind::Nil && !fi.ret->is_error())
                    error(im.methods[0]->name_loc, "'drop' of impl:Drop:for:" + im.for_type +
                                                       " must return NIL, not '" + fi.ret->str() + "'");
                else if (fi.params.size() != 1 || fi.params[0] != s_.types.structure(tn->st))
                    error(im.methods[0]->name_loc, "'drop' of impl:Drop:for:" + im.for_type +
                                                       " takes one parameter, the " + im.for_type +
                                                       " being dropped ($$m " + im.for_type + ":self)");
                else if (fresh)
                    s_.drop_methods[tn->st] = im.methods[0].get();
            }
        }
    }

    // §6.1, checked only when the types are right. Imported files need
    // neither entry point.
    void check_entry_points() {
        const Module& root = prog_.root();
        Loc top{root.file, 1, 1, 0};
        const FuncDecl* mainf = nullptr;
        const FuncDecl* fs = nullptr;
        for (const auto& f : root.funcs) {
            if (f->name == "main") mainf = f.get();
            if (f->name == "failsafe") fs = f.get();
        }
        // A root file with neither that exports something (a Type, a pub
        // func or pub struct) is a library, like stdlib/jit.npk: it can be
        // checked (`npk check --strict stdlib/jit.npk`), not run;
        // run_program says so. Anything else, an empty file included, is
        // a program and needs both.
        bool exports = !root.types.empty();
        for (const auto& f : root.funcs) exports = exports || f->is_pub;
        for (const StructDecl& sd : root.structs) exports = exports || sd.is_pub;
        if (!mainf && !fs && exports) return;
        if (!mainf) {
            error(top, "the program has no entry point: define 'func:main = int32() { ... };'");
        } else {
            const FuncInfo& fi = s_.funcs.at(mainf);
            if (fi.ret != s_.types.int32() || !fi.params.empty())
                error(mainf->name_loc, "'main' must be declared 'func:main = int32()'");
            else
                s_.main = mainf;
        }
        if (!fs) {
            error(top, "the program has no 'failsafe': define 'func:failsafe = int32(tbb32:err) { ... };'");
        } else {
            const FuncInfo& fi = s_.funcs.at(fs);
            if (fi.ret != s_.types.int32() || fi.params.size() != 1 || fi.params[0] != s_.types.tbb_type(32))
                error(fs->name_loc, "'failsafe' must be declared 'func:failsafe = int32(tbb32:err)'");
            else
                s_.failsafe = fs;
        }
    }

    // ------------------------------------------------------------------
    // Bodies.
    // ------------------------------------------------------------------
    struct Scope {
        std::vector<std::pair<std::string, int32_t>> names;
    };

    FuncInfo* fn_ = nullptr;        // the function being checked
    uint32_t module_ = 0;
    std::vector<Scope> scopes_stack_;
    int defer_depth_ = 0;

    void check_body(const FuncDecl& f) {
        fn_ = &s_.funcs.at(&f);
        module_ = fn_->module;
        scopes_stack_.clear();
        scopes_stack_.emplace_back();
        for (size_t i = 0; i < fn_->slots.size(); ++i)
            scopes_stack_.back().names.emplace_back(fn_->slots[i].name, static_cast<int32_t>(i));
        defer_depth_ = 0;
        Facts facts;
        if (f.body) check_block(*f.body, facts);
        fn_ = nullptr;
    }

    int32_t lookup_local(const std::string& name) const {
        for (auto it = scopes_stack_.rbegin(); it != scopes_stack_.rend(); ++it)
            for (auto jt = it->names.rbegin(); jt != it->names.rend(); ++jt)
                if (jt->first == name) return jt->second;
        return -1;
    }

    const SlotInfo& slot(int32_t i) const { return fn_->slots[static_cast<size_t>(i)]; }

    // A statement that ends the function (or the program) on every path.
    bool check_block(const Block& b, Facts& facts) {
        scopes_stack_.emplace_back();
        bool term = false;
        for (const auto& st : b.stmts) term = check_stmt(*st, facts) || term;
        scopes_stack_.pop_back();
        return term;
    }

    // The body of an if: a block, or one statement in a scope of its own.
    bool check_body_stmt(const Stmt& st, Facts& facts) {
        if (st.kind == StmtKind::Block) return check_block(static_cast<const Block&>(st), facts);
        scopes_stack_.emplace_back();
        bool term = check_stmt(st, facts);
        scopes_stack_.pop_back();
        return term;
    }

    const char* role_name() const { return fn_->role == FuncRole::Main ? "main" : "failsafe"; }

    bool check_stmt(const Stmt& st, Facts& facts) {
        switch (st.kind) {
        case StmtKind::VarDecl: check_var_decl(static_cast<const VarDecl&>(st), facts); return false;
        case StmtKind::If: return check_if(static_cast<const If&>(st), facts);
        case StmtKind::Defer: {
            Facts inner = facts;  // a deferred body's effects do not flow on
            ++defer_depth_;
            check_block(*static_cast<const Defer&>(st).body, inner);
            --defer_depth_;
            return false;
        }
        case StmtKind::Block: return check_block(static_cast<const Block&>(st), facts);
        case StmtKind::Exit: check_exit(static_cast<const Exit&>(st), facts); return true;
        case StmtKind::Pass: check_pass(static_cast<const Pass&>(st), facts); return true;
        case StmtKind::Fail: check_fail(static_cast<const Fail&>(st), facts); return true;
        case StmtKind::Return: check_return(static_cast<const Return&>(st), facts); return true;
        case StmtKind::ExprStmt: {
            const auto& es = static_cast<const ExprStmt&>(st);
            const Type* t = check_expr(*es.expr, facts);
            if (t->is_result())
                error(es.expr->loc, "Unused result value of type '" + t->str() +
                                        "': consume it with 'raw', 'drop' or 'pass', or bind it to a " +
                                        t->str() + " and test .is_error");
            return false;
        }
        }
        return false;
    }

    void check_var_decl(const VarDecl& d, Facts& facts) {
        const Type* t = resolve_type(d.type, module_, TypeUse::Local);
        if (d.init) {
            const Type* it = check_expr(*d.init, facts, t);
            if (it->is_result() && !t->is_result() && !t->is_error() && convertible(it->elem, t)) {
                error(d.init->loc, "Cannot silently unwrap " + it->str() + " into '" + d.name + "' of type '" +
                                       t->str() + "'. Declare as " + it->str() +
                                       " and check .is_error, or use 'raw expr' to explicitly assert the call cannot fail.");
            } else {
                convert(*d.init, it, t, "the initializer of '" + d.name + "'");
            }
        }
        Scope& sc = scopes_stack_.back();
        for (const auto& [n, idx] : sc.names)
            if (n == d.name) {
                error(d.name_loc, "'" + d.name + "' is already declared in this block");
                note(slot(idx).loc, "the first '" + d.name + "' is here");
                break;
            }
        SlotInfo si;
        si.name = d.name;
        si.type = t;
        si.fixed = (d.quals & Q_FIXED) != 0;
        si.heap = (d.quals & (Q_WILD | Q_WILDX)) != 0 && t->kind == TypeKind::Struct;
        si.loc = d.name_loc;
        auto idx = static_cast<int32_t>(fn_->slots.size());
        fn_->slots.push_back(si);
        sc.names.emplace_back(d.name, idx);
        s_.slot[d.id] = idx;
    }

    bool check_if(const If& s, Facts& facts) {
        const Type* ct = check_expr(*s.cond, facts);
        if (!ct->is_error() && ct->kind != TypeKind::Bool)
            error(s.cond->loc, "if condition must be 'bool', got '" + ct->str() + "' (there is no truthiness: compare explicitly)");
        Facts when_true, when_false;
        cond_facts(*s.cond, facts, when_true, when_false);
        bool then_term = check_body_stmt(*s.then_body, when_true);
        bool else_term = false;
        if (s.else_body) else_term = check_body_stmt(*s.else_body, when_false);
        if (then_term && else_term) return true;
        if (then_term) facts = when_false;
        else if (else_term) facts = when_true;
        else facts = Facts::meet(when_true, when_false);
        return false;
    }

    // What a condition proves about Result bindings when it is true / false.
    void cond_facts(const Expr& e, const Facts& in, Facts& t, Facts& f) {
        t = in;
        f = in;
        switch (e.kind) {
        case ExprKind::Unary: {
            const auto& u = static_cast<const Unary&>(e);
            if (u.op == UnaryOp::Not) cond_facts(*u.operand, in, f, t);
            return;
        }
        case ExprKind::Member: {
            const auto& mem = static_cast<const Member&>(e);
            if (s_.member[mem.id].kind != MemberKind::IsError || mem.object->kind != ExprKind::Name) return;
            int32_t sl = s_.slot[mem.object->id];
            if (sl < 0) return;
            Facts::add(t.tested, sl);
            Facts::add(f.tested, sl);
            Facts::add(f.ok, sl);
            return;
        }
        case ExprKind::Binary: {
            const auto& b = static_cast<const Binary&>(e);
            if (b.op == BinaryOp::And) {
                Facts lt, lf, rt, rf;
                cond_facts(*b.lhs, in, lt, lf);
                cond_facts(*b.rhs, lt, rt, rf);
                t = rt;
                f = Facts::meet(lf, rf);
            } else if (b.op == BinaryOp::Or) {
                Facts lt, lf, rt, rf;
                cond_facts(*b.lhs, in, lt, lf);
                cond_facts(*b.rhs, lf, rt, rf);
                t = Facts::meet(lt, rt);
                f = rf;
            } else if (b.op == BinaryOp::Eq || b.op == BinaryOp::Ne) {
                const Expr* other = nullptr;
                bool lit = false;
                if (b.rhs->kind == ExprKind::BoolLit) {
                    other = b.lhs.get();
                    lit = static_cast<const BoolLit&>(*b.rhs).value;
                } else if (b.lhs->kind == ExprKind::BoolLit) {
                    other = b.rhs.get();
                    lit = static_cast<const BoolLit&>(*b.lhs).value;
                }
                if (!other) return;
                Facts xt, xf;
                cond_facts(*other, in, xt, xf);
                bool same = (b.op == BinaryOp::Eq) == lit;  // the condition holds when `other` is true
                t = same ? xt : xf;
                f = same ? xf : xt;
            }
            return;
        }
        default: return;
        }
    }

    void check_exit(const Exit& s, Facts& facts) {
        if (fn_->role == FuncRole::Normal)
            error(s.loc, "'exit' can only be used in 'main' or 'failsafe' (in '" + fn_->display +
                             "', report an error to the caller with 'fail')");
        const Type* i32 = s_.types.int32();
        const Type* t = check_expr(*s.value, facts, i32);
        convert(*s.value, t, i32, "the 'exit' status");
        LitValue v;
        if (fn_->role == FuncRole::Failsafe && unsuffixed_literal(*s.value, v) && (v.negative || v.magnitude == 0))
            error(s.value->loc, "an exit code in 'failsafe' must be positive, got " + lit_str(v));
        else if (fn_->role == FuncRole::Failsafe && s.value->kind == ExprKind::IntLit &&
                 static_cast<const IntLit&>(*s.value).value == 0)
            error(s.value->loc, "an exit code in 'failsafe' must be positive, got 0");
    }

    bool not_here(const Stmt& s, const char* what) {
        if (fn_->role != FuncRole::Normal) {
            error(s.loc, std::string("'") + what + "' cannot be used in '" + role_name() + "': '" + role_name() +
                             "' ends with 'exit N;'" + (fn_->role == FuncRole::Main ? " or by falling off its end" : ""));
            return true;
        }
        if (defer_depth_ > 0) {
            error(s.loc, std::string("'") + what + "' cannot be used inside a 'defer' block");
            return true;
        }
        return false;
    }

    void check_pass(const Pass& s, Facts& facts) {
        bool banned = not_here(s, "pass");
        const Type* ret = fn_->ret;
        if (!s.value) {
            if (!banned && ret->kind != TypeKind::Nil && !ret->is_error())
                error(s.loc, "'pass;' without a value is only allowed in NIL functions ('" + fn_->display +
                                 "' returns " + ret->str() + ")");
            return;
        }
        const Type* t = check_expr(*s.value, facts, ret->kind == TypeKind::Nil ? nullptr : ret);
        if (banned) return;
        if (ret->kind == TypeKind::Nil) {
            error(s.value->loc, "'" + fn_->display + "' returns NIL: write 'pass;' without a value");
            return;
        }
        if (t->is_result()) {
            // `pass f();` hands on f's Result (⚑ §6.2: a failure stays a failure).
            if (!convertible(t->elem, ret))
                error(s.value->loc, "cannot pass " + t->str() + " from '" + fn_->display + "', which returns " + ret->str());
            return;
        }
        convert(*s.value, t, ret, "the 'pass' value of '" + fn_->display + "'");
    }

    void check_fail(const Fail& s, Facts& facts) {
        bool banned = not_here(s, "fail");
        const Type* t = check_expr(*s.value, facts);
        if (banned || t->is_error()) return;
        if (!t->is_integer())
            error(s.value->loc, "'fail' needs an integer error code, got '" + t->str() + "'");
    }

    void check_return(const Return& s, Facts& facts) {
        bool banned = not_here(s, "return");
        if (!s.value) return;
        const Type* ret = fn_->ret;
        if (s.value->kind == ExprKind::StructLit && static_cast<const StructLit&>(*s.value).type_name == "Result") {
            check_result_literal(static_cast<const StructLit&>(*s.value), facts, ret);
            return;
        }
        const Type* t = check_expr(*s.value, facts);
        if (banned || t->is_error()) return;
        if (!t->is_result()) {
            error(s.value->loc, "'return' cannot return a bare value (of type '" + t->str() +
                                    "'): use 'pass' for a value, or return a Result{val: ..., err: ..., is_error: ...}");
            return;
        }
        if (!convertible(t->elem, ret->kind == TypeKind::Nil ? s_.types.nil() : ret))
            error(s.value->loc, "cannot return " + t->str() + " from '" + fn_->display + "', which returns " + ret->str());
    }

    // return Result{val: v, err: c, is_error: b}; (§5.2). Unknown fields
    // are errors (upstream ignores them, §11.2.9).
    void check_result_literal(const StructLit& lit, Facts& facts, const Type* ret) {
        s_.expr_type[lit.id] = s_.types.result(ret);
        std::vector<std::string> seen;
        for (const FieldInit& fi : lit.fields) {
            if (std::find(seen.begin(), seen.end(), fi.name) != seen.end())
                error(fi.loc, "field '" + fi.name + "' is given twice");
            seen.push_back(fi.name);
            if (fi.name == "val") {
                if (ret->kind == TypeKind::Nil) {
                    check_expr(*fi.value, facts);
                    error(fi.loc, "'" + fn_->display + "' returns NIL: a Result{...} for it has no 'val'");
                    continue;
                }
                const Type* t = check_expr(*fi.value, facts, ret);
                convert(*fi.value, t, ret, "'val'");
            } else if (fi.name == "err") {
                const Type* t = check_expr(*fi.value, facts);
                if (!t->is_error() && !t->is_integer())
                    error(fi.value->loc, "'err' must be an integer error code, got '" + t->str() + "'");
            } else if (fi.name == "is_error") {
                const Type* t = check_expr(*fi.value, facts);
                if (!t->is_error() && !t->is_integer() && t->kind != TypeKind::Bool)
                    error(fi.value->loc, "'is_error' must be a bool (or an integer, nonzero = error), got '" +
                                             t->str() + "'");
            } else {
                check_expr(*fi.value, facts);
                error(fi.loc, "Result{...} has no field '" + fi.name + "' (its fields are val, err and is_error)");
            }
        }
    }

    // ------------------------------------------------------------------
    // Conversions (§6.4).
    // ------------------------------------------------------------------
    bool convertible(const Type* from, const Type* to) const {
        if (from == to || from->is_error() || to->is_error()) return true;
        switch (to->kind) {
        case TypeKind::Int:
        case TypeKind::UInt:
            // A Handle<T> is an int64 both ways, but never a handle to another T.
            if (from->is_handle() && to->is_handle()) return false;
            return from->kind == to->kind && from->bits <= to->bits;
        case TypeKind::Ptr:
            if (!from->is_ptr()) return false;
            if (to->elem == nullptr) return true;                    // anything → ?-> / ?*
            if (from->elem == nullptr) return from->c_ptr;           // extern-returned ?* → anything
            return from->elem == to->elem;                           // T-> ↔ T*
        case TypeKind::Result:
            return from->is_result() && convertible(from->elem, to->elem);
        default:
            return false;
        }
    }

    bool convert(const Expr& e, const Type* from, const Type* to, const std::string& what) {
        if (from->is_error() || to->is_error()) return true;
        if (!from->is_value()) {
            error(e.loc, "this expression has no value (type '" + from->str() + "'), so it cannot be " + what);
            return false;
        }
        if (convertible(from, to)) return true;
        std::string why;
        if (from->is_result() && !to->is_result())
            why = ": use 'raw' to take the value, or bind the " + from->str() + " and test .is_error";
        else if (from->is_handle() && to->is_handle())
            why = " (a handle names one type of target: it converts to int64, not to a handle of another type)";
        else if (from->is_std_int() && to->is_std_int() && from->kind == to->kind)
            why = " (no implicit narrowing)";
        else if (from->is_std_int() && to->is_std_int())
            why = " (no implicit conversion between signed and unsigned)";
        else if (from->kind == TypeKind::Tbb || to->kind == TypeKind::Tbb)
            why = " (a tbb converts only to the same tbb type)";
        error(e.loc, "cannot convert '" + from->str() + "' to '" + to->str() + "' for " + what + why);
        return false;
    }

    // ------------------------------------------------------------------
    // Expressions.
    // ------------------------------------------------------------------
    const Type* set(const Expr& e, const Type* t) {
        assert(e.id < s_.expr_type.size());
        s_.expr_type[e.id] = t;
        return t;
    }

    // `target` is the type the context gives an unsuffixed literal (§6.4).
    //
    // check_expr and check_binary recurse once per level of an expression,
    // up to the parser's height limit (1024), so their frames must stay
    // small: the work of each case, with its strings and messages, is done
    // in functions kept out of line (NPK_COLD), whose frames are gone again
    // before the recursion goes deeper. Inlined, they made 12 KiB a level
    // under ASan and overflowed an 8 MiB stack.
    const Type* check_expr(const Expr& e, Facts& facts, const Type* target = nullptr) {
        switch (e.kind) {
        case ExprKind::IntLit: return set(e, check_int_lit(static_cast<const IntLit&>(e), false, target));
        case ExprKind::StrLit:
            error(e.loc, "a string literal can only be a 'use' path");
            return set(e, s_.types.error());
        case ExprKind::BoolLit: return set(e, s_.types.boolean());
        case ExprKind::Name: return set(e, check_name(static_cast<const Name&>(e)));
        case ExprKind::Unary: return set(e, check_unary(static_cast<const Unary&>(e), facts, target));
        case ExprKind::Binary: return set(e, check_binary(static_cast<const Binary&>(e), facts));
        case ExprKind::Assign: return set(e, check_assign(static_cast<const Assign&>(e), facts));
        case ExprKind::Call: return set(e, check_call(static_cast<const Call&>(e), facts));
        case ExprKind::Member: return set(e, check_member(static_cast<const Member&>(e), facts));
        case ExprKind::StructLit: return set(e, check_struct_lit(static_cast<const StructLit&>(e), facts));
        case ExprKind::Raw: {
            const Type* t = check_expr(*static_cast<const Raw&>(e).operand, facts);
            return set(e, raw_result(e, t));
        }
        case ExprKind::Drop:
            check_expr(*static_cast<const Drop&>(e).operand, facts);
            return set(e, s_.types.void_type());
        case ExprKind::Cast: return set(e, check_cast(static_cast<const Cast&>(e), facts));
        }
        return set(e, s_.types.error());
    }

    // @cast<T>(e): any integer (a handle is one) to any integer, a pointer
    // to a pointer, a pointer to and from a 64-bit integer. Nothing else
    // has a meaning to cast to.
    NPK_COLD const Type* check_cast(const Cast& c, Facts& facts) {
        const Type* to = resolve_type(c.type, module_, TypeUse::Local);
        const Type* from = check_expr(*c.operand, facts, to->is_integer() ? to : nullptr);
        if (to->is_error() || from->is_error()) return to;
        auto word = [](const Type* t) { return t->is_std_int() && t->bits == 64; };
        const bool ok = (from->is_integer() && to->is_integer()) || (from->is_ptr() && to->is_ptr()) ||
                        (from->is_ptr() && word(to)) || (to->is_ptr() && word(from));
        if (!ok) {
            error(c.loc, "@cast cannot convert '" + from->str() + "' to '" + to->str() +
                             "' (casts go between integers, between pointers, or between a pointer and a 64-bit integer)");
            return s_.types.error();
        }
        return to;
    }

    NPK_COLD const Type* raw_result(const Expr& e, const Type* t) {
        if (t->is_error()) return t;
        if (!t->is_result()) {
            error(e.loc, "'raw' argument must be Result<T>, got '" + t->str() +
                             "' (builtins and externs return plain values; only calls of functions with a body return Result<T>)");
            return s_.types.error();
        }
        return t->elem;
    }

    // `negated`: the literal is the operand of a unary minus, whose
    // location `at` then is (errors point at the '-').
    NPK_COLD const Type* check_int_lit(const IntLit& lit, bool negated, const Type* target, Loc at = {}) {
        if (!negated) at = lit.loc;
        LitValue v{lit.value, negated && lit.value != 0};
        TypeTable& T = s_.types;
        if (lit.has_suffix) {
            uint32_t b = lit.suffix_bits;
            if (b != 8 && b != 16 && b != 32 && b != 64) {
                error(at, "integer literal suffix of " + std::to_string(b) +
                                   " bits is not supported by npk: widths are 8, 16, 32 and 64");
                return T.error();
            }
            const Type* t = lit.suffix_tbb ? T.tbb_type(b) : lit.suffix_signed ? T.int_type(b) : T.uint_type(b);
            if (!literal_fits(v, t)) {
                error(at, "integer literal " + lit_str(v) + " does not fit in '" + t->str() + "'");
                return T.error();
            }
            return t;
        }
        if (target && target->is_integer()) {
            if (!literal_fits(v, target)) {
                error(at, "integer literal " + lit_str(v) + " does not fit in '" + target->str() + "'");
                return T.error();
            }
            return target;
        }
        if (!literal_fits(v, T.int32())) {
            error(at, "integer literal " + lit_str(v) +
                               " does not fit in 'int32' (give it a suffix such as i64, or a typed context)");
            return T.error();
        }
        return T.int32();
    }

    NPK_COLD const Type* check_name(const Name& n) {
        int32_t sl = lookup_local(n.name);
        if (sl >= 0) {
            s_.slot[n.id] = sl;
            return slot(sl).type;
        }
        Builtin b;
        if (scopes_[module_].calls.count(n.name) || lookup_builtin(n.name, b))
            error(n.loc, "'" + n.name + "' is a function: call it as " + n.name + "(...)");
        else if (find_type_name(module_, n.name))
            error(n.loc, "'" + n.name + "' is a type name, not a value");
        else
            error(n.loc, "Unknown identifier '" + n.name + "'");
        return s_.types.error();
    }

    NPK_COLD const Type* check_unary(const Unary& u, Facts& facts, const Type* target) {
        if (u.op == UnaryOp::Neg && u.operand->kind == ExprKind::IntLit &&
            !static_cast<const IntLit&>(*u.operand).has_suffix) {
            // -LIT: typed as one literal of negative value.
            const Type* t = check_int_lit(static_cast<const IntLit&>(*u.operand), true, target, u.loc);
            set(*u.operand, t);
            return t;
        }
        if (u.op == UnaryOp::Neg && u.operand->kind == ExprKind::IntLit) {
            // -LITsuffix: the suffixed literal must fit once negated (-128i8).
            const Type* t = check_int_lit(static_cast<const IntLit&>(*u.operand), true, nullptr, u.loc);
            set(*u.operand, t);
            return t;
        }
        const Type* t = check_expr(*u.operand, facts);
        if (t->is_error()) return t;
        if (u.op == UnaryOp::Neg) {
            if (t->is_integer()) return t;
            error(u.loc, "unary '-' needs an integer, got '" + t->str() + "'");
            return s_.types.error();
        }
        if (t->kind == TypeKind::Bool) return t;
        error(u.loc, "'!' needs a bool, got '" + t->str() + "' (there is no truthiness: compare explicitly)");
        return s_.types.error();
    }

    const Type* check_binary(const Binary& b, Facts& facts) {
        if (b.op == BinaryOp::And || b.op == BinaryOp::Or) return check_logical(b, facts);

        // §6.4: an unsuffixed literal takes the type of the other operand
        // when that is a standard integer type and the value fits.
        LitValue lv, rv;
        bool llit = unsuffixed_literal(*b.lhs, lv), rlit = unsuffixed_literal(*b.rhs, rv);
        const Type *lt, *rt;
        if (llit && !rlit) {
            rt = check_expr(*b.rhs, facts);
            lt = check_expr(*b.lhs, facts, rt->is_std_int() && literal_fits(lv, rt) ? rt : nullptr);
        } else if (rlit && !llit) {
            lt = check_expr(*b.lhs, facts);
            rt = check_expr(*b.rhs, facts, lt->is_std_int() && literal_fits(rv, lt) ? lt : nullptr);
        } else {
            lt = check_expr(*b.lhs, facts);
            rt = check_expr(*b.rhs, facts);
        }
        return binary_type(b, lt, rt);
    }

    // `&&` / `||`: bool operands; the right side is checked with what the
    // left side proves when it runs ("no checky no val").
    NPK_COLD const Type* check_logical(const Binary& b, Facts& facts) {
        TypeTable& T = s_.types;
        const std::string op = spelling(b.op);
        {
            const Type* lt = check_expr(*b.lhs, facts);
            Facts when_true, when_false;
            cond_facts(*b.lhs, facts, when_true, when_false);
            Facts& rhs_facts = b.op == BinaryOp::And ? when_true : when_false;
            const Type* rt = check_expr(*b.rhs, rhs_facts);
            for (int32_t sl : rhs_facts.tested) Facts::add(facts.tested, sl);
            for (const auto& [side, t] : {std::pair{b.lhs.get(), lt}, std::pair{b.rhs.get(), rt}})
                if (!t->is_error() && t->kind != TypeKind::Bool)
                    error(side->loc, "'" + op + "' needs bool operands, got '" + t->str() + "'");
            s_.operand_type[b.id] = T.boolean();
            return T.boolean();
        }
    }

    // The type of a non-logical binary operation from its operand types,
    // or the error that says why there is none.
    NPK_COLD const Type* binary_type(const Binary& b, const Type* lt, const Type* rt) {
        TypeTable& T = s_.types;
        const std::string op = spelling(b.op);
        bool compare = b.op == BinaryOp::Eq || b.op == BinaryOp::Ne || b.op == BinaryOp::Lt ||
                       b.op == BinaryOp::Le || b.op == BinaryOp::Gt || b.op == BinaryOp::Ge;
        bool equality = b.op == BinaryOp::Eq || b.op == BinaryOp::Ne;
        if (lt->is_error() || rt->is_error()) return compare ? T.boolean() : T.error();

        const Type* common = nullptr;
        if (lt->is_result() || rt->is_result()) {
            const Type* r = lt->is_result() ? lt : rt;
            error(b.loc, "a " + r->str() + " cannot be an operand of '" + op +
                             "': take its value with 'raw', or test .is_error and read .value");
            return compare ? T.boolean() : T.error();
        } else if (!lt->is_value() || !rt->is_value()) {
            error(b.loc, "an operand of '" + op + "' has no value");
            return compare ? T.boolean() : T.error();
        } else if (lt->is_std_int() && rt->is_std_int()) {
            if (lt->kind != rt->kind) {
                error(b.loc, "cannot mix '" + lt->str() + "' and '" + rt->str() + "' in '" + op +
                                 "' (no implicit conversion between signed and unsigned)");
                return compare ? T.boolean() : T.error();
            }
            common = lt->bits >= rt->bits ? lt : rt;
            if (common->is_handle()) common = T.int64();  // a handle computes as the int64 it is
        } else if (lt->kind == TypeKind::Tbb || rt->kind == TypeKind::Tbb) {
            if (lt != rt) {
                error(b.loc, "cannot mix '" + lt->str() + "' and '" + rt->str() + "' in '" + op +
                                 "' (a tbb combines only with the same tbb type)");
                return compare ? T.boolean() : T.error();
            }
            common = lt;
        } else if (lt->kind == TypeKind::Bool && rt->kind == TypeKind::Bool) {
            if (!equality) {
                error(b.loc, "'" + op + "' is not defined on bool");
                return compare ? T.boolean() : T.error();
            }
            common = lt;
        } else if (lt->is_ptr() && rt->is_ptr()) {
            if (!equality) {
                error(b.loc, "pointers support only '==' and '!=', not '" + op + "'");
                return compare ? T.boolean() : T.error();
            }
            if (!convertible(lt, rt) && !convertible(rt, lt)) {
                error(b.loc, "cannot compare '" + lt->str() + "' with '" + rt->str() + "'");
                return T.boolean();
            }
            common = lt->elem ? rt : lt;
        } else {
            error(b.loc, "'" + op + "' cannot combine '" + lt->str() + "' and '" + rt->str() + "'");
            return compare ? T.boolean() : T.error();
        }
        if (!compare && !common->is_integer()) {
            error(b.loc, "'" + op + "' needs integer operands, got '" + common->str() + "'");
            return T.error();
        }
        s_.operand_type[b.id] = common;
        return compare ? T.boolean() : common;
    }

    NPK_COLD const Type* check_assign(const Assign& a, Facts& facts) {
        TypeTable& T = s_.types;
        if (a.target->kind == ExprKind::Name) {
            const auto& n = static_cast<const Name&>(*a.target);
            int32_t sl = lookup_local(n.name);
            if (sl < 0) {
                check_name(n);
                check_expr(*a.value, facts);
                return T.void_type();
            }
            s_.slot[n.id] = sl;
            const SlotInfo& si = slot(sl);
            set(n, si.type);
            const Type* vt = check_expr(*a.value, facts, si.type);
            if (si.fixed) {
                error(a.loc, "Cannot assign to '" + n.name + "': it is declared 'fixed'");
                note(si.loc, "'" + n.name + "' is declared here");
            } else {
                convert(*a.value, vt, si.type, "an assignment to '" + n.name + "'");
            }
            facts.forget(sl);  // a new Result has not been tested yet
            return T.void_type();
        }
        if (a.target->kind == ExprKind::Member) {
            const auto& m = static_cast<const Member&>(*a.target);
            if (m.object->kind != ExprKind::Name || is_upper(static_cast<const Name&>(*m.object).name)) {
                error(a.target->loc, "the left side of '=' must be a variable or a field of a variable");
                check_expr(*a.value, facts);
                return T.void_type();
            }
            const auto& n = static_cast<const Name&>(*m.object);
            const Type* ot = check_name(n);
            set(n, ot);
            int32_t sl = s_.slot[n.id];
            if (ot->is_error()) {
                check_expr(*a.value, facts);
                return T.void_type();
            }
            if (ot->kind != TypeKind::Struct) {
                error(m.member_loc, ot->is_result() ? "the fields of a Result are read-only"
                                                    : "'" + ot->str() + "' has no field '" + m.member + "'");
                check_expr(*a.value, facts);
                return T.void_type();
            }
            int fi = ot->st->find(m.member);
            if (fi < 0) {
                error(m.member_loc, "struct '" + ot->st->name + "' has no field '" + m.member + "'");
                check_expr(*a.value, facts);
                return T.void_type();
            }
            const FieldInfo& field = ot->st->fields[static_cast<size_t>(fi)];
            s_.member[m.id] = MemberInfo{MemberKind::Field, static_cast<uint32_t>(fi)};
            set(m, field.type);
            const Type* vt = check_expr(*a.value, facts, field.type);
            if (slot(sl).fixed) {
                error(a.loc, "Cannot assign to '" + n.name + "." + m.member + "': '" + n.name + "' is declared 'fixed'");
                note(slot(sl).loc, "'" + n.name + "' is declared here");
            } else {
                convert(*a.value, vt, field.type, "field '" + m.member + "'");
            }
            return T.void_type();
        }
        error(a.target->loc, "the left side of '=' must be a variable or a field of a variable");
        check_expr(*a.value, facts);
        return T.void_type();
    }

    NPK_COLD const Type* check_member(const Member& m, Facts& facts) {
        TypeTable& T = s_.types;
        if (m.object->kind == ExprKind::Name && is_upper(static_cast<const Name&>(*m.object).name)) {
            const std::string& obj = static_cast<const Name&>(*m.object).name;
            const TypeName* tn = find_type_name(module_, obj);
            if (tn && tn->type)
                error(m.loc, "'" + obj + "." + m.member + "' is a method of Type '" + obj + "': call it as " + obj +
                                 "." + m.member + "(...)");
            else if (lookup_local(obj) >= 0)
                error(m.loc, "'" + obj + "." + m.member + "': a capitalised name before '.' is read as a Type name, "
                                                        "so a variable used with '.field' must start with a lower-case letter");
            else
                error(m.loc, "Unknown Type '" + obj + "'");
            return T.error();
        }
        const Type* ot = check_expr(*m.object, facts);
        if (ot->is_error()) return ot;
        if (ot->kind == TypeKind::Struct) {
            int fi = ot->st->find(m.member);
            if (fi < 0) {
                error(m.member_loc, "struct '" + ot->st->name + "' has no field '" + m.member + "'");
                return T.error();
            }
            s_.member[m.id] = MemberInfo{MemberKind::Field, static_cast<uint32_t>(fi)};
            return ot->st->fields[static_cast<size_t>(fi)].type;
        }
        if (ot->is_result()) {
            int32_t sl = m.object->kind == ExprKind::Name ? s_.slot[m.object->id] : -1;
            std::string name = sl >= 0 ? slot(sl).name : "";
            if (m.member == "is_error") {
                s_.member[m.id] = MemberInfo{MemberKind::IsError, 0};
                if (sl >= 0) Facts::add(facts.tested, sl);
                return T.boolean();
            }
            if (m.member == "value") {
                s_.member[m.id] = MemberInfo{MemberKind::Value, 0};
                if (sl < 0)
                    error(m.member_loc, "Cannot read '.value' of a Result that is not a named binding (no checky no val): "
                                        "bind it with '" + ot->str() + ":r = ...;' and test r.is_error, or use 'raw'");
                else if (!Facts::has(facts.ok, sl))
                    error(m.member_loc, "Cannot read '" + name + ".value' before a check proves '!" + name +
                                            ".is_error' (no checky no val): read it inside 'if (!" + name +
                                            ".is_error) { ... }', or after 'if (" + name + ".is_error) { ... }' that leaves");
                if (ot->elem->kind == TypeKind::Nil) return T.nil();
                return ot->elem;
            }
            if (m.member == "error") {
                s_.member[m.id] = MemberInfo{MemberKind::Error, 0};
                if (sl < 0)
                    error(m.member_loc, "Cannot read '.error' of a Result that is not a named binding (no checky no val)");
                else if (!Facts::has(facts.tested, sl))
                    error(m.member_loc, "Cannot read '" + name + ".error' before testing '" + name +
                                            ".is_error' (no checky no val)");
                return T.int64();
            }
            error(m.member_loc, "a Result has no field '" + m.member + "' (its fields are is_error, value and error)");
            return T.error();
        }
        error(m.member_loc, "'" + ot->str() + "' has no field '" + m.member + "'");
        return T.error();
    }

    NPK_COLD const Type* check_struct_lit(const StructLit& lit, Facts& facts) {
        TypeTable& T = s_.types;
        if (lit.type_name == "Result") {
            error(lit.loc, "'Result{...}' can only be the operand of 'return'");
            for (const FieldInit& fi : lit.fields) check_expr(*fi.value, facts);
            return T.error();
        }
        const TypeName* tn = find_type_name(module_, lit.type_name);
        if (!tn || !tn->st) {
            error(lit.loc, tn ? "'" + lit.type_name + "' is a Type (a namespace of functions), not a struct"
                              : "Unknown struct '" + lit.type_name + "'");
            for (const FieldInit& fi : lit.fields) check_expr(*fi.value, facts);
            return T.error();
        }
        const StructInfo* st = tn->st;
        s_.struct_lit[lit.id] = st;
        std::vector<std::string> seen;
        for (const FieldInit& fi : lit.fields) {
            int idx = st->find(fi.name);
            if (idx < 0) {
                error(fi.loc, "struct '" + st->name + "' has no field '" + fi.name + "'");
                check_expr(*fi.value, facts);
                continue;
            }
            if (std::find(seen.begin(), seen.end(), fi.name) != seen.end())
                error(fi.loc, "field '" + fi.name + "' is given twice");
            seen.push_back(fi.name);
            const Type* ft = st->fields[static_cast<size_t>(idx)].type;
            const Type* vt = check_expr(*fi.value, facts, ft);
            convert(*fi.value, vt, ft, "field '" + fi.name + "' of '" + st->name + "'");
        }
        return T.structure(st);
    }

    // ------------------------------------------------------------------
    // Calls (§5.3, §7).
    // ------------------------------------------------------------------
    void check_args(const Call& c, Facts& facts, const std::vector<const Type*>& params, const std::string& what) {
        if (c.args.size() != params.size()) {
            error(c.loc, what + " expects " + std::to_string(params.size()) + " argument" +
                             (params.size() == 1 ? "" : "s") + ", got " + std::to_string(c.args.size()));
            for (const auto& a : c.args) check_expr(*a, facts);
            return;
        }
        for (size_t i = 0; i < params.size(); ++i) {
            const Type* t = check_expr(*c.args[i], facts, params[i]);
            convert(*c.args[i], t, params[i], "argument " + std::to_string(i + 1) + " of " + what);
        }
    }

    const Type* check_builtin(const Call& c, Facts& facts, Builtin b) {
        TypeTable& T = s_.types;
        std::string what = std::string("'") + builtin_name(b) + "'";
        s_.callee[c.id].kind = Callee::Kind::Builtin;
        s_.callee[c.id].builtin = b;
        if (c.args.size() != 1) {
            error(c.loc, what + " expects 1 argument, got " + std::to_string(c.args.size()));
            for (const auto& a : c.args) check_expr(*a, facts);
            return b == Builtin::Alloc || b == Builtin::WildxAlloc ? T.pointer(T.int_type(8), false)
                 : b == Builtin::WildxSeal || b == Builtin::WildxFree ? T.int32() : T.void_type();
        }
        const Expr& arg = *c.args[0];
        switch (b) {
        case Builtin::Alloc:
        case Builtin::WildxAlloc: {
            const Type* t = check_expr(arg, facts);
            if (!t->is_error() && !t->is_std_int())
                error(arg.loc, what + " takes a size (any integer type), got '" + t->str() + "'");
            return T.pointer(T.int_type(8), false);
        }
        case Builtin::Free:
        case Builtin::WildxSeal:
        case Builtin::WildxFree: {
            const Type* t = check_expr(arg, facts);
            if (!t->is_error() && !t->is_ptr())
                error(arg.loc, what + " takes a pointer, got '" + t->str() + "'" +
                                   (t->is_result() ? ": take the value with 'raw' first" : ""));
            return b == Builtin::Free ? T.void_type() : T.int32();
        }
        case Builtin::PrintI32: {
            const Type* t = check_expr(arg, facts, T.int32());
            convert(arg, t, T.int32(), "the argument of 'print_i32'");
            return T.void_type();
        }
        }
        return T.error();
    }

    NPK_COLD const Type* check_call(const Call& c, Facts& facts) {
        TypeTable& T = s_.types;
        auto check_rest = [&] { for (const auto& a : c.args) check_expr(*a, facts); };
        if (c.callee->kind == ExprKind::Name) {
            const auto& n = static_cast<const Name&>(*c.callee);
            set(n, T.void_type());
            if (lookup_local(n.name) >= 0) {
                error(n.loc, "'" + n.name + "' is a variable, not a function");
                check_rest();
                return T.error();
            }
            auto it = scopes_[module_].calls.find(n.name);
            if (it != scopes_[module_].calls.end()) {
                if (it->second.ext) {
                    const ExternInfo& ei = s_.externs.at(it->second.ext);
                    s_.callee[c.id].kind = Callee::Kind::Extern;
                    s_.callee[c.id].ext = it->second.ext;
                    check_args(c, facts, ei.params, "extern '" + n.name + "'");
                    return ei.ret;
                }
                const FuncInfo& fi = s_.funcs.at(it->second.fn);
                s_.callee[c.id].kind = Callee::Kind::Func;
                s_.callee[c.id].fn = it->second.fn;
                check_args(c, facts, fi.params, "'" + fi.display + "'");
                return fi.call_type;
            }
            Builtin b;
            if (lookup_builtin(n.name, b)) return check_builtin(c, facts, b);
            if (find_type_name(module_, n.name))
                error(n.loc, "'" + n.name + "' is a type, not a function");
            else
                error(n.loc, "Unknown function '" + n.name + "'");
            check_rest();
            return T.error();
        }
        if (c.callee->kind == ExprKind::Member) {
            const auto& m = static_cast<const Member&>(*c.callee);
            set(m, T.void_type());
            if (m.object->kind != ExprKind::Name || !is_upper(static_cast<const Name&>(*m.object).name)) {
                error(c.callee->loc, "only functions and Type methods (TypeName.method(...)) can be called");
                check_rest();
                return T.error();
            }
            const auto& obj = static_cast<const Name&>(*m.object);
            set(obj, T.void_type());
            const TypeName* tn = find_type_name(module_, obj.name);
            if (!tn || !tn->type) {
                error(obj.loc, tn ? "'" + obj.name + "' is a struct, which has no methods"
                                  : "Unknown Type '" + obj.name + "' in call '" + obj.name + "." + m.member + "(...)'");
                check_rest();
                return T.error();
            }
            const FuncDecl* target = nullptr;
            for (const auto& f : tn->type->methods)
                if (f->name == m.member) target = f.get();
            if (!target) {
                error(m.member_loc, "Type '" + obj.name + "' has no method '" + m.member + "'");
                check_rest();
                return T.error();
            }
            const FuncInfo& fi = s_.funcs.at(target);
            s_.callee[c.id].kind = Callee::Kind::Func;
            s_.callee[c.id].fn = target;
            check_args(c, facts, fi.params, "'" + fi.display + "'");
            return fi.call_type;
        }
        check_expr(*c.callee, facts);
        error(c.callee->loc, "only functions and Type methods (TypeName.method(...)) can be called");
        check_rest();
        return T.error();
    }

    const Program& prog_;
    Diagnostics& diag_;
    Sema& s_;
    std::vector<ModuleScope> scopes_;
    std::unordered_map<const StructDecl*, StructInfo*> struct_of_;
    std::vector<const FuncDecl*> func_order_;
    size_t errors_at_start_;
};

}  // namespace

// Options do not matter here: the type checker always checks every body
// (only the lifecycle checker has a root-only default).
std::unique_ptr<Sema> check_types(const ast::Program& prog, const Options&, Diagnostics& diag) {
    auto sema = std::make_unique<Sema>();
    if (prog.modules.empty()) {
        diag.error({}, "", "no program to check");
        return sema;
    }
    Checker c(prog, diag, *sema);
    c.run();
    return sema;
}

}  // namespace npk
