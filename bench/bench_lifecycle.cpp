// The whole life of one JIT function: alloc → install → seal → call →
// free, through the C ABI, against floors that do the same steps with
// bare system calls and nothing else.
#include <benchmark/benchmark.h>
#include <npk/jit.h>
#include <npk/wildx.h>

#include <cstring>

#include "common.h"

namespace {

constexpr int32_t kA = 7, kB = 35;

bool skip_unless_jit(benchmark::State& state) {
    if (bench::host_is_x86_64() && npk_jit_host_supported()) return false;
    state.SkipWithError("host cannot run x86-64 code");
    return true;
}

// One lifecycle through the C ABI; false (with the case marked failed)
// on any error, so a broken runtime never reports a time.
inline bool npk_lifecycle_once(benchmark::State& state) {
    int32_t a = kA, b = kB;
    bench::opaque(a);
    bench::opaque(b);
    void* page = npk_wildx_alloc(64);
    if (!page) {
        state.SkipWithError("npk_wildx_alloc returned NULL");
        return false;
    }
    if (npk_jit_install_add_i32(page) != 0 || npk_wildx_seal(page) != 0) {
        state.SkipWithError("install or seal failed");
        npk_wildx_free(page);
        return false;
    }
    const int32_t r = npk_jit_call_i32_i32(page, a, b);
    benchmark::DoNotOptimize(r);
    if (npk_wildx_free(page) != 0 || r != kA + kB) {
        state.SkipWithError("free failed or the call gave a wrong sum");
        return false;
    }
    return true;
}

void lifecycle_npk(benchmark::State& state) {
    if (skip_unless_jit(state)) return;
    for (auto _ : state)
        if (!npk_lifecycle_once(state)) break;
}

// The floor: what any W^X JIT must pay for one function on its own page,
// with no registry, no hash and no checks.
inline bool floor_lifecycle_once(benchmark::State& state) {
    const size_t ps = bench::page_size();
    int32_t a = kA, b = kB;
    bench::opaque(a);
    bench::opaque(b);
    void* page = bench::bare_map_rw();
    if (!page) {
        state.SkipWithError("mmap failed");
        return false;
    }
    std::memcpy(page, bench::kAddI32, sizeof bench::kAddI32);
    if (mprotect(page, ps, PROT_READ | PROT_EXEC) != 0) {
        state.SkipWithError("mprotect failed");
        return false;
    }
    const int32_t r = reinterpret_cast<bench::AddFn>(page)(a, b);
    benchmark::DoNotOptimize(r);
    if (munmap(page, ps) != 0 || r != kA + kB) {
        state.SkipWithError("munmap failed or wrong sum");
        return false;
    }
    return true;
}

void lifecycle_floor(benchmark::State& state) {
    if (skip_unless_jit(state)) return;
    for (auto _ : state)
        if (!floor_lifecycle_once(state)) break;
}

// The floor of a guarded page: reserve page + two guards inaccessible,
// open the middle read+write, then read+execute; one unmap for all three.
void lifecycle_floor_guard(benchmark::State& state) {
    if (skip_unless_jit(state)) return;
    const size_t ps = bench::page_size();
    for (auto _ : state) {
        int32_t a = kA, b = kB;
        bench::opaque(a);
        bench::opaque(b);
        void* base = mmap(nullptr, 3 * ps, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (base == MAP_FAILED) {
            state.SkipWithError("mmap failed");
            break;
        }
        auto* page = static_cast<unsigned char*>(base) + ps;
        if (mprotect(page, ps, PROT_READ | PROT_WRITE) != 0) {
            state.SkipWithError("mprotect RW failed");
            break;
        }
        std::memcpy(page, bench::kAddI32, sizeof bench::kAddI32);
        if (mprotect(page, ps, PROT_READ | PROT_EXEC) != 0) {
            state.SkipWithError("mprotect RX failed");
            break;
        }
        const int32_t r = reinterpret_cast<bench::AddFn>(page)(a, b);
        benchmark::DoNotOptimize(r);
        if (munmap(base, 3 * ps) != 0 || r != kA + kB) {
            state.SkipWithError("munmap failed or wrong sum");
            break;
        }
    }
}

void lifecycle_npk_guard(benchmark::State& state) {
    if (skip_unless_jit(state)) return;
    npk_wildx_set_guard_pages(1);
    for (auto _ : state)
        if (!npk_lifecycle_once(state)) break;
    npk_wildx_set_guard_pages(0);
}

void lifecycle_npk_audit_off(benchmark::State& state) {
    if (skip_unless_jit(state)) return;
    npk_wildx_set_audit(0);
    for (auto _ : state)
        if (!npk_lifecycle_once(state)) break;
}

// Audit writes three lines per lifecycle; they go to /dev/null so the
// case measures formatting and write(2), not a terminal.
void lifecycle_npk_audit_on(benchmark::State& state) {
    if (skip_unless_jit(state)) return;
    bench::StderrToDevNull quiet;
    if (!quiet.ok()) {
        state.SkipWithError("could not redirect stderr to /dev/null");
        return;
    }
    npk_wildx_set_audit(1);
    for (auto _ : state)
        if (!npk_lifecycle_once(state)) break;
    npk_wildx_set_audit(0);
}

}  // namespace

BENCHMARK(lifecycle_floor)->Name("lifecycle/floor");
BENCHMARK(lifecycle_npk)->Name("lifecycle/npk");
BENCHMARK(lifecycle_floor_guard)->Name("lifecycle/floor_guard");
BENCHMARK(lifecycle_npk_guard)->Name("lifecycle/npk_guard");
BENCHMARK(lifecycle_npk_audit_off)->Name("lifecycle/npk_audit_off");
BENCHMARK(lifecycle_npk_audit_on)->Name("lifecycle/npk_audit_on");
