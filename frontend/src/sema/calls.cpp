// Calls (nitpick-subset.md §5.3, §7): builtins, externs, functions and
// Type methods.
#include <string>
#include <vector>

#include "sema/checker_p.h"

namespace npk::sema_detail {

// Calls (§5.3, §7).
void Checker::check_args(const Call& c, Facts& facts, const std::vector<const Type*>& params, const std::string& what) {
    if (c.args.size() != params.size()) {
        error(c.loc, sentence(what) + " expects " + std::to_string(params.size()) + " argument" +
                         (params.size() == 1 ? "" : "s") + ", got " + std::to_string(c.args.size()));
        for (const auto& a : c.args) check_expr(*a, facts);
        return;
    }
    for (size_t i = 0; i < params.size(); ++i) {
        const Type* t = check_expr(*c.args[i], facts, params[i]);
        convert(*c.args[i], t, params[i], "argument " + std::to_string(i + 1) + " of " + what);
    }
}

const Type* Checker::check_builtin(const Call& c, Facts& facts, Builtin b) {
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

const Type* Checker::check_call(const Call& c, Facts& facts) {
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
            error(c.callee->loc, "Only functions and Type methods (TypeName.method(...)) can be called");
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
    error(c.callee->loc, "Only functions and Type methods (TypeName.method(...)) can be called");
    check_rest();
    return T.error();
}
}  // namespace npk::sema_detail
