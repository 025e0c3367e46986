// Every misuse of the builder, of regions and of npk_jit_invoke: -1 (or
// NULL), the status, the sticky first error, nothing leaked, nothing
// called. And W^X after builds and faults.
#include "jitbuild_support.h"

#include "core/test_seams.h"

#include <functional>

using namespace npk::test;
using npk::os::testing::OsCall;
using npk::os::testing::fail_nth_os_call;

namespace {

struct Quiet {
    SwitchesGuard g;
    Quiet() { npk_wildx_set_quiet(1); }
    ~Quiet() { npk::os::testing::clear_os_faults(); }
};

// Runs `misuse` on a fresh builder of `ret` with an i32 and an i64
// parameter (vars 0, 1), an f64 and a ptr var (2, 3) and one label (0):
// it must return -1 with `code`; then the error must stick and the build
// must fail with it, leaking nothing.
void expect_sticky(int32_t code, const std::function<int32_t(npk_jit_builder*)>& misuse, int ret = NPK_JIT_I64) {
    StatsWatch w;
    npk_jit_builder* b = npk_jit_builder_new(ret);
    REQUIRE(b != nullptr);
    REQUIRE(npk_jit_param(b, NPK_JIT_I32) == 0);
    REQUIRE(npk_jit_param(b, NPK_JIT_I64) == 1);
    REQUIRE(npk_jit_var(b, NPK_JIT_F64) == 2);
    REQUIRE(npk_jit_var(b, NPK_JIT_PTR) == 3);
    REQUIRE(npk_jit_label(b) == 0);
    REQUIRE(npk_jit_builder_error(b) == NPK_OK);
    CHECK(misuse(b) == -1);
    CHECK(npk_wildx_last_error() == code);
    CHECK(npk_jit_builder_error(b) == code);
    const std::string first = NPK_JIT_MESSAGE();
    CHECK(first.find("npk_jit_") != std::string::npos);  // names the call
    // Sticky: a call that would be fine is refused, and says why.
    CHECK(npk_jit_mov(b, 1, 1) == -1);
    CHECK(npk_wildx_last_error() == NPK_ERR_JIT_BUILDER_FAILED);
    CHECK(NPK_JIT_MESSAGE().find("failed earlier") != std::string::npos);
    CHECK(npk_jit_var(b, NPK_JIT_I64) == -1);
    CHECK(npk_jit_label(b) == -1);
    CHECK(npk_jit_builder_error(b) == code);
    // Nothing half-built becomes executable; the build reports the first error.
    CHECK(npk_jit_build(b) == nullptr);
    CHECK(npk_wildx_last_error() == code);
    CHECK(w.delta().live_pages == 0);
    CHECK(w.delta().allocs == 0);
}

int64_t g_calls = 0;
extern "C" int64_t counted(int64_t a, int64_t b) {
    ++g_calls;
    return a + b;
}

// i64 f(i64, i64) that counts its calls in g_calls.
void* counting_fn() {
    npk_jit_builder* b = npk_jit_builder_new(NPK_JIT_I64);
    int32_t p[2] = {npk_jit_param(b, NPK_JIT_I64), npk_jit_param(b, NPK_JIT_I64)};
    const int32_t r = npk_jit_var(b, NPK_JIT_I64);
    npk_jit_call_native(b, r, reinterpret_cast<const void*>(&counted), NPK_JIT_I64, 2, p);
    npk_jit_ret(b, r);
    return npk_jit_build(b);
}

}  // namespace

