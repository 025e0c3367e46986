/*
 * runtime/assembler.h — upstream Nitpick's x86-64 run-time assembler
 * over libnpkjit (include it as "runtime/assembler.h" with
 * -I<prefix>/include/nitpick).
 *
 * An Assembler takes one instruction per call and finalizes into a sealed
 * WildXGuard (runtime/allocators.h). It works in one of two modes:
 *
 *  - Direct: with physical registers only, each call encodes its
 *    instruction at once, through asmjit's x86::Assembler, into
 *    `buffer`, in the encoding its comment gives (MOV r64, imm64 is always
 *    the 10-byte MOVABS, jumps always rel32). Labels are offsets into the
 *    buffer; a jump to a label not bound yet leaves a zero rel32 that
 *    npk_asm_bind_label patches.
 *  - Virtual registers: after the first npk_asm_vreg_new_gpr/_xmm, later
 *    calls are recorded (`regalloc->ir`) and, at finalize, a peephole pass
 *    and instruction selection run over them, registers are allocated
 *    (linear scan over live ranges that cover loops; values that do not
 *    fit stay in stack slots of a frame the allocator adds or extends)
 *    and the result is encoded after whatever the buffer already holds.
 *    The statistics count what those passes did to this code.
 *
 * Errors stick: the first misuse (an unknown register, a full label
 * table, a label bound twice, an operation the mode cannot take) sets
 * `error` and `error_msg`, later calls do nothing, and finalize fails.
 * Each error is also reported the runtime's way (npk_last_error, one
 * stderr line unless quiet).
 *
 * x86-64 System V only, as upstream's: everything builds and records on
 * any host, but finalize fails (NPK_ERR_UNSUPPORTED_HOST) and nothing
 * executes where the CPU is not x86-64; npk_asm_arch_supported says so.
 *
 * Not thread-safe: one Assembler belongs to one thread at a time.
 */
#ifndef NPK_UPSTREAM_RUNTIME_ASSEMBLER_H
#define NPK_UPSTREAM_RUNTIME_ASSEMBLER_H

#include "allocators.h"

NPK_EXTERN_C_BEGIN

/* ---------------------------------------------------------------------
 * Registers: 64-bit GPRs 0..15, their 32-bit names 32..39 (accepted by
 * no instruction here: each is 64-bit), XMM 64..79; virtual registers
 * from VREG_GPR_BASE on.
 * ------------------------------------------------------------------- */
typedef enum {
    REG_RAX = 0, REG_RCX = 1, REG_RDX = 2, REG_RBX = 3,
    REG_RSP = 4, REG_RBP = 5, REG_RSI = 6, REG_RDI = 7,
    REG_R8 = 8, REG_R9 = 9, REG_R10 = 10, REG_R11 = 11,
    REG_R12 = 12, REG_R13 = 13, REG_R14 = 14, REG_R15 = 15,

    REG_EAX = 32, REG_ECX = 33, REG_EDX = 34, REG_EBX = 35,
    REG_ESP = 36, REG_EBP = 37, REG_ESI = 38, REG_EDI = 39,

    REG_XMM0 = 64, REG_XMM1 = 65, REG_XMM2 = 66, REG_XMM3 = 67,
    REG_XMM4 = 68, REG_XMM5 = 69, REG_XMM6 = 70, REG_XMM7 = 71,
    REG_XMM8 = 72, REG_XMM9 = 73, REG_XMM10 = 74, REG_XMM11 = 75,
    REG_XMM12 = 76, REG_XMM13 = 77, REG_XMM14 = 78, REG_XMM15 = 79,

    /* Not a register: it widens the enum's range so that the virtual
     * register numbers below (256..767), cast to AsmRegister as upstream's
     * code does, are values of the type in C++ too. */
    REG_VIRTUAL_LIMIT = 768
} AsmRegister;

/* ---------------------------------------------------------------------
 * Code buffers: bytes that grow as needed.
 * ------------------------------------------------------------------- */
typedef struct {
    uint8_t* data;
    size_t size;      /* bytes written */
    size_t capacity;  /* bytes allocated */
} CodeBuffer;

/* An empty buffer with room for at least `initial_capacity` bytes (at
 * least 16); NULL if memory runs out. */
