// The code generator (npk/jitbuild.h) against its floors and against
// asmjit's own JitRuntime (which maps its code pages read+write+execute):
//   codegen/build/*      one function, built, called and freed; the floor
//                        compiles it with asmjit's x86::Compiler directly
//                        (asmjit_clients.cpp), then bare mmap / copy /
//                        mprotect / call / munmap
//   codegen/install/*    4,096 pre-encoded functions into a region + seal,
//                        compilation excluded, per function
//   codegen/call/*       a checked invoke against a plain pointer call
//   codegen/loop/*       a builder-made loop against the same loop in C
#include <benchmark/benchmark.h>
#include <malloc.h>
#include <sys/mman.h>

#include <npk/jitbuild.h>

#include <asmjit/core.h>

#include <algorithm>
#include <chrono>
#include <ctime>
#include <cstring>
#include <vector>

#include "codegen/builder.h"
#include "codegen/lower.h"
#include "codegen/region.h"
#include "asmjit_clients.h"
#include "common.h"

extern "C" int64_t bench_sum_scaled_c(const int64_t* a, int64_t n);  // codegen_loop_c.c

namespace {

using npk::codegen::Compiled;
using I64Fn = int64_t (*)(int64_t);
constexpr int64_t kK = bench::kAffineK, kC = bench::kAffineC;

// i64 f(i64 x) = x*K + C
npk_jit_builder* affine() {
    npk_jit_builder* b = npk_jit_builder_new(NPK_JIT_I64);
    const int32_t x = npk_jit_param(b, NPK_JIT_I64), c = npk_jit_var(b, NPK_JIT_I64);
    npk_jit_const_i64(b, c, kK);
    npk_jit_op(b, NPK_JIT_MUL, x, x, c);
    npk_jit_const_i64(b, c, kC);
    npk_jit_op(b, NPK_JIT_ADD, x, x, c);
    npk_jit_ret(b, x);
    return b;
}

// The compile alone, as npk_jit_build does it (the builder is freed).
Compiled* compile_affine() {
    npk_jit_builder* b = affine();
    Compiled* c = npk::codegen::compile(b->prog, "bench", nullptr);
    npk::codegen::destroy(b);
    return c;
}

bool check(benchmark::State& state, bool ok, const char* what) {
    if (!ok) state.SkipWithError(what);
    return ok;
}

void build_npk(benchmark::State& state) {
    for (auto _ : state) {
        auto f = reinterpret_cast<I64Fn>(npk_jit_build(affine()));
        if (!check(state, f != nullptr, "npk_jit_build failed")) break;
        int64_t x = 5;
        bench::opaque(x);
        const int64_t r = f(x);
        benchmark::DoNotOptimize(r);
        if (!check(state, npk_wildx_free(reinterpret_cast<void*>(f)) == 0 && r == 5 * kK + kC, "wrong result")) break;
    }
}

// The W^X floor: the same function compiled by asmjit's x86::Compiler
// (used directly, as a careful user does), then bare mmap / copy /
// mprotect / call / munmap.
void build_floor(benchmark::State& state) {
    if (!check(state, bench::host_is_x86_64(), "the asmjit client is x86-64 code")) return;
    bench::AsmjitClient client;
    for (auto _ : state) {
        if (!check(state, client.affine(asmjit::Environment::host()), "asmjit compile failed")) break;
        asmjit::CodeHolder& code = client.code();
        const size_t room = code.codeSize();
        const size_t len = (room + bench::page_size() - 1) / bench::page_size() * bench::page_size();
        void* p = mmap(nullptr, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (!check(state, p != MAP_FAILED, "mmap failed")) break;
        const bool placed = code.relocateToBase(reinterpret_cast<uint64_t>(p)) == asmjit::kErrorOk &&
                            code.copyFlattenedData(p, room, asmjit::CopySectionFlags::kPadSectionBuffer) ==
                                asmjit::kErrorOk;
        npk::arch::flush_icache(p, room);
        if (!check(state, placed && mprotect(p, len, PROT_READ | PROT_EXEC) == 0, "place/mprotect failed")) break;
        int64_t x = 5;
        bench::opaque(x);
        const int64_t r = reinterpret_cast<I64Fn>(p)(x);
        benchmark::DoNotOptimize(r);
        munmap(p, len);
        if (!check(state, r == 5 * kK + kC, "wrong result")) break;
    }
}

// For information: the same asmjit client with asmjit's JitRuntime (RWX pages).
void build_jitruntime(benchmark::State& state) {
    if (!check(state, bench::host_is_x86_64(), "the asmjit client is x86-64 code")) return;
    asmjit::JitRuntime rt;
    bench::AsmjitClient client;
    for (auto _ : state) {
        I64Fn f = nullptr;
        const bool ok = client.affine(rt.environment()) && rt.add(&f, &client.code()) == asmjit::kErrorOk;
        if (!check(state, ok, "asmjit compile / JitRuntime::add failed")) break;
        int64_t x = 5;
        bench::opaque(x);
        const int64_t r = f(x);
        benchmark::DoNotOptimize(r);
        rt.release(f);
        if (!check(state, r == 5 * kK + kC, "wrong result")) break;
    }
}

// Install + seal per function, compilation excluded: finished code through
// the region's internal entry point. Manual time: per function.
constexpr int kInstallFns = 4096;

void install_region(benchmark::State& state) {
    Compiled* c = compile_affine();
    std::vector<unsigned char> code(npk::codegen::max_size(c));
    const size_t len = npk::codegen::place(c, code.data(), "bench");  // position-independent: no relocation
    npk::codegen::destroy(c);
    const npk::codegen::Type arg = npk::codegen::Type::i64;
    const npk::codegen::Sig sig = npk::codegen::make_sig(npk::codegen::Type::i64, 1, &arg);
    double bytes_per_fn = 0;
    std::vector<double> cpu_ns;  // the same work in this thread's CPU time (user + system), per function
    for (auto _ : state) {
        const size_t heap0 = mallinfo2().uordblks;
        npk_wildx_stats s0{};
        npk_wildx_get_stats(&s0);
        timespec c0{}, c1{};
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &c0);
        const auto t0 = std::chrono::steady_clock::now();
        npk_jit_region* r = npk_jit_region_new();
        void* last = nullptr;
        for (int i = 0; i < kInstallFns; ++i) last = npk::codegen::region_add_code(r, code.data(), len, sig, "bench");
        const bool ok = last != nullptr && npk_jit_region_seal(r) == 0;
        const auto t1 = std::chrono::steady_clock::now();
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &c1);
        cpu_ns.push_back((static_cast<double>(c1.tv_sec - c0.tv_sec) * 1e9 + static_cast<double>(c1.tv_nsec - c0.tv_nsec)) /
                         kInstallFns);
        npk_wildx_stats s1{};
        npk_wildx_get_stats(&s1);
        const size_t heap1 = mallinfo2().uordblks;
        const double total = static_cast<double>(s1.live_bytes - s0.live_bytes) + static_cast<double>(heap1 - heap0);
        bytes_per_fn = total / kInstallFns - static_cast<double>(len);
        npk_jit_value a{}, res{};
        a.type = NPK_JIT_I64;
        a.i64 = 2;
        const bool called = ok && npk_jit_invoke(last, &a, 1, &res) == 0 && res.i64 == 2 * kK + kC;
        npk_jit_region_free(r);
        if (!check(state, called, "region install/seal/invoke failed")) break;
        state.SetIterationTime(std::chrono::duration<double>(t1 - t0).count() / kInstallFns);
    }
    state.counters["bytes_per_fn_beyond_code"] = bytes_per_fn;
    if (!cpu_ns.empty()) {
        std::sort(cpu_ns.begin(), cpu_ns.end());
        state.counters["cpu_ns_per_fn"] = cpu_ns[cpu_ns.size() / 2];
    }
    state.counters["code_bytes"] = static_cast<double>(len);
    // What the seal's FNV-1a 64 (the registry's W^X hash, one multiply per
    // byte in a serial chain) costs for these functions alone: the same
    // bytes, laid out 16-byte aligned as in the region, hashed in one go.
    std::vector<unsigned char> laid_out(kInstallFns * ((len + 15) / 16 * 16), 0xCC);
    for (size_t i = 0; i < kInstallFns; ++i) std::memcpy(&laid_out[i * ((len + 15) / 16 * 16)], code.data(), len);
    const auto h0 = std::chrono::steady_clock::now();
    uint64_t h = 0;
    for (int r = 0; r < 20; ++r) h ^= npk_wildx_fnv1a64(laid_out.data(), laid_out.size());
    benchmark::DoNotOptimize(h);
    const double hash_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - h0).count() / 20;
    state.counters["hash_ns_per_fn"] = hash_s * 1e9 / kInstallFns;
}

