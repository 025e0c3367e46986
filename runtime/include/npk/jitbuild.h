/*
 * npk/jitbuild.h — code generation (C ABI): a portable function builder
 * with register allocation, code regions sealed once, and checked calls
 * for any signature.
 *
 * A builder records a function as calls on typed, mutable variables;
 * npk_jit_build (or npk_jit_region_add + npk_jit_region_seal) turns the
 * record into machine code for the host (x86-64 System V or AArch64
 * AAPCS64), places it in wildx memory and seals it: the code is never
 * writable and executable at once. One program of builder calls gives
 * the same results on every supported host.
 *
 *     npk_jit_builder* b = npk_jit_builder_new(NPK_JIT_I64);
 *     int32_t x = npk_jit_param(b, NPK_JIT_I64);
 *     int32_t k = npk_jit_var(b, NPK_JIT_I64);
 *     npk_jit_const_i64(b, k, 3);
 *     npk_jit_op(b, NPK_JIT_MUL, x, x, k);
 *     npk_jit_ret(b, x);
 *     int64_t (*f)(int64_t) = (int64_t (*)(int64_t))npk_jit_build(b);
 *     ... f(14) == 42 ...
 *     npk_wildx_free((void*)f);
 *
 * Errors. Every call that fails returns -1 (or NULL) and sets the
 * calling thread's last status and message (npk/status.h: codes
 * NPK_ERR_JIT_* below and the general ones). The message names the
 * instruction's position: "at op N" is the index the failing call would
 * have had in the function (0 for the first instruction), and an error
 * found at build time names the op it concerns, e.g. "op 7 (jump) goes to
 * label 2, never bound". A builder keeps its first
 * error: every later call on it is a no-op returning -1 (status
 * NPK_ERR_JIT_BUILDER_FAILED, the message repeats the first one), and
 * npk_jit_build / npk_jit_region_add of it return NULL with the first
 * error. Nothing half-built ever becomes executable.
 *
 * Seeing the code. Functions have names (npk_jit_builder_name, otherwise
 * "jit_fn_<address>"). With NPK_JIT_PERF=map and/or jitdump in the
 * environment, perf learns each function's address, size and name when
 * it becomes executable; with NPK_JIT_GDB=1, gdb does too (the GDB JIT
 * interface), until it is freed. The README's "Seeing JIT code" has the
 * commands. Every built function keeps a frame pointer, so debuggers and
 * profilers can walk its frame.
 *
 * Threads. A builder and a region are used by one thread at a time;
 * different builders and regions may be used by different threads at
 * once. Functions, once built or sealed, may be called and invoked from
 * any thread.
 */
#ifndef NPK_JITBUILD_H
#define NPK_JITBUILD_H

#include <npk/api.h>
#include <npk/status.h>
#include <npk/validate.h>
#include <npk/wildx.h>

NPK_EXTERN_C_BEGIN

/* ---------------------------------------------------------------------
 * Types and operations.
 * ------------------------------------------------------------------- */

/* Value types: of variables, parameters, results and memory accesses. */
enum {
    NPK_JIT_VOID = 0, /* results only: no value */
    NPK_JIT_I32 = 1,  /* int32_t */
    NPK_JIT_I64 = 2,  /* int64_t */
    NPK_JIT_F64 = 3,  /* double */
    NPK_JIT_PTR = 4   /* void*: a 64-bit integer that loads and stores take as base */
};

/*
 * Binary operations (npk_jit_op). Both operands have one type; arithmetic
 * writes that type, a comparison writes an I32 0 or 1.
 *
 * Integers (I32, I64, PTR; PTR behaves as a 64-bit integer): arithmetic
 * wraps at the type's width; DIV and REM are signed and defined
 * everywhere: x DIV 0 = 0, x REM 0 = x, MIN DIV -1 = MIN, MIN REM -1 = 0;
 * shift counts are taken modulo the width; SHR is arithmetic, USHR
 * logical. EQ..GE compare signed, ULT..UGE unsigned.
 *
 * F64: ADD SUB MUL DIV (IEEE 754, round to nearest) and EQ NE LT LE GT GE
 * as in C: when an operand is NaN, NE is 1 and every other comparison 0.
 * REM, the bitwise operations, the shifts and the unsigned comparisons
 * are not defined for F64 (NPK_ERR_JIT_BAD_OP).
 */