TEST_CASE("builder misuse: types, variables, operations", "[jitbuild][misuse]") {
    Quiet q;
    CHECK(npk_jit_builder_new(-1) == nullptr);
    CHECK(npk_wildx_last_error() == NPK_ERR_JIT_BAD_TYPE);
    CHECK(npk_jit_builder_new(5) == nullptr);
    CHECK(npk_wildx_last_error() == NPK_ERR_JIT_BAD_TYPE);
    expect_sticky(NPK_ERR_JIT_BAD_TYPE, [](npk_jit_builder* b) { return npk_jit_var(b, NPK_JIT_VOID); });
    expect_sticky(NPK_ERR_JIT_BAD_TYPE, [](npk_jit_builder* b) { return npk_jit_var(b, 9); });
    expect_sticky(NPK_ERR_JIT_BAD_VAR, [](npk_jit_builder* b) { return npk_jit_op(b, NPK_JIT_ADD, 1, 1, 99); });
    expect_sticky(NPK_ERR_JIT_BAD_VAR, [](npk_jit_builder* b) { return npk_jit_mov(b, -1, 1); });
    expect_sticky(NPK_ERR_JIT_BAD_VAR, [](npk_jit_builder* b) { return npk_jit_ret(b, 4); });
    expect_sticky(NPK_ERR_JIT_TYPE_MISMATCH, [](npk_jit_builder* b) { return npk_jit_op(b, NPK_JIT_ADD, 1, 0, 1); });
    expect_sticky(NPK_ERR_JIT_TYPE_MISMATCH, [](npk_jit_builder* b) { return npk_jit_op(b, NPK_JIT_LT, 1, 1, 1); });
    expect_sticky(NPK_ERR_JIT_TYPE_MISMATCH, [](npk_jit_builder* b) { return npk_jit_op(b, NPK_JIT_ADD, 0, 1, 1); });
    expect_sticky(NPK_ERR_JIT_TYPE_MISMATCH, [](npk_jit_builder* b) { return npk_jit_mov(b, 0, 1); });
    expect_sticky(NPK_ERR_JIT_TYPE_MISMATCH, [](npk_jit_builder* b) { return npk_jit_neg(b, 2, 1); });
    expect_sticky(NPK_ERR_JIT_TYPE_MISMATCH, [](npk_jit_builder* b) { return npk_jit_const_i64(b, 2, 1); });
    expect_sticky(NPK_ERR_JIT_TYPE_MISMATCH, [](npk_jit_builder* b) { return npk_jit_const_f64(b, 1, 1.0); });
    expect_sticky(NPK_ERR_JIT_TYPE_MISMATCH, [](npk_jit_builder* b) { return npk_jit_load(b, 1, 1, 0); });
    expect_sticky(NPK_ERR_JIT_TYPE_MISMATCH, [](npk_jit_builder* b) { return npk_jit_store(b, 0, 8, 1); });
    for (int op : {NPK_JIT_REM, NPK_JIT_AND, NPK_JIT_OR, NPK_JIT_XOR, NPK_JIT_SHL, NPK_JIT_SHR, NPK_JIT_USHR,
                   NPK_JIT_ULT, NPK_JIT_ULE, NPK_JIT_UGT, NPK_JIT_UGE}) {
        expect_sticky(NPK_ERR_JIT_BAD_OP, [op](npk_jit_builder* b) { return npk_jit_op(b, op, 2, 2, 2); });
    }
    expect_sticky(NPK_ERR_JIT_BAD_OP, [](npk_jit_builder* b) { return npk_jit_op(b, 0, 1, 1, 1); });
    expect_sticky(NPK_ERR_JIT_BAD_OP, [](npk_jit_builder* b) { return npk_jit_op(b, 22, 1, 1, 1); });
    expect_sticky(NPK_ERR_JIT_BAD_OP, [](npk_jit_builder* b) { return npk_jit_not(b, 2, 2); });
}

TEST_CASE("builder misuse: parameters, labels, calls, returns", "[jitbuild][misuse]") {
    Quiet q;
    expect_sticky(NPK_ERR_JIT_BAD_TYPE, [](npk_jit_builder* b) { return npk_jit_param(b, NPK_JIT_VOID); });
    expect_sticky(NPK_ERR_JIT_LATE_PARAM, [](npk_jit_builder* b) {
        npk_jit_mov(b, 1, 1);
        return npk_jit_param(b, NPK_JIT_I64);
    });
    expect_sticky(NPK_ERR_JIT_TOO_MANY_PARAMS, [](npk_jit_builder* b) {
        for (int i = 0; i < 6; ++i) REQUIRE(npk_jit_param(b, NPK_JIT_I64) >= 0);  // 8 so far
        return npk_jit_param(b, NPK_JIT_I64);
    });
    expect_sticky(NPK_ERR_JIT_BAD_LABEL, [](npk_jit_builder* b) { return npk_jit_bind(b, 1); });
    expect_sticky(NPK_ERR_JIT_BAD_LABEL, [](npk_jit_builder* b) { return npk_jit_jump(b, -1); });
    expect_sticky(NPK_ERR_JIT_LABEL_BOUND, [](npk_jit_builder* b) {
        npk_jit_bind(b, 0);
        return npk_jit_bind(b, 0);
    });
    expect_sticky(NPK_ERR_JIT_TYPE_MISMATCH, [](npk_jit_builder* b) { return npk_jit_branch_if(b, 1, 0); });
    const void* fn = reinterpret_cast<const void*>(&counted);
    const int32_t two[2] = {1, 1};
    expect_sticky(NPK_ERR_NULL, [&](npk_jit_builder* b) { return npk_jit_call_native(b, 1, nullptr, NPK_JIT_I64, 2, two); });
    expect_sticky(NPK_ERR_NULL, [&](npk_jit_builder* b) { return npk_jit_call_native(b, 1, fn, NPK_JIT_I64, 2, nullptr); });
    expect_sticky(NPK_ERR_JIT_TOO_MANY_PARAMS, [&](npk_jit_builder* b) { return npk_jit_call_native(b, 1, fn, NPK_JIT_I64, 9, two); });
    expect_sticky(NPK_ERR_JIT_TOO_MANY_PARAMS, [&](npk_jit_builder* b) { return npk_jit_call_native(b, 1, fn, NPK_JIT_I64, -1, two); });
    expect_sticky(NPK_ERR_JIT_BAD_TYPE, [&](npk_jit_builder* b) { return npk_jit_call_native(b, 1, fn, 8, 2, two); });
    expect_sticky(NPK_ERR_JIT_TYPE_MISMATCH, [&](npk_jit_builder* b) { return npk_jit_call_native(b, 0, fn, NPK_JIT_I64, 2, two); });
    expect_sticky(NPK_ERR_JIT_TYPE_MISMATCH, [&](npk_jit_builder* b) { return npk_jit_call_native(b, 1, fn, NPK_JIT_VOID, 2, two); });
    const int32_t bad[2] = {1, 42};
    expect_sticky(NPK_ERR_JIT_BAD_VAR, [&](npk_jit_builder* b) { return npk_jit_call_native(b, 1, fn, NPK_JIT_I64, 2, bad); });
    expect_sticky(NPK_ERR_JIT_TYPE_MISMATCH, [](npk_jit_builder* b) { return npk_jit_ret(b, -1); });
    expect_sticky(NPK_ERR_JIT_TYPE_MISMATCH, [](npk_jit_builder* b) { return npk_jit_ret(b, 0); });
    expect_sticky(NPK_ERR_JIT_TYPE_MISMATCH, [](npk_jit_builder* b) { return npk_jit_ret(b, 1); }, NPK_JIT_VOID);
}

