// The assembler of upstream's runtime/assembler.h, host-independent half:
// direct-mode encodings (hex beside each call), code buffers, labels and
// their patching, the sticky first error, virtual-register bookkeeping,
// and finalize's refusals. Encoding works on every host; finalize needs
// x86-64 and says so elsewhere.
#include "runtime/assembler.h"

#include <npk/status.h>

#include "skip.h"
#include "support.h"

#include <cstring>
#include <functional>
#include <string>

namespace {

std::string hex(const CodeBuffer* b) {
    std::string s;
    char t[4];
    for (size_t i = 0; i < b->size; ++i) {
        std::snprintf(t, sizeof t, i ? " %02x" : "%02x", b->data[i]);
        s += t;
    }
    return s;
}

struct Row {
    const char* bytes;
    const char* text;
    std::function<void(Assembler*)> emit;
};

// Direct mode: exactly the documented encodings.
const Row kRows[] = {
    {"48 b8 2a 00 00 00 00 00 00 00", "mov rax, 42 (movabs)", [](Assembler* a) { npk_asm_mov_r64_imm64(a, REG_RAX, 42); }},
    {"49 bc ff ff ff ff ff ff ff ff", "mov r12, -1 (movabs)", [](Assembler* a) { npk_asm_mov_r64_imm64(a, REG_R12, -1); }},
    {"48 89 d8", "mov rax, rbx", [](Assembler* a) { npk_asm_mov_r64_r64(a, REG_RAX, REG_RBX); }},
    {"4d 89 c7", "mov r15, r8", [](Assembler* a) { npk_asm_mov_r64_r64(a, REG_R15, REG_R8); }},
    {"48 01 d8", "add rax, rbx", [](Assembler* a) { npk_asm_add_r64_r64(a, REG_RAX, REG_RBX); }},
    {"48 29 d8", "sub rax, rbx", [](Assembler* a) { npk_asm_sub_r64_r64(a, REG_RAX, REG_RBX); }},
    {"48 0f af c6", "imul rax, rsi", [](Assembler* a) { npk_asm_imul_r64_r64(a, REG_RAX, REG_RSI); }},
    {"48 31 c0", "xor rax, rax", [](Assembler* a) { npk_asm_xor_r64_r64(a, REG_RAX, REG_RAX); }},
    {"48 21 c8", "and rax, rcx", [](Assembler* a) { npk_asm_and_r64_r64(a, REG_RAX, REG_RCX); }},
    {"48 09 c8", "or rax, rcx", [](Assembler* a) { npk_asm_or_r64_r64(a, REG_RAX, REG_RCX); }},
    {"48 f7 d0", "not rax", [](Assembler* a) { npk_asm_not_r64(a, REG_RAX); }},
    {"48 f7 d8", "neg rax", [](Assembler* a) { npk_asm_neg_r64(a, REG_RAX); }},
    {"48 81 c0 2a 00 00 00", "add rax, 42 (imm32)", [](Assembler* a) { npk_asm_add_r64_imm32(a, REG_RAX, 42); }},
    {"48 81 e8 01 00 00 00", "sub rax, 1 (imm32)", [](Assembler* a) { npk_asm_sub_r64_imm32(a, REG_RAX, 1); }},
    {"48 81 ff 00 00 00 00", "cmp rdi, 0 (imm32)", [](Assembler* a) { npk_asm_cmp_r64_imm32(a, REG_RDI, 0); }},
    {"48 c1 e0 01", "shl rax, 1 (C1 /4 ib)", [](Assembler* a) { npk_asm_shl_r64_imm8(a, REG_RAX, 1); }},
    {"48 c1 e8 04", "shr rax, 4", [](Assembler* a) { npk_asm_shr_r64_imm8(a, REG_RAX, 4); }},
    {"48 c1 f8 3f", "sar rax, 63", [](Assembler* a) { npk_asm_sar_r64_imm8(a, REG_RAX, 63); }},
    {"48 39 f7", "cmp rdi, rsi", [](Assembler* a) { npk_asm_cmp_r64_r64(a, REG_RDI, REG_RSI); }},
    {"48 85 c0", "test rax, rax", [](Assembler* a) { npk_asm_test_r64_r64(a, REG_RAX, REG_RAX); }},
    {"48 ff c0", "inc rax", [](Assembler* a) { npk_asm_inc_r64(a, REG_RAX); }},
    {"49 ff c9", "dec r9", [](Assembler* a) { npk_asm_dec_r64(a, REG_R9); }},
    {"c3", "ret", [](Assembler* a) { npk_asm_ret(a); }},
    {"55 41 54", "push rbp; push r12", [](Assembler* a) { npk_asm_push_r64(a, REG_RBP); npk_asm_push_r64(a, REG_R12); }},
    {"5d 41 5c", "pop rbp; pop r12", [](Assembler* a) { npk_asm_pop_r64(a, REG_RBP); npk_asm_pop_r64(a, REG_R12); }},
    {"48 8b 47 08", "mov rax, [rdi+8]", [](Assembler* a) { npk_asm_mov_r64_mem(a, REG_RAX, REG_RDI, 8); }},
    {"49 8b 04 24", "mov rax, [r12] (SIB)", [](Assembler* a) { npk_asm_mov_r64_mem(a, REG_RAX, REG_R12, 0); }},
    {"49 89 45 00", "mov [r13], rax (disp8 0)", [](Assembler* a) { npk_asm_mov_mem_r64(a, REG_R13, 0, REG_RAX); }},
    {"48 89 8d 00 ff ff ff", "mov [rbp-256], rcx (disp32)", [](Assembler* a) { npk_asm_mov_mem_r64(a, REG_RBP, -256, REG_RCX); }},
    {"48 8d 47 0a", "lea rax, [rdi+10]", [](Assembler* a) { npk_asm_lea_r64_mem(a, REG_RAX, REG_RDI, 10); }},
    {"48 89 7d f8", "mov [rbp-8], rdi (store_local 8)", [](Assembler* a) { npk_asm_store_local(a, 8, REG_RDI); }},
    {"48 8b 45 f0", "mov rax, [rbp-16] (load_local 16)", [](Assembler* a) { npk_asm_load_local(a, REG_RAX, 16); }},
    {"41 ff d3", "call r11", [](Assembler* a) { npk_asm_call_r64(a, REG_R11); }},
    {"49 bb 88 77 66 55 44 33 22 11 41 ff d3", "call_abs: movabs r11, addr; call r11",
     [](Assembler* a) { npk_asm_call_abs(a, reinterpret_cast<void*>(0x1122334455667788ULL)); }},
    {"f2 0f 10 c8", "movsd xmm1, xmm0", [](Assembler* a) { npk_asm_movsd_xmm_xmm(a, REG_XMM1, REG_XMM0); }},
    {"f2 0f 10 4d f8", "movsd xmm1, [rbp-8]", [](Assembler* a) { npk_asm_movsd_xmm_mem(a, REG_XMM1, REG_RBP, -8); }},
    {"f2 44 0f 11 7f 10", "movsd [rdi+16], xmm15", [](Assembler* a) { npk_asm_movsd_mem_xmm(a, REG_RDI, 16, REG_XMM15); }},
    {"f2 0f 58 c1", "addsd xmm0, xmm1", [](Assembler* a) { npk_asm_addsd(a, REG_XMM0, REG_XMM1); }},
    {"f2 0f 5c c1", "subsd xmm0, xmm1", [](Assembler* a) { npk_asm_subsd(a, REG_XMM0, REG_XMM1); }},
    {"f2 0f 59 c1", "mulsd xmm0, xmm1", [](Assembler* a) { npk_asm_mulsd(a, REG_XMM0, REG_XMM1); }},
    {"f2 0f 5e c1", "divsd xmm0, xmm1", [](Assembler* a) { npk_asm_divsd(a, REG_XMM0, REG_XMM1); }},
    {"66 0f 2e c1", "ucomisd xmm0, xmm1", [](Assembler* a) { npk_asm_ucomisd(a, REG_XMM0, REG_XMM1); }},
    {"0f 28 c1", "movaps xmm0, xmm1", [](Assembler* a) { npk_asm_movaps_xmm_xmm(a, REG_XMM0, REG_XMM1); }},
    {"0f 28 45 e0", "movaps xmm0, [rbp-32]", [](Assembler* a) { npk_asm_movaps_xmm_mem(a, REG_XMM0, REG_RBP, -32); }},
    {"0f 29 45 e0", "movaps [rbp-32], xmm0", [](Assembler* a) { npk_asm_movaps_mem_xmm(a, REG_RBP, -32, REG_XMM0); }},
    {"0f 58 c0", "addps xmm0, xmm0", [](Assembler* a) { npk_asm_addps(a, REG_XMM0, REG_XMM0); }},
    {"0f 59 c1", "mulps xmm0, xmm1", [](Assembler* a) { npk_asm_mulps(a, REG_XMM0, REG_XMM1); }},
    {"55 48 89 e5 48 83 ec 10", "prologue 16", [](Assembler* a) { npk_asm_prologue(a, 16); }},
    {"55 48 89 e5", "prologue 0", [](Assembler* a) { npk_asm_prologue(a, 0); }},
    {"48 89 ec 5d c3", "epilogue", [](Assembler* a) { npk_asm_epilogue(a); }},
};

}  // namespace