enum {
    NPK_JIT_ADD = 1,
    NPK_JIT_SUB = 2,
    NPK_JIT_MUL = 3,
    NPK_JIT_DIV = 4,
    NPK_JIT_REM = 5,
    NPK_JIT_AND = 6,
    NPK_JIT_OR = 7,
    NPK_JIT_XOR = 8,
    NPK_JIT_SHL = 9,
    NPK_JIT_SHR = 10,  /* arithmetic (sign-filling) */
    NPK_JIT_USHR = 11, /* logical (zero-filling) */
    NPK_JIT_EQ = 12,
    NPK_JIT_NE = 13,
    NPK_JIT_LT = 14,
    NPK_JIT_LE = 15,
    NPK_JIT_GT = 16,
    NPK_JIT_GE = 17,
    NPK_JIT_ULT = 18,
    NPK_JIT_ULE = 19,
    NPK_JIT_UGT = 20,
    NPK_JIT_UGE = 21
};

/*
 * Pointer arithmetic. ADD of a PTR and an I64 or I32 (either order; an
 * I32 is sign-extended) and SUB of an I64 or I32 from a PTR give a PTR;
 * SUB of two PTRs gives their distance in bytes as an I64 (a PTR dst is
 * accepted too, for programs written before). Through npk_jit_op_imm, a
 * PTR lhs takes ADD and SUB with a 64-bit immediate and gives a PTR. Every
 * other mix of types is NPK_ERR_JIT_TYPE_MISMATCH.
 */

/* At most this many parameters, and arguments of a call_native. */
#define NPK_JIT_MAX_PARAMS 8

/* ---------------------------------------------------------------------
 * The builder.
 * ------------------------------------------------------------------- */

typedef struct npk_jit_builder npk_jit_builder;

/*
 * A new, empty builder for a function returning `ret_type` (any type,
 * VOID included). The caller owns it until npk_jit_build,
 * npk_jit_region_add (both consume it, whatever happens) or
 * npk_jit_builder_free. Returns NULL for an unknown type
 * (NPK_ERR_JIT_BAD_TYPE) or when memory runs out (NPK_ERR_OUT_OF_MEMORY).
 */
NPK_API npk_jit_builder* npk_jit_builder_new(int32_t ret_type);

/* Frees a builder that was not built. NULL is ignored. */
NPK_API void npk_jit_builder_free(npk_jit_builder* b);

/*
 * The builder's sticky error: NPK_OK while every call so far succeeded,
 * otherwise the status of its first failed call. -1 for NULL.
 */
NPK_API int32_t npk_jit_builder_error(const npk_jit_builder* b);

/*
 * Names the function the builder makes: perf (NPK_JIT_PERF) and gdb
 * (NPK_JIT_GDB) show it, npk_jit_name returns it. `name` is copied: 1 to
 * NPK_JIT_MAX_NAME bytes of printable ASCII without space (0x21..0x7E),
 * so that it is one token in a perf map line or a gdb command. Allowed at
 * any time before the build; a later call renames. A function never
 * named is "jit_fn_<address in lowercase hex>", e.g. jit_fn_7f3a1c000010.
 * Returns 0, or -1 for a NULL builder, a builder that failed earlier, or
 * an invalid name (NPK_ERR_INVALID_ARGUMENT, sticky as any misuse).
 */
#define NPK_JIT_MAX_NAME 127
NPK_API int32_t npk_jit_builder_name(npk_jit_builder* b, const char* name);

/*
 * Appends a parameter of `type` (not VOID) and returns its variable:
 * parameters are in call order. Only before the first instruction
 * (NPK_ERR_JIT_LATE_PARAM), at most NPK_JIT_MAX_PARAMS
 * (NPK_ERR_JIT_TOO_MANY_PARAMS).
 */
NPK_API int32_t npk_jit_param(npk_jit_builder* b, int32_t type);