TEST_CASE("builder misuse: an unbound label fails the build, the region is unchanged", "[jitbuild][misuse]") {
    Quiet q;
    StatsWatch w;
    npk_jit_builder* b = npk_jit_builder_new(NPK_JIT_VOID);
    const int32_t l = npk_jit_label(b);
    REQUIRE(npk_jit_jump(b, l) == 0);
    CHECK(npk_jit_build(b) == nullptr);
    CHECK(npk_wildx_last_error() == NPK_ERR_JIT_LABEL_UNBOUND);
    CHECK(NPK_JIT_MESSAGE().find("label 0") != std::string::npos);

    npk_jit_region* r = npk_jit_region_new();
    npk_jit_builder* c = npk_jit_builder_new(NPK_JIT_VOID);
    npk_jit_branch_if(c, npk_jit_var(c, NPK_JIT_I32), npk_jit_label(c));
    CHECK(npk_jit_region_add(r, c) == nullptr);
    CHECK(npk_wildx_last_error() == NPK_ERR_JIT_LABEL_UNBOUND);
    npk_jit_builder* d = npk_jit_builder_new(NPK_JIT_VOID);
    npk_jit_var(d, NPK_JIT_VOID);
    CHECK(npk_jit_region_add(r, d) == nullptr);
    CHECK(npk_wildx_last_error() == NPK_ERR_JIT_BAD_TYPE);
    CHECK(npk_jit_region_count(r) == 0);
    CHECK(npk_jit_region_seal(r) == 0);
    CHECK(npk_jit_region_free(r) == 0);
    CHECK(w.delta().live_pages == 0);
}

TEST_CASE("builder misuse: NULL everywhere", "[jitbuild][misuse]") {
    Quiet q;
    const int32_t one = 0;
    CHECK(npk_jit_param(nullptr, NPK_JIT_I64) == -1);
    CHECK(npk_wildx_last_error() == NPK_ERR_NULL);
    CHECK(npk_jit_var(nullptr, NPK_JIT_I64) == -1);
    CHECK(npk_jit_const_i64(nullptr, 0, 1) == -1);
    CHECK(npk_jit_const_f64(nullptr, 0, 1) == -1);
    CHECK(npk_jit_mov(nullptr, 0, 0) == -1);
    CHECK(npk_jit_op(nullptr, NPK_JIT_ADD, 0, 0, 0) == -1);
    CHECK(npk_jit_neg(nullptr, 0, 0) == -1);
    CHECK(npk_jit_not(nullptr, 0, 0) == -1);
    CHECK(npk_jit_convert(nullptr, 0, 0) == -1);
    CHECK(npk_jit_load(nullptr, 0, 0, 0) == -1);
    CHECK(npk_jit_store(nullptr, 0, 0, 0) == -1);
    CHECK(npk_jit_label(nullptr) == -1);
    CHECK(npk_jit_bind(nullptr, 0) == -1);
    CHECK(npk_jit_jump(nullptr, 0) == -1);
    CHECK(npk_jit_branch_if(nullptr, 0, 0) == -1);
    CHECK(npk_jit_call_native(nullptr, -1, &one, NPK_JIT_VOID, 0, nullptr) == -1);
    CHECK(npk_jit_ret(nullptr, -1) == -1);
    CHECK(npk_wildx_last_error() == NPK_ERR_NULL);
    CHECK(npk_jit_build(nullptr) == nullptr);
    CHECK(npk_wildx_last_error() == NPK_ERR_NULL);
    CHECK(npk_jit_builder_error(nullptr) == -1);
    CHECK(npk_jit_var_type(nullptr, 0) == -1);
    npk_jit_builder_free(nullptr);  // ignored
    npk_jit_builder* b = npk_jit_builder_new(NPK_JIT_I32);
    CHECK(npk_jit_var_type(b, 0) == -1);
    CHECK(npk_jit_var_type(b, npk_jit_var(b, NPK_JIT_PTR)) == NPK_JIT_PTR);
    npk_jit_builder_free(b);
}