NPK_API CodeBuffer* npk_asm_buffer_create(size_t initial_capacity);
/* Frees the buffer and its bytes; NULL is ignored. */
NPK_API void npk_asm_buffer_destroy(CodeBuffer* buf);
/* Append one byte, or a little-endian 32- or 64-bit value. The buffer
 * doubles when full; if memory runs out the bytes are dropped, reported,
 * and the buffer stays as it was. NULL is ignored. */
NPK_API void npk_asm_emit_byte(CodeBuffer* buf, uint8_t byte);
NPK_API void npk_asm_emit_i32(CodeBuffer* buf, int32_t value);
NPK_API void npk_asm_emit_i64(CodeBuffer* buf, int64_t value);
/* The number of bytes written (0 for NULL). */
NPK_API size_t npk_asm_buffer_offset(const CodeBuffer* buf);

/* ---------------------------------------------------------------------
 * Labels.
 * ------------------------------------------------------------------- */
#define MAX_PATCH_SITES 64
#define MAX_LABELS 128

typedef struct {
    int32_t position;                       /* bound offset, or -1 */
    uint32_t patch_sites[MAX_PATCH_SITES];  /* rel32 fields waiting for it */
    uint32_t num_patches;
} AsmLabel;

/* An unbound label with no waiting jumps. */
NPK_API AsmLabel npk_asm_label_create(void);
NPK_API bool npk_asm_label_is_bound(const AsmLabel* label);

/* ---------------------------------------------------------------------
 * Virtual registers and the recorded program.
 * ------------------------------------------------------------------- */
typedef enum {
    REG_CLASS_GPR = 0,
    REG_CLASS_XMM = 1
} RegClass;

#define VREG_GPR_BASE 256
#define VREG_XMM_BASE 512
#define VREG_MAX      768
#define MAX_VREGS     256
#define MAX_IR_INSNS  4096

#define IS_VREG(r)     ((r) >= VREG_GPR_BASE)
#define IS_VREG_GPR(r) ((r) >= VREG_GPR_BASE && (r) < VREG_XMM_BASE)
#define IS_VREG_XMM(r) ((r) >= VREG_XMM_BASE && (r) < VREG_MAX)

/* One recorded instruction. */
typedef enum {
    JIT_OP_MOV_IMM64, JIT_OP_MOV_RR, JIT_OP_ADD_RR, JIT_OP_SUB_RR,
    JIT_OP_IMUL_RR, JIT_OP_XOR_RR, JIT_OP_AND_RR, JIT_OP_OR_RR,
    JIT_OP_NOT, JIT_OP_NEG,
    JIT_OP_ADD_IMM32, JIT_OP_SUB_IMM32, JIT_OP_CMP_IMM32,
    JIT_OP_SHL_IMM8, JIT_OP_SHR_IMM8, JIT_OP_SAR_IMM8,
    JIT_OP_CMP_RR,
    JIT_OP_MOV_LOAD, JIT_OP_MOV_STORE, JIT_OP_LEA,
    JIT_OP_STORE_LOCAL, JIT_OP_LOAD_LOCAL,
    JIT_OP_PUSH, JIT_OP_POP,
    JIT_OP_RET, JIT_OP_JMP, JIT_OP_JE, JIT_OP_JNE,
    JIT_OP_JL, JIT_OP_JLE, JIT_OP_JG, JIT_OP_JGE,
    JIT_OP_JB, JIT_OP_JBE, JIT_OP_JA, JIT_OP_JAE,
    JIT_OP_LABEL,
    JIT_OP_CALL_REG, JIT_OP_CALL_LABEL, JIT_OP_CALL_ABS,
    JIT_OP_PROLOGUE, JIT_OP_EPILOGUE,
    JIT_OP_MOVSD_RR, JIT_OP_MOVSD_LOAD, JIT_OP_MOVSD_STORE,
    JIT_OP_ADDSD, JIT_OP_SUBSD, JIT_OP_MULSD, JIT_OP_DIVSD, JIT_OP_UCOMISD,
    JIT_OP_MOVAPS_RR, JIT_OP_MOVAPS_LOAD, JIT_OP_MOVAPS_STORE,
    JIT_OP_ADDPS, JIT_OP_MULPS,
    JIT_OP_TEST_RR, JIT_OP_INC_R64, JIT_OP_DEC_R64,
    JIT_OP_NOP
} JitOpcode;

