// asm_core.cpp — the Assembler's life, its buffer and labels, virtual
// registers, and the one door every instruction comes through (submit).
#include "upstream/asm_impl.h"

#include <npk/status.h>

#include "core/errors.h"

#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <new>

namespace npk::upstream {

int32_t asm_error(AsmImpl* a, const char* op, int32_t code, const char* fmt, ...) {
    if (a->pub.error) return -1;  // the first error sticks
    char detail[200];
    va_list ap;
    va_start(ap, fmt);
    std::vsnprintf(detail, sizeof detail, fmt, ap);
    va_end(ap);
    a->pub.error = true;
    std::snprintf(a->pub.error_msg, sizeof a->pub.error_msg, "%s: %s", op, detail);
    return fail(NPK_FACILITY_BUILDER, op, Subject::pointer(a), code, detail);
}

void asm_error_reported(AsmImpl* a, const char* op, const char* detail) {
    if (a->pub.error) return;
    a->pub.error = true;
    std::snprintf(a->pub.error_msg, sizeof a->pub.error_msg, "%s: %s", op, detail);
}

bool buffer_append(CodeBuffer* buf, const uint8_t* bytes, size_t n) {
    if (buf->size + n > buf->capacity) {
        size_t cap = buf->capacity < 16 ? 16 : buf->capacity;
        while (cap < buf->size + n) cap *= 2;
        void* p = std::realloc(buf->data, cap);
        if (p == nullptr) return false;
        buf->data = static_cast<uint8_t*>(p);
        buf->capacity = cap;
    }
    std::memcpy(buf->data + buf->size, bytes, n);
    buf->size += n;
    return true;
}

namespace {

void emit_le(CodeBuffer* buf, uint64_t v, size_t n, const char* op) {
    if (buf == nullptr) return;
    uint8_t b[8];
    for (size_t i = 0; i < n; ++i) b[i] = static_cast<uint8_t>(v >> (8 * i));
    if (!buffer_append(buf, b, n)) {
        fail(NPK_FACILITY_BUILDER, op, Subject::pointer(buf), NPK_ERR_OUT_OF_MEMORY, "the code buffer cannot grow");
    }
}

// The class a register number names, given the virtual registers made.
Cls class_of(const AsmImpl* a, int32_t r) {
    if (r >= REG_RAX && r <= REG_R15) return Cls::gpr;
    if (r >= REG_XMM0 && r <= REG_XMM15) return Cls::xmm;
    const RegAllocState* ra = a->pub.regalloc;
    if (ra == nullptr) return Cls::none;
    if (IS_VREG_GPR(r) && r < ra->next_gpr_vreg) return Cls::gpr;
    if (IS_VREG_XMM(r) && r < ra->next_xmm_vreg) return Cls::xmm;
    return Cls::none;
}

const char* class_name(Cls c) { return c == Cls::gpr ? "a 64-bit general register" : "an XMM register"; }

bool check_operand(AsmImpl* a, const char* op, const char* which, int32_t r, Cls want) {
    if (want == Cls::none) return true;
    const Cls got = class_of(a, r);
    if (got == want) return true;
    if (r >= REG_EAX && r <= REG_EDI) {
        asm_error(a, op, NPK_ERR_INVALID_ARGUMENT, "%s is register %d, a 32-bit name: this instruction takes %s",
                  which, r, class_name(want));
    } else {
        asm_error(a, op, NPK_ERR_INVALID_ARGUMENT, "%s is register %d, not %s%s", which, r, class_name(want),
                  IS_VREG(r) ? " (no such virtual register)" : "");
    }
    return false;
}

bool record(AsmImpl* a, const char* op, const JitIR& ir) {
    RegAllocState* ra = a->pub.regalloc;
    if (ra->ir_count == MAX_IR_INSNS) {
        return asm_error(a, op, NPK_ERR_INVALID_ARGUMENT, "more than %d instructions with virtual registers",
                         MAX_IR_INSNS) == 0;
    }
    if (ra->ir_count == ra->ir_capacity) {
        const int32_t cap = ra->ir_capacity == 0 ? 64 : ra->ir_capacity * 2;
        void* p = std::realloc(ra->ir, static_cast<size_t>(cap) * sizeof(JitIR));
        if (p == nullptr) return asm_error(a, op, NPK_ERR_OUT_OF_MEMORY, "no memory to record it") == 0;
        ra->ir = static_cast<JitIR*>(p);
        ra->ir_capacity = cap;
    }
    ra->ir[ra->ir_count++] = ir;
    return true;
}

bool valid_label(AsmImpl* a, const char* op, int label) {
    if (label >= 0 && static_cast<uint32_t>(label) < a->pub.label_count) return true;
    asm_error(a, op, NPK_ERR_JIT_BAD_LABEL, "label %d was never made (%u labels)", label, a->pub.label_count);
    return false;
}

bool takes_label(int opcode) { return is_jump(opcode) || opcode == JIT_OP_CALL_LABEL || opcode == JIT_OP_LABEL; }

int new_vreg(Assembler* asm_ctx, bool xmm) {
    if (asm_ctx == nullptr || asm_ctx->error) return -1;
    AsmImpl* a = impl(asm_ctx);
    const char* op = xmm ? "npk_asm_vreg_new_xmm" : "npk_asm_vreg_new_gpr";
    if (a->lowered) return asm_error(a, op, NPK_ERR_JIT_BUILDER_FAILED, "the assembler is finalized");
    if (asm_ctx->regalloc == nullptr) {
        auto* ra = static_cast<RegAllocState*>(std::calloc(1, sizeof(RegAllocState)));
        if (ra == nullptr) return asm_error(a, op, NPK_ERR_OUT_OF_MEMORY, "no memory for the allocator");
        ra->next_gpr_vreg = VREG_GPR_BASE;
        ra->next_xmm_vreg = VREG_XMM_BASE;
        asm_ctx->regalloc = ra;
    }
    RegAllocState* ra = asm_ctx->regalloc;
    int32_t& next = xmm ? ra->next_xmm_vreg : ra->next_gpr_vreg;
    const int32_t base = xmm ? VREG_XMM_BASE : VREG_GPR_BASE;
    if (next - base == MAX_VREGS) return asm_error(a, op, NPK_ERR_INVALID_ARGUMENT, "%d virtual registers already", MAX_VREGS);
    ra->has_vregs = true;
    return next++;
}

}  // namespace

void bind_at_end(AsmImpl* a, int label, const char* op) {
    AsmLabel& l = a->pub.labels[label];
    if (l.position >= 0) {
        asm_error(a, op, NPK_ERR_JIT_LABEL_BOUND, "label %d is bound already (at %d)", label, l.position);
        return;
    }
    CodeBuffer* buf = a->pub.buffer;
    if (buf->size > INT32_MAX) {
        asm_error(a, op, NPK_ERR_INVALID_ARGUMENT, "the code is larger than 2 GiB");
        return;
    }
    l.position = static_cast<int32_t>(buf->size);
    for (uint32_t i = 0; i < l.num_patches; ++i) {
        const uint32_t site = l.patch_sites[i];  // the rel32 field; the jump ends right after it
        const int64_t rel = static_cast<int64_t>(l.position) - (static_cast<int64_t>(site) + 4);
        const auto v = static_cast<uint32_t>(static_cast<int32_t>(rel));
        for (int k = 0; k < 4; ++k) buf->data[site + k] = static_cast<uint8_t>(v >> (8 * k));
    }
    l.num_patches = 0;
}

void submit(AsmImpl* a, const char* op, const JitIR& ir) {
    if (a->pub.error) return;
    if (a->lowered) {
        asm_error(a, op, NPK_ERR_JIT_BUILDER_FAILED, "the assembler is finalized: virtual-register code is encoded once");
        return;
    }
    const Roles r = operand_roles(ir.opcode);
    if (!check_operand(a, op, "the destination", ir.dst, r.dst_cls)) return;
    if (!check_operand(a, op, "the source", ir.src1, r.src1_cls)) return;
    if (!check_operand(a, op, "the stored register", ir.src2, r.src2_cls)) return;
    if (takes_label(ir.opcode) && !valid_label(a, op, ir.offset)) return;
    if (a->pub.regalloc != nullptr) {
        if (ir.opcode == JIT_OP_LABEL) {
            if (a->ir_label_bound[ir.offset] || a->pub.labels[ir.offset].position >= 0) {
                asm_error(a, op, NPK_ERR_JIT_LABEL_BOUND, "label %d is bound already", ir.offset);
                return;
            }
            a->ir_label_bound[ir.offset] = 1;
        }
        record(a, op, ir);
        return;
    }
    if (ir.opcode == JIT_OP_LABEL) {
        bind_at_end(a, ir.offset, op);
        return;
    }
    encode(a, ir, false, false);
}

}  // namespace npk::upstream