/*
 * A fresh variable of `type` (not VOID); returns its id (>= 0).
 * Variables are mutable: assign them as often as you like. A variable
 * that is read before any assignment holds 0 (0.0 for F64); only such
 * variables (some path from the entry reads them before writing them)
 * cost an instruction at entry. Creating
 * variables and labels is not an instruction: allowed before params.
 */
NPK_API int32_t npk_jit_var(npk_jit_builder* b, int32_t type);

/* The type of variable `var` (NPK_JIT_*), or -1 for an unknown one. Not an
 * error: the builder's state and the last error are left as they are. */
NPK_API int32_t npk_jit_var_type(const npk_jit_builder* b, int32_t var);

/*
 * Instructions. Each returns 0 on success and -1 on misuse: an unknown
 * variable (NPK_ERR_JIT_BAD_VAR), operands of different types
 * (NPK_ERR_JIT_TYPE_MISMATCH), an operation the type lacks
 * (NPK_ERR_JIT_BAD_OP), an unknown operation (NPK_ERR_JIT_BAD_OP).
 */

/* dst = value. dst is I32, I64 or PTR; an I32 dst takes the low 32 bits. */
NPK_API int32_t npk_jit_const_i64(npk_jit_builder* b, int32_t dst, int64_t value);
/* dst = value. dst is F64. */
NPK_API int32_t npk_jit_const_f64(npk_jit_builder* b, int32_t dst, double value);
/* dst = src, both of one type. */
NPK_API int32_t npk_jit_mov(npk_jit_builder* b, int32_t dst, int32_t src);
/* dst = lhs <op> rhs (see the operations above). dst, lhs and rhs may be
 * the same variable. */
NPK_API int32_t npk_jit_op(npk_jit_builder* b, int32_t op, int32_t dst, int32_t lhs, int32_t rhs);
/* dst = -src (integers wrap: -MIN = MIN; F64 flips the sign, NaN included). */
NPK_API int32_t npk_jit_neg(npk_jit_builder* b, int32_t dst, int32_t src);
/* dst = ~src, integers only. */
NPK_API int32_t npk_jit_not(npk_jit_builder* b, int32_t dst, int32_t src);

/*
 * dst = src converted to dst's type. Between integer types: I32 → I64 or
 * PTR sign-extends, I64 or PTR → I32 keeps the low 32 bits, I64 ↔ PTR
 * keeps the bits. Integer → F64 rounds to nearest. F64 → integer
 * truncates toward zero and saturates at the type's MIN / MAX; NaN gives
 * 0. Same type: a move.
 */
NPK_API int32_t npk_jit_convert(npk_jit_builder* b, int32_t dst, int32_t src);

/*
 * dst = *(T*)(base + offset) / *(T*)(base + offset) = src, where T is the
 * type of dst / src (I32: 4 bytes, I64 / PTR / F64: 8) and base a PTR
 * variable. Any alignment the host allows for T. The builder cannot
 * check the address: the memory is the caller's business, as in C.
 */
NPK_API int32_t npk_jit_load(npk_jit_builder* b, int32_t dst, int32_t base, int32_t offset);
NPK_API int32_t npk_jit_store(npk_jit_builder* b, int32_t base, int32_t offset, int32_t src);

/*
 * Memory accesses of a given width (mem), sign- (I*) or zero- (U*)
 * extended on load. A store writes src's low W bytes (signedness does
 * not matter there: I8 and U8 store alike).
 */
enum {
    NPK_JIT_MEM_I8 = 1,  /* 1 byte, sign-extended */
    NPK_JIT_MEM_U8 = 2,  /* 1 byte, zero-extended */
    NPK_JIT_MEM_I16 = 3, /* 2 bytes, sign-extended */
    NPK_JIT_MEM_U16 = 4, /* 2 bytes, zero-extended */
    NPK_JIT_MEM_I32 = 5, /* 4 bytes, sign-extended (to an I64 / PTR) */
    NPK_JIT_MEM_U32 = 6, /* 4 bytes, zero-extended (to an I64 / PTR) */
    NPK_JIT_MEM_64 = 7   /* 8 bytes: the whole I64, PTR or F64 */
};

