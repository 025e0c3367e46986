// Statements (nitpick-subset.md §5), walked scope by scope with the
// shared scope walker (syntax/scopes.h).
#include <string>
#include <vector>

#include "sema/checker_p.h"

namespace npk::sema_detail {

void Checker::check_body(const FuncDecl& f) {
    fn_ = &s_.funcs.at(&f);
    module_ = fn_->module;
    defer_depth_ = 0;
    loop_depth_ = 0;
    locals_.clear();
    open_scopes_.clear();
    slot_depth_.clear();
    // The parameters (slots 0..n-1) live in a scope around the body's,
    // so the body may shadow them.
    open_scopes_.emplace_back();
    for (size_t i = 0; i < fn_->slots.size(); ++i) {
        auto [it, fresh] = locals_.try_emplace(fn_->slots[i].name);
        it->second.push_back(static_cast<int32_t>(i));
        open_scopes_.back().push_back(&it->first);
        slot_depth_.push_back(1);
    }
    Facts facts;
    if (f.body) check_scope(block_scope(*f.body), facts);
    fn_ = nullptr;
}

// Whether the scope ends the function (or the program) on every path.
bool Checker::check_scope(const ScopeView& scope, Facts& facts) {
    Facts* outer = facts_;
    facts_ = &facts;
    bool term = walk_scope(*this, scope);
    facts_ = outer;
    return term;
}

bool Checker::check_stmt(const Stmt& st, Facts& facts) {
    switch (st.kind) {
    case StmtKind::VarDecl: check_var_decl(static_cast<const VarDecl&>(st), facts); return false;
    case StmtKind::If: return check_if(static_cast<const If&>(st), facts);
    case StmtKind::Defer: {
        Facts inner = facts;  // a deferred body's effects do not flow on
        ++defer_depth_;
        const int loops = loop_depth_;  // break / continue cannot leave a defer body
        loop_depth_ = 0;
        check_scope(block_scope(*static_cast<const Defer&>(st).body), inner);
        loop_depth_ = loops;
        --defer_depth_;
        return false;
    }
    case StmtKind::While: return check_while(static_cast<const While&>(st), facts);
    case StmtKind::Break: check_loop_jump(st, "break"); return false;
    case StmtKind::Continue: check_loop_jump(st, "continue"); return false;
    case StmtKind::Block: return check_scope(block_scope(static_cast<const Block&>(st)), facts);
    case StmtKind::Leave: check_leave(static_cast<const Leave&>(st), facts); return true;
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

void Checker::check_var_decl(const VarDecl& d, Facts& facts) {
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
    SlotInfo si;
    si.name = d.name;
    si.type = t;
    si.fixed = (d.quals & Q_FIXED) != 0;
    si.heap = (d.quals & (Q_WILD | Q_WILDX)) != 0 && t->kind == TypeKind::Struct;
    si.loc = d.name_loc;
    int32_t shadowed = lookup_local(d.name);
    bool duplicate = false;
    int32_t idx = declare_local(d.name, si, duplicate);
    if (duplicate) {
        error(d.name_loc, "'" + d.name + "' is already declared in this block");
        note(slot(shadowed).loc, "the first '" + d.name + "' is here");
    }
    s_.slot[d.id] = idx;
}

bool Checker::check_if(const If& s, Facts& facts) {
    const Type* ct = check_expr(*s.cond, facts);
    if (!ct->is_error() && ct->kind != TypeKind::Bool)
        error(s.cond->loc, "If condition must be 'bool', got '" + ct->str() + "' (there is no truthiness: compare explicitly)");
    Facts when_true, when_false;
    cond_facts(*s.cond, facts, when_true, when_false);
    bool then_term = check_scope(arm_scope(s.then_body), when_true);
    bool else_term = false;
    if (s.else_body) else_term = check_scope(arm_scope(s.else_body), when_false);
    if (then_term && else_term) return true;
    if (then_term) facts = when_false;
    else if (else_term) facts = when_true;
    else facts = Facts::meet(when_true, when_false);
    return false;
}

void Checker::check_leave(const Leave& s, Facts& facts) {
    switch (s.how) {
    case LeaveKind::Exit: check_exit(s, facts); return;
    case LeaveKind::Pass: check_pass(s, facts); return;
    case LeaveKind::Fail: check_fail(s, facts); return;
    case LeaveKind::Return: check_return(s, facts); return;
    }
}

void Checker::check_exit(const Leave& s, Facts& facts) {
    if (fn_->role == FuncRole::Normal)
        error(s.loc, "'exit' can only be used in 'main' or 'failsafe' (in '" + fn_->display +
                         "', report an error to the caller with 'fail')");
    const Type* i32 = s_.types.int32();
    const Type* t = check_expr(*s.value, facts, i32);
    convert(*s.value, t, i32, "the 'exit' status");
    LitValue v;
    if (fn_->role == FuncRole::Failsafe && unsuffixed_literal(*s.value, v) && (v.negative || v.magnitude == 0))
        error(s.value->loc, "An exit code in 'failsafe' must be positive, got " + lit_str(v));
    else if (fn_->role == FuncRole::Failsafe && s.value->kind == ExprKind::IntLit &&
             static_cast<const IntLit&>(*s.value).value == 0)
        error(s.value->loc, "An exit code in 'failsafe' must be positive, got 0");
}

bool Checker::not_here(const Stmt& s, const char* what) {
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

void Checker::check_fail(const Leave& s, Facts& facts) {
    bool banned = not_here(s, "fail");
    const Type* t = check_expr(*s.value, facts);
    if (banned || t->is_error()) return;
    if (!t->is_integer())
        error(s.value->loc, "'fail' needs an integer error code, got '" + t->str() + "'");
}
}  // namespace npk::sema_detail