using namespace npk::upstream;

extern "C" {

CodeBuffer* npk_asm_buffer_create(size_t initial_capacity) {
    auto* buf = static_cast<CodeBuffer*>(std::calloc(1, sizeof(CodeBuffer)));
    const size_t cap = initial_capacity < 16 ? 16 : initial_capacity;
    if (buf != nullptr) buf->data = static_cast<uint8_t*>(std::malloc(cap));
    if (buf == nullptr || buf->data == nullptr) {
        std::free(buf);
        npk::fail(NPK_FACILITY_BUILDER, "npk_asm_buffer_create", npk::Subject::size(cap), NPK_ERR_OUT_OF_MEMORY);
        return nullptr;
    }
    buf->capacity = cap;
    return buf;
}

void npk_asm_buffer_destroy(CodeBuffer* buf) {
    if (buf == nullptr) return;
    std::free(buf->data);
    std::free(buf);
}

void npk_asm_emit_byte(CodeBuffer* buf, uint8_t byte) { emit_le(buf, byte, 1, "npk_asm_emit_byte"); }
void npk_asm_emit_i32(CodeBuffer* buf, int32_t value) {
    emit_le(buf, static_cast<uint32_t>(value), 4, "npk_asm_emit_i32");
}
void npk_asm_emit_i64(CodeBuffer* buf, int64_t value) {
    emit_le(buf, static_cast<uint64_t>(value), 8, "npk_asm_emit_i64");
}
size_t npk_asm_buffer_offset(const CodeBuffer* buf) { return buf != nullptr ? buf->size : 0; }

AsmLabel npk_asm_label_create(void) {
    AsmLabel l{};
    l.position = -1;
    return l;
}

bool npk_asm_label_is_bound(const AsmLabel* label) { return label != nullptr && label->position >= 0; }

Assembler* npk_asm_create(void) {
    void* mem = std::calloc(1, sizeof(AsmImpl));
    CodeBuffer* buf = npk_asm_buffer_create(256);
    if (mem == nullptr || buf == nullptr) {
        std::free(mem);
        npk_asm_buffer_destroy(buf);
        npk::fail(NPK_FACILITY_BUILDER, "npk_asm_create", npk::Subject::none(), NPK_ERR_OUT_OF_MEMORY);
        return nullptr;
    }
    auto* a = new (mem) AsmImpl;
    a->pub.buffer = buf;
    for (AsmLabel& l : a->pub.labels) l = npk_asm_label_create();
    return &a->pub;
}

void npk_asm_destroy(Assembler* asm_ctx) {
    if (asm_ctx == nullptr) return;
    AsmImpl* a = impl(asm_ctx);
    npk_asm_buffer_destroy(asm_ctx->buffer);
    if (asm_ctx->regalloc != nullptr) std::free(asm_ctx->regalloc->ir);
    std::free(asm_ctx->regalloc);
    a->~AsmImpl();
    std::free(a);
}

bool npk_asm_has_error(const Assembler* asm_ctx) { return asm_ctx == nullptr || asm_ctx->error; }

const char* npk_asm_get_error(const Assembler* asm_ctx) {
    if (asm_ctx == nullptr) return "no assembler (NULL)";
    return asm_ctx->error ? asm_ctx->error_msg : "";
}

int npk_asm_new_label(Assembler* asm_ctx) {
    if (asm_ctx == nullptr || asm_ctx->error) return -1;
    if (asm_ctx->label_count == MAX_LABELS) {
        return asm_error(impl(asm_ctx), "npk_asm_new_label", NPK_ERR_INVALID_ARGUMENT, "%d labels already", MAX_LABELS);
    }
    asm_ctx->labels[asm_ctx->label_count] = npk_asm_label_create();
    return static_cast<int>(asm_ctx->label_count++);
}

void npk_asm_bind_label(Assembler* asm_ctx, int label_id) {
    if (asm_ctx == nullptr) return;
    JitIR ir{};
    ir.opcode = JIT_OP_LABEL;
    ir.offset = label_id;
    submit(impl(asm_ctx), "npk_asm_bind_label", ir);
}

int npk_asm_vreg_new_gpr(Assembler* asm_ctx) { return new_vreg(asm_ctx, false); }
int npk_asm_vreg_new_xmm(Assembler* asm_ctx) { return new_vreg(asm_ctx, true); }

int npk_asm_vreg_count(const Assembler* asm_ctx) {
    if (asm_ctx == nullptr || asm_ctx->regalloc == nullptr) return 0;
    const RegAllocState* ra = asm_ctx->regalloc;
    return (ra->next_gpr_vreg - VREG_GPR_BASE) + (ra->next_xmm_vreg - VREG_XMM_BASE);
}

int npk_asm_spill_count(const Assembler* asm_ctx) {
    return asm_ctx != nullptr && asm_ctx->regalloc != nullptr ? asm_ctx->regalloc->spill_count : 0;
}

}  // extern "C"