TEST_CASE("direct mode encodes each instruction as documented", "[upstream][asm][encode]") {
    for (const Row& r : kRows) {
        INFO(r.text);
        Assembler* a = npk_asm_create();
        REQUIRE(a != nullptr);
        r.emit(a);
        CHECK_FALSE(npk_asm_has_error(a));
        CHECK(hex(a->buffer) == r.bytes);
        npk_asm_destroy(a);
    }
}

TEST_CASE("code buffers grow and write little-endian", "[upstream][asm][buffer]") {
    CodeBuffer* b = npk_asm_buffer_create(0);
    REQUIRE(b != nullptr);
    CHECK(b->capacity >= 16);
    CHECK(npk_asm_buffer_offset(b) == 0);
    npk_asm_emit_byte(b, 0x90);
    npk_asm_emit_i32(b, -2);
    npk_asm_emit_i64(b, 0x0102030405060708LL);
    CHECK(hex(b) == "90 fe ff ff ff 08 07 06 05 04 03 02 01");
    for (int i = 0; i < 1000; ++i) npk_asm_emit_byte(b, static_cast<uint8_t>(i));
    CHECK(npk_asm_buffer_offset(b) == 1013);
    CHECK(b->capacity >= 1013);
    CHECK(b->data[1012] == static_cast<uint8_t>(999));
    npk_asm_buffer_destroy(b);
    npk_asm_buffer_destroy(nullptr);
    npk_asm_emit_byte(nullptr, 1);  // ignored
    CHECK(npk_asm_buffer_offset(nullptr) == 0);
}

