// The assembler of upstream's runtime/assembler.h, running what it made
// (x86-64 only: elsewhere each test exits 77). The register allocator is
// checked against a reference interpreter on random programs, with and
// without spills; the peephole and selection statistics against programs
// whose rewrites are known; calls, frames, signatures and the tools.
#include "runtime/assembler.h"

#include <npk/jitbuild.h>
#include <npk/status.h>

#include "core/test_seams.h"
#include "skip.h"
#include "support.h"

#include <cmath>
#include <cstring>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <unistd.h>
#include <vector>

namespace {

void require_x86() {
    if (!npk_test_host_is_x86_64()) npk_test_skip("the assembler's code is x86-64");
}

AsmRegister V(int v) { return static_cast<AsmRegister>(v); }

int64_t run0(Assembler* a) {
    WildXGuard g = npk_asm_finalize(a);
    REQUIRE(g.ptr != nullptr);
    const int64_t r = npk_asm_execute(&g);
    npk_free_exec(&g);
    return r;
}

// --- a reference for random straight-line programs ------------------------
enum class Op { MovImm, MovRR, Add, Sub, Imul, Xor, And, Or, Not, Neg, AddImm, SubImm, Shl, Shr, Sar, Cmp0 };
struct Ins {
    Op op;
    int d, s;
    int64_t imm;
};

void apply(std::vector<uint64_t>& r, const Ins& i) {
    uint64_t& d = r[static_cast<size_t>(i.d)];
    const uint64_t s = r[static_cast<size_t>(i.s)];
    switch (i.op) {
        case Op::MovImm: d = static_cast<uint64_t>(i.imm); break;
        case Op::MovRR: d = s; break;
        case Op::Add: d += s; break;
        case Op::Sub: d -= s; break;
        case Op::Imul: d *= s; break;
        case Op::Xor: d ^= s; break;
        case Op::And: d &= s; break;
        case Op::Or: d |= s; break;
        case Op::Not: d = ~d; break;
        case Op::Neg: d = 0 - d; break;
        case Op::AddImm: d += static_cast<uint64_t>(static_cast<int64_t>(static_cast<int32_t>(i.imm))); break;
        case Op::SubImm: d -= static_cast<uint64_t>(static_cast<int64_t>(static_cast<int32_t>(i.imm))); break;
        case Op::Shl: d <<= (i.imm & 63); break;
        case Op::Shr: d >>= (i.imm & 63); break;
        case Op::Sar: d = static_cast<uint64_t>(static_cast<int64_t>(d) >> (i.imm & 63)); break;
        case Op::Cmp0: break;
    }
}

void emit(Assembler* a, const std::vector<int>& v, const Ins& i) {
    const AsmRegister d = V(v[static_cast<size_t>(i.d)]), s = V(v[static_cast<size_t>(i.s)]);
    const auto imm32 = static_cast<int32_t>(i.imm);
    switch (i.op) {
        case Op::MovImm: npk_asm_mov_r64_imm64(a, d, i.imm); break;
        case Op::MovRR: npk_asm_mov_r64_r64(a, d, s); break;
        case Op::Add: npk_asm_add_r64_r64(a, d, s); break;
        case Op::Sub: npk_asm_sub_r64_r64(a, d, s); break;
        case Op::Imul: npk_asm_imul_r64_r64(a, d, s); break;
        case Op::Xor: npk_asm_xor_r64_r64(a, d, s); break;
        case Op::And: npk_asm_and_r64_r64(a, d, s); break;
        case Op::Or: npk_asm_or_r64_r64(a, d, s); break;
        case Op::Not: npk_asm_not_r64(a, d); break;
        case Op::Neg: npk_asm_neg_r64(a, d); break;
        case Op::AddImm: npk_asm_add_r64_imm32(a, d, imm32); break;
        case Op::SubImm: npk_asm_sub_r64_imm32(a, d, imm32); break;
        case Op::Shl: npk_asm_shl_r64_imm8(a, d, static_cast<uint8_t>(i.imm)); break;
        case Op::Shr: npk_asm_shr_r64_imm8(a, d, static_cast<uint8_t>(i.imm)); break;
        case Op::Sar: npk_asm_sar_r64_imm8(a, d, static_cast<uint8_t>(i.imm)); break;
        case Op::Cmp0: npk_asm_cmp_r64_imm32(a, d, 0); break;
    }
}

int64_t pick_imm(std::mt19937_64& rng) {
    switch (rng() % 6) {
        case 0: return 0;
        case 1: return 1;
        case 2: return static_cast<int64_t>(rng() % 256) - 128;
        case 3: return static_cast<int64_t>(rng() % 0x100000000ULL);
        case 4: return -static_cast<int64_t>(rng() % 0x80000000ULL);
        default: return static_cast<int64_t>(rng());
    }
}

}  // namespace

