// What NPK_WILDX_VERIFY=call costs per checked call: the same small built
// function (one page: x * 3 + 5) invoked with and without the re-hash, and
// on x86-64 the same for npk_jit_call_i32_i32 on a one-page add. The
// setting is switched on for the verified case only, and off again after.
#include <benchmark/benchmark.h>

#include <npk/jit.h>
#include <npk/jitbuild.h>
#include <npk/wildx.h>

#include "common.h"
#include "core/config.h"

namespace {

// NPK_WILDX_VERIFY=call for the life of one case.
class Verify {
public:
    explicit Verify(bool on) { npk::config::set(npk::config::verify_call, on ? 1 : 0); }
    ~Verify() { npk::config::set(npk::config::verify_call, 0); }
    Verify(const Verify&) = delete;
    Verify& operator=(const Verify&) = delete;
};

void* build_small() {
    npk_jit_builder* b = npk_jit_builder_new(NPK_JIT_I64);
    const int32_t x = npk_jit_param(b, NPK_JIT_I64);
    const int32_t k = npk_jit_var(b, NPK_JIT_I64);
    npk_jit_const_i64(b, k, 3);
    npk_jit_op(b, NPK_JIT_MUL, x, x, k);
    npk_jit_const_i64(b, k, 5);
    npk_jit_op(b, NPK_JIT_ADD, x, x, k);
    npk_jit_ret(b, x);
    return npk_jit_build(b);
}

void invoke(benchmark::State& state, bool verify) {
    void* f = build_small();
    if (f == nullptr || npk_jit_host_supported() == 0) {
        state.SkipWithError("no built function on this host");
        if (f != nullptr) npk_wildx_free(f);
        return;
    }
    state.counters["bytes_hashed"] = static_cast<double>(npk_wildx_size(f));
    Verify v(verify);
    npk_jit_value a{}, r{};
    a.type = NPK_JIT_I64;
    int32_t rc = 0;
    for (auto _ : state) {
        a.i64 = 4;
        bench::opaque(a.i64);
        rc |= npk_jit_invoke(f, &a, 1, &r);
        benchmark::DoNotOptimize(r.i64);
    }
    if (rc != 0 || r.i64 != 17) state.SkipWithError("invoke failed or wrong result");
    npk_wildx_free(f);
}

void invoke_off(benchmark::State& state) { invoke(state, false); }
void invoke_verified(benchmark::State& state) { invoke(state, true); }

void call_add(benchmark::State& state, bool verify) {
    if (!bench::host_is_x86_64() || npk_jit_host_supported() == 0) {
        state.SkipWithError("host cannot run x86-64 code");
        return;
    }
    void* page = npk_wildx_alloc(64);
    if (page == nullptr || npk_jit_install_add_i32(page) != 0 || npk_wildx_seal(page) != 0) {
        state.SkipWithError("could not prepare a sealed page");
        if (page != nullptr) npk_wildx_free(page);
        return;
    }
    Verify v(verify);
    int32_t last = 0;
    for (auto _ : state) {
        int32_t a = 7, b = 35;
        void* p = page;
        bench::opaque(a);
        bench::opaque(b);
        bench::opaque(p);
        last = npk_jit_call_i32_i32(p, a, b);
        benchmark::DoNotOptimize(last);
    }
    if (last != 42) state.SkipWithError("wrong sum");
    npk_wildx_free(page);
}

void call_off(benchmark::State& state) { call_add(state, false); }
void call_verified(benchmark::State& state) { call_add(state, true); }

}  // namespace

BENCHMARK(invoke_off)->Name("verify/invoke/off");
BENCHMARK(invoke_verified)->Name("verify/invoke/call");
BENCHMARK(call_off)->Name("verify/call_i32_i32/off");
BENCHMARK(call_verified)->Name("verify/call_i32_i32/call");