TEST_CASE("labels: backward jumps resolve at once, forward ones when bound", "[upstream][asm][label]") {
    AsmLabel fresh = npk_asm_label_create();
    CHECK_FALSE(npk_asm_label_is_bound(&fresh));
    CHECK(fresh.position == -1);
    CHECK_FALSE(npk_asm_label_is_bound(nullptr));

    Assembler* a = npk_asm_create();
    const int top = npk_asm_new_label(a);
    const int out = npk_asm_new_label(a);
    CHECK(top == 0);
    CHECK(out == 1);
    CHECK(a->label_count == 2);
    npk_asm_bind_label(a, top);
    CHECK(a->labels[top].position == 0);
    npk_asm_jne(a, out);  // forward: zero until bound
    CHECK(hex(a->buffer) == "0f 85 00 00 00 00");
    CHECK(a->labels[out].num_patches == 1);
    npk_asm_jmp(a, top);  // backward: -11 from the end of the jump
    npk_asm_call_label(a, out);
    npk_asm_bind_label(a, out);
    CHECK(a->labels[out].num_patches == 0);
    CHECK(hex(a->buffer) == "0f 85 0a 00 00 00 e9 f5 ff ff ff e8 00 00 00 00");
    CHECK_FALSE(npk_asm_has_error(a));
    npk_asm_destroy(a);
}

TEST_CASE("every conditional jump has its opcode", "[upstream][asm][label]") {
    const struct {
        void (*emit)(Assembler*, int);
        uint8_t op;
    } jumps[] = {{npk_asm_je, 0x84},  {npk_asm_jne, 0x85}, {npk_asm_jl, 0x8C}, {npk_asm_jle, 0x8E},
                 {npk_asm_jg, 0x8F},  {npk_asm_jge, 0x8D}, {npk_asm_jb, 0x82}, {npk_asm_jbe, 0x86},
                 {npk_asm_ja, 0x87},  {npk_asm_jae, 0x83}};
    for (const auto& j : jumps) {
        Assembler* a = npk_asm_create();
        const int l = npk_asm_new_label(a);
        npk_asm_bind_label(a, l);
        j.emit(a, l);
        REQUIRE(a->buffer->size == 6);
        CHECK(a->buffer->data[0] == 0x0F);
        CHECK(a->buffer->data[1] == j.op);
        CHECK(a->buffer->data[2] == 0xFA);  // -6
        npk_asm_destroy(a);
    }
}

