// asm_encode.cpp — one instruction with physical registers to bytes,
// through asmjit's x86::Assembler.
//
// asmjit encodes each instruction at offset 0 of its own CodeHolder and
// the bytes are appended to the Assembler's buffer, which the caller may
// also write by hand (npk_asm_emit_byte). Jumps are encoded in their
// rel32 form against a label at offset 0 and their displacement is then
// ours to fill: the label table (AsmLabel, upstream's public layout)
// patches it when the label is bound.
#include "upstream/asm_impl.h"

#include <npk/status.h>

namespace npk::upstream {
namespace {

using namespace asmjit;

x86::Gp gp(int32_t r) { return x86::gpq(static_cast<uint32_t>(r)); }
x86::Xmm xmm(int32_t r) { return x86::xmm(static_cast<uint32_t>(r - REG_XMM0)); }
x86::Mem q(int32_t base, int32_t off) { return x86::qword_ptr(gp(base), off); }
x86::Mem o(int32_t base, int32_t off) { return x86::xmmword_ptr(gp(base), off); }

bool fits8(int64_t v) { return v >= INT8_MIN && v <= INT8_MAX; }

void count(int32_t& field, InsnSelStats& s) {
    ++field;
    ++s.total_selected;
}

Error jump(x86::Assembler& e, const Label& to, int opcode) {
    e.long_();
    switch (static_cast<JitOpcode>(opcode)) {
        case JIT_OP_JMP: return e.jmp(to);
        case JIT_OP_JE: return e.je(to);
        case JIT_OP_JNE: return e.jne(to);
        case JIT_OP_JL: return e.jl(to);
        case JIT_OP_JLE: return e.jle(to);
        case JIT_OP_JG: return e.jg(to);
        case JIT_OP_JGE: return e.jge(to);
        case JIT_OP_JB: return e.jb(to);
        case JIT_OP_JBE: return e.jbe(to);
        case JIT_OP_JA: return e.ja(to);
        case JIT_OP_JAE: return e.jae(to);
        case JIT_OP_CALL_LABEL: return e.call(to);
        default: return kErrorInvalidInstruction;
    }
}

// ADD/SUB/CMP with an immediate: the rel32-sized form in direct mode, the
// shortest one with selection.
Error arith_imm(AsmImpl* a, const JitIR& op, bool select, bool flags_dead) {
    x86::Assembler& e = a->enc;
    const x86::Gp r = gp(op.dst);
    const int32_t v = op.offset;
    InsnSelStats* s = select ? &a->pub.regalloc->insn_sel : nullptr;
    if (s != nullptr && op.opcode == JIT_OP_CMP_IMM32 && v == 0) {
        count(s->cmp_zero_to_test, *s);  // same ZF, SF, CF = OF = 0, PF
        return e.test(r, r);
    }
    if (s != nullptr && v == 1 && flags_dead && op.opcode != JIT_OP_CMP_IMM32) {
        count(op.opcode == JIT_OP_ADD_IMM32 ? s->add_to_inc : s->sub_to_dec, *s);
        return op.opcode == JIT_OP_ADD_IMM32 ? e.inc(r) : e.dec(r);
    }
    if (s != nullptr && fits8(v)) {
        count(s->imm32_to_imm8, *s);
    } else {
        e.long_();
    }
    switch (op.opcode) {
        case JIT_OP_ADD_IMM32: return e.add(r, imm(v));
        case JIT_OP_SUB_IMM32: return e.sub(r, imm(v));
        default: return e.cmp(r, imm(v));
    }
}

Error mov_imm(AsmImpl* a, const JitIR& op, bool select) {
    x86::Assembler& e = a->enc;
    const int64_t v = op.imm64;
    if (select && v >= 0 && v <= static_cast<int64_t>(UINT32_MAX)) {
        count(a->pub.regalloc->insn_sel.mov_imm64_narrowed, a->pub.regalloc->insn_sel);
        return e.mov(x86::gpd(static_cast<uint32_t>(op.dst)), imm(static_cast<uint32_t>(v)));  // zero-extends
    }
    if (select && v >= INT32_MIN && v < 0) {
        count(a->pub.regalloc->insn_sel.mov_imm64_narrowed, a->pub.regalloc->insn_sel);
        e.long_();
        return e.mov(gp(op.dst), imm(v));  // REX.W C7 /0 id, sign-extended
    }
    return e.movabs(gp(op.dst), imm(v));
}

Error shift(x86::Assembler& e, const JitIR& op, bool select) {
    if (!select) e.long_();  // C1 /n ib even for a count of 1
    const Imm n(op.offset & 63);
    switch (op.opcode) {
        case JIT_OP_SHL_IMM8: return e.shl(gp(op.dst), n);
        case JIT_OP_SHR_IMM8: return e.shr(gp(op.dst), n);
        default: return e.sar(gp(op.dst), n);
    }
}

Error frame(x86::Assembler& e, const JitIR& op) {
    if (op.opcode == JIT_OP_EPILOGUE) {
        e.mov(x86::rsp, x86::rbp);
        e.pop(x86::rbp);
        return e.ret();
    }
    e.push(x86::rbp);
    Error err = e.mov(x86::rbp, x86::rsp);
    if (op.imm64 != 0) err = e.sub(x86::rsp, imm(op.imm64));
    return err;
}

Error emit(AsmImpl* a, const JitIR& op, bool select, bool flags_dead) {
    x86::Assembler& e = a->enc;
    switch (static_cast<int>(op.opcode)) {
        case JIT_OP_MOV_IMM64: return mov_imm(a, op, select);
        case JIT_OP_MOV_RR: return e.mov(gp(op.dst), gp(op.src1));
        case JIT_OP_ADD_RR: return e.add(gp(op.dst), gp(op.src1));
        case JIT_OP_SUB_RR: return e.sub(gp(op.dst), gp(op.src1));
        case JIT_OP_IMUL_RR: return e.imul(gp(op.dst), gp(op.src1));
        case JIT_OP_XOR_RR: return e.xor_(gp(op.dst), gp(op.src1));
        case JIT_OP_AND_RR: return e.and_(gp(op.dst), gp(op.src1));
        case JIT_OP_OR_RR: return e.or_(gp(op.dst), gp(op.src1));
        case JIT_OP_NOT: return e.not_(gp(op.dst));
        case JIT_OP_NEG: return e.neg(gp(op.dst));
        case JIT_OP_ADD_IMM32:
        case JIT_OP_SUB_IMM32:
        case JIT_OP_CMP_IMM32: return arith_imm(a, op, select, flags_dead);
        case JIT_OP_SHL_IMM8:
        case JIT_OP_SHR_IMM8:
        case JIT_OP_SAR_IMM8: return shift(e, op, select);
        case JIT_OP_CMP_RR: return e.cmp(gp(op.dst), gp(op.src1));
        case JIT_OP_TEST_RR: return e.test(gp(op.dst), gp(op.src1));
        case JIT_OP_INC_R64: return e.inc(gp(op.dst));
        case JIT_OP_DEC_R64: return e.dec(gp(op.dst));
        case JIT_OP_MOV_LOAD: return e.mov(gp(op.dst), q(op.src1, op.offset));
        case JIT_OP_MOV_STORE: return e.mov(q(op.src1, op.offset), gp(op.src2));
        case JIT_OP_LEA: return e.lea(gp(op.dst), q(op.src1, op.offset));
        case JIT_OP_STORE_LOCAL: return e.mov(q(REG_RBP, -op.offset), gp(op.src2));
        case JIT_OP_LOAD_LOCAL: return e.mov(gp(op.dst), q(REG_RBP, -op.offset));
        case JIT_OP_PUSH: return e.push(gp(op.dst));
        case JIT_OP_POP: return e.pop(gp(op.dst));
        case JIT_OP_RET: return e.ret();
        case JIT_OP_CALL_REG: return e.call(gp(op.src1));
        case JIT_OP_CALL_ABS:
            e.movabs(x86::r11, imm(op.imm64));
            return e.call(x86::r11);
        case JIT_OP_PROLOGUE:
        case JIT_OP_EPILOGUE: return frame(e, op);
        case JIT_OP_MOVSD_RR: return e.movsd(xmm(op.dst), xmm(op.src1));
        case JIT_OP_MOVSD_LOAD: return e.movsd(xmm(op.dst), q(op.src1, op.offset));
        case JIT_OP_MOVSD_STORE: return e.movsd(q(op.src1, op.offset), xmm(op.src2));
        case JIT_OP_ADDSD: return e.addsd(xmm(op.dst), xmm(op.src1));
        case JIT_OP_SUBSD: return e.subsd(xmm(op.dst), xmm(op.src1));
        case JIT_OP_MULSD: return e.mulsd(xmm(op.dst), xmm(op.src1));
        case JIT_OP_DIVSD: return e.divsd(xmm(op.dst), xmm(op.src1));
        case JIT_OP_UCOMISD: return e.ucomisd(xmm(op.dst), xmm(op.src1));
        case JIT_OP_MOVAPS_RR: return e.movaps(xmm(op.dst), xmm(op.src1));
        case JIT_OP_MOVAPS_LOAD: return e.movaps(xmm(op.dst), o(op.src1, op.offset));
        case JIT_OP_MOVAPS_STORE: return e.movaps(o(op.src1, op.offset), xmm(op.src2));
        case JIT_OP_ADDPS: return e.addps(xmm(op.dst), xmm(op.src1));
        case JIT_OP_MULPS: return e.mulps(xmm(op.dst), xmm(op.src1));
        case JIT_OP_NOP: return kErrorOk;
        case kOpMovupsLoad: return e.movups(xmm(op.dst), o(op.src1, op.offset));
        case kOpMovupsStore: return e.movups(o(op.src1, op.offset), xmm(op.src2));
        default: return is_jump(op.opcode) || op.opcode == JIT_OP_CALL_LABEL ? jump(e, a->at_zero, op.opcode)
                                                                            : kErrorInvalidInstruction;
    }
}

bool ready(AsmImpl* a) {
    if (a->encoder_ready) return true;
    if (a->code.init(Environment(Arch::kX64)) != kErrorOk || a->code.attach(&a->enc) != kErrorOk) return false;
    a->at_zero = a->enc.newLabel();
    if (a->enc.bind(a->at_zero) != kErrorOk) return false;
    a->encoder_ready = true;
    return true;
}

// The rel32 field just appended at `site` goes to `label`: now, or when
// the label is bound.
bool link(AsmImpl* a, int label, size_t site) {
    AsmLabel& l = a->pub.labels[label];
    ::CodeBuffer* buf = a->pub.buffer;
    if (l.position >= 0) {
        const auto v = static_cast<uint32_t>(static_cast<int32_t>(static_cast<int64_t>(l.position) -
                                                                  static_cast<int64_t>(site + 4)));
        for (int k = 0; k < 4; ++k) buf->data[site + k] = static_cast<uint8_t>(v >> (8 * k));
        return true;
    }
    if (l.num_patches == MAX_PATCH_SITES) {
        return asm_error(a, "npk_asm_jmp", NPK_ERR_INVALID_ARGUMENT,
                         "label %d: more than %d jumps wait for it", label, MAX_PATCH_SITES) == 0;
    }
    for (int k = 0; k < 4; ++k) buf->data[site + k] = 0;  // stays 0 until bound
    l.patch_sites[l.num_patches++] = static_cast<uint32_t>(site);
    return true;
}

}  // namespace

bool encode(AsmImpl* a, const JitIR& op, bool select, bool flags_dead) {
    if (a->pub.error) return false;
    if (op.opcode == JIT_OP_LABEL) {
        bind_at_end(a, op.offset, "npk_asm_bind_label");
        return !a->pub.error;
    }
    if (!ready(a)) return asm_error(a, "npk_asm", NPK_ERR_OUT_OF_MEMORY, "asmjit could not start") == 0;
    a->enc.setOffset(0);
    const Error err = emit(a, op, select, flags_dead);
    if (err != kErrorOk) {
        return asm_error(a, "npk_asm", NPK_ERR_JIT_CODEGEN, "asmjit refused instruction %d: %s", op.opcode,
                         DebugUtils::errorAsString(err)) == 0;
    }
    const size_t n = a->enc.offset();
    ::CodeBuffer* buf = a->pub.buffer;
    if (buf->size + n > static_cast<size_t>(INT32_MAX)) {
        return asm_error(a, "npk_asm", NPK_ERR_INVALID_ARGUMENT, "the code is larger than 2 GiB") == 0;
    }
    if (!buffer_append(buf, a->code.textSection()->buffer().data(), n)) {
        return asm_error(a, "npk_asm", NPK_ERR_OUT_OF_MEMORY, "the code buffer cannot grow") == 0;
    }
    if (is_jump(op.opcode) || op.opcode == JIT_OP_CALL_LABEL) return link(a, op.offset, buf->size - 4);
    return true;
}

}  // namespace npk::upstream
