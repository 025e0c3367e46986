// builder.cpp — the builder calls of npk/jitbuild.h: each checks its
// arguments and records one instruction (program.h); the first error
// sticks to the builder. Control flow and calls: builder_flow.cpp.
#include "codegen/builder.h"

#include "codegen/fail.h"
#include "codegen/spare.h"

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

int32_t vstick(npk_jit_builder* b, const char* op, int32_t code, bool at, const char* fmt, va_list ap) {
    char detail[400];
    std::vsnprintf(detail, sizeof detail, fmt, ap);
    if (at) {
        fail(op, b, code, "%s (at op %zu)", detail, b->prog.insts.size());
    } else {
        fail(op, b, code, "%s", detail);
    }
    if (b->error == 0) {
        b->error = code;
        std::snprintf(b->first, sizeof b->first, "%s", last_message());
    }
    return -1;
}

// An error found at build time: the message names the op itself.
int32_t stick_late(npk_jit_builder* b, const char* op, int32_t code, const char* fmt, ...)
    __attribute__((format(printf, 4, 5)));
int32_t stick_late(npk_jit_builder* b, const char* op, int32_t code, const char* fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vstick(b, op, code, false, fmt, ap);
    va_end(ap);
    return -1;
}

}  // namespace

namespace check {

bool valid_type(int32_t t) { return t >= 0 && t < kTypeCount; }

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

bool imm_at(npk_jit_builder* b, const char* op, Type t, int64_t* imm) {
    if (t != Type::i32) return true;
    if (*imm < INT32_MIN || *imm > int64_t{UINT32_MAX}) {
        stick(b, op, NPK_ERR_JIT_BAD_IMM, "%lld does not fit an i32 (INT32_MIN..UINT32_MAX)",
              static_cast<long long>(*imm));
        return false;
    }
    *imm = static_cast<int32_t>(static_cast<uint32_t>(*imm));
    return true;
}

bool call_args(npk_jit_builder* b, const char* op, int32_t nargs, const int32_t* args) {
    if (nargs < 0 || nargs > kMaxParams) {
        stick(b, op, NPK_ERR_JIT_TOO_MANY_PARAMS, "%d arguments (0..%d allowed)", nargs, kMaxParams);
        return false;
    }
    if (nargs > 0 && args == nullptr) {
        stick(b, op, NPK_ERR_NULL, "args is NULL for %d arguments", nargs);
        return false;
    }
    for (int32_t i = 0; i < nargs; ++i) {
        Type t;
        if (!var_type(b, op, args[i], &t)) return false;
    }
    return true;
}

bool record_args(npk_jit_builder* b, const char* op, int32_t nargs, const int32_t* args, Inst* in) {
    Program& p = b->prog;
    in->args = static_cast<int32_t>(p.call_args.size());
    in->nargs = static_cast<uint8_t>(nargs);
    for (int32_t i = 0; i < nargs; ++i) {
        if (!p.call_args.push(args[i])) {
            out_of_memory(b, op);
            return false;
        }
    }
    return true;
}

bool call_result(npk_jit_builder* b, const char* op, int32_t dst, Type rt) {
    if (dst == -1) return true;
    Type td;
    if (!var_type(b, op, dst, &td)) return false;
    if (rt == Type::void_ || td != rt) {
        stick(b, op, NPK_ERR_JIT_TYPE_MISMATCH, "the callee returns %s, variable %d is %s", type_name(rt), dst,
              type_name(td));
        return false;
    }
    return true;
}

}  // namespace check

int32_t make_room(npk_jit_builder* b, const char* op) {
    Vec<Inst>& v = b->prog.insts;
    if (v.size() >= kMaxInsts) return stick(b, op, NPK_ERR_OUT_OF_MEMORY, "more than %zu instructions", kMaxInsts);
    // Capacity doubles from 8, and kMaxInsts is a power of 2: it is never passed.
    if (!v.reserve(v.size() + 1)) return check::out_of_memory(b, op);
    return 0;
}

