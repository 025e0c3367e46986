// The registry under load: the same operations with 1, 1,000 and 15,000
// other pages live (sealed, as a JIT's live functions are), on one
// thread and on two. A registry that scans, or whose lookups degrade
// with its size, shows up as the ratio to the 1-live-page case.
//
// Neighbouring sealed pages merge into one kernel mapping, so the kernel
// sees few mappings however many pages are live. The "split" cases leave
// every second background page writable instead: one mapping per page,
// which shows what the kernel's own cost does with 15,000 mappings.
#include <benchmark/benchmark.h>
#include <npk/jit.h>
#include <npk/wildx.h>

#include <chrono>
#include <cstring>
#include <vector>

#include "common.h"

namespace {

using Clock = std::chrono::steady_clock;

// The pages live during one case. Built and released by thread 0 only:
// Google Benchmark holds every thread at the start and at the end of the
// timed loop, so the other threads see it complete and never see it go.
struct Background {
    std::vector<void*> pages;
    std::vector<void*> sample;  // a power-of-two subset spread over `pages`
    size_t saved_quota = 0;

    bool build(size_t n, bool split) {
        saved_quota = npk_wildx_quota();
        // Room for the background, the case's own pages and slack.
        npk_wildx_set_quota((n + 1024) * bench::page_size());
        pages.reserve(n);
        for (size_t i = 0; i < n; ++i) {
            void* p = npk_wildx_alloc(64);
            if (!p) return false;
            pages.push_back(p);
            if (split && i % 2 == 1) continue;
            if (npk_jit_install_add_i32(p) != 0 || npk_wildx_seal(p) != 0) return false;
        }
        size_t k = 1;
        while (k * 2 <= n && k * 2 <= 64) k *= 2;
        // Sealed pages only, so that every lookup expects EXECUTABLE.
        for (size_t i = 0; i < k; ++i) sample.push_back(pages[(i * n / k) & ~size_t{1}]);
        return true;
    }

    void release() {
        for (void* p : pages) npk_wildx_free(p);
        pages.clear();
        sample.clear();
        npk_wildx_set_quota(saved_quota);
    }
};

Background g_bg;

// Thread 0 builds the background. On failure the case is marked failed
// and its loop runs no iteration; every thread still enters the loop, so
// none waits forever at Google Benchmark's start barrier.
void setup(benchmark::State& state, bool split = false) {
    if (!bench::host_is_x86_64()) {
        state.SkipWithError("host cannot run x86-64 code");
        return;
    }
    if (state.thread_index() != 0) return;
    if (!g_bg.build(static_cast<size_t>(state.range(0)), split)) {
        g_bg.release();
        state.SkipWithError("could not build the background pages");
        return;
    }
    state.counters["maps"] = static_cast<double>(bench::count_mappings());
}

void teardown(benchmark::State& state) {
    if (state.thread_index() == 0) g_bg.release();
}

void registry_state(benchmark::State& state) {
    setup(state);
    size_t i = 0;
    for (auto _ : state) {
        // Read inside the loop: the other thread may only look at g_bg
        // once the start barrier has passed.
        const std::vector<void*>& sample = g_bg.sample;
        if (sample.empty()) {
            state.SkipWithError("no background pages (thread 0 failed to build them)");
            break;
        }
        const int32_t s = npk_wildx_state(sample[i++ & (sample.size() - 1)]);
        benchmark::DoNotOptimize(s);
        if (s != NPK_WILDX_EXECUTABLE) {
            state.SkipWithError("a live sealed page read as not executable");
            break;
        }
    }
    teardown(state);
}

void registry_alloc_free(benchmark::State& state, bool split) {
    setup(state, split);
    for (auto _ : state) {
        void* p = npk_wildx_alloc(64);
        if (!p || npk_wildx_free(p) != 0) {
            state.SkipWithError("alloc or free failed");
            break;
        }
    }
    teardown(state);
}

// Alloc and install happen off the clock; seal + free are timed.
void registry_seal_free(benchmark::State& state, bool split) {
    setup(state, split);
    for (auto _ : state) {
        void* p = npk_wildx_alloc(64);
        if (!p || npk_jit_install_add_i32(p) != 0) {
            state.SkipWithError("alloc or install failed");
            break;
        }
        const auto t0 = Clock::now();
        const int32_t sealed = npk_wildx_seal(p);
        const int32_t freed = npk_wildx_free(p);
        const auto t1 = Clock::now();
        state.SetIterationTime(std::chrono::duration<double>(t1 - t0).count());
        if (sealed != 0 || freed != 0) {
            state.SkipWithError("seal or free failed");
            break;
        }
    }
    teardown(state);
}

// The kernel's share: the same system calls with the same number of
// bare RX pages mapped and no registry at all. On two threads each thread
// maps its own background.
class BarePages {
public:
    BarePages(size_t n, bool split) {
        const size_t ps = bench::page_size();
        pages_.reserve(n);
        for (size_t i = 0; i < n; ++i) {
            void* p = bench::bare_map_rw();
            if (!p) return;
            pages_.push_back(p);
            std::memcpy(p, bench::kAddI32, sizeof bench::kAddI32);
            if (!(split && i % 2 == 1) && mprotect(p, ps, PROT_READ | PROT_EXEC) != 0) return;
        }
        ok_ = true;
    }
    ~BarePages() {
        for (void* p : pages_) munmap(p, bench::page_size());
    }
    BarePages(const BarePages&) = delete;
    BarePages& operator=(const BarePages&) = delete;
    bool ok() const { return ok_; }

private:
    std::vector<void*> pages_;
    bool ok_ = false;
};

void registry_floor_alloc_free(benchmark::State& state, bool split) {
    const size_t ps = bench::page_size();
    BarePages bg(static_cast<size_t>(state.range(0)), split);
    if (state.thread_index() == 0) state.counters["maps"] = static_cast<double>(bench::count_mappings());
    if (!bg.ok()) state.SkipWithError("could not map the background pages");
    for (auto _ : state) {
        void* p = bench::bare_map_rw();
        if (!p || munmap(p, ps) != 0) {
            state.SkipWithError("mmap or munmap failed");
            break;
        }
    }
}

// mprotect RX + munmap timed; the mmap and the write are not.
void registry_floor_seal_free(benchmark::State& state) {
    const size_t ps = bench::page_size();
    BarePages bg(static_cast<size_t>(state.range(0)), false);
    if (!bg.ok()) state.SkipWithError("could not map the background pages");
    for (auto _ : state) {
        void* p = bench::bare_map_rw();
        if (!p) {
            state.SkipWithError("mmap failed");
            break;
        }
        std::memcpy(p, bench::kAddI32, sizeof bench::kAddI32);
        const auto t0 = Clock::now();
        const int sealed = mprotect(p, ps, PROT_READ | PROT_EXEC);
        const int freed = munmap(p, ps);
        const auto t1 = Clock::now();
        state.SetIterationTime(std::chrono::duration<double>(t1 - t0).count());
        if (sealed != 0 || freed != 0) {
            state.SkipWithError("mprotect or munmap failed");
            break;
        }
    }
}

void live_args(benchmark::internal::Benchmark* b) {
    b->ArgName("live")->Arg(1)->Arg(1000)->Arg(15000);
}

void threaded_args(benchmark::internal::Benchmark* b) {
    b->ArgName("live")->Arg(1)->Arg(15000)->Threads(2);
}

}  // namespace