// A checked invoke against a plain call of the same function.
void call_fn_ptr(benchmark::State& state) {
    auto f = reinterpret_cast<I64Fn>(npk_jit_build(affine()));
    if (!check(state, f != nullptr, "build failed")) return;
    for (auto _ : state) {
        int64_t x = 3;
        bench::opaque(x);
        I64Fn g = f;
        bench::opaque(g);
        const int64_t r = g(x);
        benchmark::DoNotOptimize(r);
    }
    npk_wildx_free(reinterpret_cast<void*>(f));
}

void call_invoke(benchmark::State& state) {
    void* f = npk_jit_build(affine());
    if (!check(state, f != nullptr, "build failed")) return;
    npk_jit_value a{}, r{};
    a.type = NPK_JIT_I64;
    for (auto _ : state) {
        a.i64 = 3;
        bench::opaque(a.i64);
        const int32_t rc = npk_jit_invoke(f, &a, 1, &r);
        benchmark::DoNotOptimize(rc);
        benchmark::DoNotOptimize(r.i64);
    }
    npk_wildx_free(f);
}

// sum of a[i] * K over n i64, built with the builder as a front end
// would emit it: the test at the bottom (one branch per iteration), each
// comparison read only by its branch (the lowering fuses the two).
void* build_sum_scaled() {
    npk_jit_builder* b = npk_jit_builder_new(NPK_JIT_I64);
    const int32_t p = npk_jit_param(b, NPK_JIT_PTR), n = npk_jit_param(b, NPK_JIT_I64);
    const int32_t s = npk_jit_var(b, NPK_JIT_I64), i = npk_jit_var(b, NPK_JIT_I64), k = npk_jit_var(b, NPK_JIT_I64);
    const int32_t x = npk_jit_var(b, NPK_JIT_I64), one = npk_jit_var(b, NPK_JIT_I64);
    const int32_t enter = npk_jit_var(b, NPK_JIT_I32), again = npk_jit_var(b, NPK_JIT_I32);
    const int32_t step = npk_jit_var(b, NPK_JIT_PTR);
    const int32_t top = npk_jit_label(b), done = npk_jit_label(b);
    npk_jit_const_i64(b, k, kK);
    npk_jit_const_i64(b, one, 1);
    npk_jit_const_i64(b, step, 8);
    npk_jit_op(b, NPK_JIT_GE, enter, i, n);  // if (0 >= n) return 0
    npk_jit_branch_if(b, enter, done);
    npk_jit_bind(b, top);
    npk_jit_load(b, x, p, 0);
    npk_jit_op(b, NPK_JIT_MUL, x, x, k);
    npk_jit_op(b, NPK_JIT_ADD, s, s, x);
    npk_jit_op(b, NPK_JIT_ADD, p, p, step);
    npk_jit_op(b, NPK_JIT_ADD, i, i, one);
    npk_jit_op(b, NPK_JIT_LT, again, i, n);
    npk_jit_branch_if(b, again, top);
    npk_jit_bind(b, done);
    npk_jit_ret(b, s);
    return npk_jit_build(b);
}