namespace {

using namespace check;

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

// The width an access of `t` takes: `mem` as given (0: t's own), or an
// error when t cannot take it.
bool access_width(npk_jit_builder* b, const char* op, int32_t var, Type t, int32_t mem, Mem* out) {
    if (mem == 0) {
        *out = t == Type::i32 ? Mem::i32 : Mem::b64;
        return true;
    }
    if (mem < kFirstMem || mem > kLastMem) {
        stick(b, op, NPK_ERR_JIT_BAD_WIDTH, "%d is not a width (NPK_JIT_MEM_I8..NPK_JIT_MEM_64)", mem);
        return false;
    }
    const auto m = static_cast<Mem>(mem);
    const int room = t == Type::i32 ? 4 : 8;
    if (mem_bytes(m) > room || (t == Type::f64 && m != Mem::b64)) {
        stick(b, op, NPK_ERR_JIT_BAD_WIDTH, "variable %d is %s: a %d-byte access does not fit it", var,
              type_name(t), mem_bytes(m));
        return false;
    }
    *out = m;
    return true;
}

// One load or store: value (dst or src) at base + index * scale + offset.
// `sized`: the npk_jit_*_sized calls, integers only, mem required.
struct Access {
    Kind kind;
    int32_t value, base, index, scale, offset, mem;
    bool sized;
};

int32_t memory(npk_jit_builder* b, const char* op, const Access& x) {
    if (!usable(b, op)) return -1;
    Type tv, tb, ti = Type::i64;
    if (!var_type(b, op, x.value, &tv) || !var_type(b, op, x.base, &tb)) return -1;
    if (x.index != -1 && !var_type(b, op, x.index, &ti)) return -1;
    if (tb != Type::ptr) {
        return stick(b, op, NPK_ERR_JIT_TYPE_MISMATCH, "base variable %d is %s, not ptr", x.base, type_name(tb));
    }
    if (!is_int(ti)) {
        return stick(b, op, NPK_ERR_JIT_TYPE_MISMATCH, "index variable %d is %s, not an integer", x.index,
                     type_name(ti));
    }
    if (x.sized && !is_int(tv)) {
        return stick(b, op, NPK_ERR_JIT_TYPE_MISMATCH, "variable %d is %s: sized accesses take integers", x.value,
                     type_name(tv));
    }
    if (x.sized && x.mem == 0) {
        return stick(b, op, NPK_ERR_JIT_BAD_WIDTH, "0 is not a width (NPK_JIT_MEM_I8..NPK_JIT_MEM_64)");
    }
    Mem m;
    if (!access_width(b, op, x.value, tv, x.mem, &m)) return -1;
    if (x.scale != 1 && x.scale != 2 && x.scale != 4 && x.scale != 8) {
        return stick(b, op, NPK_ERR_JIT_BAD_SCALE, "scale %d (1, 2, 4 or 8)", x.scale);
    }
    Inst in = x.kind == Kind::load ? make(x.kind, x.value, x.base, -1, x.offset)
                                   : make(x.kind, -1, x.base, x.value, x.offset);
    in.c = x.index;
    in.scale = static_cast<uint8_t>(x.index == -1 ? 1 : x.scale);
    in.mem = m;
    return emit(b, op, in);
}

// The result type of `op` over lhs / rhs (rhs void_ for an immediate,
// taken at lhs's type), or void_ when the types do not mix. Sets *mixed
// for pointer arithmetic between different types.
Type binop_result(BinOp op, Type tl, Type tr, Type td, bool* mixed) {
    *mixed = false;
    if (tr == Type::void_ || tl == tr) {
        if (is_compare(op)) return Type::i32;
        // ptr - ptr is a distance (I64); a ptr dst keeps older programs.
        if (op == BinOp::sub && tl == Type::ptr && tr == Type::ptr && td == Type::i64) return Type::i64;
        return tl;
    }
    const bool l_int = tl == Type::i32 || tl == Type::i64, r_int = tr == Type::i32 || tr == Type::i64;
    if ((op == BinOp::add && ((tl == Type::ptr && r_int) || (l_int && tr == Type::ptr))) ||
        (op == BinOp::sub && tl == Type::ptr && r_int)) {
        *mixed = true;
        return Type::ptr;
    }
    return Type::void_;
}

// Checks op_code, the operands' types and dst for npk_jit_op (rhs >= 0)
// and npk_jit_op_imm (rhs -1); fills in's op, dst, a, b, mixed.
bool check_binop(npk_jit_builder* b, const char* op, int32_t op_code, int32_t dst, int32_t lhs, int32_t rhs,
                 bool imm, Inst* in) {
    if (op_code < kFirstBinOp || op_code > kLastBinOp) {
        stick(b, op, NPK_ERR_JIT_BAD_OP, "%d is not an operation (NPK_JIT_ADD..NPK_JIT_UGE)", op_code);
        return false;
    }
    const auto bop = static_cast<BinOp>(op_code);
    Type td, tl, tr = Type::void_;
    if (!var_type(b, op, dst, &td) || !var_type(b, op, lhs, &tl)) return false;
    if (!imm && !var_type(b, op, rhs, &tr)) return false;
    if (imm && tl == Type::f64) {
        stick(b, op, NPK_ERR_JIT_BAD_OP, "variable %d is f64: immediates are integers", lhs);
        return false;
    }
    bool mixed;
    const Type want = binop_result(bop, tl, tr, td, &mixed);
    if (want == Type::void_) return same_type(b, op, lhs, tl, rhs, tr);  // reports the mismatch
    if (!binop_defined(bop, tl)) {
        stick(b, op, NPK_ERR_JIT_BAD_OP, "operation %d is not defined for %s", op_code, type_name(tl));
        return false;
    }
    if (td != want) {
        stick(b, op, NPK_ERR_JIT_TYPE_MISMATCH, "the result is %s, variable %d is %s", type_name(want), dst,
              type_name(td));
        return false;
    }
    *in = make(imm ? Kind::binop_imm : Kind::binop, dst, lhs, rhs);
    in->op = bop;
    in->mixed = mixed;
    return true;
}

}  // namespace