TEST_CASE("random straight-line programs agree with the reference, spilled or not", "[upstream][asm][regalloc]") {
    require_x86();
    std::mt19937_64 rng(0x5EED0017);
    int spilled_programs = 0;
    for (int prog = 0; prog < 300; ++prog) {
        const int nv = 2 + static_cast<int>(rng() % 24);  // up to 25: more than the registers
        Assembler* a = npk_asm_create();
        std::vector<int> v;
        for (int k = 0; k < nv; ++k) v.push_back(npk_asm_vreg_new_gpr(a));
        std::vector<uint64_t> ref(static_cast<size_t>(nv), 0);
        std::vector<Ins> code;
        for (int k = 0; k < nv; ++k) code.push_back({Op::MovImm, k, k, pick_imm(rng)});  // all live at once
        const int n = 10 + static_cast<int>(rng() % 60);
        for (int k = 0; k < n; ++k) {
            const auto op = static_cast<Op>(rng() % 16);
            code.push_back({op, static_cast<int>(rng() % static_cast<uint64_t>(nv)),
                            static_cast<int>(rng() % static_cast<uint64_t>(nv)), pick_imm(rng)});
        }
        for (const Ins& i : code) {
            apply(ref, i);
            emit(a, v, i);
        }
        uint64_t expect = 0;
        npk_asm_mov_r64_imm64(a, REG_RAX, 0);
        for (int k = 0; k < nv; ++k) {
            npk_asm_xor_r64_r64(a, REG_RAX, V(v[static_cast<size_t>(k)]));
            expect ^= ref[static_cast<size_t>(k)] * 1;
        }
        npk_asm_ret(a);
        INFO("program " << prog << " with " << nv << " virtual registers");
        CHECK(static_cast<uint64_t>(run0(a)) == expect);
        spilled_programs += npk_asm_spill_count(a) > 0 ? 1 : 0;
        npk_asm_destroy(a);
    }
    CHECK(spilled_programs > 50);  // the allocator's slow path ran, often
}

TEST_CASE("a spilled value lives in a slot of the frame the allocator adds", "[upstream][asm][regalloc]") {
    require_x86();
    Assembler* a = npk_asm_create();
    int v[20];
    for (int& x : v) x = npk_asm_vreg_new_gpr(a);
    for (int k = 0; k < 20; ++k) npk_asm_mov_r64_imm64(a, V(v[k]), 1000 + k);
    for (int k = 1; k < 20; ++k) npk_asm_add_r64_r64(a, V(v[0]), V(v[k]));
    npk_asm_mov_r64_r64(a, REG_RAX, V(v[0]));
    npk_asm_ret(a);
    CHECK(run0(a) == 20 * 1000 + 190);
    const RegAllocState* ra = a->regalloc;
    CHECK(npk_asm_spill_count(a) > 0);
    CHECK(ra->auto_frame);
    CHECK(ra->extra_stack_size >= 16 * ra->spill_count);
    CHECK(ra->range_count == 20);
    int in_slots = 0;
    for (int k = 0; k < ra->range_count; ++k) {
        const LiveRange& r = ra->ranges[k];
        if (r.phys < 0) {
            ++in_slots;
            CHECK(r.spill_slot > 0);
        } else {
            CHECK(r.spill_slot == -1);
            CHECK(r.phys != REG_RSP);
            CHECK(r.phys != REG_RBP);
            CHECK(r.phys != REG_RAX);  // the program names RAX itself
        }
    }
    CHECK(in_slots == ra->spill_count);
    npk_asm_destroy(a);
}

namespace {
int64_t g_calls = 0;
extern "C" int64_t bump_and_clobber(void) {
    // A C function is free to change every caller-saved register.
    ++g_calls;
    return 5;
}
}  // namespace

