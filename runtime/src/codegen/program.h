// program.h — what a builder records: a portable program of typed,
// mutable variables (private).
//
// The builder calls (builder.cpp) check their arguments and append one
// Inst each; nothing is lowered until build time, when the fast tier
// (regalloc.cpp, then emit_x86.cpp or emit_a64.cpp) turns the whole
// record into host code. The record is
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

// Memory access widths, numbered as NPK_JIT_MEM_*. Every load and store
// carries one, resolved by the builder (never "the variable's own type"):
// an I32 access of its own type is i32, an I64 / PTR / F64 one b64.
enum class Mem : uint8_t { i8 = 1, u8, i16, u16, i32, u32, b64 };
inline constexpr int kFirstMem = 1;
inline constexpr int kLastMem = 7;
// Bytes a width reads or writes.
inline int mem_bytes(Mem m) {
    switch (m) {
        case Mem::i8: case Mem::u8: return 1;
        case Mem::i16: case Mem::u16: return 2;
        case Mem::i32: case Mem::u32: return 4;
        case Mem::b64: return 8;
    }
    return 8;
}
// Whether a load of the width sign-extends (i8, i16, i32).
inline bool mem_signed(Mem m) { return m == Mem::i8 || m == Mem::i16 || m == Mem::i32; }

// One recorded instruction. The operands of each kind, exactly (a field
// not listed is unused: -1 for variables and labels, 0 otherwise). "var"
// is a variable id, "label" a label id; every id was checked by the
// builder, so a lowering may assert instead of checking.
//
//   const_int   dst = imm; dst integer; for an I32 dst imm is already
//               sign-extended from its low 32 bits
//   const_f64   dst = the double whose bits are imm; dst F64
//   mov         dst = a; both of one type
//   binop       dst = a <op> b. Types: a and b of one type (dst that type,
//               or I32 for a comparison), or pointer arithmetic:
//               ADD ptr+int or int+ptr -> ptr, SUB ptr-int -> ptr (the
//               int I32, sign-extended, or I64), SUB ptr-ptr -> I64 (or
//               ptr). `mixed` is set when a and b differ in type: a
//               lowering sign-extends the I32 one and works in 64 bits.
//   binop_imm   dst = a <op> imm; a integer (never F64), imm already at
//               a's type (I32: sign-extended from its low 32 bits); dst as
//               in binop (ptr ADD / SUB imm -> ptr)
//   neg, not_   dst = -a, ~a; one type (not_: integers)
//   convert     dst = (type of dst) a; any two value types
//   load        dst = *(mem*)(a + c * scale + imm), extended per `mem` to
//               dst's type; a ptr; c -1 (no index, scale 1) or an I32
//               (sign-extended), I64 or ptr var; scale 1, 2, 4, 8; imm an
//               int32 offset; F64 dst only with mem b64
//   store       *(mem*)(a + c * scale + imm) = low bytes of b; as load
//   bind        label a is here (each label bound exactly once)
//   jump        goto label a
//   branch      if (var b != 0) goto label a; b I32
//   branch_cmp  if (a <op> b) goto label c; op a comparison defined for
//               the (one) type of a and b
//   branch_cmp_imm  if (a <op> imm) goto label c; a integer, imm at a's
//               type as in binop_imm
//   switch_     goto label switch_labels[args + a] if 0 <= a < imm, else
//               label b; a an integer var (signed), imm = n (0..65536)
//   call        dst = call the C function at address imm (ret, nargs,
//               args[..]); dst -1 discards the result
//   call_indirect  as call, through the address in ptr var a
//   call_self   as call, of this very function (ret = Program::ret, the
//               argument types are the parameters')
//   ret         return a (-1: nothing)
//
// Call arguments are call_args[args .. args + nargs). No `default:` over
// Kind anywhere: a new kind must be handled by every consumer.
enum class Kind : uint8_t {
    const_int, const_f64, mov, binop, binop_imm, neg, not_, convert, load, store,
    bind, jump, branch, branch_cmp, branch_cmp_imm, switch_, call, call_indirect, call_self, ret,
};
inline constexpr int kKindCount = 20;
// "binop", "load", ...: the kind's name, as builder errors print it.
const char* kind_name(Kind k);