TEST_CASE("build failures from the OS leak nothing and leave no writable+executable page", "[jitbuild][misuse]") {
    Quiet q;
    StatsWatch w;
    auto make = [] {
        npk_jit_builder* b = npk_jit_builder_new(NPK_JIT_I64);
        npk_jit_ret(b, npk_jit_param(b, NPK_JIT_I64));
        return b;
    };
    fail_nth_os_call(OsCall::mmap, 1, ENOMEM);
    CHECK(npk_jit_build(make()) == nullptr);
    CHECK(npk_wildx_last_error() == NPK_ERR_OS);
    fail_nth_os_call(OsCall::mprotect, 1, EACCES);
    CHECK(npk_jit_build(make()) == nullptr);
    CHECK(npk_wildx_last_error() == NPK_ERR_OS);
    npk_wildx_set_quota(0);
    CHECK(npk_jit_build(make()) == nullptr);
    CHECK(npk_wildx_last_error() == NPK_ERR_QUOTA);
    npk_wildx_set_quota(q.g.quota);
    CHECK(w.delta().live_pages == 0);
    CHECK(w.delta().live_bytes == 0);

    // A region whose seal the OS refuses stays writable, and a retry seals it.
    npk_jit_region* r = npk_jit_region_new();
    void* f = npk_jit_region_add(r, make());
    REQUIRE(f != nullptr);
    fail_nth_os_call(OsCall::mprotect, 1, ENOMEM);
    CHECK(npk_jit_region_seal(r) == -1);
    CHECK(npk_wildx_last_error() == NPK_ERR_OS);
    npk_jit_value a{};
    a.type = NPK_JIT_I64;
    a.i64 = 5;
    CHECK(npk_jit_invoke(f, &a, 1, nullptr) == -1);
    REQUIRE(npk_jit_region_seal(r) == 0);
    npk_jit_value res{};
    REQUIRE(npk_jit_invoke(f, &a, 1, &res) == 0);
    CHECK(res.i64 == 5);

    Fn g(npk_jit_build(make()));
    REQUIRE(g.p != nullptr);
    MapsReader maps;
    maps.read();
    CHECK(maps.writable_and_executable() == nullptr);
    const auto ga = reinterpret_cast<uintptr_t>(g.p);
    CHECK(maps.covered(ga, ga + 1, "r-xp"));
    CHECK(npk_jit_region_free(r) == 0);
}

TEST_CASE("invoke misuse: arity, types, freed, interior, writable, foreign: -1 and nothing called", "[jitbuild][misuse]") {
    Quiet q;
    void* f = counting_fn();
    REQUIRE(f != nullptr);
    g_calls = 0;
    npk_jit_value a[3]{};
    a[0].type = a[1].type = a[2].type = NPK_JIT_I64;
    a[0].i64 = 2;
    a[1].i64 = 3;
    npk_jit_value r{};
    REQUIRE(npk_jit_invoke(f, a, 2, &r) == 0);
    CHECK(r.i64 == 5);
    CHECK(g_calls == 1);

    char want[160];
    std::snprintf(want, sizeof want, "signature i64(i64, i64), called as i64(i64)");
    CHECK(npk_jit_invoke(f, a, 1, &r) == -1);
    CHECK(npk_wildx_last_error() == NPK_ERR_JIT_SIGNATURE);
    CHECK(NPK_JIT_MESSAGE().find(want) != std::string::npos);
    CHECK(NPK_JIT_MESSAGE().find("invoke(0x") != std::string::npos);
    CHECK(npk_jit_invoke(f, a, 3, &r) == -1);
    CHECK(NPK_JIT_MESSAGE().find("called as i64(i64, i64, i64)") != std::string::npos);
    a[1].type = NPK_JIT_F64;
    CHECK(npk_jit_invoke(f, a, 2, &r) == -1);
    CHECK(npk_wildx_last_error() == NPK_ERR_JIT_SIGNATURE);
    CHECK(NPK_JIT_MESSAGE().find("called as i64(i64, f64)") != std::string::npos);
    a[1].type = 17;
    CHECK(npk_jit_invoke(f, a, 2, &r) == -1);
    CHECK(npk_jit_invoke(f, nullptr, 2, &r) == -1);
    CHECK(npk_jit_invoke(f, a, -1, &r) == -1);
    CHECK(npk_wildx_last_error() == NPK_ERR_JIT_SIGNATURE);
    a[1].type = NPK_JIT_I64;

    // Interior pointers, a foreign one, NULL.
    for (const void* p : {static_cast<const void*>(static_cast<char*>(f) + 1),
                          static_cast<const void*>(static_cast<char*>(f) + 16), static_cast<const void*>(&r)}) {
        CHECK(npk_jit_invoke(p, a, 2, &r) == -1);
        CHECK(npk_wildx_last_error() == NPK_ERR_JIT_NOT_FUNCTION);
    }
    CHECK(npk_jit_invoke(nullptr, a, 2, &r) == -1);
    CHECK(npk_wildx_last_error() == NPK_ERR_NULL);

    // A writable page.
    void* w = npk_wildx_alloc(64);
    REQUIRE(w != nullptr);
    CHECK(npk_jit_invoke(w, nullptr, 0, &r) == -1);
    CHECK(npk_wildx_last_error() == NPK_ERR_JIT_NOT_FUNCTION);
    CHECK(NPK_JIT_MESSAGE().find("writable") != std::string::npos);
    CHECK(npk_wildx_free(w) == 0);

    // Freed, and then its address reused by a page the code generator did not build.
    REQUIRE(npk_wildx_free(f) == 0);
    CHECK(npk_jit_invoke(f, a, 2, &r) == -1);
    CHECK(npk_wildx_last_error() == NPK_ERR_JIT_NOT_FUNCTION);
    char buf[64];
    CHECK(npk_jit_signature(f, buf, sizeof buf) == -1);
    void* reused = npk_wildx_alloc(64);
    REQUIRE(reused != nullptr);
    REQUIRE(npk_wildx_seal(reused) == 0);
    CHECK(npk_jit_invoke(reused, a, 2, &r) == -1);
    CHECK(npk_wildx_last_error() == NPK_ERR_JIT_NOT_FUNCTION);
    CHECK(npk_wildx_free(reused) == 0);
    CHECK(g_calls == 1);  // nothing was called
}

