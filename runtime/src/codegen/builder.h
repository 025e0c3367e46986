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

// Appends one instruction (checking the record's size). 0 or -1.
int32_t emit(npk_jit_builder* b, const char* op, const Inst& in);
Inst make(Kind k, int32_t dst = -1, int32_t a = -1, int32_t bb = -1, int64_t imm = 0);

}  // namespace npk::codegen