constexpr int64_t kLoopN = 1 << 20;

std::vector<int64_t>& loop_data() {
    static std::vector<int64_t> a = [] {
        std::vector<int64_t> v(kLoopN);
        for (int64_t i = 0; i < kLoopN; ++i) v[static_cast<size_t>(i)] = i * 7 - 3;
        return v;
    }();
    return a;
}

void loop_c(benchmark::State& state) {
    std::vector<int64_t>& a = loop_data();
    for (auto _ : state) {
        const int64_t* p = a.data();
        bench::opaque(p);
        benchmark::DoNotOptimize(bench_sum_scaled_c(p, kLoopN));
    }
}

void loop_jit(benchmark::State& state) {
    void* f = build_sum_scaled();
    if (!check(state, f != nullptr, "build failed")) return;
    auto fn = reinterpret_cast<int64_t (*)(const int64_t*, int64_t)>(f);
    std::vector<int64_t>& a = loop_data();
    if (!check(state, fn(a.data(), kLoopN) == bench_sum_scaled_c(a.data(), kLoopN), "wrong sum")) return;
    for (auto _ : state) {
        const int64_t* p = a.data();
        bench::opaque(p);
        benchmark::DoNotOptimize(fn(p, kLoopN));
    }
    npk_wildx_free(f);
}

}  // namespace

BENCHMARK(build_floor)->Name("codegen/build/floor");
BENCHMARK(build_npk)->Name("codegen/build/npk");
BENCHMARK(build_jitruntime)->Name("codegen/build/asmjit_jitruntime");
// Manual time is per function: a fixed iteration count keeps the run short
// (min_time would otherwise ask for millions of 4,096-function rounds).
BENCHMARK(install_region)->Name("codegen/install/region_4096_per_fn")->UseManualTime()->Iterations(40);
BENCHMARK(call_fn_ptr)->Name("codegen/call/fn_ptr");
BENCHMARK(call_invoke)->Name("codegen/call/invoke");
BENCHMARK(loop_c)->Name("codegen/loop/c_O2")->Unit(benchmark::kMicrosecond);
BENCHMARK(loop_jit)->Name("codegen/loop/builder")->Unit(benchmark::kMicrosecond);