TEST_CASE("signature misuse: NULL buffer, too small, not a function", "[jitbuild][misuse]") {
    Quiet q;
    Fn f(counting_fn());
    char buf[64];
    CHECK(npk_jit_signature(f.p, nullptr, 64) == -1);
    CHECK(npk_wildx_last_error() == NPK_ERR_NULL);
    std::memset(buf, 'x', sizeof buf);
    CHECK(npk_jit_signature(f.p, buf, 13) == -1);  // "i64(i64, i64)" needs 14 with its NUL
    CHECK(npk_wildx_last_error() == NPK_ERR_JIT_BUFFER_TOO_SMALL);
    CHECK(buf[0] == 'x');
    CHECK(npk_jit_signature(f.p, buf, 14) == 13);
    CHECK(npk_jit_signature(buf, buf, sizeof buf) == -1);
    CHECK(npk_wildx_last_error() == NPK_ERR_JIT_NOT_FUNCTION);
}

// Vars in expect_sticky: 0 i32, 1 i64, 2 f64, 3 ptr; label 0.
TEST_CASE("builder misuse: sized and indexed memory", "[jitbuild][misuse]") {
    Quiet q;
    expect_sticky(NPK_ERR_JIT_BAD_WIDTH, [](npk_jit_builder* b) { return npk_jit_load_sized(b, 1, 3, 0, 0); });
    expect_sticky(NPK_ERR_JIT_BAD_WIDTH, [](npk_jit_builder* b) { return npk_jit_load_sized(b, 1, 3, 0, 8); });
    expect_sticky(NPK_ERR_JIT_BAD_WIDTH, [](npk_jit_builder* b) { return npk_jit_store_sized(b, 3, 0, 1, -1); });
    expect_sticky(NPK_ERR_JIT_BAD_WIDTH, [](npk_jit_builder* b) { return npk_jit_load_sized(b, 0, 3, 0, NPK_JIT_MEM_64); });
    expect_sticky(NPK_ERR_JIT_BAD_WIDTH, [](npk_jit_builder* b) { return npk_jit_store_sized(b, 3, 0, 0, NPK_JIT_MEM_64); });
    expect_sticky(NPK_ERR_JIT_TYPE_MISMATCH, [](npk_jit_builder* b) { return npk_jit_load_sized(b, 2, 3, 0, NPK_JIT_MEM_64); });
    expect_sticky(NPK_ERR_JIT_TYPE_MISMATCH, [](npk_jit_builder* b) { return npk_jit_load_sized(b, 1, 1, 0, NPK_JIT_MEM_U8); });
    expect_sticky(NPK_ERR_JIT_BAD_VAR, [](npk_jit_builder* b) { return npk_jit_store_sized(b, 3, 0, 7, NPK_JIT_MEM_U8); });
    expect_sticky(NPK_ERR_JIT_BAD_SCALE, [](npk_jit_builder* b) { return npk_jit_load_indexed(b, 1, 3, 0, 3, 0, 0); });
    expect_sticky(NPK_ERR_JIT_BAD_SCALE, [](npk_jit_builder* b) { return npk_jit_store_indexed(b, 3, 1, 0, 0, 1, 0); });
    expect_sticky(NPK_ERR_JIT_BAD_SCALE, [](npk_jit_builder* b) { return npk_jit_store_indexed(b, 3, 1, 16, 0, 1, 0); });
    expect_sticky(NPK_ERR_JIT_TYPE_MISMATCH, [](npk_jit_builder* b) { return npk_jit_load_indexed(b, 1, 3, 2, 8, 0, 0); });
    expect_sticky(NPK_ERR_JIT_TYPE_MISMATCH, [](npk_jit_builder* b) { return npk_jit_load_indexed(b, 1, 1, 0, 8, 0, 0); });
    expect_sticky(NPK_ERR_JIT_BAD_VAR, [](npk_jit_builder* b) { return npk_jit_load_indexed(b, 1, 3, -1, 8, 0, 0); });
    expect_sticky(NPK_ERR_JIT_BAD_WIDTH, [](npk_jit_builder* b) { return npk_jit_load_indexed(b, 2, 3, 0, 8, 0, NPK_JIT_MEM_I32); });
    expect_sticky(NPK_ERR_JIT_BAD_WIDTH, [](npk_jit_builder* b) { return npk_jit_store_indexed(b, 3, 0, 1, 0, 0, NPK_JIT_MEM_U32 + 1); });
}