TEST_CASE("misuse is the first error, and it sticks", "[upstream][asm][rejection]") {
    npk::test::StderrCapture cap;
    Assembler* a = npk_asm_create();
    CHECK(std::string(npk_asm_get_error(a)).empty());
    npk_asm_mov_r64_r64(a, REG_EAX, REG_RBX);  // a 32-bit name
    CHECK(npk_asm_has_error(a));
    CHECK(std::string(npk_asm_get_error(a)).find("32-bit") != std::string::npos);
    CHECK(npk_last_error() == NPK_ERR_INVALID_ARGUMENT);
    npk_asm_ret(a);  // ignored after the error
    CHECK(a->buffer->size == 0);
    CHECK(npk_asm_new_label(a) == -1);
    CHECK(npk_asm_vreg_new_gpr(a) == -1);
    WildXGuard g = npk_asm_finalize(a);
    CHECK(g.ptr == nullptr);
    CHECK(npk_last_error() == NPK_ERR_JIT_BUILDER_FAILED);
    npk_asm_destroy(a);
    CHECK(npk::test::count_lines(cap.text()) == 2);
    CHECK(npk_asm_has_error(nullptr));
    CHECK(std::string(npk_asm_get_error(nullptr)).find("NULL") != std::string::npos);
}

TEST_CASE("each kind of misuse is refused with its reason", "[upstream][asm][rejection]") {
    const struct {
        const char* what;
        std::function<void(Assembler*)> misuse;
        int32_t code;
    } cases[] = {
        {"an XMM register where a GPR goes", [](Assembler* a) { npk_asm_add_r64_r64(a, REG_RAX, REG_XMM0); },
         NPK_ERR_INVALID_ARGUMENT},
        {"a GPR where an XMM register goes", [](Assembler* a) { npk_asm_addsd(a, REG_XMM0, REG_RAX); },
         NPK_ERR_INVALID_ARGUMENT},
        {"a register number of nothing", [](Assembler* a) { npk_asm_neg_r64(a, static_cast<AsmRegister>(20)); },
         NPK_ERR_INVALID_ARGUMENT},
        {"a virtual register never made", [](Assembler* a) { npk_asm_neg_r64(a, static_cast<AsmRegister>(VREG_GPR_BASE)); },
         NPK_ERR_INVALID_ARGUMENT},
        {"a label never made", [](Assembler* a) { npk_asm_jmp(a, 3); }, NPK_ERR_JIT_BAD_LABEL},
        {"a label bound twice",
         [](Assembler* a) {
             const int l = npk_asm_new_label(a);
             npk_asm_bind_label(a, l);
             npk_asm_bind_label(a, l);
         },
         NPK_ERR_JIT_LABEL_BOUND},
        {"a local slot of 0", [](Assembler* a) { npk_asm_store_local(a, 0, REG_RAX); }, NPK_ERR_INVALID_ARGUMENT},
        {"a local slot past 2 GiB", [](Assembler* a) { npk_asm_load_local(a, REG_RAX, 0x80000000u); },
         NPK_ERR_INVALID_ARGUMENT},
        {"a NULL call target", [](Assembler* a) { npk_asm_call_abs(a, nullptr); }, NPK_ERR_NULL},
        {"a frame past 2 GiB", [](Assembler* a) { npk_asm_prologue(a, SIZE_MAX); }, NPK_ERR_INVALID_ARGUMENT},
        {"more than 64 jumps to one unbound label",
         [](Assembler* a) {
             const int l = npk_asm_new_label(a);
             for (int i = 0; i <= MAX_PATCH_SITES; ++i) npk_asm_jmp(a, l);
         },
         NPK_ERR_INVALID_ARGUMENT},
        {"more than 128 labels",
         [](Assembler* a) {
             for (int i = 0; i <= MAX_LABELS; ++i) npk_asm_new_label(a);
         },
         NPK_ERR_INVALID_ARGUMENT},
        {"more than 256 virtual GPRs",
         [](Assembler* a) {
             for (int i = 0; i <= MAX_VREGS; ++i) npk_asm_vreg_new_gpr(a);
         },
         NPK_ERR_INVALID_ARGUMENT},
    };
    for (const auto& c : cases) {
        INFO(c.what);
        npk::test::StderrCapture cap;
        Assembler* a = npk_asm_create();
        c.misuse(a);
        CHECK(npk_asm_has_error(a));
        CHECK(npk_last_error() == c.code);
        CHECK(npk::test::count_lines(cap.text()) == 1);
        npk_asm_destroy(a);
    }
}

