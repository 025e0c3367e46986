// asm_insns.cpp — the instruction calls of runtime/assembler.h: each
// makes one JitIR and hands it to submit(), which checks the operands and
// records or encodes it.
#include "upstream/asm_impl.h"

#include <npk/status.h>

#include <climits>

using namespace npk::upstream;

namespace {

void put(Assembler* a, const char* op, JitOpcode code, int32_t dst, int32_t src1 = 0, int32_t src2 = 0,
         int32_t offset = 0, int64_t imm = 0) {
    if (a == nullptr) return;
    submit(impl(a), op, JitIR{code, dst, src1, src2, offset, imm});
}

void rr(Assembler* a, const char* op, JitOpcode code, AsmRegister dst, AsmRegister src) { put(a, op, code, dst, src); }
void label_op(Assembler* a, const char* op, JitOpcode code, int label) { put(a, op, code, 0, 0, 0, label); }

// A local's slot: 1..INT32_MAX bytes below RBP.
bool slot_ok(Assembler* a, const char* op, uint32_t slot) {
    if (a == nullptr || a->error) return false;
    if (slot >= 1 && slot <= static_cast<uint32_t>(INT32_MAX)) return true;
    asm_error(impl(a), op, NPK_ERR_INVALID_ARGUMENT, "slot offset %u is not in 1..%d", slot, INT32_MAX);
    return false;
}

}  // namespace