/* dst: the written (or first) register; src1: the source or the memory
 * base; src2: the stored register; offset: a displacement, label id,
 * local slot or shift count; imm64: an immediate, address or frame size. */
typedef struct {
    JitOpcode opcode;
    int32_t dst;
    int32_t src1;
    int32_t src2;
    int32_t offset;
    int64_t imm64;
} JitIR;

/* Where the allocator put one virtual register (filled at finalize). */
typedef struct {
    int32_t vreg;
    int32_t start;       /* first instruction that names it */
    int32_t end;         /* last one, stretched over every loop it is live in */
    int32_t phys;        /* its register, or -1 when it lives in a stack slot */
    int32_t spill_slot;  /* its slot's distance below RBP, or -1 */
    RegClass reg_class;
} LiveRange;

#define MAX_LIVE_RANGES 512
#define MAX_SPILL_SLOTS 64

/* What instruction selection chose, counted as it encodes. */
typedef struct {
    int32_t mov_imm64_narrowed;  /* MOV r64, imm64 as MOV r32, imm32 or MOV r64, simm32 */
    int32_t cmp_zero_to_test;    /* CMP r, 0 as TEST r, r */
    int32_t add_to_inc;          /* ADD r, 1 as INC r */
    int32_t sub_to_dec;          /* SUB r, 1 as DEC r */
    int32_t imm32_to_imm8;       /* ADD/SUB/CMP r, imm32 with an 8-bit immediate */
    int32_t total_selected;      /* the sum of the above */
} InsnSelStats;

typedef struct {
    JitIR* ir;
    int32_t ir_count;
    int32_t ir_capacity;
    int32_t next_gpr_vreg;
    int32_t next_xmm_vreg;
    bool has_vregs;
    LiveRange ranges[MAX_LIVE_RANGES];
    int32_t range_count;
    int32_t spill_count;        /* stack slots used */
    int32_t extra_stack_size;   /* bytes the allocator added to the frame */
    uint16_t reserved_gprs;     /* physical GPRs the program names itself */
    uint16_t reserved_xmms;
    bool auto_frame;            /* the allocator added the frame itself */
    uint8_t csr_save_count;
    int32_t csr_save_regs[5];   /* callee-saved GPRs it used, saved in the frame */
    int32_t peephole_elim;      /* rewrites of the peephole pass */
    InsnSelStats insn_sel;
} RegAllocState;

typedef struct {
    CodeBuffer* buffer;
    AsmLabel labels[MAX_LABELS];
    uint32_t label_count;
    bool error;
    char error_msg[256];
    RegAllocState* regalloc;    /* NULL until the first virtual register */
} Assembler;

/* A new assembler, or NULL if memory runs out. Only npk_asm_create makes
 * one: a struct declared by the caller is not an Assembler. */
NPK_API Assembler* npk_asm_create(void);
/* Frees it (and its buffer); guards it finalized live on. NULL ignored. */
NPK_API void npk_asm_destroy(Assembler* asm_ctx);
NPK_API bool npk_asm_has_error(const Assembler* asm_ctx);
/* The first error's text; "" when there is none. */
NPK_API const char* npk_asm_get_error(const Assembler* asm_ctx);

/* A new label's id (0, 1, ...), or -1 when MAX_LABELS are in use. */
NPK_API int npk_asm_new_label(Assembler* asm_ctx);
/* Binds the label here and patches every jump waiting for it; binding
 * twice is an error. */
NPK_API void npk_asm_bind_label(Assembler* asm_ctx, int label_id);

/* ---------------------------------------------------------------------
 * Instructions. dst/src are AsmRegister values or virtual registers.
 * ------------------------------------------------------------------- */
