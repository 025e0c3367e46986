// The builder's operations, each against C++ computing the same thing on
// edge values, called directly through a typed pointer and through
// npk_jit_invoke. Runs natively and, in the aarch64 build, under qemu.
#include "jitbuild_support.h"

#include <vector>

using namespace npk::test;

namespace {

constexpr int kIntOps[] = {NPK_JIT_ADD, NPK_JIT_SUB, NPK_JIT_MUL, NPK_JIT_DIV, NPK_JIT_REM, NPK_JIT_AND,
                           NPK_JIT_OR,  NPK_JIT_XOR, NPK_JIT_SHL, NPK_JIT_SHR, NPK_JIT_USHR, NPK_JIT_EQ,
                           NPK_JIT_NE,  NPK_JIT_LT,  NPK_JIT_LE,  NPK_JIT_GT,  NPK_JIT_GE,   NPK_JIT_ULT,
                           NPK_JIT_ULE, NPK_JIT_UGT, NPK_JIT_UGE};
constexpr int kF64Ops[] = {NPK_JIT_ADD, NPK_JIT_SUB, NPK_JIT_MUL, NPK_JIT_DIV, NPK_JIT_EQ,
                           NPK_JIT_NE,  NPK_JIT_LT,  NPK_JIT_LE,  NPK_JIT_GT,  NPK_JIT_GE};

npk_jit_value v_i32(int32_t x) { npk_jit_value v{}; v.type = NPK_JIT_I32; v.i32 = x; return v; }
npk_jit_value v_i64(int64_t x) { npk_jit_value v{}; v.type = NPK_JIT_I64; v.i64 = x; return v; }
npk_jit_value v_f64(double x) { npk_jit_value v{}; v.type = NPK_JIT_F64; v.f64 = x; return v; }
npk_jit_value v_ptr(int64_t x) { npk_jit_value v{}; v.type = NPK_JIT_PTR; v.i64 = x; return v; }

}  // namespace

TEST_CASE("jitbuild: every i32 operation matches C++ on edge values", "[jitbuild]") {
    for (int op : kIntOps) {
        Fn f(build_binop(NPK_JIT_I32, op));
        REQUIRE(f.p != nullptr);
        auto fp = f.as<int32_t (*)(int32_t, int32_t)>();
        for (int32_t a : kEdgeI32) {
            for (int32_t b : kEdgeI32) {
                const int32_t want = ref_int_op<int32_t>(op, a, b);
                INFO("op " << op << " a " << a << " b " << b);
                REQUIRE(fp(a, b) == want);
                npk_jit_value args[2] = {v_i32(a), v_i32(b)}, r{};
                REQUIRE(npk_jit_invoke(f.p, args, 2, &r) == 0);
                REQUIRE(r.type == NPK_JIT_I32);
                REQUIRE(r.i32 == want);
            }
        }
    }
}

TEST_CASE("jitbuild: every i64 operation matches C++ on edge values", "[jitbuild]") {
    for (int op : kIntOps) {
        Fn f(build_binop(NPK_JIT_I64, op));
        REQUIRE(f.p != nullptr);
        for (int64_t a : kEdgeI64) {
            for (int64_t b : kEdgeI64) {
                INFO("op " << op << " a " << a << " b " << b);
                const int64_t want = ref_int_op<int64_t>(op, a, b);
                if (is_compare_op(op)) {
                    REQUIRE(f.as<int32_t (*)(int64_t, int64_t)>()(a, b) == want);
                } else {
                    REQUIRE(f.as<int64_t (*)(int64_t, int64_t)>()(a, b) == want);
                }
                npk_jit_value args[2] = {v_i64(a), v_i64(b)}, r{};
                REQUIRE(npk_jit_invoke(f.p, args, 2, &r) == 0);
                REQUIRE((is_compare_op(op) ? r.i32 : r.i64) == want);
            }
        }
    }
}

TEST_CASE("jitbuild: ptr is a 64-bit integer to every operation", "[jitbuild]") {
    for (int op : kIntOps) {
        Fn f(build_binop(NPK_JIT_PTR, op));
        REQUIRE(f.p != nullptr);
        for (int64_t a : kEdgeI64) {
            for (int64_t b : kEdgeI64) {
                INFO("op " << op << " a " << a << " b " << b);
                npk_jit_value args[2] = {v_ptr(a), v_ptr(b)}, r{};
                REQUIRE(npk_jit_invoke(f.p, args, 2, &r) == 0);
                const int64_t want = ref_int_op<int64_t>(op, a, b);
                REQUIRE(r.type == (is_compare_op(op) ? NPK_JIT_I32 : NPK_JIT_PTR));
                REQUIRE((is_compare_op(op) ? r.i32 : r.i64) == want);
            }
        }
    }
}

