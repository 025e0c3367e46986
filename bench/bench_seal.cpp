// npk_wildx_seal alone. Each iteration maps and fills a fresh page
// outside the clock and times only the seal (manual time: PauseTiming
// costs more than the thing measured here), so the registry lookup, the
// hash of the page and the mprotect are what is left.
#include <benchmark/benchmark.h>
#include <npk/jit.h>
#include <npk/wildx.h>

#include <chrono>
#include <cstring>
#include <string>

#include "common.h"

namespace {

using Clock = std::chrono::steady_clock;

double seconds_between(Clock::time_point t0, Clock::time_point t1) {
    return std::chrono::duration<double>(t1 - t0).count();
}

// fill_page: false leaves the 5 bytes of add and a zero tail, true fills
// every byte after them with int3 (0xcc), as a JIT that pads its code does.
void seal_npk(benchmark::State& state, bool fill_page) {
    if (!bench::host_is_x86_64()) {
        state.SkipWithError("host cannot run x86-64 code");
        return;
    }
    for (auto _ : state) {
        void* page = npk_wildx_alloc(64);
        if (!page || npk_jit_install_add_i32(page) != 0) {
            state.SkipWithError("alloc or install failed");
            break;
        }
        const size_t size = npk_wildx_size(page);
        if (fill_page)
            std::memset(static_cast<unsigned char*>(page) + sizeof bench::kAddI32, 0xcc,  // int3
                        size - sizeof bench::kAddI32);
        const auto t0 = Clock::now();
        const int32_t rc = npk_wildx_seal(page);
        const auto t1 = Clock::now();
        state.SetIterationTime(seconds_between(t0, t1));
        if (rc != 0 || npk_wildx_free(page) != 0) {
            state.SkipWithError("seal or free failed");
            break;
        }
    }
}

// The baseline: the mprotect RW → RX every sealing scheme needs, on a
// populated page of the same size.
void seal_floor_mprotect(benchmark::State& state) {
    const size_t ps = bench::page_size();
    for (auto _ : state) {
        void* page = bench::bare_map_rw();
        if (!page) {
            state.SkipWithError("mmap failed");
            break;
        }
        std::memcpy(page, bench::kAddI32, sizeof bench::kAddI32);
        const auto t0 = Clock::now();
        const int rc = mprotect(page, ps, PROT_READ | PROT_EXEC);
        const auto t1 = Clock::now();
        state.SetIterationTime(seconds_between(t0, t1));
        if (rc != 0 || munmap(page, ps) != 0) {
            state.SkipWithError("mprotect or munmap failed");
            break;
        }
    }
}

// What the hash recorded at seal costs by itself, over one page laid out
// as in the two seal cases (explains the difference between them).
void seal_fnv1a64(benchmark::State& state, bool fill_page) {
    const size_t ps = bench::page_size();
    std::string bytes(ps, fill_page ? '\xcc' : '\0');
    std::memcpy(bytes.data(), bench::kAddI32, sizeof bench::kAddI32);
    for (auto _ : state) {
        const auto t0 = Clock::now();
        const uint64_t h = npk_wildx_fnv1a64(bytes.data(), bytes.size());
        benchmark::DoNotOptimize(h);
        const auto t1 = Clock::now();
        state.SetIterationTime(seconds_between(t0, t1));
    }
}

}  // namespace

BENCHMARK(seal_floor_mprotect)->Name("seal/floor_mprotect")->UseManualTime();
BENCHMARK_CAPTURE(seal_npk, 5_bytes, false)->Name("seal/npk_5_bytes")->UseManualTime();
BENCHMARK_CAPTURE(seal_npk, full_page, true)->Name("seal/npk_full_page")->UseManualTime();
BENCHMARK_CAPTURE(seal_fnv1a64, 5_bytes, false)->Name("seal/fnv1a64_5_bytes")->UseManualTime();
BENCHMARK_CAPTURE(seal_fnv1a64, full_page, true)->Name("seal/fnv1a64_full_page")->UseManualTime();