NPK_API void npk_asm_mov_r64_imm64(Assembler* asm_ctx, AsmRegister dst, int64_t value);  /* REX.W B8+r io */
NPK_API void npk_asm_mov_r64_r64(Assembler* asm_ctx, AsmRegister dst, AsmRegister src);  /* REX.W 89 /r */
NPK_API void npk_asm_add_r64_r64(Assembler* asm_ctx, AsmRegister dst, AsmRegister src);  /* REX.W 01 /r */
NPK_API void npk_asm_sub_r64_r64(Assembler* asm_ctx, AsmRegister dst, AsmRegister src);  /* REX.W 29 /r */
NPK_API void npk_asm_imul_r64_r64(Assembler* asm_ctx, AsmRegister dst, AsmRegister src); /* REX.W 0F AF /r */
NPK_API void npk_asm_ret(Assembler* asm_ctx);                                            /* C3 */
NPK_API void npk_asm_push_r64(Assembler* asm_ctx, AsmRegister reg);                      /* 50+r */
NPK_API void npk_asm_pop_r64(Assembler* asm_ctx, AsmRegister reg);                       /* 58+r */
NPK_API void npk_asm_jmp(Assembler* asm_ctx, int label_id);                              /* E9 cd */
NPK_API void npk_asm_je(Assembler* asm_ctx, int label_id);                               /* 0F 84 cd */
NPK_API void npk_asm_jne(Assembler* asm_ctx, int label_id);                              /* 0F 85 cd */
NPK_API void npk_asm_cmp_r64_r64(Assembler* asm_ctx, AsmRegister left, AsmRegister right); /* REX.W 39 /r */

NPK_API void npk_asm_add_r64_imm32(Assembler* asm_ctx, AsmRegister dst, int32_t value);  /* REX.W 81 /0 id */
NPK_API void npk_asm_sub_r64_imm32(Assembler* asm_ctx, AsmRegister dst, int32_t value);  /* REX.W 81 /5 id */
NPK_API void npk_asm_xor_r64_r64(Assembler* asm_ctx, AsmRegister dst, AsmRegister src);  /* REX.W 31 /r */
NPK_API void npk_asm_and_r64_r64(Assembler* asm_ctx, AsmRegister dst, AsmRegister src);  /* REX.W 21 /r */
NPK_API void npk_asm_or_r64_r64(Assembler* asm_ctx, AsmRegister dst, AsmRegister src);   /* REX.W 09 /r */
NPK_API void npk_asm_not_r64(Assembler* asm_ctx, AsmRegister reg);                       /* REX.W F7 /2 */
NPK_API void npk_asm_neg_r64(Assembler* asm_ctx, AsmRegister reg);                       /* REX.W F7 /3 */
/* Shift counts are taken modulo 64, as the CPU does. */
NPK_API void npk_asm_shl_r64_imm8(Assembler* asm_ctx, AsmRegister reg, uint8_t count);   /* REX.W C1 /4 ib */
NPK_API void npk_asm_shr_r64_imm8(Assembler* asm_ctx, AsmRegister reg, uint8_t count);   /* REX.W C1 /5 ib */
NPK_API void npk_asm_sar_r64_imm8(Assembler* asm_ctx, AsmRegister reg, uint8_t count);   /* REX.W C1 /7 ib */
NPK_API void npk_asm_cmp_r64_imm32(Assembler* asm_ctx, AsmRegister reg, int32_t value);  /* REX.W 81 /7 id */

NPK_API void npk_asm_jl(Assembler* asm_ctx, int label_id);   /* 0F 8C cd, signed < */
NPK_API void npk_asm_jle(Assembler* asm_ctx, int label_id);  /* 0F 8E cd */
NPK_API void npk_asm_jg(Assembler* asm_ctx, int label_id);   /* 0F 8F cd */
NPK_API void npk_asm_jge(Assembler* asm_ctx, int label_id);  /* 0F 8D cd */
NPK_API void npk_asm_jb(Assembler* asm_ctx, int label_id);   /* 0F 82 cd, unsigned < */
NPK_API void npk_asm_jbe(Assembler* asm_ctx, int label_id);  /* 0F 86 cd */
NPK_API void npk_asm_ja(Assembler* asm_ctx, int label_id);   /* 0F 87 cd */
NPK_API void npk_asm_jae(Assembler* asm_ctx, int label_id);  /* 0F 83 cd */

/* Memory: [base + offset], 64-bit. */
NPK_API void npk_asm_mov_r64_mem(Assembler* asm_ctx, AsmRegister dst, AsmRegister base, int32_t offset);
NPK_API void npk_asm_mov_mem_r64(Assembler* asm_ctx, AsmRegister base, int32_t offset, AsmRegister src);
NPK_API void npk_asm_lea_r64_mem(Assembler* asm_ctx, AsmRegister dst, AsmRegister base, int32_t offset);

