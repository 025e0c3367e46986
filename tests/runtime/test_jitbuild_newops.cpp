// The builder's operations for real clients (issue 20), each against C++
// on edge values: sized and indexed memory, immediates, fused
// compare-and-branch, pointer arithmetic, switch, indirect and self calls,
// and which variables are zeroed at entry. Natively and under qemu.
#include "jitbuild_support.h"

#include <vector>

using namespace npk::test;

namespace {

constexpr int kIntOps[] = {NPK_JIT_ADD, NPK_JIT_SUB, NPK_JIT_MUL, NPK_JIT_DIV, NPK_JIT_REM, NPK_JIT_AND,
                           NPK_JIT_OR,  NPK_JIT_XOR, NPK_JIT_SHL, NPK_JIT_SHR, NPK_JIT_USHR, NPK_JIT_EQ,
                           NPK_JIT_NE,  NPK_JIT_LT,  NPK_JIT_LE,  NPK_JIT_GT,  NPK_JIT_GE,   NPK_JIT_ULT,
                           NPK_JIT_ULE, NPK_JIT_UGT, NPK_JIT_UGE};

// Immediates that exercise every encoding: small, 12-bit edges, logical
// masks, 32-bit edges, values only a register holds.
constexpr int64_t kImms[] = {0, 1, -1, 2, 7, -7, 31, 32, 63, 64, 4095, 4096, -4095, -4096, 0xFF, 0xFF00,
                             0x5555555555555555LL, 0x0F0F0F0F, INT32_MIN, INT32_MAX, INT64_C(0x100000000),
                             INT64_C(-4294967296), INT64_MIN, INT64_MAX, 0x123456789ALL};

// r(a) = a <op> imm.
void* build_op_imm(int type, int op, int64_t imm) {
    const int rt = is_compare_op(op) ? NPK_JIT_I32 : type;
    npk_jit_builder* b = npk_jit_builder_new(rt);
    const int32_t x = npk_jit_param(b, type);
    const int32_t r = npk_jit_var(b, rt);
    REQUIRE(npk_jit_op_imm(b, op, r, x, imm) == 0);
    npk_jit_ret(b, r);
    return npk_jit_build(b);
}

// r(a, b) = (a <cmp> b) ? 1 : 2 through branch_cmp; with imm through branch_cmp_imm.
void* build_branch_cmp(int type, int cmp, bool with_imm, int64_t imm) {
    npk_jit_builder* b = npk_jit_builder_new(NPK_JIT_I32);
    const int32_t x = npk_jit_param(b, type);
    const int32_t y = with_imm ? -1 : npk_jit_param(b, type);
    const int32_t r = npk_jit_var(b, NPK_JIT_I32);
    const int32_t yes = npk_jit_label(b);
    if (with_imm) {
        REQUIRE(npk_jit_branch_cmp_imm(b, cmp, x, imm, yes) == 0);
    } else {
        REQUIRE(npk_jit_branch_cmp(b, cmp, x, y, yes) == 0);
    }
    npk_jit_const_i64(b, r, 2);
    npk_jit_ret(b, r);
    npk_jit_bind(b, yes);
    npk_jit_const_i64(b, r, 1);
    npk_jit_ret(b, r);
    return npk_jit_build(b);
}

}  // namespace

TEST_CASE("op_imm: every integer operation with an immediate matches C++", "[jitbuild][newops]") {
    for (int op : kIntOps) {
        for (int64_t imm : kImms) {
            const bool fits32 = imm >= INT32_MIN && imm <= int64_t{UINT32_MAX};
            if (fits32) {
                Fn f(build_op_imm(NPK_JIT_I32, op, imm));
                REQUIRE(f.p != nullptr);
                auto fp = f.as<int32_t (*)(int32_t)>();
                const auto k = static_cast<int32_t>(static_cast<uint32_t>(imm));
                for (int32_t a : kEdgeI32) {
                    INFO("i32 op " << op << " a " << a << " imm " << imm);
                    REQUIRE(fp(a) == ref_int_op<int32_t>(op, a, k));
                }
            }
            Fn g(build_op_imm(NPK_JIT_I64, op, imm));
            REQUIRE(g.p != nullptr);
            auto gp = g.as<int64_t (*)(int64_t)>();
            for (int64_t a : kEdgeI64) {
                INFO("i64 op " << op << " a " << a << " imm " << imm);
                const int64_t want = ref_int_op<int64_t>(op, a, imm);
                REQUIRE(gp(a) == (is_compare_op(op) ? static_cast<int32_t>(want) : want));
            }
        }
    }
}

