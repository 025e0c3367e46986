// Regions: many functions sealed once; calls from JIT code into C and
// into JIT code; W^X in /proc/self/maps.
#include "jitbuild_support.h"

#include <vector>

using namespace npk::test;

namespace {

// f_k: i64(i64 x) = x * k + k*k, or i32(i32, i32) = a - b*k, or f64(f64) = x * k.
npk_jit_builder* make_kth(int64_t k) {
    const int shape = static_cast<int>(k % 3);
    const int type = shape == 0 ? NPK_JIT_I64 : shape == 1 ? NPK_JIT_I32 : NPK_JIT_F64;
    npk_jit_builder* b = npk_jit_builder_new(type);
    const int32_t x = npk_jit_param(b, type);
    const int32_t y = shape == 1 ? npk_jit_param(b, type) : -1;
    const int32_t c = npk_jit_var(b, type);
    if (type == NPK_JIT_F64) {
        npk_jit_const_f64(b, c, static_cast<double>(k));
    } else {
        npk_jit_const_i64(b, c, k);
    }
    if (shape == 1) {
        npk_jit_op(b, NPK_JIT_MUL, c, y, c);
        npk_jit_op(b, NPK_JIT_SUB, x, x, c);
    } else {
        npk_jit_op(b, NPK_JIT_MUL, x, x, c);
    }
    if (shape == 0) {
        npk_jit_const_i64(b, c, k * k);
        npk_jit_op(b, NPK_JIT_ADD, x, x, c);
    }
    npk_jit_ret(b, x);
    return b;
}

void check_kth(void* fn, int64_t k) {
    INFO("function " << k);
    npk_jit_value a[2]{}, r{};
    switch (k % 3) {
        case 0:
            REQUIRE(fn != nullptr);
            CHECK(reinterpret_cast<int64_t (*)(int64_t)>(fn)(7) == 7 * k + k * k);
            a[0].type = NPK_JIT_I64;
            a[0].i64 = -3;
            REQUIRE(npk_jit_invoke(fn, a, 1, &r) == 0);
            CHECK(r.i64 == -3 * k + k * k);
            break;
        case 1:
            CHECK(reinterpret_cast<int32_t (*)(int32_t, int32_t)>(fn)(100, 2) == static_cast<int32_t>(100 - 2 * k));
            a[0].type = a[1].type = NPK_JIT_I32;
            a[0].i32 = 5;
            a[1].i32 = 3;
            REQUIRE(npk_jit_invoke(fn, a, 2, &r) == 0);
            CHECK(r.i32 == static_cast<int32_t>(5 - 3 * k));
            break;
        default:
            CHECK(reinterpret_cast<double (*)(double)>(fn)(0.5) == 0.5 * static_cast<double>(k));
            break;
    }
}

}  // namespace

TEST_CASE("region: 10,000 functions in one region, sealed once, each called with its signature", "[jitbuild][region]") {
    StatsWatch w;
    npk_jit_region* r = npk_jit_region_new();
    REQUIRE(r != nullptr);
    constexpr int64_t kN = 10000;
    std::vector<void*> fns;
    for (int64_t k = 0; k < kN; ++k) {
        void* fn = npk_jit_region_add(r, make_kth(k));
        REQUIRE(fn != nullptr);
        fns.push_back(fn);
    }
    CHECK(npk_jit_region_count(r) == kN);
    // Not callable before the seal.
    npk_jit_value a{};
    a.type = NPK_JIT_I64;
    CHECK(npk_jit_invoke(fns[0], &a, 1, nullptr) == -1);
    CHECK(npk_wildx_last_error() == NPK_ERR_JIT_NOT_FUNCTION);
    const Delta before_seal = w.delta();
    CHECK(before_seal.live_pages <= 10);  // a few chunks, not one page per function
    REQUIRE(npk_jit_region_seal(r) == 0);
    CHECK(w.delta().seals == before_seal.allocs);  // one seal per allocation
    for (int64_t k = 0; k < kN; ++k) check_kth(fns[static_cast<size_t>(k)], k);
    // A region function is never freed alone: it is an interior pointer.
    CHECK(npk_wildx_free(fns[1]) == -1);
    CHECK(npk_wildx_last_error() == NPK_ERR_INTERIOR);
    // No writable-and-executable mapping, and the code is r-x.
    MapsReader maps;
    maps.read();
    CHECK(maps.writable_and_executable() == nullptr);
    for (void* fn : {fns[0], fns[kN / 2], fns[kN - 1]}) {
        const auto a0 = reinterpret_cast<uintptr_t>(fn);
        CHECK(maps.covered(a0, a0 + 1, "r-xp"));
    }
    REQUIRE(npk_jit_region_free(r) == 0);
    CHECK(npk_jit_invoke(fns[0], &a, 1, nullptr) == -1);
    CHECK(npk_wildx_last_error() == NPK_ERR_JIT_NOT_FUNCTION);
    CHECK(w.delta().live_pages == 0);
    CHECK(w.delta().live_bytes == 0);
}

