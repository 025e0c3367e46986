/*
 * npk/validate.h — a validator for user-supplied machine code (C ABI).
 *
 * npk_jit_validate decodes bytes someone else assembled (a hand-written
 * stub, the output of another assembler) and says whether they keep to
 * rules a JIT can rely on before it makes them executable. It reads the
 * bytes and nothing else: it never executes, maps or changes memory, and
 * decodes either architecture on any host (the policy names the
 * architecture, or "host").
 *
 * What validation is for. The rules catch mistakes in code whose author
 * means well: a wrong encoding, a stray system call or trap, a branch
 * computed for another address, code that runs off its end. They are NOT
 * a sandbox: code that keeps every rule can still do anything the process
 * can, if it is written to (see "What validation does not guarantee"
 * below). Validate code you or your own code generator produced; never
 * run code from someone you do not trust in your process, validated or
 * not (use another process, seccomp, or an interpreter for that).
 *
 * The rules, for x86-64 (decoded by Zydis) and AArch64 (decoded by
 * Capstone) alike, checked on a linear sweep from offset 0:
 *
 *   1. every byte decodes, as instructions that end exactly at `size`
 *      (NPK_ERR_CODE_UNDECODABLE, NPK_ERR_CODE_TRUNCATED). A relative
 *      x86-64 branch with an operand-size prefix counts as undecodable:
 *      Intel and AMD CPUs give it different lengths and targets;
 *   2. no privileged or system instruction (NPK_ERR_CODE_PRIVILEGED):
 *      x86-64: anything Zydis marks privileged (hlt, mov to/from control
 *      and debug registers, wrmsr, invlpg, ...), in/out and the string
 *      forms, cli/sti, far jumps/calls/returns, iret, writes to segment
 *      registers, the SYSTEM category except rdtsc/rdtscp, VT-x, SVM, SGX
 *      and user-interrupt instructions, and wrfsbase, wrgsbase, wrpkru
 *      (they change the thread's TLS base or its protection keys);
 *      AArch64: msr/mrs of every system register except the ones EL0 may
 *      use (NZCV, FPCR, FPSR, TPIDR_EL0; reading also TPIDRRO_EL0,
 *      CTR_EL0, DCZID_EL0, CNTFRQ_EL0, CNTVCT_EL0), msr to PSTATE fields,
 *      sys/sysl, at, tlbi, dc/ic other than dc zva/cvac/cvau/civac and
 *      ic ivau, eret, drps, dcps1-3, wfi;
 *   3. no system call or software interrupt (NPK_ERR_CODE_SYSCALL):
 *      syscall, sysenter, int n / svc, hvc, smc;
 *   4. no trap instruction, nor one that can set the trap flag
 *      (NPK_ERR_CODE_TRAP): ud0, ud1, ud2, int3, int1 / brk, hlt; and on
 *      x86-64 popf in every operand size (popf, popfd, popfq), which can
 *      set TF (a SIGTRAP after the next instruction) and AC (alignment
 *      checks). Nothing else user code runs can set TF or AArch64's
 *      PSTATE.SS without a system call (rt_sigreturn restores them: rule
 *      3); iret and msr to PSTATE fields are rule 2's. (AArch64
 *      udf, and every other encoding Capstone does not know, is
 *      NPK_ERR_CODE_UNDECODABLE);
 *   5. every direct branch or call target (jmp, jcc, call, loop, jrcxz,
 *      xbegin / b, b.cond, bl, cbz, cbnz, tbz, tbnz) lies inside the code
 *      on the first byte of an instruction (NPK_ERR_CODE_MISALIGNED_TARGET
 *      when inside but not on one), or is the entry of a function the
 *      runtime knows (NPK_ERR_CODE_OUTSIDE_TARGET otherwise). Known: the
 *      start of every live function the code generator's signature table
 *      holds (npk_jit_build, npk_jit_build_bytes, every function of a
 *      sealed region), and the start of a live EXECUTABLE wildx page.
 *      xend and xabort are not branches: they go on to the next
 *      instruction, or abort the transaction to the fallback address of
 *      its outermost xbegin (a target this rule checked, when that xbegin
 *      is in the code);
 *   6. no indirect jump or call (jmp/call through a register or memory;
 *      br, blr, and ret through a register other than x30):
 *      NPK_ERR_CODE_INDIRECT;
 *   7. control cannot run off the end: the last instruction is a return
 *      or an unconditional jump (NPK_ERR_CODE_FALLS_OFF_END).
 *
 * What each rule guarantees holds for the bytes as the sweep decodes them
 * from offset 0, at the address validated, and as long as they do not
 * change; it is a property of each instruction, or of each direct branch,
 * not of any run of the code.
 *
 * What validation does not guarantee. No rule follows the stack, the
 * registers or memory, so none of these is excluded, under any policy
 * (NPK_JIT_SELF_CONTAINED included):
 *   - a return goes wherever the stack (x86-64) or x30 (AArch64) says when
 *     it runs. Code that writes its own return address (`lea rcx, [rip+N];
 *     push rcx; ret`, `adr x30, L; ret`) jumps where it likes, also into
 *     the middle of an instruction the sweep read differently, such as a
 *     syscall hidden in an immediate: it is then running instructions no
 *     rule saw. Rules 2..6 restrain code that means well, not code
 *     written to escape them;
 *   - loads and stores may touch any memory the process may: other
 *     frames' return addresses, the runtime's data, writable pages of
 *     code not yet sealed;
 *   - a call to a known function runs it with whatever the registers
 *     hold; a transaction the caller began aborts to the caller's
 *     fallback, from anywhere in the code;
 *   - memory accesses, xend outside a transaction and instructions the CPU
 *     lacks may fault; loops may not end; the bytes the sweep reads as
 *     instructions are all instructions (data in the code, such as an
 *     AArch64 literal pool, must decode and keep the rules too, or be
 *     placed elsewhere).
 */
