// builder.cpp — the builder calls of npk/jitbuild.h: each checks its
// arguments and records one instruction (program.h); the first error
// sticks to the builder.
#include "codegen/builder.h"

#include "codegen/fail.h"

#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <new>

namespace npk::codegen {
namespace {

// Far beyond any real function, small enough that ids never overflow.
constexpr size_t kMaxVars = size_t{1} << 20;
constexpr size_t kMaxLabels = size_t{1} << 20;
constexpr size_t kMaxInsts = size_t{1} << 24;

bool valid_type(int32_t t) { return t >= 0 && t < kTypeCount; }

// The guard every builder call passes first.
bool usable(npk_jit_builder* b, const char* op) {
    if (b == nullptr) {
        fail(op, nullptr, NPK_ERR_NULL, "builder is NULL");
        return false;
    }
    if (b->error != 0) {
        fail(op, b, NPK_ERR_JIT_BUILDER_FAILED, "builder failed earlier: %s", b->first);
        return false;
    }
    return true;
}

int32_t out_of_memory(npk_jit_builder* b, const char* op) {
    return stick(b, op, NPK_ERR_OUT_OF_MEMORY, "the builder's record could not grow");
}

// The type of `v`, or nullopt-like void_ with the sticky error reported.
bool var_type(npk_jit_builder* b, const char* op, int32_t v, Type* out) {
    if (v < 0 || static_cast<size_t>(v) >= b->prog.vars.size()) {
        stick(b, op, NPK_ERR_JIT_BAD_VAR, "variable %d does not exist (the builder has %zu)", v,
              b->prog.vars.size());
        return false;
    }
    *out = b->prog.vars[static_cast<size_t>(v)];
    return true;
}

bool same_type(npk_jit_builder* b, const char* op, int32_t x, Type tx, int32_t y, Type ty) {
    if (tx == ty) return true;
    stick(b, op, NPK_ERR_JIT_TYPE_MISMATCH, "variable %d is %s, variable %d is %s", x, type_name(tx), y,
          type_name(ty));
    return false;
}

bool label_ok(npk_jit_builder* b, const char* op, int32_t label) {
    if (label >= 0 && static_cast<size_t>(label) < b->prog.label_bound.size()) return true;
    stick(b, op, NPK_ERR_JIT_BAD_LABEL, "label %d does not exist (the builder has %zu)", label,
          b->prog.label_bound.size());
    return false;
}

int32_t emit(npk_jit_builder* b, const char* op, const Inst& in) {
    if (b->prog.insts.size() >= kMaxInsts) {
        return stick(b, op, NPK_ERR_OUT_OF_MEMORY, "more than %zu instructions", kMaxInsts);
    }
    if (!b->prog.insts.push(in)) return out_of_memory(b, op);
    return 0;
}

Inst make(Kind k, int32_t dst = -1, int32_t a = -1, int32_t bb = -1, int64_t imm = 0) {
    Inst in{};
    in.kind = k;
    in.dst = dst;
    in.a = a;
    in.b = bb;
    in.imm = imm;
    return in;
}

int32_t new_var(npk_jit_builder* b, const char* op, int32_t type) {
    if (!valid_type(type) || type == NPK_JIT_VOID) {
        return stick(b, op, NPK_ERR_JIT_BAD_TYPE, "type %d is not a value type (I32, I64, F64 or PTR)", type);
    }
    Program& p = b->prog;
    if (p.vars.size() >= kMaxVars) return stick(b, op, NPK_ERR_OUT_OF_MEMORY, "more than %zu variables", kMaxVars);
    if (!p.vars.push(static_cast<Type>(type))) return out_of_memory(b, op);
    return static_cast<int32_t>(p.vars.size() - 1);
}

// Whether `op` is defined for operands of type `t`.
bool binop_defined(BinOp op, Type t) {
    if (is_int(t)) return true;
    switch (op) {
        case BinOp::add: case BinOp::sub: case BinOp::mul: case BinOp::div:
        case BinOp::eq: case BinOp::ne: case BinOp::lt: case BinOp::le: case BinOp::gt: case BinOp::ge:
            return true;
        default:
            return false;
    }
}

int32_t unary(npk_jit_builder* b, const char* op, Kind k, int32_t dst, int32_t src) {
    if (!usable(b, op)) return -1;
    Type td, ts;
    if (!var_type(b, op, dst, &td) || !var_type(b, op, src, &ts)) return -1;
    if (k != Kind::convert && !same_type(b, op, dst, td, src, ts)) return -1;
    if (k == Kind::not_ && !is_int(td)) {
        return stick(b, op, NPK_ERR_JIT_BAD_OP, "bitwise not is not defined for %s", type_name(td));
    }
    return emit(b, op, make(k, dst, src));
}

int32_t memory(npk_jit_builder* b, const char* op, Kind k, int32_t value, int32_t base, int32_t offset) {
    if (!usable(b, op)) return -1;
    Type tv, tb;
    if (!var_type(b, op, value, &tv) || !var_type(b, op, base, &tb)) return -1;
    if (tb != Type::ptr) {
        return stick(b, op, NPK_ERR_JIT_TYPE_MISMATCH, "base variable %d is %s, not ptr", base, type_name(tb));
    }
    return k == Kind::load ? emit(b, op, make(k, value, base, -1, offset))
                           : emit(b, op, make(k, -1, base, value, offset));
}

}  // namespace

int32_t stick(npk_jit_builder* b, const char* op, int32_t code, const char* fmt, ...) {
    char detail[400];
    va_list ap;
    va_start(ap, fmt);
    std::vsnprintf(detail, sizeof detail, fmt, ap);
    va_end(ap);
    fail(op, b, code, "%s", detail);
    if (b->error == 0) {
        b->error = code;
        std::snprintf(b->first, sizeof b->first, "%s", last_message());
    }
    return -1;
}

int32_t check_complete(npk_jit_builder* b, const char* op) {
    if (b != nullptr && b->error != 0) {
        return fail(op, b, b->error, "builder failed earlier: %s", b->first);  // its first error, again
    }
    if (!usable(b, op)) return -1;
    const Program& p = b->prog;
    for (const Inst& in : p.insts) {
        if ((in.kind == Kind::jump || in.kind == Kind::branch) && !p.label_bound[static_cast<size_t>(in.a)]) {
            return stick(b, op, NPK_ERR_JIT_LABEL_UNBOUND, "label %d is jumped to but never bound", in.a);
        }
    }
    return 0;
}

void destroy(npk_jit_builder* b) {
    if (b == nullptr) return;
    b->~npk_jit_builder();
    std::free(b);
}

}  // namespace npk::codegen

