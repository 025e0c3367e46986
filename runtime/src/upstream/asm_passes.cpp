// asm_passes.cpp — what each recorded instruction reads and writes, and
// the peephole pass over the recorded program (vreg mode, at finalize).
#include "upstream/asm_impl.h"

#include <cstdlib>

namespace npk::upstream {

Roles operand_roles(int opcode) {
    constexpr Cls N = Cls::none, G = Cls::gpr, X = Cls::xmm;
    constexpr Use R = Use::read, W = Use::write, RW = Use::read_write, U = Use::none;
    switch (static_cast<JitOpcode>(opcode)) {
        case JIT_OP_MOV_IMM64: return {G, N, N, W};
        case JIT_OP_MOV_RR: return {G, G, N, W};
        case JIT_OP_ADD_RR:
        case JIT_OP_SUB_RR:
        case JIT_OP_IMUL_RR:
        case JIT_OP_XOR_RR:
        case JIT_OP_AND_RR:
        case JIT_OP_OR_RR: return {G, G, N, RW};
        case JIT_OP_NOT:
        case JIT_OP_NEG:
        case JIT_OP_ADD_IMM32:
        case JIT_OP_SUB_IMM32:
        case JIT_OP_SHL_IMM8:
        case JIT_OP_SHR_IMM8:
        case JIT_OP_SAR_IMM8:
        case JIT_OP_INC_R64:
        case JIT_OP_DEC_R64: return {G, N, N, RW};
        case JIT_OP_CMP_IMM32:
        case JIT_OP_PUSH: return {G, N, N, R};
        case JIT_OP_CMP_RR:
        case JIT_OP_TEST_RR: return {G, G, N, R};
        case JIT_OP_MOV_LOAD:
        case JIT_OP_LEA: return {G, G, N, W};
        case JIT_OP_MOV_STORE: return {N, G, G, U};
        case JIT_OP_STORE_LOCAL: return {N, N, G, U};
        case JIT_OP_LOAD_LOCAL:
        case JIT_OP_POP: return {G, N, N, W};
        case JIT_OP_CALL_REG: return {N, G, N, U};
        case JIT_OP_MOVSD_RR:  // writes the low half only: the high half is kept
        case JIT_OP_ADDSD:
        case JIT_OP_SUBSD:
        case JIT_OP_MULSD:
        case JIT_OP_DIVSD:
        case JIT_OP_ADDPS:
        case JIT_OP_MULPS: return {X, X, N, RW};
        case JIT_OP_MOVAPS_RR: return {X, X, N, W};
        case JIT_OP_UCOMISD: return {X, X, N, R};
        case JIT_OP_MOVSD_LOAD:
        case JIT_OP_MOVAPS_LOAD: return {X, G, N, W};
        case JIT_OP_MOVSD_STORE:
        case JIT_OP_MOVAPS_STORE: return {N, G, X, U};
        case JIT_OP_RET:
        case JIT_OP_JMP:
        case JIT_OP_JE:
        case JIT_OP_JNE:
        case JIT_OP_JL:
        case JIT_OP_JLE:
        case JIT_OP_JG:
        case JIT_OP_JGE:
        case JIT_OP_JB:
        case JIT_OP_JBE:
        case JIT_OP_JA:
        case JIT_OP_JAE:
        case JIT_OP_LABEL:
        case JIT_OP_CALL_LABEL:
        case JIT_OP_CALL_ABS:
        case JIT_OP_PROLOGUE:
        case JIT_OP_EPILOGUE:
        case JIT_OP_NOP: return {N, N, N, U};
    }
    if (opcode == kOpMovupsLoad) return {X, G, N, W};
    if (opcode == kOpMovupsStore) return {N, G, X, U};
    return {N, N, N, U};
}

bool is_jump(int opcode) { return opcode >= JIT_OP_JMP && opcode <= JIT_OP_JAE; }

Flags flag_effect(const JitIR& op) {
    switch (static_cast<JitOpcode>(op.opcode)) {
        case JIT_OP_ADD_RR:
        case JIT_OP_SUB_RR:
        case JIT_OP_IMUL_RR:
        case JIT_OP_XOR_RR:
        case JIT_OP_AND_RR:
        case JIT_OP_OR_RR:
        case JIT_OP_NEG:
        case JIT_OP_ADD_IMM32:
        case JIT_OP_SUB_IMM32:
        case JIT_OP_CMP_IMM32:
        case JIT_OP_CMP_RR:
        case JIT_OP_TEST_RR:
        case JIT_OP_UCOMISD:
        case JIT_OP_PROLOGUE:  // its SUB RSP
        case JIT_OP_RET:       // flags are not kept across a return or a call
        case JIT_OP_EPILOGUE:
        case JIT_OP_CALL_REG:
        case JIT_OP_CALL_LABEL:
        case JIT_OP_CALL_ABS: return Flags::writes;
        case JIT_OP_SHL_IMM8:
        case JIT_OP_SHR_IMM8:
        case JIT_OP_SAR_IMM8: return (op.offset & 63) == 0 ? Flags::keeps : Flags::writes;
        case JIT_OP_MOV_IMM64:
        case JIT_OP_MOV_RR:
        case JIT_OP_NOT:
        case JIT_OP_MOV_LOAD:
        case JIT_OP_MOV_STORE:
        case JIT_OP_LEA:
        case JIT_OP_STORE_LOCAL:
        case JIT_OP_LOAD_LOCAL:
        case JIT_OP_PUSH:
        case JIT_OP_POP:
        case JIT_OP_MOVSD_RR:
        case JIT_OP_MOVSD_LOAD:
        case JIT_OP_MOVSD_STORE:
        case JIT_OP_ADDSD:
        case JIT_OP_SUBSD:
        case JIT_OP_MULSD:
        case JIT_OP_DIVSD:
        case JIT_OP_MOVAPS_RR:
        case JIT_OP_MOVAPS_LOAD:
        case JIT_OP_MOVAPS_STORE:
        case JIT_OP_ADDPS:
        case JIT_OP_MULPS:
        case JIT_OP_NOP: return Flags::keeps;
        case JIT_OP_JMP:  // the flags may be read where it lands
        case JIT_OP_JE:
        case JIT_OP_JNE:
        case JIT_OP_JL:
        case JIT_OP_JLE:
        case JIT_OP_JG:
        case JIT_OP_JGE:
        case JIT_OP_JB:
        case JIT_OP_JBE:
        case JIT_OP_JA:
        case JIT_OP_JAE:
        case JIT_OP_LABEL:    // reached from elsewhere too
        case JIT_OP_INC_R64:  // INC and DEC keep CF
        case JIT_OP_DEC_R64: return Flags::reads;
    }
    return op.opcode == kOpMovupsLoad || op.opcode == kOpMovupsStore ? Flags::keeps : Flags::reads;
}

bool flags_dead_after(const JitIR* ops, size_t n, size_t i) {
    for (size_t j = i + 1; j < n; ++j) {
        switch (flag_effect(ops[j])) {
            case Flags::reads: return false;
            case Flags::writes: return true;
            case Flags::keeps: break;
        }
    }
    return true;  // the end of the recorded code: nothing of ours reads them
}

namespace {

// What the pass knows of each register's value, along straight-line code.
struct Known {
    bool valid[VREG_MAX];
    int64_t value[VREG_MAX];
    void clear() {
        for (bool& v : valid) v = false;
    }
};

void drop(JitIR& op, int32_t& counter, PeepholeStats& s) {
    op.opcode = JIT_OP_NOP;
    ++counter;
    ++s.total_eliminated;
}

// The next instruction that is not a NOP, or n.
size_t next_real(const JitIR* ops, size_t n, size_t i) {
    size_t j = i + 1;
    while (j < n && ops[j].opcode == JIT_OP_NOP) ++j;
    return j;
}

// Whether `op` sets `reg` without reading it (so an earlier value is dead).
bool overwrites(const JitIR& op, int32_t reg) {
    switch (op.opcode) {
        case JIT_OP_MOV_IMM64:
        case JIT_OP_LOAD_LOCAL: return op.dst == reg;
        case JIT_OP_MOV_RR:
        case JIT_OP_LEA:
        case JIT_OP_MOV_LOAD: return op.dst == reg && op.src1 != reg;
        default: return false;
    }
}

void rewrite(JitIR* ops, size_t n, size_t i, Known& k, PeepholeStats& s) {
    JitIR& op = ops[i];
    const bool dead = flags_dead_after(ops, n, i);
    switch (op.opcode) {
        case JIT_OP_MOV_RR:
        case JIT_OP_MOVSD_RR:
        case JIT_OP_MOVAPS_RR:
            if (op.dst == op.src1) drop(op, s.identity_mov_elim, s);
            break;
        case JIT_OP_MOV_IMM64: {
            const size_t j = next_real(ops, n, i);
            if (op.dst != REG_RSP && j < n && overwrites(ops[j], op.dst)) {
                drop(op, s.dead_store_elim, s);
            } else if (op.imm64 == 0 && dead) {
                op = JitIR{JIT_OP_XOR_RR, op.dst, op.dst, 0, 0, 0};
                ++s.mov_zero_to_xor;
                ++s.total_eliminated;
            }
            break;
        }
        case JIT_OP_ADD_IMM32:
        case JIT_OP_SUB_IMM32:
            if (op.offset == 0 && dead) drop(op, s.constant_folded, s);
            break;
        case JIT_OP_SHL_IMM8:
        case JIT_OP_SHR_IMM8:
        case JIT_OP_SAR_IMM8:
            if ((op.offset & 63) == 0) drop(op, s.constant_folded, s);  // a zero count changes nothing, flags included
            break;
        case JIT_OP_IMUL_RR: {
            const int64_t m = k.valid[op.src1] ? k.value[op.src1] : 0;
            if (m > 1 && (m & (m - 1)) == 0 && dead) {
                op = JitIR{JIT_OP_SHL_IMM8, op.dst, 0, 0, __builtin_ctzll(static_cast<uint64_t>(m)), 0};
                ++s.strength_reduced;
                ++s.total_eliminated;
            }
            break;
        }
        default: break;
    }
}

// After `op` (as rewritten): what is known of the registers.
void learn(const JitIR& op, Known& k) {
    if (op.opcode == JIT_OP_LABEL || op.opcode == JIT_OP_CALL_REG || op.opcode == JIT_OP_CALL_LABEL ||
        op.opcode == JIT_OP_CALL_ABS) {
        k.clear();  // a join, or a callee that changes registers
        return;
    }
    const Roles r = operand_roles(op.opcode);
    if (r.dst_use != Use::write && r.dst_use != Use::read_write) return;
    if (op.dst < 0 || op.dst >= VREG_MAX) return;
    if (op.opcode == JIT_OP_MOV_IMM64) {
        k.valid[op.dst] = true;
        k.value[op.dst] = op.imm64;
    } else if (op.opcode == JIT_OP_XOR_RR && op.dst == op.src1) {
        k.valid[op.dst] = true;
        k.value[op.dst] = 0;
    } else {
        k.valid[op.dst] = false;
    }
}

}  // namespace

void peephole(AsmImpl* a) {
    RegAllocState* ra = a->pub.regalloc;
    auto* k = static_cast<Known*>(std::calloc(1, sizeof(Known)));
    if (k == nullptr) return;  // an optimisation: without memory, none
    PeepholeStats s{};
    const auto n = static_cast<size_t>(ra->ir_count);
    for (size_t i = 0; i < n; ++i) {
        rewrite(ra->ir, n, i, *k, s);
        learn(ra->ir[i], *k);
    }
    std::free(k);
    a->peep = s;
    ra->peephole_elim = s.total_eliminated;
}

}  // namespace npk::upstream
