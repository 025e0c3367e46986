// Expressions and conversions (nitpick-subset.md §5.3, §6.4).
#include <string>
#include <vector>

#include "sema/checker_p.h"
#include "syntax/literal.h"

namespace npk::sema_detail {

namespace {

IntFamily family_of(const Type* t) {
    return t->kind == TypeKind::UInt ? IntFamily::UInt : t->kind == TypeKind::Tbb ? IntFamily::Tbb : IntFamily::Int;
}

}  // namespace

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

bool literal_fits(const LitValue& v, const Type* t) {
    return t->is_integer() && int_literal_fits(v.magnitude, v.negative, family_of(t), t->bits);
}

std::string lit_str(const LitValue& v) { return (v.negative ? "-" : "") + std::to_string(v.magnitude); }

// Conversions (§6.4).
bool Checker::convertible(const Type* from, const Type* to) const {
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
    case TypeKind::Error:
    case TypeKind::Tbb:
    case TypeKind::Bool:
    case TypeKind::Nil:
    case TypeKind::Void:
    case TypeKind::Struct: return false;  // only the same type
    }
    return false;
}

bool Checker::convert(const Expr& e, const Type* from, const Type* to, const std::string& what) {
    if (from->is_error() || to->is_error()) return true;
    if (!from->is_value()) {
        error(e.loc, "This expression has no value (type '" + from->str() + "'), so it cannot be " + what);
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
    error(e.loc, "Cannot convert '" + from->str() + "' to '" + to->str() + "' for " + what + why);
    return false;
}

// Expressions.
const Type* Checker::set(const Expr& e, const Type* t) {
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
const Type* Checker::check_expr(const Expr& e, Facts& facts, const Type* target) {
    switch (e.kind) {
    case ExprKind::IntLit: return set(e, check_int_lit(static_cast<const IntLit&>(e), false, target));
    case ExprKind::StrLit: return set(e, check_str_lit(static_cast<const StrLit&>(e), target));
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
    case ExprKind::Index: return set(e, check_index(static_cast<const Index&>(e), facts));
    }
    return set(e, s_.types.error());
}

// @cast<T>(e): any integer (a handle is one) to any integer, a pointer to
// a pointer, a pointer to and from a 64-bit integer. Nothing else has a
// meaning to cast to.
const Type* Checker::check_cast(const Cast& c, Facts& facts) {
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

// `negated`: the literal is the operand of a unary minus, whose
// location `at` then is (errors point at the '-').
const Type* Checker::check_int_lit(const IntLit& lit, bool negated, const Type* target, Loc at) {
    if (!negated) at = lit.loc;
    LitValue v{lit.value, negated && lit.value != 0};
    TypeTable& T = s_.types;
    if (lit.has_suffix) {
        uint32_t b = lit.suffix_bits;
        if (b != 8 && b != 16 && b != 32 && b != 64) {
            error(at, "Integer literal suffix of " + std::to_string(b) +
                               " bits is not supported by npk: widths are 8, 16, 32 and 64");
            return T.error();
        }
        // Whether it fits was the parser's question (syntax/literal.h).
        return lit.suffix_tbb ? T.tbb_type(b) : lit.suffix_signed ? T.int_type(b) : T.uint_type(b);
    }
    const Type* t = target && target->is_integer() ? target : T.int32();
    if (!literal_fits(v, t)) {
        error(at, int_literal_misfit(lit_str(v), family_of(t), t->bits) +
                      (t == target ? "" : ": give it a suffix such as i64, or a typed context"));
        return T.error();
    }
    return t;
}

const Type* Checker::check_unary(const Unary& u, Facts& facts, const Type* target) {
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
        error(u.loc, "Unary '-' needs an integer, got '" + t->str() + "'");
        return s_.types.error();
    }
    if (t->kind == TypeKind::Bool) return t;
    error(u.loc, "'!' needs a bool, got '" + t->str() + "' (there is no truthiness: compare explicitly)");
    return s_.types.error();
}

const Type* Checker::check_binary(const Binary& b, Facts& facts) {
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
const Type* Checker::check_logical(const Binary& b, Facts& facts) {
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
const Type* Checker::binary_type(const Binary& b, const Type* lt, const Type* rt) {
    TypeTable& T = s_.types;
    const std::string op = spelling(b.op);
    bool compare = b.op == BinaryOp::Eq || b.op == BinaryOp::Ne || b.op == BinaryOp::Lt ||
                   b.op == BinaryOp::Le || b.op == BinaryOp::Gt || b.op == BinaryOp::Ge;
    bool equality = b.op == BinaryOp::Eq || b.op == BinaryOp::Ne;
    if (lt->is_error() || rt->is_error()) return compare ? T.boolean() : T.error();

    const Type* common = nullptr;
    if (lt->is_result() || rt->is_result()) {
        const Type* r = lt->is_result() ? lt : rt;
        error(b.loc, "A " + r->str() + " cannot be an operand of '" + op +
                         "': take its value with 'raw', or test .is_error and read .value");
        return compare ? T.boolean() : T.error();
    } else if (!lt->is_value() || !rt->is_value()) {
        error(b.loc, "An operand of '" + op + "' has no value");
        return compare ? T.boolean() : T.error();
    } else if (lt->is_std_int() && rt->is_std_int()) {
        if (lt->kind != rt->kind) {
            error(b.loc, "Cannot mix '" + lt->str() + "' and '" + rt->str() + "' in '" + op +
                             "' (no implicit conversion between signed and unsigned)");
            return compare ? T.boolean() : T.error();
        }
        common = lt->bits >= rt->bits ? lt : rt;
        if (common->is_handle()) common = T.int64();  // a handle computes as the int64 it is
    } else if (lt->kind == TypeKind::Tbb || rt->kind == TypeKind::Tbb) {
        if (lt != rt) {
            error(b.loc, "Cannot mix '" + lt->str() + "' and '" + rt->str() + "' in '" + op +
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
            error(b.loc, "Pointers support only '==' and '!=', not '" + op + "'");
            return compare ? T.boolean() : T.error();
        }
        if (!convertible(lt, rt) && !convertible(rt, lt)) {
            error(b.loc, "Cannot compare '" + lt->str() + "' with '" + rt->str() + "'");
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

const Type* Checker::check_assign(const Assign& a, Facts& facts) {
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
            error(a.target->loc, "The left side of '=' must be a variable or a field of a variable");
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
            error(m.member_loc, ot->is_result() ? "The fields of a Result are read-only"
                                                : "'" + ot->str() + "' has no field '" + m.member + "'");
            check_expr(*a.value, facts);
            return T.void_type();
        }
        int fi = ot->st->find(m.member);
        if (fi < 0) {
            error(m.member_loc, "Struct '" + ot->st->name + "' has no field '" + m.member + "'");
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
    if (a.target->kind == ExprKind::Index) return check_index_assign(a, facts);
    error(a.target->loc, "The left side of '=' must be a variable or a field of a variable");
    check_expr(*a.value, facts);
    return T.void_type();
}

const Type* Checker::check_struct_lit(const StructLit& lit, Facts& facts) {
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
            error(fi.loc, "Struct '" + st->name + "' has no field '" + fi.name + "'");
            check_expr(*fi.value, facts);
            continue;
        }
        if (std::find(seen.begin(), seen.end(), fi.name) != seen.end())
            error(fi.loc, "Field '" + fi.name + "' is given twice");
        seen.push_back(fi.name);
        s_.field_init[fi.value->id] = MemberInfo{MemberKind::Field, static_cast<uint32_t>(idx)};
        const Type* ft = st->fields[static_cast<size_t>(idx)].type;
        const Type* vt = check_expr(*fi.value, facts, ft);
        convert(*fi.value, vt, ft, "field '" + fi.name + "' of '" + st->name + "'");
    }
    return T.structure(st);
}
}  // namespace npk::sema_detail