/*
 * dst = the W-byte value at base + offset, extended to dst's type (I32,
 * I64 or PTR); npk_jit_store_sized writes src's low W bytes there. base is
 * a PTR. A width wider than the variable (MEM_64 with an I32) is
 * NPK_ERR_JIT_BAD_WIDTH, as is an unknown `mem`; an F64 variable is
 * NPK_ERR_JIT_TYPE_MISMATCH (use npk_jit_load / npk_jit_load_indexed).
 */
NPK_API int32_t npk_jit_load_sized(npk_jit_builder* b, int32_t dst, int32_t base, int32_t offset, int32_t mem);
NPK_API int32_t npk_jit_store_sized(npk_jit_builder* b, int32_t base, int32_t offset, int32_t src, int32_t mem);

/*
 * As the sized accesses, at address base + index * scale + offset: base
 * a PTR, index an I32 (sign-extended), I64 or PTR variable, scale 1, 2,
 * 4 or 8 (otherwise NPK_ERR_JIT_BAD_SCALE). mem 0 is the variable's own
 * type (I32: 4 bytes, I64 / PTR / F64: 8), which is the only width an
 * F64 variable takes (0 or NPK_JIT_MEM_64). The address wraps as 64-bit
 * integer arithmetic; the memory is the caller's business, as in C.
 */
NPK_API int32_t npk_jit_load_indexed(npk_jit_builder* b, int32_t dst, int32_t base, int32_t index, int32_t scale,
                                     int32_t offset, int32_t mem);
NPK_API int32_t npk_jit_store_indexed(npk_jit_builder* b, int32_t base, int32_t index, int32_t scale,
                                      int32_t offset, int32_t src, int32_t mem);

/*
 * dst = lhs <op> imm, for every operation of npk_jit_op, the immediate
 * taken at lhs's integer type: for an I32 lhs, imm must lie in
 * INT32_MIN..UINT32_MAX and its low 32 bits are used (otherwise
 * NPK_ERR_JIT_BAD_IMM); an F64 lhs is NPK_ERR_JIT_BAD_OP. The result type
 * is as in npk_jit_op (a comparison writes an I32; PTR ADD / SUB imm a
 * PTR). dst and lhs may be the same variable.
 */
NPK_API int32_t npk_jit_op_imm(npk_jit_builder* b, int32_t op, int32_t dst, int32_t lhs, int64_t imm);

/*
 * Control flow. npk_jit_label creates a label (its id, >= 0);
 * npk_jit_bind places it at the current point (once: NPK_ERR_JIT_LABEL_BOUND);
 * npk_jit_jump jumps to it; npk_jit_branch_if jumps when the I32 `cond`
 * is not 0. Jumps may go forward or backward; every label jumped to must
 * be bound by the time the function is built (NPK_ERR_JIT_LABEL_UNBOUND,
 * reported by npk_jit_build / npk_jit_region_add). An unknown label is
 * NPK_ERR_JIT_BAD_LABEL.
 */
NPK_API int32_t npk_jit_label(npk_jit_builder* b);
NPK_API int32_t npk_jit_bind(npk_jit_builder* b, int32_t label);
NPK_API int32_t npk_jit_jump(npk_jit_builder* b, int32_t label);
NPK_API int32_t npk_jit_branch_if(npk_jit_builder* b, int32_t cond, int32_t label);

/*
 * if (lhs <cmp> rhs) goto label, one instruction (the comparison is
 * fused with the jump). cmp is one of NPK_JIT_EQ..NPK_JIT_UGE for
 * integers (lhs and rhs of one type; otherwise NPK_ERR_JIT_TYPE_MISMATCH)
 * and NPK_JIT_EQ..NPK_JIT_GE for F64 (as npk_jit_op: with a NaN only NE
 * jumps); any other cmp is NPK_ERR_JIT_BAD_OP. npk_jit_branch_cmp_imm
 * compares with an immediate taken at lhs's integer type, under the rules
 * of npk_jit_op_imm (an F64 lhs is NPK_ERR_JIT_BAD_OP).
 */
NPK_API int32_t npk_jit_branch_cmp(npk_jit_builder* b, int32_t cmp, int32_t lhs, int32_t rhs, int32_t label);
NPK_API int32_t npk_jit_branch_cmp_imm(npk_jit_builder* b, int32_t cmp, int32_t lhs, int64_t imm, int32_t label);