TEST_CASE("builder misuse: immediates, pointer arithmetic", "[jitbuild][misuse]") {
    Quiet q;
    expect_sticky(NPK_ERR_JIT_BAD_OP, [](npk_jit_builder* b) { return npk_jit_op_imm(b, NPK_JIT_ADD, 2, 2, 1); });
    expect_sticky(NPK_ERR_JIT_BAD_OP, [](npk_jit_builder* b) { return npk_jit_op_imm(b, 0, 1, 1, 1); });
    expect_sticky(NPK_ERR_JIT_BAD_OP, [](npk_jit_builder* b) { return npk_jit_op_imm(b, 22, 1, 1, 1); });
    expect_sticky(NPK_ERR_JIT_BAD_IMM, [](npk_jit_builder* b) { return npk_jit_op_imm(b, NPK_JIT_ADD, 0, 0, INT64_C(1) << 32); });
    expect_sticky(NPK_ERR_JIT_BAD_IMM, [](npk_jit_builder* b) { return npk_jit_op_imm(b, NPK_JIT_AND, 0, 0, int64_t{INT32_MIN} - 1); });
    expect_sticky(NPK_ERR_JIT_TYPE_MISMATCH, [](npk_jit_builder* b) { return npk_jit_op_imm(b, NPK_JIT_ADD, 0, 1, 1); });
    expect_sticky(NPK_ERR_JIT_TYPE_MISMATCH, [](npk_jit_builder* b) { return npk_jit_op_imm(b, NPK_JIT_LT, 1, 1, 1); });
    expect_sticky(NPK_ERR_JIT_BAD_VAR, [](npk_jit_builder* b) { return npk_jit_op_imm(b, NPK_JIT_ADD, 1, 9, 1); });
    // ptr + int gives a ptr; int - ptr, ptr * int, ptr + f64 are refused; ptr - ptr is no i32.
    expect_sticky(NPK_ERR_JIT_TYPE_MISMATCH, [](npk_jit_builder* b) { return npk_jit_op(b, NPK_JIT_ADD, 1, 3, 1); });
    expect_sticky(NPK_ERR_JIT_TYPE_MISMATCH, [](npk_jit_builder* b) { return npk_jit_op(b, NPK_JIT_SUB, 3, 1, 3); });
    expect_sticky(NPK_ERR_JIT_TYPE_MISMATCH, [](npk_jit_builder* b) { return npk_jit_op(b, NPK_JIT_MUL, 3, 3, 1); });
    expect_sticky(NPK_ERR_JIT_TYPE_MISMATCH, [](npk_jit_builder* b) { return npk_jit_op(b, NPK_JIT_ADD, 3, 3, 2); });
    expect_sticky(NPK_ERR_JIT_TYPE_MISMATCH, [](npk_jit_builder* b) { return npk_jit_op(b, NPK_JIT_SUB, 0, 3, 3); });
    expect_sticky(NPK_ERR_JIT_TYPE_MISMATCH, [](npk_jit_builder* b) { return npk_jit_op_imm(b, NPK_JIT_ADD, 1, 3, 8); });
}

