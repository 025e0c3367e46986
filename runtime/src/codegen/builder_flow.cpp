// builder_flow.cpp — the builder calls that transfer control: labels,
// jumps and branches (plain, fused with a comparison, multiway), calls
// (native, indirect, of the function itself) and returns.
#include "codegen/builder.h"

#include "codegen/fail.h"

namespace npk::codegen {
namespace {

using namespace check;

// A comparison for branch_cmp(_imm): EQ..UGE, defined for `t`.
bool compare_ok(npk_jit_builder* b, const char* op, int32_t cmp, Type t) {
    const bool known = cmp >= static_cast<int32_t>(BinOp::eq) && cmp <= kLastBinOp;
    if (!known || (t == Type::f64 && cmp > static_cast<int32_t>(BinOp::ge))) {
        stick(b, op, NPK_ERR_JIT_BAD_OP, "%d is not a comparison for %s (NPK_JIT_EQ..NPK_JIT_%s)", cmp, type_name(t),
              t == Type::f64 ? "GE" : "UGE");
        return false;
    }
    return true;
}

}  // namespace
}  // namespace npk::codegen

using namespace npk::codegen;
using namespace npk::codegen::check;

extern "C" {

int32_t npk_jit_bind(npk_jit_builder* b, int32_t label) {
    constexpr const char* op = "npk_jit_bind";
    if (!usable(b, op) || !label_ok(b, op, label)) return -1;
    uint8_t& bound = b->prog.label_bound[static_cast<size_t>(label)];
    if (bound) return stick(b, op, NPK_ERR_JIT_LABEL_BOUND, "label %d is bound already", label);
    if (emit(b, op, make(Kind::bind, -1, label)) != 0) return -1;
    bound = 1;
    ++b->prog.labels_bound;
    return 0;
}

int32_t npk_jit_jump(npk_jit_builder* b, int32_t label) {
    constexpr const char* op = "npk_jit_jump";
    if (!usable(b, op) || !label_ok(b, op, label)) return -1;
    return emit(b, op, make(Kind::jump, -1, label));
}

int32_t npk_jit_branch_if(npk_jit_builder* b, int32_t cond, int32_t label) {
    constexpr const char* op = "npk_jit_branch_if";
    if (!usable(b, op) || !label_ok(b, op, label)) return -1;
    Type t;
    if (!var_type(b, op, cond, &t)) return -1;
    if (t != Type::i32) {
        return stick(b, op, NPK_ERR_JIT_TYPE_MISMATCH, "condition variable %d is %s, not i32", cond, type_name(t));
    }
    return emit(b, op, make(Kind::branch, -1, label, cond));
}

int32_t npk_jit_branch_cmp(npk_jit_builder* b, int32_t cmp, int32_t lhs, int32_t rhs, int32_t label) {
    constexpr const char* op = "npk_jit_branch_cmp";
    if (!usable(b, op) || !label_ok(b, op, label)) return -1;
    Type tl, tr;
    if (!var_type(b, op, lhs, &tl) || !var_type(b, op, rhs, &tr)) return -1;
    if (!same_type(b, op, lhs, tl, rhs, tr) || !compare_ok(b, op, cmp, tl)) return -1;
    Inst in = make(Kind::branch_cmp, -1, lhs, rhs);
    in.op = static_cast<BinOp>(cmp);
    in.c = label;
    return emit(b, op, in);
}

int32_t npk_jit_branch_cmp_imm(npk_jit_builder* b, int32_t cmp, int32_t lhs, int64_t imm, int32_t label) {
    constexpr const char* op = "npk_jit_branch_cmp_imm";
    if (!usable(b, op) || !label_ok(b, op, label)) return -1;
    Type tl;
    if (!var_type(b, op, lhs, &tl)) return -1;
    if (tl == Type::f64) {
        return stick(b, op, NPK_ERR_JIT_BAD_OP, "variable %d is f64: immediates are integers", lhs);
    }
    if (!compare_ok(b, op, cmp, tl) || !imm_at(b, op, tl, &imm)) return -1;
    Inst in = make(Kind::branch_cmp_imm, -1, lhs, -1, imm);
    in.op = static_cast<BinOp>(cmp);
    in.c = label;
    return emit(b, op, in);
}

int32_t npk_jit_switch(npk_jit_builder* b, int32_t value, int32_t n, const int32_t* labels, int32_t dflt) {
    constexpr const char* op = "npk_jit_switch";
    if (!usable(b, op)) return -1;
    Type t;
    if (!var_type(b, op, value, &t)) return -1;
    if (!is_int(t)) {
        return stick(b, op, NPK_ERR_JIT_TYPE_MISMATCH, "the switch variable %d is %s, not an integer", value,
                     type_name(t));
    }
    if (n < 0 || n > NPK_JIT_MAX_SWITCH) {
        return stick(b, op, NPK_ERR_JIT_BAD_SWITCH, "%d labels (0..%d allowed)", n, NPK_JIT_MAX_SWITCH);
    }
    if (n > 0 && labels == nullptr) return stick(b, op, NPK_ERR_NULL, "labels is NULL for %d labels", n);
    if (!label_ok(b, op, dflt)) return -1;
    for (int32_t i = 0; i < n; ++i) {
        if (!label_ok(b, op, labels[i])) return -1;
    }
    Program& p = b->prog;
    Inst in = make(Kind::switch_, -1, value, dflt, n);
    in.args = static_cast<int32_t>(p.switch_labels.size());
    if (!p.switch_labels.reserve(p.switch_labels.size() + static_cast<size_t>(n))) return out_of_memory(b, op);
    for (int32_t i = 0; i < n; ++i) (void)p.switch_labels.push(labels[i]);  // reserved above
    return emit(b, op, in);
}

int32_t npk_jit_call_native(npk_jit_builder* b, int32_t dst, const void* fn, int32_t ret_type, int32_t nargs,
                            const int32_t* args) {
    constexpr const char* op = "npk_jit_call_native";
    if (!usable(b, op)) return -1;
    if (fn == nullptr) return stick(b, op, NPK_ERR_NULL, "the callee is NULL");
    if (!valid_type(ret_type)) return stick(b, op, NPK_ERR_JIT_BAD_TYPE, "type %d is not a result type", ret_type);
    const auto rt = static_cast<Type>(ret_type);
    Inst in = make(Kind::call, dst, -1, -1, static_cast<int64_t>(reinterpret_cast<uintptr_t>(fn)));
    in.ret = rt;
    if (!call_args(b, op, nargs, args) || !call_result(b, op, dst, rt) || !record_args(b, op, nargs, args, &in)) {
        return -1;
    }
    return emit(b, op, in);
}

int32_t npk_jit_call_indirect(npk_jit_builder* b, int32_t dst, int32_t fn, int32_t ret_type, int32_t nargs,
                              const int32_t* args) {
    constexpr const char* op = "npk_jit_call_indirect";
    if (!usable(b, op)) return -1;
    Type tf;
    if (!var_type(b, op, fn, &tf)) return -1;
    if (tf != Type::ptr) {
        return stick(b, op, NPK_ERR_JIT_TYPE_MISMATCH, "the callee variable %d is %s, not ptr", fn, type_name(tf));
    }
    if (!valid_type(ret_type)) return stick(b, op, NPK_ERR_JIT_BAD_TYPE, "type %d is not a result type", ret_type);
    const auto rt = static_cast<Type>(ret_type);
    Inst in = make(Kind::call_indirect, dst, fn);
    in.ret = rt;
    if (!call_args(b, op, nargs, args) || !call_result(b, op, dst, rt) || !record_args(b, op, nargs, args, &in)) {
        return -1;
    }
    return emit(b, op, in);
}

int32_t npk_jit_call_self(npk_jit_builder* b, int32_t dst, int32_t nargs, const int32_t* args) {
    constexpr const char* op = "npk_jit_call_self";
    if (!usable(b, op)) return -1;
    const Program& p = b->prog;
    if (!call_args(b, op, nargs, args)) return -1;
    if (static_cast<size_t>(nargs) != p.params.size()) {
        return stick(b, op, NPK_ERR_JIT_TOO_MANY_PARAMS, "%d arguments, the function takes %zu", nargs,
                     p.params.size());
    }
    for (int32_t i = 0; i < nargs; ++i) {
        const Type want = p.vars[static_cast<size_t>(p.params[static_cast<size_t>(i)])];
        const Type got = p.vars[static_cast<size_t>(args[i])];
        if (got != want) {
            return stick(b, op, NPK_ERR_JIT_TYPE_MISMATCH, "argument %d (variable %d) is %s, parameter %d is %s", i,
                         args[i], type_name(got), i, type_name(want));
        }
    }
    Inst in = make(Kind::call_self, dst);
    in.ret = p.ret;
    if (!call_result(b, op, dst, p.ret) || !record_args(b, op, nargs, args, &in)) return -1;
    return emit(b, op, in);
}

int32_t npk_jit_ret(npk_jit_builder* b, int32_t src) {
    constexpr const char* op = "npk_jit_ret";
    if (!usable(b, op)) return -1;
    const Type rt = b->prog.ret;
    if (src == -1) {
        if (rt != Type::void_) {
            return stick(b, op, NPK_ERR_JIT_TYPE_MISMATCH, "the function returns %s: a value is required",
                         type_name(rt));
        }
        return emit(b, op, make(Kind::ret, -1, -1));
    }
    Type t;
    if (!var_type(b, op, src, &t)) return -1;
    if (t != rt) {
        return stick(b, op, NPK_ERR_JIT_TYPE_MISMATCH, "the function returns %s, variable %d is %s", type_name(rt),
                     src, type_name(t));
    }
    return emit(b, op, make(Kind::ret, -1, src));
}

}  // extern "C"