/*
 * A multiway jump: to labels[value] when 0 <= value < n, otherwise to
 * dflt. value is an integer variable (I32, I64 or PTR, compared as a
 * signed number); n is 0..NPK_JIT_MAX_SWITCH (otherwise
 * NPK_ERR_JIT_BAD_SWITCH); the n labels are copied, and may repeat.
 * Lowered to one bounds check and a jump through a table of 32-bit
 * offsets placed after the function's code (on AArch64 the table is
 * reached by adr: a function of more than 1 MiB of code with a switch
 * fails to build, NPK_ERR_JIT_CODEGEN).
 */
#define NPK_JIT_MAX_SWITCH 65536
NPK_API int32_t npk_jit_switch(npk_jit_builder* b, int32_t value, int32_t n, const int32_t* labels, int32_t dflt);

/*
 * A call from the generated code to `fn`, a C function of the host's
 * calling convention (or a function built here: JIT code may call JIT
 * code) taking `nargs` arguments (0..NPK_JIT_MAX_PARAMS, the variables
 * args[0..nargs), their types are the parameter types) and returning
 * `ret_type`. The result goes to `dst`, whose type must be ret_type;
 * dst -1 discards it (and is required when ret_type is VOID). `fn` is
 * not checked beyond NULL: it must stay callable while the code runs.
 */
NPK_API int32_t npk_jit_call_native(npk_jit_builder* b, int32_t dst, const void* fn, int32_t ret_type,
                                    int32_t nargs, const int32_t* args);

/*
 * A call through the PTR variable `fn`, which holds the address of a
 * function of the signature ret_type(types of args[0..nargs)) in the
 * host's calling convention (a C function or a built one), read when the
 * call runs. Otherwise as npk_jit_call_native: dst -1 discards the
 * result; fn of another type is NPK_ERR_JIT_TYPE_MISMATCH. Calling
 * through an address that is not such a function is undefined, as in C.
 */
NPK_API int32_t npk_jit_call_indirect(npk_jit_builder* b, int32_t dst, int32_t fn, int32_t ret_type, int32_t nargs,
                                      const int32_t* args);

/*
 * A call of the function being built (recursion), with its own
 * signature: nargs must equal its parameter count
 * (NPK_ERR_JIT_TOO_MANY_PARAMS otherwise) and each argument's type the
 * parameter's (NPK_ERR_JIT_TYPE_MISMATCH); dst is -1 or a variable of the
 * result type. Parameters added after this call are refused
 * (NPK_ERR_JIT_LATE_PARAM), as after any instruction. The depth of the
 * recursion is the caller's business (the thread's stack bounds it).
 */
NPK_API int32_t npk_jit_call_self(npk_jit_builder* b, int32_t dst, int32_t nargs, const int32_t* args);

/*
 * Returns `src` (its type must be the function's result type); in a VOID
 * function `src` must be -1. A function that runs off its end returns 0
 * (0.0 for F64).
 */
NPK_API int32_t npk_jit_ret(npk_jit_builder* b, int32_t src);

/*
 * Compiles the function for the host, allocates wildx memory for it,
 * copies the code there, seals it (hash, instruction-cache flush,
 * read+execute) and records its signature for npk_jit_invoke. Frees the
 * builder whatever happens.
 *
 * Returns the function's entry point, the start of an EXECUTABLE wildx
 * page: cast it to the C function type of the signature, or call it
 * through npk_jit_invoke. Release it with npk_wildx_free (after which
 * invoke refuses it). Returns NULL, with the last error set and nothing
 * leaked, for NULL (NPK_ERR_NULL), a builder that failed earlier (its
 * first error), an unbound label (NPK_ERR_JIT_LABEL_UNBOUND), a host
 * without a code generator (NPK_ERR_UNSUPPORTED_HOST), a code generator
 * failure (NPK_ERR_JIT_CODEGEN) or a wildx failure (quota, OS).
 */
NPK_API void* npk_jit_build(npk_jit_builder* b);