TEST_CASE("values live across a call survive it, in callee-saved registers or slots", "[upstream][asm][regalloc]") {
    require_x86();
    Assembler* a = npk_asm_create();
    int v[8];
    for (int& x : v) x = npk_asm_vreg_new_gpr(a);
    for (int k = 0; k < 8; ++k) npk_asm_mov_r64_imm64(a, V(v[k]), k + 1);
    npk_asm_call_abs(a, reinterpret_cast<void*>(&bump_and_clobber));
    npk_asm_mov_r64_r64(a, REG_RCX, REG_RAX);  // 5, the callee's result
    for (int k = 0; k < 8; ++k) npk_asm_add_r64_r64(a, REG_RCX, V(v[k]));
    npk_asm_mov_r64_r64(a, REG_RAX, REG_RCX);
    npk_asm_ret(a);
    g_calls = 0;
    CHECK(run0(a) == 5 + 36);
    CHECK(g_calls == 1);
    const RegAllocState* ra = a->regalloc;
    CHECK(ra->auto_frame);  // callee-saved registers or slots: a frame either way
    for (int k = 0; k < ra->range_count; ++k) {
        const int32_t p = ra->ranges[k].phys;
        const bool callee_saved = p == REG_RBX || (p >= REG_R12 && p <= REG_R15);
        CHECK((p < 0 || callee_saved));
    }
    CHECK(ra->csr_save_count > 0);
    npk_asm_destroy(a);
}

TEST_CASE("a loop keeps its values in the registers it started with", "[upstream][asm][regalloc]") {
    require_x86();
    for (int extra : {0, 16}) {  // 16 more live values: the loop's own spill
        Assembler* a = npk_asm_create();
        const int top = npk_asm_new_label(a), done = npk_asm_new_label(a);
        const int sum = npk_asm_vreg_new_gpr(a), i = npk_asm_vreg_new_gpr(a);
        std::vector<int> ballast;
        for (int k = 0; k < extra; ++k) {
            ballast.push_back(npk_asm_vreg_new_gpr(a));
            npk_asm_mov_r64_imm64(a, V(ballast.back()), k);
        }
        npk_asm_mov_r64_imm64(a, V(sum), 0);
        npk_asm_mov_r64_r64(a, V(i), REG_RDI);
        npk_asm_bind_label(a, top);
        npk_asm_cmp_r64_imm32(a, V(i), 0);
        npk_asm_je(a, done);
        npk_asm_add_r64_r64(a, V(sum), V(i));
        for (int b : ballast) npk_asm_add_r64_r64(a, V(sum), V(b));
        npk_asm_sub_r64_imm32(a, V(i), 1);
        npk_asm_jmp(a, top);
        npk_asm_bind_label(a, done);
        npk_asm_mov_r64_r64(a, REG_RAX, V(sum));
        npk_asm_ret(a);
        WildXGuard g = npk_asm_finalize(a);
        REQUIRE(g.ptr != nullptr);
        const int64_t per_round = extra * (extra - 1) / 2;
        CHECK(npk_asm_execute_i64(&g, 10) == 55 + 10 * per_round);
        CHECK(npk_asm_execute_i64(&g, 0) == 0);
        CHECK((npk_asm_spill_count(a) > 0) == (extra > 0));
        npk_free_exec(&g);
        npk_asm_destroy(a);
    }
}

TEST_CASE("XMM virtual registers, spilled as whole 16 bytes", "[upstream][asm][regalloc]") {
    require_x86();
    Assembler* a = npk_asm_create();
    int x[18];
    for (int& r : x) r = npk_asm_vreg_new_xmm(a);
    // xmm0 holds the argument; every vreg gets arg, then they are summed.
    for (int r : x) npk_asm_movsd_xmm_xmm(a, V(r), REG_XMM0);
    for (int k = 1; k < 18; ++k) npk_asm_addsd(a, V(x[0]), V(x[k]));
    npk_asm_movsd_xmm_xmm(a, REG_XMM0, V(x[0]));
    npk_asm_ret(a);
    WildXGuard g = npk_asm_finalize(a);
    REQUIRE(g.ptr != nullptr);
    CHECK(npk_asm_execute_f64_f64(&g, 1.5) == 27.0);
    CHECK(npk_asm_spill_count(a) > 0);
    npk_free_exec(&g);
    npk_asm_destroy(a);
}