TEST_CASE("builder misuse: fused branches, switch", "[jitbuild][misuse]") {
    Quiet q;
    expect_sticky(NPK_ERR_JIT_BAD_OP, [](npk_jit_builder* b) { return npk_jit_branch_cmp(b, NPK_JIT_ADD, 1, 1, 0); });
    expect_sticky(NPK_ERR_JIT_BAD_OP, [](npk_jit_builder* b) { return npk_jit_branch_cmp(b, NPK_JIT_UGE + 1, 1, 1, 0); });
    expect_sticky(NPK_ERR_JIT_BAD_OP, [](npk_jit_builder* b) { return npk_jit_branch_cmp(b, NPK_JIT_ULT, 2, 2, 0); });
    expect_sticky(NPK_ERR_JIT_TYPE_MISMATCH, [](npk_jit_builder* b) { return npk_jit_branch_cmp(b, NPK_JIT_EQ, 0, 1, 0); });
    expect_sticky(NPK_ERR_JIT_BAD_LABEL, [](npk_jit_builder* b) { return npk_jit_branch_cmp(b, NPK_JIT_EQ, 1, 1, 5); });
    expect_sticky(NPK_ERR_JIT_BAD_OP, [](npk_jit_builder* b) { return npk_jit_branch_cmp_imm(b, NPK_JIT_EQ, 2, 0, 0); });
    expect_sticky(NPK_ERR_JIT_BAD_OP, [](npk_jit_builder* b) { return npk_jit_branch_cmp_imm(b, NPK_JIT_SHL, 1, 0, 0); });
    expect_sticky(NPK_ERR_JIT_BAD_IMM, [](npk_jit_builder* b) { return npk_jit_branch_cmp_imm(b, NPK_JIT_EQ, 0, INT64_MAX, 0); });
    expect_sticky(NPK_ERR_JIT_BAD_LABEL, [](npk_jit_builder* b) { return npk_jit_branch_cmp_imm(b, NPK_JIT_EQ, 0, 0, -1); });
    const int32_t labels[3] = {0, 0, 0};
    const int32_t bad[3] = {0, 7, 0};
    expect_sticky(NPK_ERR_JIT_TYPE_MISMATCH, [&](npk_jit_builder* b) { return npk_jit_switch(b, 2, 3, labels, 0); });
    expect_sticky(NPK_ERR_JIT_BAD_SWITCH, [&](npk_jit_builder* b) { return npk_jit_switch(b, 0, -1, labels, 0); });
    expect_sticky(NPK_ERR_JIT_BAD_SWITCH, [&](npk_jit_builder* b) { return npk_jit_switch(b, 0, NPK_JIT_MAX_SWITCH + 1, labels, 0); });
    expect_sticky(NPK_ERR_NULL, [&](npk_jit_builder* b) { return npk_jit_switch(b, 0, 3, nullptr, 0); });
    expect_sticky(NPK_ERR_JIT_BAD_LABEL, [&](npk_jit_builder* b) { return npk_jit_switch(b, 0, 3, bad, 0); });
    expect_sticky(NPK_ERR_JIT_BAD_LABEL, [&](npk_jit_builder* b) { return npk_jit_switch(b, 0, 3, labels, 1); });
    expect_sticky(NPK_ERR_JIT_BAD_VAR, [&](npk_jit_builder* b) { return npk_jit_switch(b, 4, 3, labels, 0); });
}

TEST_CASE("builder misuse: indirect and self calls", "[jitbuild][misuse]") {
    Quiet q;
    const int32_t two[2] = {0, 1};
    expect_sticky(NPK_ERR_JIT_TYPE_MISMATCH, [&](npk_jit_builder* b) { return npk_jit_call_indirect(b, 1, 1, NPK_JIT_I64, 2, two); });
    expect_sticky(NPK_ERR_JIT_BAD_VAR, [&](npk_jit_builder* b) { return npk_jit_call_indirect(b, 1, 8, NPK_JIT_I64, 2, two); });
    expect_sticky(NPK_ERR_JIT_BAD_TYPE, [&](npk_jit_builder* b) { return npk_jit_call_indirect(b, 1, 3, 7, 2, two); });
    expect_sticky(NPK_ERR_JIT_TYPE_MISMATCH, [&](npk_jit_builder* b) { return npk_jit_call_indirect(b, 0, 3, NPK_JIT_I64, 2, two); });
    expect_sticky(NPK_ERR_JIT_TYPE_MISMATCH, [&](npk_jit_builder* b) { return npk_jit_call_indirect(b, 1, 3, NPK_JIT_VOID, 2, two); });
    expect_sticky(NPK_ERR_JIT_TOO_MANY_PARAMS, [&](npk_jit_builder* b) { return npk_jit_call_indirect(b, 1, 3, NPK_JIT_I64, 9, two); });
    expect_sticky(NPK_ERR_NULL, [&](npk_jit_builder* b) { return npk_jit_call_indirect(b, 1, 3, NPK_JIT_I64, 2, nullptr); });
    // The function is i64(i32, i64).
    const int32_t swapped[2] = {1, 0}, three[3] = {0, 1, 1}, unknown[2] = {0, 11};
    expect_sticky(NPK_ERR_JIT_TYPE_MISMATCH, [&](npk_jit_builder* b) { return npk_jit_call_self(b, 1, 2, swapped); });
    expect_sticky(NPK_ERR_JIT_TOO_MANY_PARAMS, [&](npk_jit_builder* b) { return npk_jit_call_self(b, 1, 3, three); });
    expect_sticky(NPK_ERR_JIT_TOO_MANY_PARAMS, [&](npk_jit_builder* b) { return npk_jit_call_self(b, 1, 1, two); });
    expect_sticky(NPK_ERR_JIT_BAD_VAR, [&](npk_jit_builder* b) { return npk_jit_call_self(b, 1, 2, unknown); });
    expect_sticky(NPK_ERR_JIT_TYPE_MISMATCH, [&](npk_jit_builder* b) { return npk_jit_call_self(b, 0, 2, two); });
    expect_sticky(NPK_ERR_JIT_LATE_PARAM, [&](npk_jit_builder* b) {
        npk_jit_call_self(b, 1, 2, two);
        return npk_jit_param(b, NPK_JIT_I64);
    });
}