TEST_CASE("jitbuild: every f64 operation matches C on edge values, NaN and signed zeros included", "[jitbuild]") {
    for (int op : kF64Ops) {
        Fn f(build_binop(NPK_JIT_F64, op));
        REQUIRE(f.p != nullptr);
        for (double a : kEdgeF64) {
            for (double b : kEdgeF64) {
                INFO("op " << op << " a " << a << " b " << b);
                const double want = ref_f64_op(op, a, b);
                npk_jit_value args[2] = {v_f64(a), v_f64(b)}, r{};
                REQUIRE(npk_jit_invoke(f.p, args, 2, &r) == 0);
                if (is_compare_op(op)) {
                    REQUIRE(f.as<int32_t (*)(double, double)>()(a, b) == static_cast<int32_t>(want));
                    REQUIRE(r.i32 == static_cast<int32_t>(want));
                } else {
                    REQUIRE(same_f64(f.as<double (*)(double, double)>()(a, b), want));
                    REQUIRE(same_f64(r.f64, want));
                }
            }
        }
    }
}

TEST_CASE("jitbuild: neg and not", "[jitbuild]") {
    Fn neg32(build_unary('n', NPK_JIT_I32, NPK_JIT_I32)), not32(build_unary('~', NPK_JIT_I32, NPK_JIT_I32));
    Fn neg64(build_unary('n', NPK_JIT_I64, NPK_JIT_I64)), not64(build_unary('~', NPK_JIT_I64, NPK_JIT_I64));
    Fn negf(build_unary('n', NPK_JIT_F64, NPK_JIT_F64));
    REQUIRE((neg32.p && not32.p && neg64.p && not64.p && negf.p));
    for (int32_t a : kEdgeI32) {
        CHECK(neg32.as<int32_t (*)(int32_t)>()(a) == static_cast<int32_t>(0u - static_cast<uint32_t>(a)));
        CHECK(not32.as<int32_t (*)(int32_t)>()(a) == ~a);
    }
    for (int64_t a : kEdgeI64) {
        CHECK(neg64.as<int64_t (*)(int64_t)>()(a) == static_cast<int64_t>(0ull - static_cast<uint64_t>(a)));
        CHECK(not64.as<int64_t (*)(int64_t)>()(a) == ~a);
    }
    for (double a : kEdgeF64) {
        // The sign flips, NaN included: compare the sign bit too.
        const double r = negf.as<double (*)(double)>()(a);
        CHECK((bits_of(r) >> 63) != (bits_of(a) >> 63));
        CHECK(same_f64(r, -a));
    }
}

TEST_CASE("jitbuild: conversions between every pair of types", "[jitbuild]") {
    Fn i32_i64(build_unary('c', NPK_JIT_I32, NPK_JIT_I64)), i64_i32(build_unary('c', NPK_JIT_I64, NPK_JIT_I32));
    Fn i32_ptr(build_unary('c', NPK_JIT_I32, NPK_JIT_PTR)), ptr_i32(build_unary('c', NPK_JIT_PTR, NPK_JIT_I32));
    Fn i64_ptr(build_unary('c', NPK_JIT_I64, NPK_JIT_PTR)), ptr_i64(build_unary('c', NPK_JIT_PTR, NPK_JIT_I64));
    Fn i64_f64(build_unary('c', NPK_JIT_I64, NPK_JIT_F64)), i32_f64(build_unary('c', NPK_JIT_I32, NPK_JIT_F64));
    Fn f64_i64(build_unary('c', NPK_JIT_F64, NPK_JIT_I64)), f64_i32(build_unary('c', NPK_JIT_F64, NPK_JIT_I32));
    Fn same(build_unary('c', NPK_JIT_F64, NPK_JIT_F64));
    for (int32_t a : kEdgeI32) {
        CHECK(i32_i64.as<int64_t (*)(int32_t)>()(a) == static_cast<int64_t>(a));
        CHECK(reinterpret_cast<intptr_t>(i32_ptr.as<void* (*)(int32_t)>()(a)) == static_cast<intptr_t>(a));
        CHECK(same_f64(i32_f64.as<double (*)(int32_t)>()(a), static_cast<double>(a)));
    }
    for (int64_t a : kEdgeI64) {
        CHECK(i64_i32.as<int32_t (*)(int64_t)>()(a) == static_cast<int32_t>(static_cast<uint64_t>(a)));
        void* p = reinterpret_cast<void*>(static_cast<intptr_t>(a));
        CHECK(ptr_i32.as<int32_t (*)(void*)>()(p) == static_cast<int32_t>(static_cast<uint64_t>(a)));
        CHECK(i64_ptr.as<void* (*)(int64_t)>()(a) == p);
        CHECK(ptr_i64.as<int64_t (*)(void*)>()(p) == a);
        CHECK(same_f64(i64_f64.as<double (*)(int64_t)>()(a), static_cast<double>(a)));  // round to nearest
    }
    for (double d : kEdgeF64) {
        INFO("d = " << d);
        CHECK(f64_i64.as<int64_t (*)(double)>()(d) == ref_f64_to_int<int64_t>(d));
        CHECK(f64_i32.as<int32_t (*)(double)>()(d) == ref_f64_to_int<int32_t>(d));
        CHECK(same_f64(same.as<double (*)(double)>()(d), d));
    }
}