#ifndef NPK_VALIDATE_H
#define NPK_VALIDATE_H

#include <npk/api.h>
#include <npk/status.h>

NPK_EXTERN_C_BEGIN

/* ---------------------------------------------------------------------
 * Policy: bits that relax the rules, and the architecture to decode.
 * 0: every rule, for the host's architecture.
 * ------------------------------------------------------------------- */
enum {
    /* Rule 2 off: the code may hold privileged instructions. Those that
     * need CPL 0 / EL1 fault in a user process (SIGSEGV / SIGILL); the
     * others (cli/sti under IOPL 3, segment loads, wrfsbase, wrpkru)
     * change what the thread relies on. */
    NPK_JIT_ALLOW_PRIVILEGED = 1u << 0,
    /* Rule 3 off: the code may make any system call the process may. */
    NPK_JIT_ALLOW_SYSCALL    = 1u << 1,
    /* Rule 4 off: the code may raise SIGTRAP / SIGILL on purpose, and set
     * TF (a trap after every instruction) or AC with popf. */
    NPK_JIT_ALLOW_TRAP       = 1u << 2,
    /* Rule 6 off: indirect branches may go anywhere; then nothing is
     * known of where control goes but rule 5 for the direct ones. */
    NPK_JIT_ALLOW_INDIRECT   = 1u << 3,
    /* Rule 5 without its exception: every direct branch and call target
     * must lie inside the code, known function entries included. It says
     * nothing of returns and indirect branches: it is not confinement
     * (see "What validation does not guarantee" above). */
    NPK_JIT_SELF_CONTAINED   = 1u << 4,

    /* Which instruction set the bytes are: bits 24..27. */
    NPK_JIT_ARCH_HOST        = 0u << 24, /* the host's (x86-64 or AArch64) */
    NPK_JIT_ARCH_X86_64      = 1u << 24,
    NPK_JIT_ARCH_AARCH64     = 2u << 24,
    NPK_JIT_ARCH_MASK        = 15u << 24
};

/* The largest `size` npk_jit_validate accepts (16 MiB). */
#define NPK_JIT_VALIDATE_MAX_SIZE ((size_t)16 << 20)

/* ---------------------------------------------------------------------
 * A finding: the first rule the code breaks, at the lowest offset.
 * ------------------------------------------------------------------- */
enum { NPK_JIT_FINDING_TEXT = 64, NPK_JIT_FINDING_MESSAGE = 160 };

typedef struct npk_jit_finding {
    /* The byte offset of the instruction (of the bytes that do not
     * decode), from `code`. */
    size_t offset;
    /* The rule broken: one of the NPK_ERR_CODE_* codes of npk/status.h,
     * the same code the last error is set to; NPK_OK when none is. */
    int32_t rule;
    /* How many bytes the instruction spans; 0 when none decodes there. */
    uint32_t length;
    /* The instruction as the decoder prints it ("hlt", "svc #0"), or
     * "(bad)" and up to eight bytes in hex where nothing decodes.
     * NUL-terminated, truncated to fit. */
    char text[NPK_JIT_FINDING_TEXT];
    /* One English sentence saying what is wrong (the branch target, the
     * policy bit that would allow it). NUL-terminated. */
    char message[NPK_JIT_FINDING_MESSAGE];
} npk_jit_finding;

/*
 * Checks the `size` bytes at `code` against the rules above, relaxed by
 * the bits of `policy`, as instructions of the architecture it names.
 * Branch targets are computed for the code at the address `code`: the
 * same bytes elsewhere may reach other targets. Thread-safe; the bytes
 * must not change meanwhile.
 *
 * Returns 0 when the code keeps every rule (then out->rule is NPK_OK).
 * Returns -1 when it breaks one: the last error is the rule's
 * NPK_ERR_CODE_* code and, if `out` is not NULL, *out describes the first
 * finding (lowest offset; an instruction breaking two rules reports the
 * one listed first above). Also returns -1, with *out zeroed, for
 * NPK_ERR_NULL (code is NULL), NPK_ERR_ZERO_SIZE, NPK_ERR_INVALID_ARGUMENT
 * (unknown policy bits or architecture; size above
 * NPK_JIT_VALIDATE_MAX_SIZE), NPK_ERR_UNSUPPORTED_HOST (NPK_JIT_ARCH_HOST
 * on a host that is neither) and NPK_ERR_OUT_OF_MEMORY. `out` may be NULL.
 */
NPK_API int32_t npk_jit_validate(const void* code, size_t size, uint32_t policy,
                                 npk_jit_finding* out);

NPK_EXTERN_C_END

#endif /* NPK_VALIDATE_H */