TEST_CASE("builder errors name the failing op's position and kind", "[jitbuild][misuse]") {
    Quiet q;
    npk_jit_builder* b = npk_jit_builder_new(NPK_JIT_I64);
    const int32_t x = npk_jit_param(b, NPK_JIT_I64);
    npk_jit_op_imm(b, NPK_JIT_ADD, x, x, 1);   // op 0
    npk_jit_op_imm(b, NPK_JIT_ADD, x, x, 2);   // op 1
    CHECK(npk_jit_op_imm(b, NPK_JIT_ADD, x, x + 5, 3) == -1);  // would be op 2
    const std::string m = NPK_JIT_MESSAGE();
    CHECK(m.find("npk_jit_op_imm") != std::string::npos);
    CHECK(m.find("at op 2") != std::string::npos);
    npk_jit_builder_free(b);
    // At build time: the op that names an unbound label.
    for (int kind = 0; kind < 3; ++kind) {
        npk_jit_builder* c = npk_jit_builder_new(NPK_JIT_I64);
        const int32_t y = npk_jit_param(c, NPK_JIT_I64);
        const int32_t bound = npk_jit_label(c), loose = npk_jit_label(c);
        npk_jit_bind(c, bound);                  // op 0
        npk_jit_op_imm(c, NPK_JIT_ADD, y, y, 1);  // op 1
        const int32_t table[2] = {bound, loose};
        if (kind == 0) npk_jit_branch_cmp_imm(c, NPK_JIT_EQ, y, 0, loose);  // op 2
        if (kind == 1) npk_jit_switch(c, y, 2, table, bound);
        if (kind == 2) npk_jit_switch(c, y, 1, table, loose);
        npk_jit_ret(c, y);
        CHECK(npk_jit_build(c) == nullptr);
        CHECK(npk_last_error() == NPK_ERR_JIT_LABEL_UNBOUND);
        const std::string msg = NPK_JIT_MESSAGE();
        INFO(msg);
        CHECK(msg.find(kind == 0 ? "op 2 (branch_cmp_imm)" : "op 2 (switch)") != std::string::npos);
        CHECK(msg.find("label 1") != std::string::npos);
    }
}

// A thread keeps the buffers of the last builder it freed for its next
// one: that builder must start as new (no error, no name, no variables,
// labels or instructions of the one before).
TEST_CASE("builder misuse: a builder made after a failed, named one starts clean", "[jitbuild][misuse]") {
    Quiet q;
    for (int round = 0; round < 3; ++round) {
        npk_jit_builder* old = npk_jit_builder_new(NPK_JIT_I32);
        REQUIRE(old != nullptr);
        REQUIRE(npk_jit_builder_name(old, "stale_name") == 0);
        const int32_t p = npk_jit_param(old, NPK_JIT_I32);
        REQUIRE(npk_jit_label(old) == 0);
        REQUIRE(npk_jit_op_imm(old, NPK_JIT_ADD, p, p, 1) == 0);
        CHECK(npk_jit_op(old, NPK_JIT_ADD, p, p, 99) == -1);  // no variable 99: the error sticks
        REQUIRE(npk_jit_builder_error(old) == NPK_ERR_JIT_BAD_VAR);
        npk_jit_builder_free(old);

        npk_jit_builder* b = npk_jit_builder_new(NPK_JIT_I64);
        REQUIRE(b != nullptr);
        CHECK(npk_jit_builder_error(b) == NPK_OK);
        CHECK(npk_jit_var_type(b, 0) == -1);  // no variables yet
        const int32_t x = npk_jit_param(b, NPK_JIT_I64);  // parameters only before the first instruction
        REQUIRE(x == 0);
        REQUIRE(npk_jit_label(b) == 0);  // labels count from 0 again
        REQUIRE(npk_jit_bind(b, 0) == 0);
        REQUIRE(npk_jit_op_imm(b, NPK_JIT_MUL, x, x, 3) == 0);
        REQUIRE(npk_jit_ret(b, x) == 0);
        Fn f(npk_jit_build(b));
        REQUIRE(f.p != nullptr);
        CHECK(f.as<int64_t (*)(int64_t)>()(14) == 42);
        char name[64];
        REQUIRE(npk_jit_name(f.p, name, sizeof name) >= 0);
        CHECK(std::string(name).find("stale_name") == std::string::npos);
        char sig[64];
        REQUIRE(npk_jit_signature(f.p, sig, sizeof sig) >= 0);
        CHECK(std::string(sig) == "i64(i64)");
    }
}