TEST_CASE("branch_cmp and branch_cmp_imm: every comparison, fused, matches C++", "[jitbuild][newops]") {
    for (int cmp = NPK_JIT_EQ; cmp <= NPK_JIT_UGE; ++cmp) {
        Fn f32(build_branch_cmp(NPK_JIT_I32, cmp, false, 0));
        Fn f64(build_branch_cmp(NPK_JIT_I64, cmp, false, 0));
        REQUIRE((f32.p != nullptr && f64.p != nullptr));
        for (int32_t a : kEdgeI32) {
            for (int32_t b : kEdgeI32) {
                INFO("i32 cmp " << cmp << " " << a << " " << b);
                REQUIRE(f32.as<int32_t (*)(int32_t, int32_t)>()(a, b) == (ref_int_op<int32_t>(cmp, a, b) ? 1 : 2));
            }
        }
        for (int64_t a : kEdgeI64) {
            for (int64_t b : kEdgeI64) {
                INFO("i64 cmp " << cmp << " " << a << " " << b);
                REQUIRE(f64.as<int32_t (*)(int64_t, int64_t)>()(a, b) == (ref_int_op<int64_t>(cmp, a, b) ? 1 : 2));
            }
        }
        for (int64_t imm : kImms) {
            Fn g(build_branch_cmp(NPK_JIT_I64, cmp, true, imm));
            REQUIRE(g.p != nullptr);
            for (int64_t a : kEdgeI64) {
                INFO("i64 cmp_imm " << cmp << " " << a << " " << imm);
                REQUIRE(g.as<int32_t (*)(int64_t)>()(a) == (ref_int_op<int64_t>(cmp, a, imm) ? 1 : 2));
            }
            if (imm < INT32_MIN || imm > INT32_MAX) continue;
            Fn h(build_branch_cmp(NPK_JIT_I32, cmp, true, imm));
            REQUIRE(h.p != nullptr);
            for (int32_t a : kEdgeI32) {
                INFO("i32 cmp_imm " << cmp << " " << a << " " << imm);
                const auto k = static_cast<int32_t>(imm);
                REQUIRE(h.as<int32_t (*)(int32_t)>()(a) == (ref_int_op<int32_t>(cmp, a, k) ? 1 : 2));
            }
        }
    }
    for (int cmp = NPK_JIT_EQ; cmp <= NPK_JIT_GE; ++cmp) {
        Fn f(build_branch_cmp(NPK_JIT_F64, cmp, false, 0));
        REQUIRE(f.p != nullptr);
        for (double a : kEdgeF64) {
            for (double b : kEdgeF64) {
                INFO("f64 cmp " << cmp << " " << a << " " << b);
                REQUIRE(f.as<int32_t (*)(double, double)>()(a, b) == (ref_f64_op(cmp, a, b) != 0 ? 1 : 2));
            }
        }
    }
}

TEST_CASE("a comparison read again after its branch keeps its 0/1", "[jitbuild][newops]") {
    // r = a < b; if (r) goto yes; return r + 10; yes: return r + 20
    npk_jit_builder* b = npk_jit_builder_new(NPK_JIT_I32);
    const int32_t x = npk_jit_param(b, NPK_JIT_I64), y = npk_jit_param(b, NPK_JIT_I64);
    const int32_t r = npk_jit_var(b, NPK_JIT_I32);
    const int32_t yes = npk_jit_label(b);
    npk_jit_op(b, NPK_JIT_LT, r, x, y);
    npk_jit_branch_if(b, r, yes);
    npk_jit_op_imm(b, NPK_JIT_ADD, r, r, 10);
    npk_jit_ret(b, r);
    npk_jit_bind(b, yes);
    npk_jit_op_imm(b, NPK_JIT_ADD, r, r, 20);
    npk_jit_ret(b, r);
    Fn f(npk_jit_build(b));
    REQUIRE(f.p != nullptr);
    auto fp = f.as<int32_t (*)(int64_t, int64_t)>();
    for (int64_t a : kEdgeI64) {
        for (int64_t c : kEdgeI64) REQUIRE(fp(a, c) == (a < c ? 21 : 10));
    }
}