struct Inst {
    Kind kind;
    BinOp op;           // binop, binop_imm, branch_cmp, branch_cmp_imm
    Type ret;           // call, call_indirect, call_self: the callee's result type
    uint8_t nargs;      // calls
    Mem mem;            // load, store
    uint8_t scale = 1;  // load, store: 1, 2, 4, 8
    bool mixed = false; // binop: pointer arithmetic between different types (ptr ± I32 / I64)
    uint8_t spare = 0;
    int32_t dst = -1;
    int32_t a = -1;
    int32_t b = -1;
    int32_t c = -1;     // load, store: the index var; branch_cmp(_imm): the label
    int32_t args = 0;   // calls: first index in call_args; switch_: first in switch_labels
    int64_t imm = 0;    // constant bits, immediate, offset, callee address, switch size
};

struct Program {
    Type ret = Type::void_;
    Vec<Type> vars;          // the type of each variable
    Vec<int32_t> params;     // the variables that are parameters, in call order
    Vec<Inst> insts;
    Vec<uint8_t> label_bound;  // per label: 1 once bound
    Vec<int32_t> call_args;  // the argument variables of every call, back to back
    Vec<int32_t> switch_labels;  // the tables of every switch_, back to back
    size_t labels_bound = 0;     // how many entries of label_bound are 1

    // Empties the record, keeping its buffers for the next function.
    void clear() {
        ret = Type::void_;
        vars.clear();
        params.clear();
        insts.clear();
        label_bound.clear();
        call_args.clear();
        switch_labels.clear();
        labels_bound = 0;
    }
    // The bytes its buffers hold.
    size_t capacity_bytes() const {
        return vars.capacity() * sizeof(Type) + params.capacity() * sizeof(int32_t) + insts.capacity() * sizeof(Inst) +
               label_bound.capacity() + (call_args.capacity() + switch_labels.capacity()) * sizeof(int32_t);
    }
};

// Which operand fields each kind reads and writes (program.h's table
// above, as bits): a, b, c (-1 there: none), the call's arguments, dst.
enum : uint8_t { kReadsA = 1, kReadsB = 2, kReadsC = 4, kReadsArgs = 8, kWritesDst = 16 };
constexpr uint8_t operands_of(Kind k) {
    switch (k) {
        case Kind::const_int: case Kind::const_f64: return kWritesDst;
        case Kind::mov: case Kind::binop_imm: case Kind::neg: case Kind::not_: case Kind::convert:
            return kReadsA | kWritesDst;
        case Kind::binop: return kReadsA | kReadsB | kWritesDst;
        case Kind::load: return kReadsA | kReadsC | kWritesDst;
        case Kind::store: return kReadsA | kReadsB | kReadsC;
        case Kind::bind: case Kind::jump: return 0;
        case Kind::branch: return kReadsB;
        case Kind::branch_cmp: return kReadsA | kReadsB;
        case Kind::branch_cmp_imm: case Kind::switch_: case Kind::ret: return kReadsA;
        case Kind::call: case Kind::call_self: return kReadsArgs | kWritesDst;
        case Kind::call_indirect: return kReadsA | kReadsArgs | kWritesDst;
    }
    return 0;
}
// operands_of as a table, for loops over the record.
struct OperandTable {
    uint8_t of[kKindCount];
};
constexpr OperandTable make_operand_table() {
    OperandTable t{};
    for (int k = 0; k < kKindCount; ++k) t.of[k] = operands_of(static_cast<Kind>(k));
    return t;
}
inline constexpr OperandTable kOperands = make_operand_table();

// The variables `in` reads, into out[0..n) (at most kMaxReads; a variable
// read twice is listed twice); returns n. And the one it writes, or -1.
inline constexpr int kMaxReads = kMaxParams + 1;
inline int reads_of(const Program& p, const Inst& in, int32_t* out) {
    const uint8_t r = kOperands.of[static_cast<int>(in.kind)];
    int n = 0;
    auto read = [&](int32_t v) {
        if (v >= 0) out[n++] = v;
    };
    if (r & kReadsA) read(in.a);
    if (r & kReadsB) read(in.b);
    if (r & kReadsC) read(in.c);
    if (r & kReadsArgs) {
        for (int i = 0; i < in.nargs; ++i) read(p.call_args[static_cast<size_t>(in.args + i)]);
    }
    return n;
}

inline int32_t write_of(const Inst& in) {
    return (kOperands.of[static_cast<int>(in.kind)] & kWritesDst) ? in.dst : -1;
}

// The variables that must hold 0 at entry: those some path from the
// entry reads before any write (parameters never). Sets (*out)[v] to 1
// for each, 0 for the rest; false when memory runs out. Linear in the
// program for the usual shapes; every lowering asks this, never zeroes
// the rest.
[[nodiscard]] bool entry_zeroed(const Program& p, Vec<uint8_t>* out);

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