TEST_CASE("the peephole pass counts exactly what it rewrote", "[upstream][asm][peephole]") {
    require_x86();
    Assembler* a = npk_asm_create();
    const int v = npk_asm_vreg_new_gpr(a), w = npk_asm_vreg_new_gpr(a);
    npk_asm_mov_r64_imm64(a, V(v), 10);   // dead: overwritten next
    npk_asm_mov_r64_imm64(a, V(v), 0);    // -> xor v, v
    npk_asm_mov_r64_r64(a, V(v), V(v));   // dropped
    npk_asm_add_r64_imm32(a, V(v), 0);    // dropped
    npk_asm_shl_r64_imm8(a, V(v), 64);    // a count of 64 is 0: dropped
    npk_asm_add_r64_imm32(a, V(v), 3);
    npk_asm_mov_r64_imm64(a, V(w), 8);
    npk_asm_imul_r64_r64(a, V(v), V(w));  // -> shl v, 3
    npk_asm_mov_r64_r64(a, REG_RAX, V(v));
    npk_asm_ret(a);
    CHECK(run0(a) == 24);
    const PeepholeStats s = npk_asm_peephole_stats(a);
    CHECK(s.dead_store_elim == 1);
    CHECK(s.mov_zero_to_xor == 1);
    CHECK(s.identity_mov_elim == 1);
    CHECK(s.constant_folded == 2);
    CHECK(s.strength_reduced == 1);
    CHECK(s.total_eliminated == 6);
    CHECK(a->regalloc->peephole_elim == 6);
    npk_asm_destroy(a);
}

TEST_CASE("no rewrite changes flags a jump still reads", "[upstream][asm][peephole]") {
    require_x86();
    // cmp rdi, rsi; <rewrite candidate>; jb below: 2 if it jumped, else 1.
    for (int variant = 0; variant < 2; ++variant) {
        Assembler* a = npk_asm_create();
        const int v = npk_asm_vreg_new_gpr(a);
        const int below = npk_asm_new_label(a);
        npk_asm_mov_r64_imm64(a, V(v), 5);
        npk_asm_cmp_r64_r64(a, REG_RDI, REG_RSI);
        if (variant == 0) npk_asm_mov_r64_imm64(a, V(v), 0);  // as XOR it would clear CF
        if (variant == 1) npk_asm_add_r64_imm32(a, V(v), 0);  // it clears CF: dropping it would not
        npk_asm_jb(a, below);
        npk_asm_mov_r64_imm64(a, REG_RAX, 1);
        npk_asm_ret(a);
        npk_asm_bind_label(a, below);
        npk_asm_mov_r64_imm64(a, REG_RAX, 2);
        npk_asm_ret(a);
        WildXGuard g = npk_asm_finalize(a);
        REQUIRE(g.ptr != nullptr);
        CHECK(npk_asm_execute_i64_i64(&g, 2, 1) == 1);
        CHECK(npk_asm_execute_i64_i64(&g, 1, 2) == (variant == 0 ? 2 : 1));
        const PeepholeStats s = npk_asm_peephole_stats(a);
        CHECK(s.mov_zero_to_xor == 0);
        CHECK(s.constant_folded == 0);
        npk_free_exec(&g);
        npk_asm_destroy(a);
    }
}

TEST_CASE("instruction selection counts what it chose", "[upstream][asm][isel]") {
    require_x86();
    Assembler* a = npk_asm_create();
    const int v = npk_asm_vreg_new_gpr(a), big = npk_asm_vreg_new_gpr(a), neg = npk_asm_vreg_new_gpr(a);
    npk_asm_mov_r64_imm64(a, V(v), 7);                     // narrowed (mov r32)
    npk_asm_mov_r64_imm64(a, V(neg), -5);                  // narrowed (simm32)
    npk_asm_mov_r64_imm64(a, V(big), 0x123456789LL);       // movabs: not narrowed
    npk_asm_add_r64_imm32(a, V(v), 1);                     // inc
    npk_asm_sub_r64_imm32(a, V(v), 1);                     // dec
    npk_asm_add_r64_imm32(a, V(v), 100);                   // imm8
    npk_asm_sub_r64_imm32(a, V(v), 1000);                  // imm32 stays
    npk_asm_cmp_r64_imm32(a, V(v), 0);                     // test
    npk_asm_add_r64_r64(a, V(v), V(big));
    npk_asm_add_r64_r64(a, V(v), V(neg));
    npk_asm_mov_r64_r64(a, REG_RAX, V(v));
    npk_asm_ret(a);
    CHECK(run0(a) == 7 + 100 - 1000 + 0x123456789LL - 5);
    const InsnSelStats s = npk_asm_insn_sel_stats(a);
    CHECK(s.mov_imm64_narrowed == 2);
    CHECK(s.add_to_inc == 1);
    CHECK(s.sub_to_dec == 1);
    CHECK(s.imm32_to_imm8 == 1);
    CHECK(s.cmp_zero_to_test == 1);
    CHECK(s.total_selected == 6);
    npk_asm_destroy(a);
}

