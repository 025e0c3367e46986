// builder.h — the builder object behind npk_jit_builder, and the checks
// its calls share (private; builder.cpp, builder_flow.cpp).
#pragma once

#include <npk/jitbuild.h>

#include "codegen/program.h"
#include "tools/tools.h"

struct npk_jit_builder {
    npk::codegen::Program prog;
    int32_t error = 0;     // the first error's status (sticky), 0 while none
    char first[512] = "";  // the first error's message
    char name[npk::tools::kMaxName + 1] = "";  // npk_jit_builder_name; "" for the default name
};

namespace npk::codegen {

// Records `code` as the builder's sticky error (if it has none yet) and
// reports it for `op`, naming the position the call would have had in
// the program ("at op N"). Returns -1.
int32_t stick(npk_jit_builder* b, const char* op, int32_t code, const char* fmt, ...)
    __attribute__((format(printf, 4, 5)));

// Checks the builder before build / region_add: not NULL, no sticky
// error, every label jumped to bound. Reports for `op` and returns -1
// otherwise (the builder is not freed).
int32_t check_complete(npk_jit_builder* b, const char* op);

void destroy(npk_jit_builder* b);

// What every builder call checks (each reports and sticks its error).
namespace check {

bool valid_type(int32_t t);
// Not NULL and no earlier error.
bool usable(npk_jit_builder* b, const char* op);
// The type of an existing variable `v`.
bool var_type(npk_jit_builder* b, const char* op, int32_t v, Type* out);
bool same_type(npk_jit_builder* b, const char* op, int32_t x, Type tx, int32_t y, Type ty);
bool label_ok(npk_jit_builder* b, const char* op, int32_t label);
// `imm` at an integer type `t`: an I32 takes INT32_MIN..UINT32_MAX, as
// its low 32 bits sign-extended; 64-bit types take anything.
bool imm_at(npk_jit_builder* b, const char* op, Type t, int64_t* imm);
// The call arguments: count (0..kMaxParams), not NULL, every id known.
bool call_args(npk_jit_builder* b, const char* op, int32_t nargs, const int32_t* args);
// Appends checked arguments to call_args; sets in->args and in->nargs.
bool record_args(npk_jit_builder* b, const char* op, int32_t nargs, const int32_t* args, Inst* in);
// dst -1 or a variable of the callee's result type `rt`.
bool call_result(npk_jit_builder* b, const char* op, int32_t dst, Type rt);
int32_t out_of_memory(npk_jit_builder* b, const char* op);

}  // namespace check

// Far beyond any real function, small enough that ids never overflow.
inline constexpr size_t kMaxInsts = size_t{1} << 24;

// Room for one more instruction, when the record has none (it grows, or
// is full: the error sticks). 0 or -1.
int32_t make_room(npk_jit_builder* b, const char* op);

// Appends one instruction (checking the record's size). 0 or -1. Inline,
// with make(), so that a builder call writes its Inst straight into the
// record (a copy through the stack stalls on store forwarding).
inline int32_t emit(npk_jit_builder* b, const char* op, const Inst& in) {
    Vec<Inst>& v = b->prog.insts;
    if (!v.has_room() && make_room(b, op) != 0) return -1;
    // Field by field, and `in` never escapes: once inlined, each field is
    // a store of its own value, with no Inst built on the stack and read
    // back whole.
    Inst& d = v.push_slot();
    d.kind = in.kind;
    d.op = in.op;
    d.ret = in.ret;
    d.nargs = in.nargs;
    d.mem = in.mem;
    d.scale = in.scale;
    d.mixed = in.mixed;
    d.spare = in.spare;
    d.dst = in.dst;
    d.a = in.a;
    d.b = in.b;
    d.c = in.c;
    d.args = in.args;
    d.imm = in.imm;
    return 0;
}

inline Inst make(Kind k, int32_t dst = -1, int32_t a = -1, int32_t bb = -1, int64_t imm = 0) {
    Inst in{};
    in.kind = k;
    in.dst = dst;
    in.a = a;
    in.b = bb;
    in.c = -1;
    in.scale = 1;
    in.imm = imm;
    return in;
}

}  // namespace npk::codegen