TEST_CASE("jitbuild: constants, moves and operands that alias the destination", "[jitbuild]") {
    // r = c; (an I32 takes the low 32 bits of const_i64)
    for (int64_t c : kEdgeI64) {
        npk_jit_builder* b = npk_jit_builder_new(NPK_JIT_I32);
        const int32_t r = npk_jit_var(b, NPK_JIT_I32);
        REQUIRE(npk_jit_const_i64(b, r, c) == 0);
        REQUIRE(npk_jit_ret(b, r) == 0);
        Fn f(npk_jit_build(b));
        REQUIRE(f.p != nullptr);
        CHECK(f.as<int32_t (*)()>()() == static_cast<int32_t>(static_cast<uint64_t>(c)));
    }
    for (double c : kEdgeF64) {
        npk_jit_builder* b = npk_jit_builder_new(NPK_JIT_F64);
        const int32_t r = npk_jit_var(b, NPK_JIT_F64), s = npk_jit_var(b, NPK_JIT_F64);
        REQUIRE(npk_jit_const_f64(b, s, c) == 0);
        REQUIRE(npk_jit_mov(b, r, s) == 0);
        REQUIRE(npk_jit_ret(b, r) == 0);
        Fn f(npk_jit_build(b));
        REQUIRE(f.p != nullptr);
        const double got = f.as<double (*)()>()();
        CHECK((std::isnan(c) ? std::isnan(got) : bits_of(got) == bits_of(c)));
    }
    // x = y - x; y = y - y; x = x << x: the destination is an operand.
    for (int type : {NPK_JIT_I64, NPK_JIT_F64}) {
        npk_jit_builder* b = npk_jit_builder_new(type);
        const int32_t x = npk_jit_param(b, type), y = npk_jit_param(b, type);
        npk_jit_op(b, NPK_JIT_SUB, x, y, x);  // x = y - x
        npk_jit_op(b, NPK_JIT_DIV, x, x, y);  // x = x / y
        npk_jit_op(b, NPK_JIT_ADD, y, y, y);  // y = 2y
        npk_jit_op(b, NPK_JIT_SUB, x, y, x);  // x = y - x
        npk_jit_ret(b, x);
        Fn f(npk_jit_build(b));
        REQUIRE(f.p != nullptr);
        if (type == NPK_JIT_I64) {
            CHECK(f.as<int64_t (*)(int64_t, int64_t)>()(3, 10) == 20 - (10 - 3) / 10);
            CHECK(f.as<int64_t (*)(int64_t, int64_t)>()(-50, 7) == 14 - (7 + 50) / 7);
        } else {
            CHECK(f.as<double (*)(double, double)>()(3, 10) == 20 - (10.0 - 3) / 10);
        }
    }
}