TEST_CASE("sized loads and stores: every width, extension and offset", "[jitbuild][newops]") {
    struct W {
        int mem, bytes;
        bool sign;
    };
    constexpr W kW[] = {{NPK_JIT_MEM_I8, 1, true},   {NPK_JIT_MEM_U8, 1, false}, {NPK_JIT_MEM_I16, 2, true},
                        {NPK_JIT_MEM_U16, 2, false}, {NPK_JIT_MEM_I32, 4, true}, {NPK_JIT_MEM_U32, 4, false},
                        {NPK_JIT_MEM_64, 8, true}};
    // Offsets for every addressing form: scaled, unscaled (negative, odd), far.
    constexpr int32_t kOff[] = {0, 1, 3, 8, 255, -256, -1, 4096, 32760, 40000, -40000};
    alignas(16) static unsigned char buf[100000];
    unsigned char* mid = buf + 50000;
    for (const W& w : kW) {
        for (int t : {NPK_JIT_I32, NPK_JIT_I64, NPK_JIT_PTR}) {
            if (t == NPK_JIT_I32 && w.bytes == 8) continue;
            for (int32_t off : kOff) {
                // int64 f(ptr p, T v): store_sized(p, off, v); return load_sized(p, off) as i64
                npk_jit_builder* b = npk_jit_builder_new(NPK_JIT_I64);
                const int32_t p = npk_jit_param(b, NPK_JIT_PTR), v = npk_jit_param(b, t);
                const int32_t l = npk_jit_var(b, t), r = npk_jit_var(b, NPK_JIT_I64);
                REQUIRE(npk_jit_store_sized(b, p, off, v, w.mem) == 0);
                REQUIRE(npk_jit_load_sized(b, l, p, off, w.mem) == 0);
                npk_jit_convert(b, r, l);
                npk_jit_ret(b, r);
                Fn f(npk_jit_build(b));
                REQUIRE(f.p != nullptr);
                auto fp = f.as<int64_t (*)(void*, int64_t)>();
                for (int64_t x : kEdgeI64) {
                    std::memset(mid - 48, 0xA5, 96);
                    std::memset(mid + off - 16, 0xA5, 32);
                    const int64_t arg = t == NPK_JIT_I32 ? static_cast<int32_t>(x) : x;
                    uint64_t want = static_cast<uint64_t>(arg);
                    if (w.bytes < 8) {
                        const unsigned sh = 64 - 8 * static_cast<unsigned>(w.bytes);
                        want = w.sign ? static_cast<uint64_t>(static_cast<int64_t>(want << sh) >> sh) : (want << sh) >> sh;
                    }
                    if (t == NPK_JIT_I32) want = static_cast<uint64_t>(static_cast<int64_t>(static_cast<int32_t>(want)));
                    INFO("mem " << w.mem << " type " << t << " off " << off << " x " << x);
                    REQUIRE(fp(mid, arg) == static_cast<int64_t>(want));
                    // Exactly w.bytes were written, little-endian, nothing around them.
                    REQUIRE(std::memcmp(mid + off, &arg, static_cast<size_t>(w.bytes)) == 0);
                    REQUIRE(mid[off - 1] == 0xA5);
                    REQUIRE(mid[off + w.bytes] == 0xA5);
                }
            }
        }
    }
}