TEST_CASE("region: empty, sealed twice, added to after the seal", "[jitbuild][region]") {
    StatsWatch w;
    npk_jit_region* empty = npk_jit_region_new();
    CHECK(npk_jit_region_free(empty) == 0);

    npk_jit_region* r = npk_jit_region_new();
    void* f = npk_jit_region_add(r, make_kth(3));
    REQUIRE(f != nullptr);
    REQUIRE(npk_jit_region_seal(r) == 0);
    CHECK(npk_jit_region_seal(r) == -1);
    CHECK(npk_wildx_last_error() == NPK_ERR_JIT_REGION_SEALED);
    CHECK(npk_jit_region_add(r, make_kth(4)) == nullptr);  // the builder is consumed all the same
    CHECK(npk_wildx_last_error() == NPK_ERR_JIT_REGION_SEALED);
    CHECK(npk_jit_region_count(r) == 1);
    check_kth(f, 3);
    CHECK(npk_jit_region_free(r) == 0);

    npk_jit_region* s = npk_jit_region_new();  // sealing an empty region is allowed; adding then is not
    CHECK(npk_jit_region_seal(s) == 0);
    CHECK(npk_jit_region_add(s, make_kth(1)) == nullptr);
    CHECK(npk_jit_region_free(s) == 0);

    CHECK(npk_jit_region_seal(nullptr) == -1);
    CHECK(npk_wildx_last_error() == NPK_ERR_NULL);
    CHECK(npk_jit_region_free(nullptr) == -1);
    CHECK(npk_jit_region_add(nullptr, make_kth(2)) == nullptr);
    CHECK(npk_jit_region_count(nullptr) == -1);
    CHECK(w.delta().live_pages == 0);
}

TEST_CASE("region: a quota refusal leaves the region usable", "[jitbuild][region]") {
    SwitchesGuard g;
    npk_wildx_set_quiet(1);
    StatsWatch w;
    npk_jit_region* r = npk_jit_region_new();
    void* f = npk_jit_region_add(r, make_kth(0));
    REQUIRE(f != nullptr);
    npk_wildx_set_quota(stats_now().live_bytes);  // no room for another chunk
    void* last = nullptr;
    int added = 1;
    for (int k = 1; k < 100000; ++k) {
        last = npk_jit_region_add(r, make_kth(k));
        if (last == nullptr) break;
        ++added;
    }
    REQUIRE(last == nullptr);
    CHECK(npk_wildx_last_error() == NPK_ERR_QUOTA);
    CHECK(npk_jit_region_count(r) == added);
    npk_wildx_set_quota(g.quota);
    void* more = npk_jit_region_add(r, make_kth(added));
    REQUIRE(more != nullptr);
    REQUIRE(npk_jit_region_seal(r) == 0);
    check_kth(f, 0);
    check_kth(more, added);
    CHECK(npk_jit_region_free(r) == 0);
    CHECK(w.delta().live_pages == 0);
}