using namespace npk::codegen;

extern "C" {

npk_jit_builder* npk_jit_builder_new(int32_t ret_type) {
    if (!valid_type(ret_type)) {
        fail("npk_jit_builder_new", nullptr, NPK_ERR_JIT_BAD_TYPE, "type %d is not a result type", ret_type);
        return nullptr;
    }
    void* mem = std::calloc(1, sizeof(npk_jit_builder));
    if (mem == nullptr) {
        fail("npk_jit_builder_new", nullptr, NPK_ERR_OUT_OF_MEMORY, "no memory for a builder");
        return nullptr;
    }
    auto* b = new (mem) npk_jit_builder;
    b->prog.ret = static_cast<Type>(ret_type);
    return b;
}

void npk_jit_builder_free(npk_jit_builder* b) { destroy(b); }

int32_t npk_jit_builder_error(const npk_jit_builder* b) { return b == nullptr ? -1 : b->error; }

int32_t npk_jit_builder_name(npk_jit_builder* b, const char* name) {
    constexpr const char* op = "npk_jit_builder_name";
    if (!usable(b, op)) return -1;
    if (const char* why = npk::tools::name_problem(name)) {
        return stick(b, op, NPK_ERR_INVALID_ARGUMENT, "not a function name: %s", why);
    }
    std::snprintf(b->name, sizeof b->name, "%s", name);
    return 0;
}

int32_t npk_jit_param(npk_jit_builder* b, int32_t type) {
    constexpr const char* op = "npk_jit_param";
    if (!usable(b, op)) return -1;
    Program& p = b->prog;
    if (!p.insts.empty()) {
        return stick(b, op, NPK_ERR_JIT_LATE_PARAM, "parameters must come before the first instruction (%zu so far)",
                     p.insts.size());
    }
    if (p.params.size() >= kMaxParams) {
        return stick(b, op, NPK_ERR_JIT_TOO_MANY_PARAMS, "a function takes at most %d parameters", kMaxParams);
    }
    const int32_t v = new_var(b, op, type);
    if (v < 0) return -1;
    if (!p.params.push(v)) return out_of_memory(b, op);
    return v;
}

int32_t npk_jit_var(npk_jit_builder* b, int32_t type) {
    if (!usable(b, "npk_jit_var")) return -1;
    return new_var(b, "npk_jit_var", type);
}

int32_t npk_jit_var_type(const npk_jit_builder* b, int32_t var) {
    if (b == nullptr || var < 0 || static_cast<size_t>(var) >= b->prog.vars.size()) return -1;
    return static_cast<int32_t>(b->prog.vars[static_cast<size_t>(var)]);
}

int32_t npk_jit_const_i64(npk_jit_builder* b, int32_t dst, int64_t value) {
    constexpr const char* op = "npk_jit_const_i64";
    if (!usable(b, op)) return -1;
    Type t;
    if (!var_type(b, op, dst, &t)) return -1;
    if (!is_int(t)) {
        return stick(b, op, NPK_ERR_JIT_TYPE_MISMATCH, "variable %d is %s, not an integer", dst, type_name(t));
    }
    if (t == Type::i32) value = static_cast<int32_t>(static_cast<uint32_t>(value));
    return emit(b, op, make(Kind::const_int, dst, -1, -1, value));
}

int32_t npk_jit_const_f64(npk_jit_builder* b, int32_t dst, double value) {
    constexpr const char* op = "npk_jit_const_f64";
    if (!usable(b, op)) return -1;
    Type t;
    if (!var_type(b, op, dst, &t)) return -1;
    if (t != Type::f64) {
        return stick(b, op, NPK_ERR_JIT_TYPE_MISMATCH, "variable %d is %s, not f64", dst, type_name(t));
    }
    int64_t bits;
    std::memcpy(&bits, &value, sizeof bits);
    return emit(b, op, make(Kind::const_f64, dst, -1, -1, bits));
}

int32_t npk_jit_mov(npk_jit_builder* b, int32_t dst, int32_t src) {
    return unary(b, "npk_jit_mov", Kind::mov, dst, src);
}

int32_t npk_jit_op(npk_jit_builder* b, int32_t op_code, int32_t dst, int32_t lhs, int32_t rhs) {
    constexpr const char* op = "npk_jit_op";
    if (!usable(b, op)) return -1;
    if (op_code < kFirstBinOp || op_code > kLastBinOp) {
        return stick(b, op, NPK_ERR_JIT_BAD_OP, "%d is not an operation (NPK_JIT_ADD..NPK_JIT_UGE)", op_code);
    }
    const auto bop = static_cast<BinOp>(op_code);
    Type td, tl, tr;
    if (!var_type(b, op, dst, &td) || !var_type(b, op, lhs, &tl) || !var_type(b, op, rhs, &tr)) return -1;
    if (!same_type(b, op, lhs, tl, rhs, tr)) return -1;
    if (!binop_defined(bop, tl)) {
        return stick(b, op, NPK_ERR_JIT_BAD_OP, "operation %d is not defined for %s", op_code, type_name(tl));
    }
    const Type want = is_compare(bop) ? Type::i32 : tl;
    if (td != want) {
        return stick(b, op, NPK_ERR_JIT_TYPE_MISMATCH, "the result is %s, variable %d is %s", type_name(want), dst,
                     type_name(td));
    }
    Inst in = make(Kind::binop, dst, lhs, rhs);
    in.op = bop;
    return emit(b, op, in);
}

int32_t npk_jit_neg(npk_jit_builder* b, int32_t dst, int32_t src) {
    return unary(b, "npk_jit_neg", Kind::neg, dst, src);
}

int32_t npk_jit_not(npk_jit_builder* b, int32_t dst, int32_t src) {
    return unary(b, "npk_jit_not", Kind::not_, dst, src);
}

int32_t npk_jit_convert(npk_jit_builder* b, int32_t dst, int32_t src) {
    return unary(b, "npk_jit_convert", Kind::convert, dst, src);
}

int32_t npk_jit_load(npk_jit_builder* b, int32_t dst, int32_t base, int32_t offset) {
    return memory(b, "npk_jit_load", Kind::load, dst, base, offset);
}

int32_t npk_jit_store(npk_jit_builder* b, int32_t base, int32_t offset, int32_t src) {
    return memory(b, "npk_jit_store", Kind::store, src, base, offset);
}

int32_t npk_jit_label(npk_jit_builder* b) {
    constexpr const char* op = "npk_jit_label";
    if (!usable(b, op)) return -1;
    Program& p = b->prog;
    if (p.label_bound.size() >= kMaxLabels) {
        return stick(b, op, NPK_ERR_OUT_OF_MEMORY, "more than %zu labels", kMaxLabels);
    }
    if (!p.label_bound.push(0)) return out_of_memory(b, op);
    return static_cast<int32_t>(p.label_bound.size() - 1);
}

int32_t npk_jit_bind(npk_jit_builder* b, int32_t label) {
    constexpr const char* op = "npk_jit_bind";
    if (!usable(b, op) || !label_ok(b, op, label)) return -1;
    uint8_t& bound = b->prog.label_bound[static_cast<size_t>(label)];
    if (bound) return stick(b, op, NPK_ERR_JIT_LABEL_BOUND, "label %d is bound already", label);
    if (emit(b, op, make(Kind::bind, -1, label)) != 0) return -1;
    bound = 1;
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

int32_t npk_jit_call_native(npk_jit_builder* b, int32_t dst, const void* fn, int32_t ret_type, int32_t nargs,
                            const int32_t* args) {
    constexpr const char* op = "npk_jit_call_native";
    if (!usable(b, op)) return -1;
    if (fn == nullptr) return stick(b, op, NPK_ERR_NULL, "the callee is NULL");
    if (!valid_type(ret_type)) return stick(b, op, NPK_ERR_JIT_BAD_TYPE, "type %d is not a result type", ret_type);
    if (nargs < 0 || nargs > kMaxParams) {
        return stick(b, op, NPK_ERR_JIT_TOO_MANY_PARAMS, "%d arguments (0..%d allowed)", nargs, kMaxParams);
    }
    if (nargs > 0 && args == nullptr) return stick(b, op, NPK_ERR_NULL, "args is NULL for %d arguments", nargs);
    const auto rt = static_cast<Type>(ret_type);
    if (dst != -1) {
        Type td;
        if (!var_type(b, op, dst, &td)) return -1;
        if (rt == Type::void_ || td != rt) {
            return stick(b, op, NPK_ERR_JIT_TYPE_MISMATCH, "the callee returns %s, variable %d is %s", type_name(rt),
                         dst, type_name(td));
        }
    }
    Program& p = b->prog;
    const size_t first = p.call_args.size();
    for (int32_t i = 0; i < nargs; ++i) {
        Type t;
        if (!var_type(b, op, args[i], &t)) return -1;
    }
    for (int32_t i = 0; i < nargs; ++i) {
        if (!p.call_args.push(args[i])) return out_of_memory(b, op);
    }
    Inst in = make(Kind::call, dst, -1, -1, static_cast<int64_t>(reinterpret_cast<uintptr_t>(fn)));
    in.ret = rt;
    in.nargs = static_cast<uint8_t>(nargs);
    in.args = static_cast<int32_t>(first);
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
