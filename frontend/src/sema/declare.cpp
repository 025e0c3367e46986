// Declarations (nitpick-subset.md §4, §5, §6.1, §7): types as written,
// the C layout of structs, function and extern signatures, attributes,
// impl:Drop blocks and the entry points.
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "sema/checker_p.h"

namespace npk::sema_detail {

// Types as written → Types.
const Type* Checker::resolve_type(const TypeRef& r, uint32_t m, TypeUse use) {
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
            error(r.loc, "A struct field cannot be a Result<T>");
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
        error(r.loc, "Cannot point to '" + base->str() + "'");
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

void Checker::resolve_struct_fields() {
    for (auto& stp : s_.structs) {
        StructInfo& st = *stp;
        for (const StructField& f : st.decl->fields) {
            const Type* t = resolve_type(f.type, st.module, TypeUse::Field);
            if (st.find(f.name) >= 0) {
                error(f.loc, "Duplicate field '" + f.name + "' in struct '" + st.name + "'");
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
// has none. Each struct is laid out once, whatever the outcome: a chain
// of structs each holding a bad one twice must cost its length, not 2^n
// (found by npk_fuzz_check).
bool Checker::layout(StructInfo& st, std::vector<const StructInfo*>& path) {
    if (st.laid_out) return st.layout_ok;
    if (std::find(path.begin(), path.end(), &st) != path.end()) {
        error(st.decl->loc, "Struct '" + st.name + "' contains itself (a struct field must be a smaller value; use a pointer)");
        return false;
    }
    path.push_back(&st);
    uint32_t off = 0, align = 1;
    bool ok = true;
    uint64_t scalars = 0;
    for (FieldInfo& f : st.fields) {
        if (f.type->kind == TypeKind::Struct) {
            ok = layout(const_cast<StructInfo&>(*f.type->st), path) && ok;
            if (!ok) continue;
            scalars += f.type->st->scalars;
        } else {
            scalars += 1;
        }
        if (scalars > kMaxStructScalars) {
            // Reported here, where the limit is crossed; the structs that
            // contain this one fail without a message of their own.
            error(st.decl->loc, "Struct '" + st.name + "' is too large: its value would hold more than " +
                                    std::to_string(kMaxStructScalars) +
                                    " scalar fields through its nested structs (npk's limit)");
            ok = false;
            break;
        }
        uint32_t a = c_align_of(f.type), sz = c_size_of(f.type);
        off = (off + a - 1) / a * a;
        f.offset = off;
        off += sz;
        align = std::max(align, a);
    }
    path.pop_back();
    st.scalars = scalars;
    st.laid_out = true;  // never again, never reported twice
    st.layout_ok = ok;
    if (!ok) return false;
    st.size = (off + align - 1) / align * align;
    st.align = align;
    return true;
}

// Functions and externs.
void Checker::declare_func(const FuncDecl& f, uint32_t m, const std::string& display, bool top_level) {
    FuncInfo info;
    info.decl = &f;
    info.module = m;
    info.display = display;
    if (top_level && f.name == "main") info.role = FuncRole::Main;
    if (top_level && f.name == "failsafe") info.role = FuncRole::Failsafe;
    info.ret = resolve_type(f.ret, m, TypeUse::Return);
    std::unordered_map<std::string_view, Loc> seen;
    for (const Param& p : f.params) {
        const Type* t = resolve_type(p.type, m, TypeUse::Param);
        auto [it, fresh] = seen.emplace(p.name, p.loc);
        if (!fresh) {
            error(p.loc, "Duplicate parameter '" + p.name + "'");
            note(it->second, "the first '" + p.name + "' is here");
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
    info.attrs = check_attrs(f.attrs, f.params, display);
    s_.funcs.emplace(&f, std::move(info));
    func_order_.push_back(&f);
}

void Checker::declare_functions() {
    for (uint32_t m = 0; m < prog_.modules.size(); ++m) {
        const Module& md = mod(m);
        for (const auto& f : md.funcs) declare_func(*f, m, f->name, true);
        for (const TypeDecl& t : md.types) {
            for (size_t i = 0; i < t.methods.size(); ++i) {
                const FuncDecl& f = *t.methods[i];
                for (size_t j = 0; j < i; ++j)
                    if (t.methods[j]->name == f.name) {
                        error(f.name_loc, "Duplicate method '" + f.name + "' in Type '" + t.name + "'");
                        note(t.methods[j]->name_loc, "the first '" + f.name + "' is here");
                    }
                declare_func(f, m, t.name + "." + f.name, false);
            }
        }
        for (const ImplDecl& im : md.impls)
            for (const auto& f : im.methods) declare_func(*f, m, im.for_type + "." + f->name, false);
    }
}

// Every argument of an attribute names a parameter of the declaration
// it stands before (#[releases(p)] on a function of `p`). Attribute
// names are not checked here: the analysis that knows a name gives it
// its meaning (upstream, too, lets tools add their own).
std::vector<AttrInfo> Checker::check_attrs(const std::vector<Attr>& attrs, const std::vector<Param>& params,
                                           const std::string& display) {
    std::vector<AttrInfo> out;
    for (const Attr& a : attrs) {
        AttrInfo info{a.name, {}, a.loc};
        for (size_t i = 0; i < a.args.size(); ++i) {
            auto p = std::find_if(params.begin(), params.end(),
                                  [&](const Param& x) { return x.name == a.args[i]; });
            if (p != params.end()) {
                info.params.push_back(static_cast<uint32_t>(p - params.begin()));
                continue;
            }
            std::string names;
            for (const Param& x : params) names += (names.empty() ? "" : ", ") + x.name;
            error(i < a.arg_locs.size() ? a.arg_locs[i] : a.loc,
                  "Attribute '#[" + a.name + "(...)]': '" + a.args[i] + "' is not a parameter of '" + display +
                      "' (" + (names.empty() ? std::string("it has none") : "its parameters are " + names) + ")");
        }
        out.push_back(std::move(info));
    }
    return out;
}

void Checker::declare_externs() {
    for (uint32_t m = 0; m < prog_.modules.size(); ++m) {
        for (const ExternDecl& e : mod(m).externs) {
            ExternInfo info;
            info.decl = &e;
            info.module = m;
            info.valid = true;
            info.ret = resolve_type(e.ret, m, TypeUse::ExternReturn);
            if (info.ret->is_error()) info.valid = false;
            else if (!ctype_of(info.ret, true, info.sig.ret)) {
                error(e.ret.loc, "Extern '" + e.name + "': return type '" + info.ret->str() +
                                     "' has no C form (libffi): use an integer, bool, a pointer or void");
                info.valid = false;
            }
            for (const Param& p : e.params) {
                const Type* t = resolve_type(p.type, m, TypeUse::ExternParam);
                info.params.push_back(t);
                CType c = CType::Void;
                if (t->is_error()) info.valid = false;
                else if (!ctype_of(t, false, c)) {
                    error(p.type.loc, "Extern '" + e.name + "': parameter '" + p.name + "' of type '" +
                                          t->str() + "' has no C form (libffi): use an integer, bool or a pointer");
                    info.valid = false;
                }
                info.sig.params.push_back(c);
            }
            info.attrs = check_attrs(e.attrs, e.params, e.name);
            s_.externs.emplace(&e, std::move(info));
        }
    }
}

// §3: impl:Drop:for:S = { func:drop = NIL(...) {...}; } — S must
// exist, exactly one method `drop` returning NIL, one impl per S.
void Checker::check_impls() {
    std::unordered_map<const StructInfo*, const ImplDecl*> seen;
    for (uint32_t m = 0; m < prog_.modules.size(); ++m) {
        for (const ImplDecl& im : mod(m).impls) {
            if (im.trait != "Drop") {
                error(im.loc, "'impl:" + im.trait + "' is not supported by npk: only 'impl:Drop:for:S'");
                continue;
            }
            const TypeName* tn = find_type_name(m, im.for_type);
            if (!tn || !tn->st) {
                error(im.loc, "'impl:Drop:for:" + im.for_type + "': type '" + im.for_type +
                                  "' is not defined (no struct of that name is visible here)");
                continue;
            }
            auto [it, fresh] = seen.emplace(tn->st, &im);
            if (!fresh) {
                // The wording keeps "Duplicate impl:Drop" whole: upstream's
                // runner (bug280) greps for it.
                error(im.loc, "Duplicate impl:Drop for struct '" + im.for_type + "' (one per struct)");
                note(it->second->loc, "the first impl is here");
            }
            if (im.methods.size() != 1) {
                error(im.loc, "'impl:Drop:for:" + im.for_type + "' must have exactly one method, 'drop'");
                continue;
            }
            if (im.methods[0]->name != "drop") {
                error(im.methods[0]->name_loc, "The method of 'impl:Drop:for:" + im.for_type +
                                                   "' must be named 'drop', not '" + im.methods[0]->name + "'");
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
void Checker::check_entry_points() {
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
        error(top, "The program has no entry point: define 'func:main = int32() { ... };'");
    } else {
        const FuncInfo& fi = s_.funcs.at(mainf);
        if (fi.ret != s_.types.int32() || !fi.params.empty())
            error(mainf->name_loc, "'main' must be declared 'func:main = int32()'");
        else
            s_.main = mainf;
    }
    if (!fs) {
        error(top, "The program has no 'failsafe': define 'func:failsafe = int32(tbb32:err) { ... };'");
    } else {
        const FuncInfo& fi = s_.funcs.at(fs);
        if (fi.ret != s_.types.int32() || fi.params.size() != 1 || fi.params[0] != s_.types.tbb_type(32))
            error(fs->name_loc, "'failsafe' must be declared 'func:failsafe = int32(tbb32:err)'");
        else
            s_.failsafe = fs;
    }
}
}  // namespace npk::sema_detail