// C functions JIT code calls, 0 to 8 arguments of mixed types.
extern "C" {
static int64_t c_zero() { return 42; }
static int64_t c_ints(int64_t a, int64_t b, int64_t c, int64_t d, int64_t e, int64_t f, int64_t g, int64_t h) {
    return a + 2 * b + 3 * c + 4 * d + 5 * e + 6 * f + 7 * g + 8 * h;
}
static double c_f64s(double a, double b, double c, double d, double e, double f, double g, double h) {
    return a + 2 * b + 3 * c + 4 * d + 5 * e + 6 * f + 7 * g + 8 * h;
}
static double c_mixed(int32_t a, double b, int64_t c, double d, void* e, int32_t f, double g, int64_t h) {
    return a + 2 * b + 3 * static_cast<double>(c) + 4 * d + 5 * static_cast<double>(reinterpret_cast<intptr_t>(e)) +
           6 * f + 7 * g + 8 * static_cast<double>(h);
}
static int32_t c_three(int32_t a, double b, int64_t c) { return a * 100 + static_cast<int32_t>(b) * 10 + static_cast<int32_t>(c); }
static int64_t g_sink = 0;
static void c_void(int64_t v) { g_sink = v; }
}

namespace {

// A JIT function with the callee's parameters that calls it and returns its result.
void* forwarder(const void* callee, int ret, std::initializer_list<int> types) {
    npk_jit_builder* b = npk_jit_builder_new(ret);
    std::vector<int32_t> ps;
    for (int t : types) ps.push_back(npk_jit_param(b, t));
    const int32_t r = ret == NPK_JIT_VOID ? -1 : npk_jit_var(b, ret);
    REQUIRE(npk_jit_call_native(b, r, callee, ret, static_cast<int32_t>(ps.size()), ps.data()) == 0);
    npk_jit_ret(b, r);
    return npk_jit_build(b);
}

}  // namespace

TEST_CASE("call_native: 0 to 8 arguments of mixed types, and void", "[jitbuild]") {
    Fn f0(forwarder(reinterpret_cast<const void*>(&c_zero), NPK_JIT_I64, {}));
    REQUIRE(f0.p != nullptr);
    CHECK(f0.as<int64_t (*)()>()() == 42);

    const int I = NPK_JIT_I64, D = NPK_JIT_F64;
    Fn fi(forwarder(reinterpret_cast<const void*>(&c_ints), I, {I, I, I, I, I, I, I, I}));
    REQUIRE(fi.p != nullptr);
    CHECK(fi.as<decltype(&c_ints)>()(1, 2, 3, 4, 5, 6, 7, -8) == c_ints(1, 2, 3, 4, 5, 6, 7, -8));
    npk_jit_value a[8]{}, r{};
    for (int k = 0; k < 8; ++k) {
        a[k].type = I;
        a[k].i64 = (k + 1) * 1000003LL;
    }
    REQUIRE(npk_jit_invoke(fi.p, a, 8, &r) == 0);
    CHECK(r.i64 == c_ints(a[0].i64, a[1].i64, a[2].i64, a[3].i64, a[4].i64, a[5].i64, a[6].i64, a[7].i64));

    Fn ff(forwarder(reinterpret_cast<const void*>(&c_f64s), D, {D, D, D, D, D, D, D, D}));
    REQUIRE(ff.p != nullptr);
    CHECK(ff.as<decltype(&c_f64s)>()(.5, 1, 2, 3, 4, 5, 6, 7.25) == c_f64s(.5, 1, 2, 3, 4, 5, 6, 7.25));

    const int W = NPK_JIT_I32, P = NPK_JIT_PTR;
    Fn fm(forwarder(reinterpret_cast<const void*>(&c_mixed), D, {W, D, I, D, P, W, D, I}));
    REQUIRE(fm.p != nullptr);
    void* p = reinterpret_cast<void*>(intptr_t{4096});
    CHECK(fm.as<decltype(&c_mixed)>()(-3, 1.5, 1LL << 40, -2.25, p, 7, 0.125, -9) ==
          c_mixed(-3, 1.5, 1LL << 40, -2.25, p, 7, 0.125, -9));
    npk_jit_value m[8]{};
    m[0].type = W; m[0].i32 = -3;
    m[1].type = D; m[1].f64 = 1.5;
    m[2].type = I; m[2].i64 = 1LL << 40;
    m[3].type = D; m[3].f64 = -2.25;
    m[4].type = P; m[4].ptr = p;
    m[5].type = W; m[5].i32 = 7;
    m[6].type = D; m[6].f64 = 0.125;
    m[7].type = I; m[7].i64 = -9;
    REQUIRE(npk_jit_invoke(fm.p, m, 8, &r) == 0);
    CHECK(r.type == D);
    CHECK(r.f64 == c_mixed(-3, 1.5, 1LL << 40, -2.25, p, 7, 0.125, -9));

    Fn f3(forwarder(reinterpret_cast<const void*>(&c_three), W, {W, D, I}));
    REQUIRE(f3.p != nullptr);
    CHECK(f3.as<decltype(&c_three)>()(4, 5.9, 6) == 456);

    Fn fv(forwarder(reinterpret_cast<const void*>(&c_void), NPK_JIT_VOID, {I}));
    REQUIRE(fv.p != nullptr);
    fv.as<void (*)(int64_t)>()(77);
    CHECK(g_sink == 77);
    a[0].i64 = 78;
    REQUIRE(npk_jit_invoke(fv.p, a, 1, nullptr) == 0);
    CHECK(g_sink == 78);
}