TEST_CASE("indexed loads and stores: every scale, index type and sign", "[jitbuild][newops]") {
    alignas(16) static unsigned char buf[4096];
    unsigned char* mid = buf + 2048;
    for (int scale : {1, 2, 4, 8}) {
        for (int it : {NPK_JIT_I32, NPK_JIT_I64, NPK_JIT_PTR}) {
            for (int32_t off : {0, 4, -8, 300}) {
                for (int t : {NPK_JIT_I32, NPK_JIT_I64, NPK_JIT_F64}) {
                    // T f(ptr p, index i, T v): store_indexed(p, i, v); return load_indexed(p, i) (own width)
                    npk_jit_builder* b = npk_jit_builder_new(t);
                    const int32_t p = npk_jit_param(b, NPK_JIT_PTR), i = npk_jit_param(b, it);
                    const int32_t v = npk_jit_param(b, t), l = npk_jit_var(b, t);
                    REQUIRE(npk_jit_store_indexed(b, p, i, scale, off, v, 0) == 0);
                    REQUIRE(npk_jit_load_indexed(b, l, p, i, scale, off, 0) == 0);
                    npk_jit_ret(b, l);
                    Fn f(npk_jit_build(b));
                    REQUIRE(f.p != nullptr);
                    for (int64_t idx : {0, 1, 5, -1, -7, 100, -100}) {
                        std::memset(buf, 0, sizeof buf);
                        unsigned char* at = mid + idx * scale + off;
                        npk_jit_value args[3] = {}, r{};
                        args[0].type = NPK_JIT_PTR;
                        args[0].ptr = mid;
                        args[1].type = it;
                        if (it == NPK_JIT_I32) {
                            args[1].i32 = static_cast<int32_t>(idx);
                        } else {
                            args[1].i64 = idx;
                        }
                        args[2].type = t;
                        if (t == NPK_JIT_F64) args[2].f64 = -2.5;
                        if (t == NPK_JIT_I32) args[2].i32 = -123456;
                        if (t == NPK_JIT_I64) args[2].i64 = INT64_C(-1234567890123);
                        INFO("scale " << scale << " index type " << it << " off " << off << " type " << t << " idx " << idx);
                        REQUIRE(npk_jit_invoke(f.p, args, 3, &r) == 0);
                        const size_t n = t == NPK_JIT_I32 ? 4 : 8;
                        REQUIRE(std::memcmp(at, &args[2].i64, n) == 0);
                        REQUIRE(std::memcmp(&r.i64, &args[2].i64, n) == 0);
                    }
                }
            }
        }
    }
    // A byte array read through an I32 index, zero-extended: sum of bytes.
    npk_jit_builder* b = npk_jit_builder_new(NPK_JIT_I64);
    const int32_t p = npk_jit_param(b, NPK_JIT_PTR), n = npk_jit_param(b, NPK_JIT_I32);
    const int32_t i = npk_jit_var(b, NPK_JIT_I32), c = npk_jit_var(b, NPK_JIT_I64), s = npk_jit_var(b, NPK_JIT_I64);
    const int32_t top = npk_jit_label(b), done = npk_jit_label(b);
    npk_jit_bind(b, top);
    npk_jit_branch_cmp(b, NPK_JIT_GE, i, n, done);
    npk_jit_load_indexed(b, c, p, i, 1, 0, NPK_JIT_MEM_U8);
    npk_jit_op(b, NPK_JIT_ADD, s, s, c);
    npk_jit_op_imm(b, NPK_JIT_ADD, i, i, 1);
    npk_jit_jump(b, top);
    npk_jit_bind(b, done);
    npk_jit_ret(b, s);
    Fn f(npk_jit_build(b));
    REQUIRE(f.p != nullptr);
    unsigned char bytes[300];
    int64_t want = 0;
    for (int k = 0; k < 300; ++k) {
        bytes[k] = static_cast<unsigned char>(k * 37 + 11);
        want += bytes[k];
    }
    CHECK(f.as<int64_t (*)(void*, int32_t)>()(bytes, 300) == want);
}