TEST_CASE("ADD 1 stays an ADD when a jump reads its carry", "[upstream][asm][isel]") {
    require_x86();
    Assembler* a = npk_asm_create();
    const int v = npk_asm_vreg_new_gpr(a);
    const int carry = npk_asm_new_label(a);
    npk_asm_mov_r64_r64(a, V(v), REG_RDI);
    npk_asm_add_r64_imm32(a, V(v), 1);  // INC would leave CF alone
    npk_asm_jb(a, carry);
    npk_asm_mov_r64_imm64(a, REG_RAX, 0);
    npk_asm_ret(a);
    npk_asm_bind_label(a, carry);
    npk_asm_mov_r64_imm64(a, REG_RAX, 1);
    npk_asm_ret(a);
    WildXGuard g = npk_asm_finalize(a);
    REQUIRE(g.ptr != nullptr);
    CHECK(npk_asm_execute_i64(&g, -1) == 1);  // 0xFFFF...F + 1 carries
    CHECK(npk_asm_execute_i64(&g, 5) == 0);
    CHECK(npk_asm_insn_sel_stats(a).add_to_inc == 0);
    CHECK(npk_asm_insn_sel_stats(a).imm32_to_imm8 == 1);
    npk_free_exec(&g);
    npk_asm_destroy(a);
}

TEST_CASE("finalize twice gives two pages, and recording after it is an error", "[upstream][asm]") {
    require_x86();
    Assembler* a = npk_asm_create();
    const int v = npk_asm_vreg_new_gpr(a);
    npk_asm_mov_r64_imm64(a, V(v), 9);
    npk_asm_mov_r64_r64(a, REG_RAX, V(v));
    npk_asm_ret(a);
    WildXGuard g1 = npk_asm_finalize(a);
    WildXGuard g2 = npk_asm_finalize(a);
    REQUIRE(g1.ptr != nullptr);
    REQUIRE(g2.ptr != nullptr);
    CHECK(g1.ptr != g2.ptr);
    CHECK(g1.code_hash == g2.code_hash);
    CHECK(npk_asm_execute(&g1) == 9);
    CHECK(npk_asm_execute(&g2) == 9);
    npk::test::StderrCapture cap;
    npk_asm_ret(a);
    CHECK(npk_asm_has_error(a));
    CHECK(npk_last_error() == NPK_ERR_JIT_BUILDER_FAILED);
    npk_free_exec(&g1);
    npk_free_exec(&g2);
    npk_asm_destroy(a);
}

TEST_CASE("execute refuses what is not sealed code, the callee may trash callee-saved registers", "[upstream][asm]") {
    require_x86();
    npk::test::StderrCapture cap;
    CHECK(npk_asm_execute(nullptr) == -1);
    WildXGuard empty{};
    CHECK(npk_asm_execute_i64(&empty, 1) == -1);
    CHECK(std::isnan(npk_asm_execute_f64(&empty)));
    CHECK(std::isnan(npk_asm_execute_f64_f64(&empty, 1.0)));
    CHECK(npk_asm_execute_i64_i64(&empty, 1, 2) == -1);
    CHECK(npk_last_error() == NPK_ERR_NULL);

    Assembler* a = npk_asm_create();
    for (AsmRegister r : {REG_RBX, REG_R12, REG_R13, REG_R14, REG_R15, REG_RBP}) npk_asm_mov_r64_imm64(a, r, -1);
    npk_asm_mov_r64_r64(a, REG_RAX, REG_RDI);
    npk_asm_ret(a);
    WildXGuard g = npk_asm_finalize(a);
    REQUIRE(g.ptr != nullptr);
    // Live values the compiler keeps in callee-saved registers across the calls.
    volatile int64_t seed = 3;
    int64_t x0 = seed, x1 = seed * 2, x2 = seed * 3, x3 = seed * 5, x4 = seed * 7, x5 = seed * 11;
    int64_t total = 0;
    for (int k = 0; k < 4; ++k) {
        total += npk_asm_execute_i64(&g, k);
        x0 += 1, x1 += 2, x2 += 3, x3 += 4, x4 += 5, x5 += 6;
    }
    CHECK(total == 6);
    CHECK(x0 + x1 + x2 + x3 + x4 + x5 == 3 * (1 + 2 + 3 + 5 + 7 + 11) + 4 * 21);
    npk_free_exec(&g);
    CHECK(npk_asm_execute(&g) == -1);
    npk_asm_destroy(a);
}

