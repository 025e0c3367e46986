// Result<T> (nitpick-subset.md §6.2, §6.3): what a condition proves about
// a Result binding ("no checky no val"), reading .is_error / .value /
// .error, and how pass, return and Result{...} hand a Result on.
#include <string>
#include <vector>

#include "sema/checker_p.h"

namespace npk::sema_detail {

Facts Facts::meet(const Facts& a, const Facts& b) {
    Facts out;
    for (int32_t s : a.ok)
        if (has(b.ok, s)) out.ok.push_back(s);
    out.tested = a.tested;
    for (int32_t s : b.tested) add(out.tested, s);
    return out;
}

// What a condition proves about Result bindings when it is true / false.
void Checker::cond_facts(const Expr& e, const Facts& in, Facts& t, Facts& f) {
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
    case ExprKind::IntLit:
    case ExprKind::StrLit:
    case ExprKind::BoolLit:
    case ExprKind::Name:
    case ExprKind::Assign:
    case ExprKind::Call:
    case ExprKind::StructLit:
    case ExprKind::Raw:
    case ExprKind::Drop:
    case ExprKind::Cast:
    case ExprKind::Index: return;  // proves nothing about a Result
    }
}

void Checker::check_pass(const Leave& s, Facts& facts) {
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
            error(s.value->loc, "Cannot pass " + t->str() + " from '" + fn_->display + "', which returns " + ret->str());
        return;
    }
    convert(*s.value, t, ret, "the 'pass' value of '" + fn_->display + "'");
}

void Checker::check_return(const Leave& s, Facts& facts) {
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
        error(s.value->loc, "Cannot return " + t->str() + " from '" + fn_->display + "', which returns " + ret->str());
}

// return Result{val: v, err: c, is_error: b}; (§5.2). Unknown fields
// are errors (upstream ignores them, §11.2.9).
void Checker::check_result_literal(const StructLit& lit, Facts& facts, const Type* ret) {
    s_.expr_type[lit.id] = s_.types.result(ret);
    std::vector<std::string> seen;
    for (const FieldInit& fi : lit.fields) {
        if (std::find(seen.begin(), seen.end(), fi.name) != seen.end())
            error(fi.loc, "Field '" + fi.name + "' is given twice");
        seen.push_back(fi.name);
        MemberKind kind = fi.name == "val" ? MemberKind::Value : fi.name == "err" ? MemberKind::Error
                        : fi.name == "is_error" ? MemberKind::IsError : MemberKind::None;
        s_.field_init[fi.value->id] = MemberInfo{kind, 0};
        if (kind == MemberKind::Value) {
            if (ret->kind == TypeKind::Nil) {
                check_expr(*fi.value, facts);
                error(fi.loc, "'" + fn_->display + "' returns NIL: a Result{...} for it has no 'val'");
                continue;
            }
            const Type* t = check_expr(*fi.value, facts, ret);
            convert(*fi.value, t, ret, "'val'");
        } else if (kind == MemberKind::Error) {
            const Type* t = check_expr(*fi.value, facts);
            if (!t->is_error() && !t->is_integer())
                error(fi.value->loc, "'err' must be an integer error code, got '" + t->str() + "'");
        } else if (kind == MemberKind::IsError) {
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

const Type* Checker::raw_result(const Expr& e, const Type* t) {
    if (t->is_error()) return t;
    if (!t->is_result()) {
        error(e.loc, "'raw' argument must be Result<T>, got '" + t->str() +
                         "' (builtins and externs return plain values; only calls of functions with a body return Result<T>)");
        return s_.types.error();
    }
    return t->elem;
}

const Type* Checker::check_member(const Member& m, Facts& facts) {
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
            error(m.member_loc, "Struct '" + ot->st->name + "' has no field '" + m.member + "'");
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
        error(m.member_loc, "A Result has no field '" + m.member + "' (its fields are is_error, value and error)");
        return T.error();
    }
    error(m.member_loc, "'" + ot->str() + "' has no field '" + m.member + "'");
    return T.error();
}
}  // namespace npk::sema_detail