TEST_CASE("pointer arithmetic: ptr +/- i32 and i64, ptr - ptr", "[jitbuild][newops]") {
    for (int it : {NPK_JIT_I32, NPK_JIT_I64}) {
        for (int op : {NPK_JIT_ADD, NPK_JIT_SUB}) {
            for (bool swapped : {false, true}) {
                if (swapped && op == NPK_JIT_SUB) continue;
                npk_jit_builder* b = npk_jit_builder_new(NPK_JIT_PTR);
                const int32_t p = npk_jit_param(b, NPK_JIT_PTR), k = npk_jit_param(b, it);
                const int32_t r = npk_jit_var(b, NPK_JIT_PTR);
                REQUIRE((swapped ? npk_jit_op(b, op, r, k, p) : npk_jit_op(b, op, r, p, k)) == 0);
                npk_jit_ret(b, r);
                Fn f(npk_jit_build(b));
                REQUIRE(f.p != nullptr);
                for (int64_t x : kEdgeI64) {
                    const int64_t kk = it == NPK_JIT_I32 ? static_cast<int32_t>(x) : x;
                    const uint64_t base = 0x7f0000001000ULL;
                    const uint64_t want = op == NPK_JIT_ADD ? base + static_cast<uint64_t>(kk) : base - static_cast<uint64_t>(kk);
                    npk_jit_value args[2] = {}, got{};
                    args[0].type = NPK_JIT_PTR;
                    args[0].i64 = static_cast<int64_t>(base);
                    args[1].type = it;
                    if (it == NPK_JIT_I32) {
                        args[1].i32 = static_cast<int32_t>(kk);
                    } else {
                        args[1].i64 = kk;
                    }
                    REQUIRE(npk_jit_invoke(f.p, args, 2, &got) == 0);
                    INFO("type " << it << " op " << op << " k " << kk);
                    REQUIRE(static_cast<uint64_t>(got.i64) == want);
                }
            }
        }
    }
    // ptr - ptr gives the I64 distance; ptr + imm / - imm a ptr.
    npk_jit_builder* b = npk_jit_builder_new(NPK_JIT_I64);
    const int32_t p = npk_jit_param(b, NPK_JIT_PTR), q = npk_jit_param(b, NPK_JIT_PTR);
    const int32_t d = npk_jit_var(b, NPK_JIT_I64), t = npk_jit_var(b, NPK_JIT_PTR);
    REQUIRE(npk_jit_op_imm(b, NPK_JIT_ADD, t, q, 1000) == 0);
    REQUIRE(npk_jit_op_imm(b, NPK_JIT_SUB, t, t, 1) == 0);
    REQUIRE(npk_jit_op(b, NPK_JIT_SUB, d, t, p) == 0);
    npk_jit_ret(b, d);
    Fn f(npk_jit_build(b));
    REQUIRE(f.p != nullptr);
    static char arr[64];
    CHECK(f.as<int64_t (*)(char*, char*)>()(arr + 10, arr + 3) == 3 - 10 + 999);
    CHECK(f.as<int64_t (*)(char*, char*)>()(arr, arr) == 999);
}

namespace {

// i32 f(value): switch over n cases (case k returns k * 3 + 1), default -5.
void* build_switch(int vt, int n, bool repeat) {
    npk_jit_builder* b = npk_jit_builder_new(NPK_JIT_I32);
    const int32_t v = npk_jit_param(b, vt);
    const int32_t r = npk_jit_var(b, NPK_JIT_I32);
    std::vector<int32_t> cases(static_cast<size_t>(n));
    const int distinct = repeat ? std::min(n, 7) : n;
    std::vector<int32_t> labels(static_cast<size_t>(distinct));
    for (int32_t& l : labels) l = npk_jit_label(b);
    for (int k = 0; k < n; ++k) cases[static_cast<size_t>(k)] = labels[static_cast<size_t>(k % distinct)];
    const int32_t dflt = npk_jit_label(b);
    REQUIRE(npk_jit_switch(b, v, n, cases.data(), dflt) == 0);
    for (int k = 0; k < distinct; ++k) {
        npk_jit_bind(b, labels[static_cast<size_t>(k)]);
        npk_jit_const_i64(b, r, k * 3 + 1);
        npk_jit_ret(b, r);
    }
    npk_jit_bind(b, dflt);
    npk_jit_const_i64(b, r, -5);
    npk_jit_ret(b, r);
    return npk_jit_build(b);
}

}  // namespace

TEST_CASE("switch: in range, out of range, negative, large tables", "[jitbuild][newops]") {
    for (int vt : {NPK_JIT_I32, NPK_JIT_I64}) {
        for (int n : {0, 1, 2, 5, 100, 300, 4097, NPK_JIT_MAX_SWITCH}) {
            for (bool repeat : {false, true}) {
                if (!repeat && n > 300) continue;  // thousands of distinct cases: compile time, not coverage
                Fn f(build_switch(vt, n, repeat));
                REQUIRE(f.p != nullptr);
                const int distinct = repeat ? std::min(n, 7) : n;
                for (int64_t x : {int64_t{0}, int64_t{1}, int64_t{2}, int64_t{4}, int64_t{99}, int64_t{100},
                                  int64_t{n - 1}, int64_t{n}, int64_t{n + 1}, int64_t{-1}, int64_t{INT32_MIN},
                                  int64_t{INT32_MAX}, INT64_MIN, INT64_MAX, INT64_C(0x100000000)}) {
                    npk_jit_value a{}, r{};
                    a.type = vt;
                    if (vt == NPK_JIT_I32) {
                        a.i32 = static_cast<int32_t>(x);
                    } else {
                        a.i64 = x;
                    }
                    const int64_t xv = vt == NPK_JIT_I32 ? static_cast<int32_t>(x) : x;
                    const int32_t want = xv >= 0 && xv < n ? static_cast<int32_t>(xv % distinct) * 3 + 1 : -5;
                    INFO("type " << vt << " n " << n << " x " << xv);
                    REQUIRE(npk_jit_invoke(f.p, &a, 1, &r) == 0);
                    REQUIRE(r.i32 == want);
                }
            }
        }
    }
}