/* Locals of a frame made by npk_asm_prologue: slot_offset bytes below
 * RBP ([RBP - slot_offset]); slot_offset must be 1..2^31-1. */
NPK_API void npk_asm_store_local(Assembler* asm_ctx, uint32_t slot_offset, AsmRegister src);
NPK_API void npk_asm_load_local(Assembler* asm_ctx, AsmRegister dst, uint32_t slot_offset);

NPK_API void npk_asm_call_r64(Assembler* asm_ctx, AsmRegister target);  /* FF /2 */
NPK_API void npk_asm_call_label(Assembler* asm_ctx, int label_id);      /* E8 cd */
/* MOV R11, func_ptr; CALL R11 (R11 is clobbered). */
NPK_API void npk_asm_call_abs(Assembler* asm_ctx, void* func_ptr);

/* SSE2 scalar doubles and SSE packed singles (MOVAPS needs 16-byte
 * aligned memory). */
NPK_API void npk_asm_movsd_xmm_xmm(Assembler* asm_ctx, AsmRegister dst, AsmRegister src);
NPK_API void npk_asm_movsd_xmm_mem(Assembler* asm_ctx, AsmRegister dst, AsmRegister base, int32_t offset);
NPK_API void npk_asm_movsd_mem_xmm(Assembler* asm_ctx, AsmRegister base, int32_t offset, AsmRegister src);
NPK_API void npk_asm_addsd(Assembler* asm_ctx, AsmRegister dst, AsmRegister src);
NPK_API void npk_asm_subsd(Assembler* asm_ctx, AsmRegister dst, AsmRegister src);
NPK_API void npk_asm_mulsd(Assembler* asm_ctx, AsmRegister dst, AsmRegister src);
NPK_API void npk_asm_divsd(Assembler* asm_ctx, AsmRegister dst, AsmRegister src);
NPK_API void npk_asm_ucomisd(Assembler* asm_ctx, AsmRegister left, AsmRegister right);
NPK_API void npk_asm_movaps_xmm_xmm(Assembler* asm_ctx, AsmRegister dst, AsmRegister src);
NPK_API void npk_asm_movaps_xmm_mem(Assembler* asm_ctx, AsmRegister dst, AsmRegister base, int32_t offset);
NPK_API void npk_asm_movaps_mem_xmm(Assembler* asm_ctx, AsmRegister base, int32_t offset, AsmRegister src);
NPK_API void npk_asm_addps(Assembler* asm_ctx, AsmRegister dst, AsmRegister src);
NPK_API void npk_asm_mulps(Assembler* asm_ctx, AsmRegister dst, AsmRegister src);

/* PUSH RBP; MOV RBP, RSP; SUB RSP, stack_size (if not 0). */
NPK_API void npk_asm_prologue(Assembler* asm_ctx, size_t stack_size);
/* MOV RSP, RBP; POP RBP; RET. */
NPK_API void npk_asm_epilogue(Assembler* asm_ctx);

NPK_API void npk_asm_test_r64_r64(Assembler* asm_ctx, AsmRegister r1, AsmRegister r2); /* REX.W 85 /r */
NPK_API void npk_asm_inc_r64(Assembler* asm_ctx, AsmRegister reg);                     /* REX.W FF /0 */
NPK_API void npk_asm_dec_r64(Assembler* asm_ctx, AsmRegister reg);                     /* REX.W FF /1 */

/* ---------------------------------------------------------------------
 * Finalize and run.
 * ------------------------------------------------------------------- */

/*
 * Allocates, registers the code in the signature table and the tools
 * (perf map, GDB JIT interface) as one function, and seals. Fails, with
 * an all-zero guard and the assembler's error set, after an earlier
 * error, for a label that jumps wait for but that was never bound, when
 * there is no code, on a host that is not x86-64, or when the heap
 * refuses (quota, OS). May be called again for another copy of the same
 * code; instructions after a finalize with virtual registers are an error.
 */
NPK_API WildXGuard npk_asm_finalize(Assembler* asm_ctx);