int32_t stick(npk_jit_builder* b, const char* op, int32_t code, const char* fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vstick(b, op, code, true, fmt, ap);
    va_end(ap);
    return -1;
}

int32_t check_complete(npk_jit_builder* b, const char* op) {
    if (b != nullptr && b->error != 0) {
        return fail(op, b, b->error, "builder failed earlier: %s", b->first);  // its first error, again
    }
    if (!usable(b, op)) return -1;
    const Program& p = b->prog;
    if (p.labels_bound == p.label_bound.size()) return 0;  // every label bound: nothing to look for
    auto unbound = [&](int32_t label) { return !p.label_bound[static_cast<size_t>(label)]; };
    for (size_t i = 0; i < p.insts.size(); ++i) {
        const Inst& in = p.insts[i];
        int32_t missing = -1;
        switch (in.kind) {
            case Kind::jump: case Kind::branch:
                if (unbound(in.a)) missing = in.a;
                break;
            case Kind::branch_cmp: case Kind::branch_cmp_imm:
                if (unbound(in.c)) missing = in.c;
                break;
            case Kind::switch_:
                if (unbound(in.b)) missing = in.b;
                for (int64_t k = 0; missing < 0 && k < in.imm; ++k) {
                    const int32_t l = p.switch_labels[static_cast<size_t>(in.args + k)];
                    if (unbound(l)) missing = l;
                }
                break;
            case Kind::const_int: case Kind::const_f64: case Kind::mov: case Kind::binop: case Kind::binop_imm:
            case Kind::neg: case Kind::not_: case Kind::convert: case Kind::load: case Kind::store:
            case Kind::bind: case Kind::call: case Kind::call_indirect: case Kind::call_self: case Kind::ret:
                break;
        }
        if (missing >= 0) {
            return stick_late(b, op, NPK_ERR_JIT_LABEL_UNBOUND, "op %zu (%s) goes to label %d, never bound", i,
                              kind_name(in.kind), missing);
        }
    }
    return 0;
}