/*
 * Machine code someone else assembled (a hand-written stub, another
 * assembler's output), installed as a function only when it validates.
 *
 * Copies the `size` bytes at `code` into a fresh wildx page, checks the
 * copy there with the validator (npk/validate.h: its rules, relaxed by
 * the NPK_JIT_ALLOW_* / NPK_JIT_SELF_CONTAINED bits of `policy`; branch
 * targets are judged at the address the code will run at, and the
 * caller can no longer change the bytes), then seals the page and
 * records the signature ret_type(arg_types[0..nargs)) for
 * npk_jit_invoke, as npk_jit_build does. `name` (may be NULL: then
 * "jit_fn_<address>") follows npk_jit_builder_name's rules.
 *
 * Returns the function's entry point (the start of an EXECUTABLE wildx
 * page; release it with npk_wildx_free), or NULL with nothing mapped or
 * kept and the last error set:
 *   - the rule the code breaks (an NPK_ERR_CODE_* of npk/status.h), the
 *     message naming the offset, the instruction and the rule, e.g.
 *       npk_jit_build_bytes(0x..) rejected: privileged or system
 *       instruction (offset 1: hlt: ...)
 *     (the validator reports the finding on its own line too);
 *   - NPK_ERR_NULL (code, or arg_types with nargs > 0), NPK_ERR_ZERO_SIZE,
 *     NPK_ERR_JIT_BAD_TYPE (ret_type not a type, an argument type not a
 *     value type), NPK_ERR_JIT_TOO_MANY_PARAMS (nargs outside
 *     0..NPK_JIT_MAX_PARAMS), NPK_ERR_INVALID_ARGUMENT (an invalid name,
 *     size above NPK_JIT_VALIDATE_MAX_SIZE, unknown policy bits, or a
 *     policy naming an architecture: only host code can be installed),
 *     NPK_ERR_UNSUPPORTED_HOST, and the heap's errors (quota, OS).
 */
NPK_API void* npk_jit_build_bytes(const void* code, size_t size, int32_t ret_type, int32_t nargs,
                                  const int32_t* arg_types, uint32_t policy);
NPK_API void* npk_jit_build_bytes_named(const void* code, size_t size, int32_t ret_type, int32_t nargs,
                                        const int32_t* arg_types, uint32_t policy, const char* name);

/* ---------------------------------------------------------------------
 * Regions: many functions, sealed once.
 *
 * A region owns one or more wildx allocations (it grows as functions are
 * added); npk_jit_region_seal seals them all at once, and
 * npk_jit_region_free releases them all. A function in a region is never
 * released alone: npk_wildx_free of it returns -1 (an interior pointer).
 * ------------------------------------------------------------------- */

typedef struct npk_jit_region npk_jit_region;

/* A new, empty region; NULL when memory runs out. */
NPK_API npk_jit_region* npk_jit_region_new(void);

/*
 * Compiles the builder's function into the region and consumes the
 * builder (whatever happens, as npk_jit_build). Returns where the
 * function will live: not callable before npk_jit_region_seal. Returns
 * NULL for a NULL region or builder (NPK_ERR_NULL), a sealed region
 * (NPK_ERR_JIT_REGION_SEALED) and every error of npk_jit_build; the
 * region is unchanged then.
 */
NPK_API void* npk_jit_region_add(npk_jit_region* r, npk_jit_builder* b);

/*
 * Seals every allocation of the region: for each, one hash (XXH3-64, see
 * npk_wildx_code_hash), one instruction-cache flush, one mprotect to
 * read+execute. Afterwards every
 * function added is callable, directly and through npk_jit_invoke.
 * Returns 0, or -1 for NULL, a region sealed already
 * (NPK_ERR_JIT_REGION_SEALED) or when the OS refuses (NPK_ERR_OS; the
 * allocations not yet sealed stay writable, and a later seal may retry).
 * Sealing an empty region is allowed (and then adding is not).
 */
NPK_API int32_t npk_jit_region_seal(npk_jit_region* r);

/*
 * Releases the region and every function in it, sealed or not. The
 * function pointers dangle afterwards (invoke refuses them). Returns 0;
 * -1 for NULL, or when the OS refused an unmap (reported; everything is
 * released all the same).
 */