TEST_CASE("with a signature, npk_jit_invoke checks and calls finalized code", "[upstream][asm][tools]") {
    require_x86();
    Assembler* a = npk_asm_create();
    const int32_t args[2] = {NPK_JIT_I64, NPK_JIT_I64};
    REQUIRE(npk_asm_set_signature(a, NPK_JIT_I64, 2, args) == 0);
    npk_asm_mov_r64_r64(a, REG_RAX, REG_RDI);
    npk_asm_sub_r64_r64(a, REG_RAX, REG_RSI);
    npk_asm_ret(a);
    WildXGuard g = npk_asm_finalize(a);
    REQUIRE(g.ptr != nullptr);
    char sig[32];
    REQUIRE(npk_jit_signature(g.ptr, sig, sizeof sig) >= 0);
    CHECK(std::string(sig) == "i64(i64, i64)");
    npk_jit_value in[2] = {{NPK_JIT_I64, {}}, {NPK_JIT_I64, {}}};
    in[0].i64 = 50;
    in[1].i64 = 8;
    npk_jit_value out{};
    REQUIRE(npk_jit_invoke(g.ptr, in, 2, &out) == 0);
    CHECK(out.i64 == 42);
    npk::test::StderrCapture cap;
    CHECK(npk_jit_invoke(g.ptr, in, 1, &out) == -1);
    CHECK(npk_last_error() == NPK_ERR_JIT_SIGNATURE);
    char name[64];
    REQUIRE(npk_jit_name(g.ptr, name, sizeof name) >= 0);
    CHECK(std::string(name).rfind("jit_fn_", 0) == 0);
    npk_free_exec(&g);
    npk_asm_destroy(a);
}

TEST_CASE("npk_asm_perf_map_register appends one line to the perf map", "[upstream][asm][tools]") {
    require_x86();
    static const char code[16] = {};
    npk_asm_perf_map_register(code, sizeof code, "npk_test_perf_entry");
    char path[64];
    std::snprintf(path, sizeof path, "/tmp/perf-%d.map", static_cast<int>(getpid()));
    std::ifstream in(path);
    std::stringstream ss;
    ss << in.rdbuf();
    char want[96];
    std::snprintf(want, sizeof want, "%lx 10 npk_test_perf_entry\n", reinterpret_cast<unsigned long>(code));
    CHECK(ss.str().find(want) != std::string::npos);
    npk::test::StderrCapture cap;
    npk_asm_perf_map_register(nullptr, 4, "x");
    CHECK(npk_last_error() == NPK_ERR_NULL);
    npk_asm_perf_map_register(code, 0, "x");
    CHECK(npk_last_error() == NPK_ERR_ZERO_SIZE);
    npk_asm_perf_map_register(code, 4, "two words");
    CHECK(npk_last_error() == NPK_ERR_INVALID_ARGUMENT);
    ::unlink(path);
}

TEST_CASE("virtual-register code with internal calls needs the caller's frame", "[upstream][asm][rejection]") {
    require_x86();
    npk::test::StderrCapture cap;
    Assembler* a = npk_asm_create();
    const int helper = npk_asm_new_label(a);
    int v[20];
    for (int& x : v) x = npk_asm_vreg_new_gpr(a);
    for (int k = 0; k < 20; ++k) npk_asm_mov_r64_imm64(a, V(v[k]), k);
    for (int k = 1; k < 20; ++k) npk_asm_add_r64_r64(a, V(v[0]), V(v[k]));
    npk_asm_call_label(a, helper);
    npk_asm_ret(a);
    npk_asm_bind_label(a, helper);
    npk_asm_ret(a);
    WildXGuard g = npk_asm_finalize(a);
    CHECK(g.ptr == nullptr);
    CHECK(npk_last_error() == NPK_ERR_JIT_CODEGEN);
    CHECK(std::string(npk_asm_get_error(a)).find("npk_asm_prologue") != std::string::npos);
    npk_asm_destroy(a);
}