namespace {

// Each thread keeps the last builder it freed, emptied: the next builder
// it makes records into the same buffers (warm in the cache, no growth by
// realloc, no fresh pages), unless they grew beyond kSpareBytes. Not under
// AddressSanitizer, which should see a freed builder's use as one.
constexpr size_t kSpareBytes = size_t{4} << 20;
thread_local ThreadSpare<npk_jit_builder> t_spare;

#if defined(__SANITIZE_ADDRESS__)
constexpr bool kKeepSpare = false;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
constexpr bool kKeepSpare = false;
#else
constexpr bool kKeepSpare = true;
#endif
#else
constexpr bool kKeepSpare = true;
#endif

}  // namespace

void destroy(npk_jit_builder* b) {
    if (b == nullptr) return;
    if (kKeepSpare && b->prog.capacity_bytes() <= kSpareBytes && t_spare.park(b))
        return;  // emptied when it is handed out again
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
    if (npk_jit_builder* spare = t_spare.take()) {
        spare->prog.clear();
        spare->prog.ret = static_cast<Type>(ret_type);
        spare->error = 0;
        spare->first[0] = '\0';
        spare->name[0] = '\0';
        return spare;
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
    Inst in{};
    if (!check_binop(b, op, op_code, dst, lhs, rhs, false, &in)) return -1;
    return emit(b, op, in);
}

int32_t npk_jit_op_imm(npk_jit_builder* b, int32_t op_code, int32_t dst, int32_t lhs, int64_t imm) {
    constexpr const char* op = "npk_jit_op_imm";
    if (!usable(b, op)) return -1;
    Inst in{};
    if (!check_binop(b, op, op_code, dst, lhs, -1, true, &in)) return -1;
    if (!imm_at(b, op, b->prog.vars[static_cast<size_t>(lhs)], &imm)) return -1;
    in.imm = imm;
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
    return memory(b, "npk_jit_load", {Kind::load, dst, base, -1, 1, offset, 0, false});
}

int32_t npk_jit_store(npk_jit_builder* b, int32_t base, int32_t offset, int32_t src) {
    return memory(b, "npk_jit_store", {Kind::store, src, base, -1, 1, offset, 0, false});
}

int32_t npk_jit_load_sized(npk_jit_builder* b, int32_t dst, int32_t base, int32_t offset, int32_t mem) {
    return memory(b, "npk_jit_load_sized", {Kind::load, dst, base, -1, 1, offset, mem, true});
}

int32_t npk_jit_store_sized(npk_jit_builder* b, int32_t base, int32_t offset, int32_t src, int32_t mem) {
    return memory(b, "npk_jit_store_sized", {Kind::store, src, base, -1, 1, offset, mem, true});
}

int32_t npk_jit_load_indexed(npk_jit_builder* b, int32_t dst, int32_t base, int32_t index, int32_t scale,
                             int32_t offset, int32_t mem) {
    constexpr const char* op = "npk_jit_load_indexed";
    if (!usable(b, op)) return -1;
    if (index == -1) return stick(b, op, NPK_ERR_JIT_BAD_VAR, "variable -1 does not exist (an index is required)");
    return memory(b, op, {Kind::load, dst, base, index, scale, offset, mem, false});
}

int32_t npk_jit_store_indexed(npk_jit_builder* b, int32_t base, int32_t index, int32_t scale, int32_t offset,
                              int32_t src, int32_t mem) {
    constexpr const char* op = "npk_jit_store_indexed";
    if (!usable(b, op)) return -1;
    if (index == -1) return stick(b, op, NPK_ERR_JIT_BAD_VAR, "variable -1 does not exist (an index is required)");
    return memory(b, op, {Kind::store, src, base, index, scale, offset, mem, false});
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

}  // extern "C"