namespace {
extern "C" int64_t twice_plus(int64_t a, int32_t b) { return 2 * a + b; }
extern "C" double halve(double d) { return d / 2; }
}  // namespace

TEST_CASE("call_indirect: through a PTR variable, C and built callees", "[jitbuild][newops]") {
    npk_jit_builder* b = npk_jit_builder_new(NPK_JIT_I64);
    const int32_t fnv = npk_jit_param(b, NPK_JIT_PTR), x = npk_jit_param(b, NPK_JIT_I64);
    const int32_t y = npk_jit_param(b, NPK_JIT_I32), r = npk_jit_var(b, NPK_JIT_I64);
    const int32_t args[2] = {x, y};
    REQUIRE(npk_jit_call_indirect(b, r, fnv, NPK_JIT_I64, 2, args) == 0);
    npk_jit_ret(b, r);
    Fn f(npk_jit_build(b));
    REQUIRE(f.p != nullptr);
    auto fp = f.as<int64_t (*)(const void*, int64_t, int32_t)>();
    CHECK(fp(reinterpret_cast<const void*>(&twice_plus), 20, 2) == 42);
    CHECK(fp(reinterpret_cast<const void*>(&twice_plus), -5, -1) == -11);
    // A built callee of the same signature.
    npk_jit_builder* c = npk_jit_builder_new(NPK_JIT_I64);
    const int32_t a0 = npk_jit_param(c, NPK_JIT_I64), a1 = npk_jit_param(c, NPK_JIT_I32);
    const int32_t w = npk_jit_var(c, NPK_JIT_I64);
    npk_jit_convert(c, w, a1);
    npk_jit_op(c, NPK_JIT_SUB, w, a0, w);
    npk_jit_ret(c, w);
    Fn g(npk_jit_build(c));
    REQUIRE(g.p != nullptr);
    CHECK(fp(g.p, 50, 8) == 42);
    // F64 through the vector registers, result discarded and kept.
    npk_jit_builder* d = npk_jit_builder_new(NPK_JIT_F64);
    const int32_t fp2 = npk_jit_param(d, NPK_JIT_PTR), v = npk_jit_param(d, NPK_JIT_F64);
    const int32_t o = npk_jit_var(d, NPK_JIT_F64);
    REQUIRE(npk_jit_call_indirect(d, -1, fp2, NPK_JIT_F64, 1, &v) == 0);
    REQUIRE(npk_jit_call_indirect(d, o, fp2, NPK_JIT_F64, 1, &v) == 0);
    npk_jit_ret(d, o);
    Fn h(npk_jit_build(d));
    REQUIRE(h.p != nullptr);
    CHECK(h.as<double (*)(const void*, double)>()(reinterpret_cast<const void*>(&halve), 5.0) == 2.5);
}