TEST_CASE("a jump recorded to a label never bound fails finalize", "[upstream][asm][rejection]") {
    require_x86();
    npk::test::StderrCapture cap;
    Assembler* a = npk_asm_create();
    const int v = npk_asm_vreg_new_gpr(a);
    const int nowhere = npk_asm_new_label(a);
    npk_asm_mov_r64_imm64(a, V(v), 1);
    npk_asm_cmp_r64_imm32(a, V(v), 1);
    npk_asm_je(a, nowhere);
    npk_asm_ret(a);
    WildXGuard g = npk_asm_finalize(a);
    CHECK(g.ptr == nullptr);
    CHECK(npk_last_error() == NPK_ERR_JIT_LABEL_UNBOUND);
    CHECK(std::string(npk_asm_get_error(a)).find("label 0") != std::string::npos);
    npk_asm_destroy(a);
}

TEST_CASE("code written before the first virtual register stays in front of it", "[upstream][asm]") {
    require_x86();
    Assembler* a = npk_asm_create();
    const int back = npk_asm_new_label(a);
    npk_asm_mov_r64_imm64(a, REG_RDX, 5);  // encoded at once
    npk_asm_bind_label(a, back);           // bound at offset 10
    const size_t prefix = a->buffer->size;
    const int v = npk_asm_vreg_new_gpr(a);
    npk_asm_mov_r64_r64(a, V(v), REG_RDX);
    npk_asm_add_r64_imm32(a, V(v), 1);
    npk_asm_mov_r64_r64(a, REG_RDX, V(v));
    npk_asm_cmp_r64_imm32(a, REG_RDX, 8);
    npk_asm_jl(a, back);                   // back into the direct part
    npk_asm_mov_r64_r64(a, REG_RAX, REG_RDX);
    npk_asm_ret(a);
    CHECK(a->buffer->size == prefix);      // recorded, not yet encoded
    CHECK(run0(a) == 8);
    CHECK(a->buffer->size > prefix);
    npk_asm_destroy(a);
}

TEST_CASE("NPK_JIT_PERF=map: finalized code gets its line like any built function", "[upstream][asm][tools]") {
    require_x86();
    setenv("NPK_JIT_PERF", "map", 1);
    npk::wildx::testing::reload_config_from_env();  // each test case is its own process
    Assembler* a = npk_asm_create();
    npk_asm_mov_r64_imm64(a, REG_RAX, 3);
    npk_asm_ret(a);
    WildXGuard g = npk_asm_finalize(a);
    REQUIRE(g.ptr != nullptr);
    char path[64];
    std::snprintf(path, sizeof path, "/tmp/perf-%d.map", static_cast<int>(getpid()));
    std::ifstream in(path);
    std::stringstream ss;
    ss << in.rdbuf();
    char want[96];
    const auto start = reinterpret_cast<unsigned long>(g.ptr);
    std::snprintf(want, sizeof want, "%lx b jit_fn_%lx\n", start, start);  // 11 bytes of code
    CHECK(ss.str().find(want) != std::string::npos);
    npk_free_exec(&g);
    npk_asm_destroy(a);
    unsetenv("NPK_JIT_PERF");
    npk::wildx::testing::reload_config_from_env();
    ::unlink(path);
}

namespace {
int64_t g_cells[2];
}  // namespace

TEST_CASE("a spilled register that is both the base and the destination of a load", "[upstream][asm][regalloc]") {
    require_x86();
    g_cells[0] = static_cast<int64_t>(reinterpret_cast<intptr_t>(&g_cells[1]));
    g_cells[1] = 77;
    Assembler* a = npk_asm_create();
    int v[20];
    for (int& x : v) x = npk_asm_vreg_new_gpr(a);
    for (int x : v) npk_asm_mov_r64_imm64(a, V(x), static_cast<int64_t>(reinterpret_cast<intptr_t>(&g_cells[0])));
    for (int x : v) npk_asm_mov_r64_mem(a, V(x), V(x), 0);  // x = *x: &g_cells[1]
    for (int x : v) npk_asm_mov_r64_mem(a, V(x), V(x), 0);  // x = *x: 77
    npk_asm_mov_r64_imm64(a, REG_RAX, 0);
    for (int x : v) npk_asm_add_r64_r64(a, REG_RAX, V(x));
    npk_asm_ret(a);
    CHECK(run0(a) == 20 * 77);
    CHECK(npk_asm_spill_count(a) > 0);
    npk_asm_destroy(a);
}

namespace {
extern "C" int64_t twice(int64_t x) { return 2 * x; }
}  // namespace