NPK_API int32_t npk_jit_region_free(npk_jit_region* r);

/* Functions added to the region so far. -1 for NULL. */
NPK_API int64_t npk_jit_region_count(const npk_jit_region* r);

/* ---------------------------------------------------------------------
 * Checked calls.
 * ------------------------------------------------------------------- */

typedef struct npk_jit_value {
    int32_t type; /* NPK_JIT_* */
    union {
        int32_t i32;
        int64_t i64;
        double f64;
        void* ptr;
    };
} npk_jit_value;

/*
 * Calls `fn` with `nargs` arguments and stores its result in *ret (type
 * set to the result type; `ret` may be NULL to discard it).
 *
 * `fn` must be the start of a live, EXECUTABLE function built by this
 * runtime (npk_jit_build, or a sealed region), and `nargs` and the type of
 * every argument must equal its recorded signature. Otherwise nothing is
 * called and -1 is returned, with NPK_ERR_JIT_NOT_FUNCTION (and the
 * page's state: freed, writable, foreign, interior) or
 * NPK_ERR_JIT_SIGNATURE and a message naming both signatures, e.g.
 *     invoke(0x7f..) rejected: signature mismatch (signature i64(i64, i64), called as i64(i64))
 * `args` may be NULL when nargs is 0. Returns 0 after the call.
 *
 * The check takes no lock. A function freed by another thread while this
 * call runs is a use-after-free in the caller, as with any pointer.
 */
NPK_API int32_t npk_jit_invoke(const void* fn, const npk_jit_value* args, int32_t nargs, npk_jit_value* ret);

/*
 * Writes the recorded signature of `fn` as text, such as "i64(i64, f64)"
 * or "void()", NUL-terminated, into buf[0..n). Returns its length
 * (without the NUL). Returns -1 if `fn` is not the start of a live
 * EXECUTABLE built function (NPK_ERR_JIT_NOT_FUNCTION), `buf` is NULL
 * (NPK_ERR_NULL) or too small (NPK_ERR_JIT_BUFFER_TOO_SMALL; nothing
 * written). 64 bytes always suffice.
 */
NPK_API int32_t npk_jit_signature(const void* fn, char* buf, size_t n);

/*
 * Writes the name of the live built function `fn` (npk_jit_builder_name,
 * or "jit_fn_<address>") with its NUL into buf (n bytes) and returns its
 * length. -1 for a NULL fn or buf (NPK_ERR_NULL), anything but the start
 * of a live EXECUTABLE built function (NPK_ERR_JIT_NOT_FUNCTION) or a
 * buffer too small (NPK_ERR_JIT_BUFFER_TOO_SMALL; NPK_JIT_MAX_NAME + 1
 * bytes are always enough); buf is unchanged then.
 */
NPK_API int32_t npk_jit_name(const void* fn, char* buf, size_t n);

/*
 * The machine code of the live built function `fn` as text, the same
 * listing NPK_JIT_DUMP=asm prints when it is built: a header line
 *     ;; function NAME SIG at 0xADDRESS, N bytes of ARCH code
 * then ";; code" and one line per instruction: its address, its offset
 * in the function, its bytes in hex and the instruction (Intel syntax on
 * x86-64 by Zydis, Capstone's on AArch64); bytes that decode to nothing
 * are shown as ".byte". The builder's program is not kept after the
 * build: NPK_JIT_DUMP=ir prints it then.
 *
 * Writes the text with its NUL into buf (n bytes) and returns its length.
 * With buf NULL and n 0 it only returns the length (add 1 for the NUL).
 * -1 for a NULL fn (NPK_ERR_NULL), anything but the start of a live
 * EXECUTABLE built function (NPK_ERR_JIT_NOT_FUNCTION), a NULL buf with
 * n > 0 (NPK_ERR_NULL), a buffer too small (NPK_ERR_JIT_BUFFER_TOO_SMALL,
 * the message says how many bytes are needed; buf is unchanged) or no
 * memory for the text (NPK_ERR_OUT_OF_MEMORY).
 */
NPK_API int32_t npk_jit_disassemble(const void* fn, char* buf, size_t n);

NPK_EXTERN_C_END

#endif /* NPK_JITBUILD_H */