TEST_CASE("call_self: recursion (factorial, fibonacci) and a void self call", "[jitbuild][newops]") {
    // fact(n) = n <= 1 ? 1 : n * fact(n - 1)
    npk_jit_builder* b = npk_jit_builder_new(NPK_JIT_I64);
    const int32_t n = npk_jit_param(b, NPK_JIT_I64);
    const int32_t m = npk_jit_var(b, NPK_JIT_I64), r = npk_jit_var(b, NPK_JIT_I64);
    const int32_t base = npk_jit_label(b);
    npk_jit_branch_cmp_imm(b, NPK_JIT_LE, n, 1, base);
    npk_jit_op_imm(b, NPK_JIT_SUB, m, n, 1);
    REQUIRE(npk_jit_call_self(b, r, 1, &m) == 0);
    npk_jit_op(b, NPK_JIT_MUL, r, r, n);
    npk_jit_ret(b, r);
    npk_jit_bind(b, base);
    npk_jit_const_i64(b, r, 1);
    npk_jit_ret(b, r);
    Fn f(npk_jit_build(b));
    REQUIRE(f.p != nullptr);
    auto fact = f.as<int64_t (*)(int64_t)>();
    int64_t want = 1;
    for (int64_t k = 1; k <= 20; ++k) {
        want *= k;
        CHECK(fact(k) == want);
    }
    CHECK(fact(0) == 1);
    CHECK(fact(-3) == 1);
    // fib in a region (the self call is position-independent), with i32 and f64 parameters.
    npk_jit_region* reg = npk_jit_region_new();
    npk_jit_builder* c = npk_jit_builder_new(NPK_JIT_F64);
    const int32_t k = npk_jit_param(c, NPK_JIT_I32), s = npk_jit_param(c, NPK_JIT_F64);
    const int32_t k1 = npk_jit_var(c, NPK_JIT_I32), x = npk_jit_var(c, NPK_JIT_F64), y = npk_jit_var(c, NPK_JIT_F64);
    const int32_t small = npk_jit_label(c);
    npk_jit_branch_cmp_imm(c, NPK_JIT_LT, k, 2, small);
    npk_jit_op_imm(c, NPK_JIT_SUB, k1, k, 1);
    const int32_t a1[2] = {k1, s};
    npk_jit_call_self(c, x, 2, a1);
    npk_jit_op_imm(c, NPK_JIT_SUB, k1, k, 2);
    npk_jit_call_self(c, y, 2, a1);
    npk_jit_op(c, NPK_JIT_ADD, x, x, y);
    npk_jit_ret(c, x);
    npk_jit_bind(c, small);
    npk_jit_convert(c, x, k);
    npk_jit_op(c, NPK_JIT_MUL, x, x, s);
    npk_jit_ret(c, x);
    void* fib = npk_jit_region_add(reg, c);
    REQUIRE(fib != nullptr);
    REQUIRE(npk_jit_region_seal(reg) == 0);
    CHECK(reinterpret_cast<double (*)(int32_t, double)>(fib)(20, 0.5) == 6765 * 0.5);
    npk_jit_region_free(reg);
}

TEST_CASE("entry zeroing: a variable read before written holds 0 on every path", "[jitbuild][newops]") {
    // v is written on one path only, then read; w is written before every read; u is read in a loop
    // before its write at the loop's end.
    npk_jit_builder* b = npk_jit_builder_new(NPK_JIT_I64);
    const int32_t c = npk_jit_param(b, NPK_JIT_I32);
    const int32_t v = npk_jit_var(b, NPK_JIT_I64), w = npk_jit_var(b, NPK_JIT_I64), u = npk_jit_var(b, NPK_JIT_I64);
    const int32_t f = npk_jit_var(b, NPK_JIT_F64), i = npk_jit_var(b, NPK_JIT_I32), r = npk_jit_var(b, NPK_JIT_I64);
    const int32_t skip = npk_jit_label(b), top = npk_jit_label(b), out = npk_jit_label(b);
    npk_jit_const_i64(b, w, 5);
    npk_jit_branch_cmp_imm(b, NPK_JIT_EQ, c, 0, skip);
    npk_jit_const_i64(b, v, 100);
    npk_jit_bind(b, skip);
    npk_jit_bind(b, top);
    npk_jit_op(b, NPK_JIT_ADD, r, u, w);  // u: 0 on the first turn, then r
    npk_jit_mov(b, u, r);
    npk_jit_op_imm(b, NPK_JIT_ADD, i, i, 1);
    npk_jit_branch_cmp_imm(b, NPK_JIT_LT, i, 3, top);
    npk_jit_bind(b, out);
    npk_jit_op(b, NPK_JIT_ADD, r, r, v);
    const int32_t t = npk_jit_var(b, NPK_JIT_I64);
    npk_jit_convert(b, t, f);  // f never written: 0.0
    npk_jit_op(b, NPK_JIT_ADD, r, r, t);
    npk_jit_ret(b, r);
    Fn fn(npk_jit_build(b));
    REQUIRE(fn.p != nullptr);
    auto fp = fn.as<int64_t (*)(int32_t)>();
    CHECK(fp(0) == 15);
    CHECK(fp(1) == 115);
}