TEST_CASE("direct-mode instructions compute what their names say", "[upstream][asm]") {
    require_x86();
    // f(x) = ((twice(x) via call_r64) >> 1 (sar)) + helper(), helper via call_label returns 100;
    // pushes and pops keep RDI across the call; LEA adds; SHR shifts logically.
    Assembler* a = npk_asm_create();
    const int helper = npk_asm_new_label(a);
    npk_asm_prologue(a, 0);
    npk_asm_push_r64(a, REG_RDI);
    npk_asm_push_r64(a, REG_RDI);  // keeps the stack 16-byte aligned for the call
    npk_asm_mov_r64_imm64(a, REG_R11, static_cast<int64_t>(reinterpret_cast<intptr_t>(&twice)));
    npk_asm_call_r64(a, REG_R11);
    npk_asm_pop_r64(a, REG_RDI);
    npk_asm_pop_r64(a, REG_RDI);
    npk_asm_sar_r64_imm8(a, REG_RAX, 1);  // back to x
    npk_asm_mov_r64_r64(a, REG_RCX, REG_RAX);
    npk_asm_call_label(a, helper);
    npk_asm_add_r64_r64(a, REG_RAX, REG_RCX);
    npk_asm_lea_r64_mem(a, REG_RAX, REG_RAX, 1000);
    npk_asm_epilogue(a);
    npk_asm_bind_label(a, helper);
    npk_asm_mov_r64_imm64(a, REG_RAX, 100);
    npk_asm_ret(a);
    WildXGuard g = npk_asm_finalize(a);
    REQUIRE(g.ptr != nullptr);
    CHECK(npk_asm_execute_i64(&g, 21) == 21 + 100 + 1000);
    CHECK(npk_asm_execute_i64(&g, -8) == -8 + 100 + 1000);  // SAR keeps the sign
    npk_free_exec(&g);
    npk_asm_destroy(a);

    a = npk_asm_create();  // SHR is logical
    npk_asm_mov_r64_r64(a, REG_RAX, REG_RDI);
    npk_asm_shr_r64_imm8(a, REG_RAX, 60);
    npk_asm_ret(a);
    g = npk_asm_finalize(a);
    CHECK(npk_asm_execute_i64(&g, -1) == 15);
    npk_free_exec(&g);
    npk_asm_destroy(a);

    a = npk_asm_create();  // double f(void): 1.5 * 4.0, through memory and MULPS on the low lane
    const double k[2] = {1.5, 4.0};
    npk_asm_mov_r64_imm64(a, REG_RAX, static_cast<int64_t>(reinterpret_cast<intptr_t>(&k[0])));
    npk_asm_movsd_xmm_mem(a, REG_XMM0, REG_RAX, 0);
    npk_asm_movsd_xmm_mem(a, REG_XMM1, REG_RAX, 8);
    npk_asm_mulsd(a, REG_XMM0, REG_XMM1);
    npk_asm_ret(a);
    g = npk_asm_finalize(a);
    CHECK(npk_asm_execute_f64(&g) == 6.0);
    npk_free_exec(&g);
    npk_asm_destroy(a);

    a = npk_asm_create();  // four floats doubled by MULPS, stored back with MOVAPS
    alignas(16) float v[4] = {1, 2, 3, 4};
    alignas(16) const float two[4] = {2, 2, 2, 2};
    npk_asm_mov_r64_imm64(a, REG_RAX, static_cast<int64_t>(reinterpret_cast<intptr_t>(v)));
    npk_asm_mov_r64_imm64(a, REG_RCX, static_cast<int64_t>(reinterpret_cast<intptr_t>(two)));
    npk_asm_movaps_xmm_mem(a, REG_XMM0, REG_RAX, 0);
    npk_asm_movaps_xmm_mem(a, REG_XMM1, REG_RCX, 0);
    npk_asm_mulps(a, REG_XMM0, REG_XMM1);
    npk_asm_movaps_xmm_xmm(a, REG_XMM2, REG_XMM0);
    npk_asm_movaps_mem_xmm(a, REG_RAX, 0, REG_XMM2);
    npk_asm_ret(a);
    g = npk_asm_finalize(a);
    npk_asm_execute(&g);
    CHECK((v[0] == 2 && v[1] == 4 && v[2] == 6 && v[3] == 8));
    npk_free_exec(&g);
    npk_asm_destroy(a);
}
