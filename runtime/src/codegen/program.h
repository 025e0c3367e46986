// program.h — what a builder records: a portable program of typed,
// mutable variables (private).
//
// The builder calls (builder.cpp) check their arguments and append one
// Inst each; nothing is lowered until build time, when lower_x86.cpp or
// lower_a64.cpp turn the whole record into host code. The record is
// complete and checked: a lowering may assert what the builder checked.
#pragma once

#include "codegen/vec.h"

#include <cstdint>

namespace npk::codegen {

enum class Type : uint8_t { void_ = 0, i32 = 1, i64 = 2, f64 = 3, ptr = 4 };
inline constexpr int kTypeCount = 5;
inline constexpr int kMaxParams = 8;

inline bool is_int(Type t) { return t == Type::i32 || t == Type::i64 || t == Type::ptr; }
// I64 and PTR are both 64-bit integers to the code.
inline bool is_wide(Type t) { return t == Type::i64 || t == Type::ptr; }

// Binary operations, numbered as NPK_JIT_ADD..NPK_JIT_UGE.
enum class BinOp : uint8_t {
    add = 1, sub, mul, div, rem, and_, or_, xor_, shl, shr, ushr,
    eq, ne, lt, le, gt, ge, ult, ule, ugt, uge,
};
inline constexpr int kFirstBinOp = 1;
inline constexpr int kLastBinOp = 21;
inline bool is_compare(BinOp op) { return op >= BinOp::eq; }

enum class Kind : uint8_t {
    const_int,  // dst = imm
    const_f64,  // dst = bits of imm as double
    mov,        // dst = a
    binop,      // dst = a <op> b
    neg,        // dst = -a
    not_,       // dst = ~a
    convert,    // dst = (type of dst) a
    load,       // dst = *(a + imm)
    store,      // *(a + imm) = b
    bind,       // label `a` is here
    jump,       // goto label a
    branch,     // if (b != 0) goto label a
    call,       // dst = call imm(args[c .. c + n)) returning `ret`
    ret,        // return a (-1: nothing)
};

struct Inst {
    Kind kind;
    BinOp op;       // binop
    Type ret;       // call: the callee's result type
    uint8_t nargs;  // call
    int32_t dst = -1;
    int32_t a = -1;
    int32_t b = -1;
    int32_t args = 0;  // call: index of the first argument in Program::call_args
    int64_t imm = 0;   // constant bits, memory offset, or the callee's address
};

struct Program {
    Type ret = Type::void_;
    Vec<Type> vars;          // the type of each variable
    Vec<int32_t> params;     // the variables that are parameters, in call order
    Vec<Inst> insts;
    Vec<uint8_t> label_bound;  // per label: 1 once bound
    Vec<int32_t> call_args;  // the argument variables of every call, back to back
};

// The signature as one word: the result type in bits 0..2, the parameter
// count in bits 3..6, parameter i's type in bits 7+3i .. 9+3i.
using Sig = uint32_t;
// The signature of code nobody described (upstream's assembler without
// npk_asm_set_signature, a WildXGuard filled by hand): a result type
// make_sig never produces. Such code is in the signature table for the
// tools, and invoke refuses every call to it.
inline constexpr Sig kSigUnknown = 7;
static_assert(kTypeCount < 8, "kSigUnknown must not be a real result type");
Sig signature_of(const Program& p);
Sig make_sig(Type ret, int nargs, const Type* args);
Type sig_ret(Sig s);
int sig_nargs(Sig s);
Type sig_arg(Sig s, int i);
// "i64(i64, f64)"; returns the length (< n), or -1 if n is too small.
int sig_text(Sig s, char* buf, size_t n);
const char* type_name(Type t);

}  // namespace npk::codegen