// The record itself: which variables the lowerings zero at entry.
#include "codegen/builder.h"

TEST_CASE("entry zeroing: only variables some path reads before writing", "[jitbuild][newops]") {
    using npk::codegen::entry_zeroed;
    using npk::codegen::Vec;
    npk_jit_builder* b = npk_jit_builder_new(NPK_JIT_I64);
    const int32_t c = npk_jit_param(b, NPK_JIT_I64);
    enum { kWritten, kOnePath, kLoop, kNever, kDead, kSelf, kIndex, kCount };
    int32_t v[kCount];
    for (int32_t& x : v) x = npk_jit_var(b, NPK_JIT_I64);
    const int32_t skip = npk_jit_label(b), top = npk_jit_label(b), end = npk_jit_label(b);
    npk_jit_const_i64(b, v[kWritten], 1);                         // written first on every path
    npk_jit_branch_cmp_imm(b, NPK_JIT_EQ, c, 0, skip);
    npk_jit_const_i64(b, v[kOnePath], 2);                         // written on one path only
    npk_jit_bind(b, skip);
    npk_jit_op(b, NPK_JIT_ADD, v[kSelf], v[kSelf], v[kOnePath]);  // reads itself before writing
    npk_jit_bind(b, top);
    npk_jit_op(b, NPK_JIT_ADD, v[kWritten], v[kWritten], v[kLoop]);  // kLoop: written at the loop's end
    npk_jit_const_i64(b, v[kLoop], 3);
    npk_jit_branch_cmp_imm(b, NPK_JIT_LT, v[kWritten], 10, top);
    npk_jit_jump(b, end);
    npk_jit_op(b, NPK_JIT_ADD, v[kDead], v[kDead], v[kDead]);     // unreachable: never runs
    npk_jit_bind(b, end);
    const int32_t p = npk_jit_var(b, NPK_JIT_PTR);
    npk_jit_const_i64(b, p, 0);
    npk_jit_const_i64(b, v[kIndex], 0);
    npk_jit_switch(b, v[kWritten], 0, nullptr, skip);            // back to skip: kOnePath / kSelf stay live
    npk_jit_ret(b, v[kWritten]);
    Vec<uint8_t> z;
    REQUIRE(entry_zeroed(b->prog, &z));
    REQUIRE(z.size() == b->prog.vars.size());
    CHECK(z[static_cast<size_t>(c)] == 0);  // a parameter
    CHECK(z[static_cast<size_t>(v[kWritten])] == 0);
    CHECK(z[static_cast<size_t>(v[kOnePath])] == 1);
    CHECK(z[static_cast<size_t>(v[kLoop])] == 1);
    CHECK(z[static_cast<size_t>(v[kNever])] == 0);
    CHECK(z[static_cast<size_t>(v[kDead])] == 0);
    CHECK(z[static_cast<size_t>(v[kSelf])] == 1);
    CHECK(z[static_cast<size_t>(v[kIndex])] == 0);
    CHECK(z[static_cast<size_t>(p)] == 0);
    npk_jit_builder_free(b);
    // A long straight function: nothing read before written, nothing zeroed.
    npk_jit_builder* s = npk_jit_builder_new(NPK_JIT_I64);
    const int32_t acc = npk_jit_var(s, NPK_JIT_I64);
    npk_jit_const_i64(s, acc, 0);
    for (int i = 0; i < 5000; ++i) {
        const int32_t x = npk_jit_var(s, NPK_JIT_I64);
        npk_jit_const_i64(s, x, i);
        npk_jit_op(s, NPK_JIT_ADD, acc, acc, x);
    }
    npk_jit_ret(s, acc);
    REQUIRE(entry_zeroed(s->prog, &z));
    size_t zeroed = 0;
    for (uint8_t x : z) zeroed += x;
    CHECK(zeroed == 0);
    Fn f(npk_jit_build(s));
    REQUIRE(f.p != nullptr);
    CHECK(f.as<int64_t (*)()>()() == int64_t{4999} * 5000 / 2);
}