extern "C" {

void npk_asm_mov_r64_imm64(Assembler* a, AsmRegister dst, int64_t value) {
    put(a, "npk_asm_mov_r64_imm64", JIT_OP_MOV_IMM64, dst, 0, 0, 0, value);
}
void npk_asm_mov_r64_r64(Assembler* a, AsmRegister d, AsmRegister s) { rr(a, "npk_asm_mov_r64_r64", JIT_OP_MOV_RR, d, s); }
void npk_asm_add_r64_r64(Assembler* a, AsmRegister d, AsmRegister s) { rr(a, "npk_asm_add_r64_r64", JIT_OP_ADD_RR, d, s); }
void npk_asm_sub_r64_r64(Assembler* a, AsmRegister d, AsmRegister s) { rr(a, "npk_asm_sub_r64_r64", JIT_OP_SUB_RR, d, s); }
void npk_asm_imul_r64_r64(Assembler* a, AsmRegister d, AsmRegister s) {
    rr(a, "npk_asm_imul_r64_r64", JIT_OP_IMUL_RR, d, s);
}
void npk_asm_xor_r64_r64(Assembler* a, AsmRegister d, AsmRegister s) { rr(a, "npk_asm_xor_r64_r64", JIT_OP_XOR_RR, d, s); }
void npk_asm_and_r64_r64(Assembler* a, AsmRegister d, AsmRegister s) { rr(a, "npk_asm_and_r64_r64", JIT_OP_AND_RR, d, s); }
void npk_asm_or_r64_r64(Assembler* a, AsmRegister d, AsmRegister s) { rr(a, "npk_asm_or_r64_r64", JIT_OP_OR_RR, d, s); }
void npk_asm_cmp_r64_r64(Assembler* a, AsmRegister l, AsmRegister r) { rr(a, "npk_asm_cmp_r64_r64", JIT_OP_CMP_RR, l, r); }
void npk_asm_test_r64_r64(Assembler* a, AsmRegister l, AsmRegister r) {
    rr(a, "npk_asm_test_r64_r64", JIT_OP_TEST_RR, l, r);
}

void npk_asm_not_r64(Assembler* a, AsmRegister r) { put(a, "npk_asm_not_r64", JIT_OP_NOT, r); }
void npk_asm_neg_r64(Assembler* a, AsmRegister r) { put(a, "npk_asm_neg_r64", JIT_OP_NEG, r); }
void npk_asm_inc_r64(Assembler* a, AsmRegister r) { put(a, "npk_asm_inc_r64", JIT_OP_INC_R64, r); }
void npk_asm_dec_r64(Assembler* a, AsmRegister r) { put(a, "npk_asm_dec_r64", JIT_OP_DEC_R64, r); }
void npk_asm_push_r64(Assembler* a, AsmRegister r) { put(a, "npk_asm_push_r64", JIT_OP_PUSH, r); }
void npk_asm_pop_r64(Assembler* a, AsmRegister r) { put(a, "npk_asm_pop_r64", JIT_OP_POP, r); }
void npk_asm_ret(Assembler* a) { put(a, "npk_asm_ret", JIT_OP_RET, 0); }

void npk_asm_add_r64_imm32(Assembler* a, AsmRegister r, int32_t v) { put(a, "npk_asm_add_r64_imm32", JIT_OP_ADD_IMM32, r, 0, 0, v); }
void npk_asm_sub_r64_imm32(Assembler* a, AsmRegister r, int32_t v) { put(a, "npk_asm_sub_r64_imm32", JIT_OP_SUB_IMM32, r, 0, 0, v); }
void npk_asm_cmp_r64_imm32(Assembler* a, AsmRegister r, int32_t v) { put(a, "npk_asm_cmp_r64_imm32", JIT_OP_CMP_IMM32, r, 0, 0, v); }
void npk_asm_shl_r64_imm8(Assembler* a, AsmRegister r, uint8_t n) { put(a, "npk_asm_shl_r64_imm8", JIT_OP_SHL_IMM8, r, 0, 0, n); }
void npk_asm_shr_r64_imm8(Assembler* a, AsmRegister r, uint8_t n) { put(a, "npk_asm_shr_r64_imm8", JIT_OP_SHR_IMM8, r, 0, 0, n); }
void npk_asm_sar_r64_imm8(Assembler* a, AsmRegister r, uint8_t n) { put(a, "npk_asm_sar_r64_imm8", JIT_OP_SAR_IMM8, r, 0, 0, n); }

void npk_asm_jmp(Assembler* a, int l) { label_op(a, "npk_asm_jmp", JIT_OP_JMP, l); }
void npk_asm_je(Assembler* a, int l) { label_op(a, "npk_asm_je", JIT_OP_JE, l); }
void npk_asm_jne(Assembler* a, int l) { label_op(a, "npk_asm_jne", JIT_OP_JNE, l); }
void npk_asm_jl(Assembler* a, int l) { label_op(a, "npk_asm_jl", JIT_OP_JL, l); }
void npk_asm_jle(Assembler* a, int l) { label_op(a, "npk_asm_jle", JIT_OP_JLE, l); }
void npk_asm_jg(Assembler* a, int l) { label_op(a, "npk_asm_jg", JIT_OP_JG, l); }
void npk_asm_jge(Assembler* a, int l) { label_op(a, "npk_asm_jge", JIT_OP_JGE, l); }
void npk_asm_jb(Assembler* a, int l) { label_op(a, "npk_asm_jb", JIT_OP_JB, l); }
void npk_asm_jbe(Assembler* a, int l) { label_op(a, "npk_asm_jbe", JIT_OP_JBE, l); }
void npk_asm_ja(Assembler* a, int l) { label_op(a, "npk_asm_ja", JIT_OP_JA, l); }
void npk_asm_jae(Assembler* a, int l) { label_op(a, "npk_asm_jae", JIT_OP_JAE, l); }
void npk_asm_call_label(Assembler* a, int l) { label_op(a, "npk_asm_call_label", JIT_OP_CALL_LABEL, l); }

void npk_asm_mov_r64_mem(Assembler* a, AsmRegister dst, AsmRegister base, int32_t off) {
    put(a, "npk_asm_mov_r64_mem", JIT_OP_MOV_LOAD, dst, base, 0, off);
}
void npk_asm_mov_mem_r64(Assembler* a, AsmRegister base, int32_t off, AsmRegister src) {
    put(a, "npk_asm_mov_mem_r64", JIT_OP_MOV_STORE, 0, base, src, off);
}
void npk_asm_lea_r64_mem(Assembler* a, AsmRegister dst, AsmRegister base, int32_t off) {
    put(a, "npk_asm_lea_r64_mem", JIT_OP_LEA, dst, base, 0, off);
}

void npk_asm_store_local(Assembler* a, uint32_t slot, AsmRegister src) {
    if (slot_ok(a, "npk_asm_store_local", slot)) {
        put(a, "npk_asm_store_local", JIT_OP_STORE_LOCAL, 0, 0, src, static_cast<int32_t>(slot));
    }
}
void npk_asm_load_local(Assembler* a, AsmRegister dst, uint32_t slot) {
    if (slot_ok(a, "npk_asm_load_local", slot)) {
        put(a, "npk_asm_load_local", JIT_OP_LOAD_LOCAL, dst, 0, 0, static_cast<int32_t>(slot));
    }
}

void npk_asm_call_r64(Assembler* a, AsmRegister target) { put(a, "npk_asm_call_r64", JIT_OP_CALL_REG, 0, target); }
void npk_asm_call_abs(Assembler* a, void* fn) {
    if (a != nullptr && fn == nullptr) {
        asm_error(impl(a), "npk_asm_call_abs", NPK_ERR_NULL, "the function address is NULL");
        return;
    }
    put(a, "npk_asm_call_abs", JIT_OP_CALL_ABS, 0, 0, 0, 0, static_cast<int64_t>(reinterpret_cast<intptr_t>(fn)));
}

void npk_asm_movsd_xmm_xmm(Assembler* a, AsmRegister d, AsmRegister s) { rr(a, "npk_asm_movsd_xmm_xmm", JIT_OP_MOVSD_RR, d, s); }
void npk_asm_movsd_xmm_mem(Assembler* a, AsmRegister dst, AsmRegister base, int32_t off) {
    put(a, "npk_asm_movsd_xmm_mem", JIT_OP_MOVSD_LOAD, dst, base, 0, off);
}
void npk_asm_movsd_mem_xmm(Assembler* a, AsmRegister base, int32_t off, AsmRegister src) {
    put(a, "npk_asm_movsd_mem_xmm", JIT_OP_MOVSD_STORE, 0, base, src, off);
}
void npk_asm_addsd(Assembler* a, AsmRegister d, AsmRegister s) { rr(a, "npk_asm_addsd", JIT_OP_ADDSD, d, s); }
void npk_asm_subsd(Assembler* a, AsmRegister d, AsmRegister s) { rr(a, "npk_asm_subsd", JIT_OP_SUBSD, d, s); }
void npk_asm_mulsd(Assembler* a, AsmRegister d, AsmRegister s) { rr(a, "npk_asm_mulsd", JIT_OP_MULSD, d, s); }
void npk_asm_divsd(Assembler* a, AsmRegister d, AsmRegister s) { rr(a, "npk_asm_divsd", JIT_OP_DIVSD, d, s); }
void npk_asm_ucomisd(Assembler* a, AsmRegister l, AsmRegister r) { rr(a, "npk_asm_ucomisd", JIT_OP_UCOMISD, l, r); }
void npk_asm_movaps_xmm_xmm(Assembler* a, AsmRegister d, AsmRegister s) {
    rr(a, "npk_asm_movaps_xmm_xmm", JIT_OP_MOVAPS_RR, d, s);
}
void npk_asm_movaps_xmm_mem(Assembler* a, AsmRegister dst, AsmRegister base, int32_t off) {
    put(a, "npk_asm_movaps_xmm_mem", JIT_OP_MOVAPS_LOAD, dst, base, 0, off);
}
void npk_asm_movaps_mem_xmm(Assembler* a, AsmRegister base, int32_t off, AsmRegister src) {
    put(a, "npk_asm_movaps_mem_xmm", JIT_OP_MOVAPS_STORE, 0, base, src, off);
}
void npk_asm_addps(Assembler* a, AsmRegister d, AsmRegister s) { rr(a, "npk_asm_addps", JIT_OP_ADDPS, d, s); }
void npk_asm_mulps(Assembler* a, AsmRegister d, AsmRegister s) { rr(a, "npk_asm_mulps", JIT_OP_MULPS, d, s); }

void npk_asm_prologue(Assembler* a, size_t stack_size) {
    if (a != nullptr && !a->error && stack_size > static_cast<size_t>(INT32_MAX) - 4096) {
        asm_error(impl(a), "npk_asm_prologue", NPK_ERR_INVALID_ARGUMENT, "a frame of %zu bytes", stack_size);
        return;
    }
    put(a, "npk_asm_prologue", JIT_OP_PROLOGUE, 0, 0, 0, 0, static_cast<int64_t>(stack_size));
}
void npk_asm_epilogue(Assembler* a) { put(a, "npk_asm_epilogue", JIT_OP_EPILOGUE, 0); }

}  // extern "C"