BENCHMARK(registry_state)->Name("registry/state")->Apply(live_args);
BENCHMARK(registry_state)->Name("registry/state")->Apply(threaded_args);
BENCHMARK_CAPTURE(registry_alloc_free, merged, false)->Name("registry/alloc_free")->Apply(live_args);
BENCHMARK_CAPTURE(registry_alloc_free, merged, false)->Name("registry/alloc_free")->Apply(threaded_args);
BENCHMARK_CAPTURE(registry_alloc_free, split, true)->Name("registry/alloc_free_split")->ArgName("live")->Arg(15000);
BENCHMARK_CAPTURE(registry_seal_free, merged, false)->Name("registry/seal_free")->Apply(live_args)->UseManualTime();
BENCHMARK_CAPTURE(registry_seal_free, merged, false)
    ->Name("registry/seal_free")
    ->Apply(threaded_args)
    ->UseManualTime();
BENCHMARK_CAPTURE(registry_seal_free, split, true)
    ->Name("registry/seal_free_split")
    ->ArgName("live")
    ->Arg(15000)
    ->UseManualTime();
BENCHMARK_CAPTURE(registry_floor_alloc_free, merged, false)
    ->Name("registry/floor_alloc_free")
    ->ArgName("live")
    ->Arg(1)
    ->Arg(15000);
BENCHMARK_CAPTURE(registry_floor_alloc_free, merged, false)
    ->Name("registry/floor_alloc_free")
    ->ArgName("live")
    ->Arg(1)
    ->Threads(2);
BENCHMARK_CAPTURE(registry_floor_alloc_free, split, true)
    ->Name("registry/floor_alloc_free_split")
    ->ArgName("live")
    ->Arg(15000);
BENCHMARK(registry_floor_seal_free)->Name("registry/floor_seal_free")->ArgName("live")->Arg(1)->UseManualTime();
BENCHMARK(registry_floor_seal_free)
    ->Name("registry/floor_seal_free")
    ->ArgName("live")
    ->Arg(1)
    ->Threads(2)
    ->UseManualTime();
