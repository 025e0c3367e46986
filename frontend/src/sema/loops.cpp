// Loops and element access (docs/language.md): `while` with `break` /
// `continue`, `p[i]` on a pointer to integers, and string literals as C
// strings for externs. Kept apart from the statements and expressions
// of nitpick-subset.md, which they extend.
#include <string>
#include <vector>

#include "sema/checker_p.h"

namespace npk::sema_detail {

namespace {

// The names a loop body assigns (`x = ...` anywhere in it, nested blocks,
// loops and defers included). A Result proven ok before the loop is no
// longer proven at the top of a later iteration if the body assigns it.
void assigned_name(const Expr& x, std::vector<std::string>& out) {
    if (x.kind != ExprKind::Assign) return;
    const Expr& target = *static_cast<const Assign&>(x).target;
    if (target.kind == ExprKind::Name) out.push_back(static_cast<const Name&>(target).name);
}

void assigned_names(const Expr& e, std::vector<std::string>& out) {
    walk_expr(e, [&](const Expr& x) { assigned_name(x, out); });
}

void assigned_names(const Stmt& s, std::vector<std::string>& out) {
    walk_stmt_exprs(s, [&](const Expr& x) { assigned_name(x, out); });
}

}  // namespace

// while (cond) { body }: the condition is a bool; the body may run any
// number of times, so it starts from what holds before the loop minus
// what the body itself may overwrite, and what it proves does not flow
// out (a `break` may leave from anywhere). A loop never ends the
// function for the checker: a `pass` after it is still required.
bool Checker::check_while(const While& s, Facts& facts) {
    std::vector<std::string> names;
    assigned_names(*s.body, names);
    assigned_names(*s.cond, names);
    for (const std::string& n : names)
        if (int32_t sl = lookup_local(n); sl >= 0) facts.forget(sl);

    const Type* ct = check_expr(*s.cond, facts);
    if (!ct->is_error() && ct->kind != TypeKind::Bool)
        error(s.cond->loc, "While condition must be 'bool', got '" + ct->str() +
                               "' (there is no truthiness: compare explicitly)");
    Facts when_true, when_false;
    cond_facts(*s.cond, facts, when_true, when_false);
    ++loop_depth_;
    check_scope(block_scope(*s.body), when_true);
    --loop_depth_;
    return false;
}

void Checker::check_loop_jump(const Stmt& s, const char* what) {
    if (loop_depth_ > 0) return;
    error(s.loc, std::string("'") + what + "' outside a 'while' loop" +
                     (defer_depth_ > 0 ? " (a 'defer' body cannot leave the loop around it)" : ""));
}

// p[i]: p points at integers (T-> with T int8..int64 / uint8..uint64),
// i is any standard integer; the element has type T.
const Type* Checker::check_index(const Index& ix, Facts& facts) {
    const Type* pt = check_expr(*ix.object, facts);
    const Type* it = check_expr(*ix.index, facts, s_.types.int64());
    if (!it->is_error() && !it->is_std_int())
        error(ix.index->loc, "An index must be an integer, got '" + it->str() + "'");
    if (pt->is_error()) return pt;
    if (!pt->is_ptr() || !pt->elem || !pt->elem->is_std_int()) {
        error(ix.object->loc, "Only a pointer to integers (such as 'int64->') can be indexed, got '" +
                                  pt->str() + "'");
        return s_.types.error();
    }
    return pt->elem;
}

const Type* Checker::check_index_assign(const Assign& a, Facts& facts) {
    const auto& ix = static_cast<const Index&>(*a.target);
    const Type* et = set(ix, check_index(ix, facts));
    const Type* vt = check_expr(*a.value, facts, et);
    convert(*a.value, vt, et, "an element of '" + std::string(ix.object->kind == ExprKind::Name
                                                                  ? static_cast<const Name&>(*ix.object).name
                                                                  : "a pointer") + "'");
    return s_.types.void_type();
}

// A string literal is a NUL-terminated C string where a C pointer to
// bytes is expected: an extern's `int8*`, `uint8*` or `?*` parameter.
const Type* Checker::check_str_lit(const StrLit& lit, const Type* target) {
    if (target && target->is_ptr() && target->c_ptr &&
        (!target->elem || (target->elem->is_std_int() && target->elem->bits == 8)))
        return target;
    error(lit.loc, "A string literal can only be a 'use' path or an argument of an extern func whose "
                   "parameter is a C pointer to bytes ('int8*' or '?*')");
    return s_.types.error();
}

}  // namespace npk::sema_detail