/*
 * libnpkjit's addition: the signature the finalized code has, so that
 * npk_jit_invoke (npk/jitbuild.h) can check and make calls to it. Types
 * are the NPK_JIT_* codes of <npk/jitbuild.h> (VOID 0 for the result
 * only, I32 1, I64 2, F64 3, PTR 4); at most 8 parameters. Call it
 * before npk_asm_finalize. Without it the code's signature is unknown
 * and npk_jit_invoke refuses every call. Returns 0, or -1 (and the
 * assembler's error) for a bad type or count.
 */
NPK_API int npk_asm_set_signature(Assembler* asm_ctx, int32_t ret_type, int32_t nargs, const int32_t* arg_types);

/*
 * Call sealed code as int64_t f(), f(int64_t), f(int64_t, int64_t),
 * double f() or double f(double). The callee may change any register;
 * the callee-saved ones are restored around the call all the same. When
 * the guard is NULL, not EXECUTABLE in the registry, or the host is not
 * x86-64, nothing is called: the integer forms return -1 and the double
 * forms NaN, and the reason is reported.
 */
NPK_API int64_t npk_asm_execute(WildXGuard* guard);
NPK_API int64_t npk_asm_execute_i64(WildXGuard* guard, int64_t arg1);
NPK_API int64_t npk_asm_execute_i64_i64(WildXGuard* guard, int64_t arg1, int64_t arg2);
NPK_API double npk_asm_execute_f64(WildXGuard* guard);
NPK_API double npk_asm_execute_f64_f64(WildXGuard* guard, double arg1);

/* ---------------------------------------------------------------------
 * Virtual registers.
 * ------------------------------------------------------------------- */

/* A new virtual GPR (VREG_GPR_BASE + n) or XMM (VREG_XMM_BASE + n);
 * -1 after MAX_VREGS of the class, after finalize, or after an error. */
NPK_API int npk_asm_vreg_new_gpr(Assembler* asm_ctx);
NPK_API int npk_asm_vreg_new_xmm(Assembler* asm_ctx);
/* Virtual registers made so far, both classes. */
NPK_API int npk_asm_vreg_count(const Assembler* asm_ctx);
/* Stack slots the allocator needed (after finalize; 0 before). */
NPK_API int npk_asm_spill_count(const Assembler* asm_ctx);

/* ---------------------------------------------------------------------
 * Statistics, architecture, profiler.
 * ------------------------------------------------------------------- */
typedef struct {
    int32_t mov_zero_to_xor;    /* MOV r, 0 as XOR r, r (where flags are dead) */
    int32_t identity_mov_elim;  /* MOV r, r dropped */
    int32_t dead_store_elim;    /* a register write overwritten before any read */
    int32_t strength_reduced;   /* IMUL by a known power of two as SHL */
    int32_t constant_folded;    /* ADD/SUB 0, shifts by 0 dropped */
    int32_t total_eliminated;   /* every rewrite of the pass, the sum above */
} PeepholeStats;

/* What the passes did at finalize; all zero in direct mode or before. */
NPK_API PeepholeStats npk_asm_peephole_stats(const Assembler* asm_ctx);
NPK_API InsnSelStats npk_asm_insn_sel_stats(const Assembler* asm_ctx);

/*
 * Appends "<start hex> <size hex> <name>" to /tmp/perf-<pid>.map, the
 * file `perf report` reads. Finalized code is already described there
 * when NPK_JIT_PERF=map is set; this is for code made some other way. A
 * NULL address, size 0 or a name that is not one printable token is
 * refused (reported, nothing written).
 */
NPK_API void npk_asm_perf_map_register(const void* code_addr, size_t code_size, const char* name);

typedef enum {
    ASM_ARCH_X86_64 = 0,
    ASM_ARCH_AARCH64 = 1
} AsmArch;

/* The architecture this assembler encodes for: always x86-64. */
NPK_API AsmArch npk_asm_get_arch(void);
/* Whether code for `arch` can be made and run here: x86-64 on an x86-64
 * host, nothing else. */
NPK_API bool npk_asm_arch_supported(AsmArch arch);

NPK_EXTERN_C_END

#endif /* NPK_UPSTREAM_RUNTIME_ASSEMBLER_H */