TEST_CASE("jitbuild: loads and stores of every width at any offset", "[jitbuild]") {
    // f(p): p[off_a] (i32) -> i64 at off_b; f64 copied; ptr copied; returns the i32 read.
    alignas(16) unsigned char buf[9000] = {};
    const int32_t offs[] = {0, 4, 8, 1, 3, 255, 256, 4095, 4096, 8000, -4, -8, -256, -300};
    for (int32_t off : offs) {
        std::memset(buf, 0, sizeof buf);
        unsigned char* base = buf + 512;  // room for the negative offsets
        const int32_t v32 = static_cast<int32_t>(0x89ABCDEF);
        const int64_t v64 = INT64_C(0x0123456789ABCDEF);
        const double vf = -1234.5625;
        std::memcpy(base + off, &v32, 4);
        npk_jit_builder* b = npk_jit_builder_new(NPK_JIT_I32);
        const int32_t p = npk_jit_param(b, NPK_JIT_PTR);
        const int32_t r32 = npk_jit_var(b, NPK_JIT_I32), w64 = npk_jit_var(b, NPK_JIT_I64);
        const int32_t wf = npk_jit_var(b, NPK_JIT_F64), wp = npk_jit_var(b, NPK_JIT_PTR);
        npk_jit_load(b, r32, p, off);
        npk_jit_const_i64(b, w64, v64);
        npk_jit_store(b, p, off + 16, w64);
        npk_jit_const_f64(b, wf, vf);
        npk_jit_store(b, p, off + 32, wf);
        npk_jit_load(b, wf, p, off + 32);
        npk_jit_store(b, p, off + 40, wf);
        npk_jit_load(b, wp, p, off + 16);
        npk_jit_store(b, p, off + 48, wp);
        npk_jit_ret(b, r32);
        Fn f(npk_jit_build(b));
        REQUIRE(f.p != nullptr);
        INFO("offset " << off);
        CHECK(f.as<int32_t (*)(void*)>()(base) == v32);
        int64_t got64;
        double gotf;
        std::memcpy(&got64, base + off + 16, 8);
        CHECK(got64 == v64);
        std::memcpy(&gotf, base + off + 40, 8);
        CHECK(gotf == vf);
        std::memcpy(&got64, base + off + 48, 8);
        CHECK(got64 == v64);
        CHECK(base[off + 4] == 0);  // an i32 access touches 4 bytes only
    }
}

TEST_CASE("jitbuild: labels, branches and loops", "[jitbuild]") {
    // i64 sum(i64 n) { s = 0; i = 0; loop: if (!(i < n)) goto done; s += i*i; i += 1; goto loop; done: return s; }
    npk_jit_builder* b = npk_jit_builder_new(NPK_JIT_I64);
    const int32_t n = npk_jit_param(b, NPK_JIT_I64);
    const int32_t s = npk_jit_var(b, NPK_JIT_I64), i = npk_jit_var(b, NPK_JIT_I64), one = npk_jit_var(b, NPK_JIT_I64);
    const int32_t t = npk_jit_var(b, NPK_JIT_I64), c = npk_jit_var(b, NPK_JIT_I32);
    const int32_t loop = npk_jit_label(b), done = npk_jit_label(b);
    npk_jit_const_i64(b, one, 1);
    REQUIRE(npk_jit_bind(b, loop) == 0);
    npk_jit_op(b, NPK_JIT_GE, c, i, n);
    REQUIRE(npk_jit_branch_if(b, c, done) == 0);
    npk_jit_op(b, NPK_JIT_MUL, t, i, i);
    npk_jit_op(b, NPK_JIT_ADD, s, s, t);
    npk_jit_op(b, NPK_JIT_ADD, i, i, one);
    REQUIRE(npk_jit_jump(b, loop) == 0);
    REQUIRE(npk_jit_bind(b, done) == 0);
    npk_jit_ret(b, s);
    Fn f(npk_jit_build(b));
    REQUIRE(f.p != nullptr);
    for (int64_t k : {0, 1, 2, 10, 1000}) {
        int64_t want = 0;
        for (int64_t j = 0; j < k; ++j) want += j * j;
        CHECK(f.as<int64_t (*)(int64_t)>()(k) == want);
    }
}