TEST_CASE("call_native: JIT code calls JIT code, in a region and across pages", "[jitbuild]") {
    // f(x) = 3x + 1 on its own page; g(x) = f(x) + f(x + 1) in a region; h(x) = g(g(x)) in the same region.
    npk_jit_builder* bf = npk_jit_builder_new(NPK_JIT_I64);
    const int32_t x = npk_jit_param(bf, NPK_JIT_I64), k = npk_jit_var(bf, NPK_JIT_I64);
    npk_jit_const_i64(bf, k, 3);
    npk_jit_op(bf, NPK_JIT_MUL, x, x, k);
    npk_jit_const_i64(bf, k, 1);
    npk_jit_op(bf, NPK_JIT_ADD, x, x, k);
    npk_jit_ret(bf, x);
    Fn f(npk_jit_build(bf));
    REQUIRE(f.p != nullptr);

    npk_jit_region* r = npk_jit_region_new();
    npk_jit_builder* bg = npk_jit_builder_new(NPK_JIT_I64);
    const int32_t gx = npk_jit_param(bg, NPK_JIT_I64), t1 = npk_jit_var(bg, NPK_JIT_I64), t2 = npk_jit_var(bg, NPK_JIT_I64);
    npk_jit_call_native(bg, t1, f.p, NPK_JIT_I64, 1, &gx);
    npk_jit_const_i64(bg, t2, 1);
    npk_jit_op(bg, NPK_JIT_ADD, t2, gx, t2);
    npk_jit_call_native(bg, t2, f.p, NPK_JIT_I64, 1, &t2);
    npk_jit_op(bg, NPK_JIT_ADD, t1, t1, t2);
    npk_jit_ret(bg, t1);
    void* g = npk_jit_region_add(r, bg);
    REQUIRE(g != nullptr);
    npk_jit_builder* bh = npk_jit_builder_new(NPK_JIT_I64);
    const int32_t hx = npk_jit_param(bh, NPK_JIT_I64);
    npk_jit_call_native(bh, hx, g, NPK_JIT_I64, 1, &hx);  // sealed with g before it runs
    npk_jit_call_native(bh, hx, g, NPK_JIT_I64, 1, &hx);
    npk_jit_ret(bh, hx);
    void* h = npk_jit_region_add(r, bh);
    REQUIRE(h != nullptr);
    REQUIRE(npk_jit_region_seal(r) == 0);
    auto gf = [](int64_t v) { return (3 * v + 1) + (3 * (v + 1) + 1); };
    CHECK(reinterpret_cast<int64_t (*)(int64_t)>(g)(5) == gf(5));
    CHECK(reinterpret_cast<int64_t (*)(int64_t)>(h)(5) == gf(gf(5)));
    CHECK(npk_jit_region_free(r) == 0);
}