TEST_CASE("virtual registers are numbered per class and counted", "[upstream][asm][vreg]") {
    Assembler* a = npk_asm_create();
    CHECK(a->regalloc == nullptr);
    CHECK(npk_asm_vreg_count(a) == 0);
    CHECK(npk_asm_vreg_new_gpr(a) == VREG_GPR_BASE);
    CHECK(npk_asm_vreg_new_xmm(a) == VREG_XMM_BASE);
    CHECK(npk_asm_vreg_new_gpr(a) == VREG_GPR_BASE + 1);
    CHECK(npk_asm_vreg_count(a) == 3);
    REQUIRE(a->regalloc != nullptr);
    CHECK(a->regalloc->has_vregs);
    // From now on instructions are recorded, not encoded.
    npk_asm_mov_r64_imm64(a, static_cast<AsmRegister>(VREG_GPR_BASE), 5);
    npk_asm_ret(a);
    CHECK(a->buffer->size == 0);
    REQUIRE(a->regalloc->ir_count == 2);
    CHECK(a->regalloc->ir[0].opcode == JIT_OP_MOV_IMM64);
    CHECK(a->regalloc->ir[0].imm64 == 5);
    CHECK(npk_asm_spill_count(a) == 0);
    const PeepholeStats ps = npk_asm_peephole_stats(a);  // before finalize: all zero
    CHECK(ps.total_eliminated == 0);
    CHECK(npk_asm_insn_sel_stats(a).total_selected == 0);
    npk_asm_destroy(a);
    CHECK(npk_asm_vreg_count(nullptr) == 0);
    CHECK(npk_asm_spill_count(nullptr) == 0);
}

TEST_CASE("finalize refuses an unbound label, no code, and a host that is not x86-64", "[upstream][asm][rejection]") {
    npk::test::StderrCapture cap;
    const bool x86 = npk_test_host_is_x86_64();
    CHECK(npk_asm_arch_supported(ASM_ARCH_X86_64) == x86);
    CHECK_FALSE(npk_asm_arch_supported(ASM_ARCH_AARCH64));
    CHECK(npk_asm_get_arch() == ASM_ARCH_X86_64);

    Assembler* a = npk_asm_create();
    const int l = npk_asm_new_label(a);
    npk_asm_jmp(a, l);
    WildXGuard g = npk_asm_finalize(a);
    CHECK(g.ptr == nullptr);
    CHECK(g.state == WILDX_STATE_UNINITIALIZED);
    CHECK(npk_last_error() == (x86 ? NPK_ERR_JIT_LABEL_UNBOUND : NPK_ERR_UNSUPPORTED_HOST));
    CHECK(npk_asm_has_error(a));
    npk_asm_destroy(a);

    a = npk_asm_create();
    g = npk_asm_finalize(a);
    CHECK(g.ptr == nullptr);
    CHECK(npk_last_error() == (x86 ? NPK_ERR_ZERO_SIZE : NPK_ERR_UNSUPPORTED_HOST));
    npk_asm_destroy(a);

    g = npk_asm_finalize(nullptr);
    CHECK(g.ptr == nullptr);
    CHECK(npk_last_error() == NPK_ERR_NULL);
}

TEST_CASE("npk_asm_set_signature checks the types", "[upstream][asm][rejection]") {
    npk::test::StderrCapture cap;
    const int32_t i64 = 2, bad = 9;
    Assembler* a = npk_asm_create();
    CHECK(npk_asm_set_signature(a, 2, 1, &i64) == 0);
    CHECK(npk_asm_set_signature(a, 7, 0, nullptr) == -1);
    CHECK(npk_last_error() == NPK_ERR_JIT_BAD_TYPE);
    npk_asm_destroy(a);
    a = npk_asm_create();
    CHECK(npk_asm_set_signature(a, 2, 1, &bad) == -1);
    npk_asm_destroy(a);
    a = npk_asm_create();
    CHECK(npk_asm_set_signature(a, 2, 9, &i64) == -1);
    CHECK(npk_last_error() == NPK_ERR_JIT_TOO_MANY_PARAMS);
    npk_asm_destroy(a);
    a = npk_asm_create();
    CHECK(npk_asm_set_signature(a, 2, 1, nullptr) == -1);
    CHECK(npk_last_error() == NPK_ERR_NULL);
    npk_asm_destroy(a);
    CHECK(npk_asm_set_signature(nullptr, 2, 0, nullptr) == -1);
}