TEST_CASE("jitbuild: variables start at 0 and running off the end returns 0", "[jitbuild]") {
    for (int type : {NPK_JIT_I32, NPK_JIT_I64, NPK_JIT_F64, NPK_JIT_PTR}) {
        npk_jit_builder* b = npk_jit_builder_new(type);
        const int32_t v = npk_jit_var(b, type);
        npk_jit_ret(b, v);
        Fn f(npk_jit_build(b));
        REQUIRE(f.p != nullptr);
        npk_jit_value r{};
        REQUIRE(npk_jit_invoke(f.p, nullptr, 0, &r) == 0);
        CHECK(r.type == type);
        CHECK(r.i64 == 0);
    }
    npk_jit_builder* b = npk_jit_builder_new(NPK_JIT_F64);
    npk_jit_param(b, NPK_JIT_F64);
    Fn f(npk_jit_build(b));
    REQUIRE(f.p != nullptr);
    CHECK(bits_of(f.as<double (*)(double)>()(5.0)) == 0);
    npk_jit_builder* v = npk_jit_builder_new(NPK_JIT_VOID);
    Fn g(npk_jit_build(v));
    REQUIRE(g.p != nullptr);
    npk_jit_value r{};
    r.type = 99;
    REQUIRE(npk_jit_invoke(g.p, nullptr, 0, &r) == 0);
    CHECK(r.type == NPK_JIT_VOID);
}

TEST_CASE("jitbuild: the recorded signature, as text", "[jitbuild]") {
    npk_jit_builder* b = npk_jit_builder_new(NPK_JIT_I64);
    for (int t : {NPK_JIT_I64, NPK_JIT_F64, NPK_JIT_PTR, NPK_JIT_I32, NPK_JIT_I64, NPK_JIT_I64, NPK_JIT_I64, NPK_JIT_I64}) {
        REQUIRE(npk_jit_param(b, t) >= 0);
    }
    Fn f(npk_jit_build(b));
    REQUIRE(f.p != nullptr);
    char buf[64];
    const int32_t n = npk_jit_signature(f.p, buf, sizeof buf);
    CHECK(std::string(buf) == "i64(i64, f64, ptr, i32, i64, i64, i64, i64)");
    CHECK(n == static_cast<int32_t>(std::strlen(buf)));
    npk_jit_builder* v = npk_jit_builder_new(NPK_JIT_VOID);
    Fn g(npk_jit_build(v));
    REQUIRE(npk_jit_signature(g.p, buf, sizeof buf) == 6);
    CHECK(std::string(buf) == "void()");
}

namespace {

// r(a, b) = (a <op> b) ? 1 : 0 with the comparison's result read only by
// the branch right after it: the lowerings fuse them (compare and jump on
// the flags) instead of materialising the 0/1.
void* build_compare_branch(int type, int op) {
    npk_jit_builder* b = npk_jit_builder_new(NPK_JIT_I32);
    const int32_t x = npk_jit_param(b, type), y = npk_jit_param(b, type);
    const int32_t c = npk_jit_var(b, NPK_JIT_I32), r = npk_jit_var(b, NPK_JIT_I32);
    const int32_t yes = npk_jit_label(b);
    npk_jit_op(b, op, c, x, y);
    npk_jit_branch_if(b, c, yes);
    npk_jit_ret(b, r);  // 0
    npk_jit_bind(b, yes);
    npk_jit_const_i64(b, r, 1);
    npk_jit_ret(b, r);
    return npk_jit_build(b);
}

}  // namespace

TEST_CASE("jitbuild: a comparison fused with the branch on its result matches C++", "[jitbuild]") {
    for (int op = NPK_JIT_EQ; op <= NPK_JIT_UGE; ++op) {
        Fn f32(build_compare_branch(NPK_JIT_I32, op)), f64i(build_compare_branch(NPK_JIT_I64, op));
        REQUIRE((f32.p && f64i.p));
        for (int32_t a : kEdgeI32) {
            for (int32_t b : kEdgeI32) {
                INFO("i32 op " << op << " a " << a << " b " << b);
                REQUIRE(f32.as<int32_t (*)(int32_t, int32_t)>()(a, b) == ref_int_op<int32_t>(op, a, b));
            }
        }
        for (int64_t a : kEdgeI64) {
            for (int64_t b : kEdgeI64) {
                INFO("i64 op " << op << " a " << a << " b " << b);
                REQUIRE(f64i.as<int32_t (*)(int64_t, int64_t)>()(a, b) == ref_int_op<int64_t>(op, a, b));
            }
        }
    }
    for (int op = NPK_JIT_EQ; op <= NPK_JIT_GE; ++op) {
        Fn f(build_compare_branch(NPK_JIT_F64, op));
        REQUIRE(f.p != nullptr);
        for (double a : kEdgeF64) {
            for (double b : kEdgeF64) {
                INFO("f64 op " << op << " a " << a << " b " << b);
                REQUIRE(f.as<int32_t (*)(double, double)>()(a, b) == static_cast<int32_t>(ref_f64_op(op, a, b)));
            }
        }
    }
}
