// The cost of calling JIT code once it is sealed: the checked call the
// C ABI offers, a plain indirect call to the same page, and a direct
// call of compiled C doing the same add.
#include <benchmark/benchmark.h>
#include <npk/jit.h>
#include <npk/wildx.h>

#include "common.h"

namespace {

constexpr int32_t kA = 7, kB = 35;

// noinline and an empty asm keep the compiler from folding or hoisting
// the call: each iteration pays for a real call and return.
[[gnu::noinline]] int32_t add_c(int32_t a, int32_t b) {
    asm volatile("");
    return a + b;
}

// A sealed page holding add, for the lifetime of one case.
class SealedAdd {
public:
    SealedAdd() {
        page_ = npk_wildx_alloc(64);
        ok_ = page_ && npk_jit_install_add_i32(page_) == 0 && npk_wildx_seal(page_) == 0;
    }
    ~SealedAdd() {
        if (page_) npk_wildx_free(page_);
    }
    SealedAdd(const SealedAdd&) = delete;
    SealedAdd& operator=(const SealedAdd&) = delete;
    bool ok() const { return ok_; }
    void* page() const { return page_; }

private:
    void* page_ = nullptr;
    bool ok_ = false;
};

bool skip_unless_jit(benchmark::State& state) {
    if (bench::host_is_x86_64() && npk_jit_host_supported()) return false;
    state.SkipWithError("host cannot run x86-64 code");
    return true;
}

void call_direct_c(benchmark::State& state) {
    int32_t last = 0;
    for (auto _ : state) {
        int32_t a = kA, b = kB;
        bench::opaque(a);
        bench::opaque(b);
        const int32_t r = add_c(a, b);
        benchmark::DoNotOptimize(r);
        last = r;
    }
    if (last != kA + kB) state.SkipWithError("wrong sum");
}

void call_fn_ptr(benchmark::State& state) {
    if (skip_unless_jit(state)) return;
    SealedAdd fn;
    if (!fn.ok()) {
        state.SkipWithError("could not prepare a sealed page");
        return;
    }
    int32_t last = 0;
    for (auto _ : state) {
        int32_t a = kA, b = kB;
        auto f = reinterpret_cast<bench::AddFn>(fn.page());
        bench::opaque(a);
        bench::opaque(b);
        bench::opaque(f);
        const int32_t r = f(a, b);
        benchmark::DoNotOptimize(r);
        last = r;
    }
    if (last != kA + kB) state.SkipWithError("wrong sum");
}

void call_npk_checked(benchmark::State& state) {
    if (skip_unless_jit(state)) return;
    SealedAdd fn;
    if (!fn.ok()) {
        state.SkipWithError("could not prepare a sealed page");
        return;
    }
    int32_t last = 0;
    for (auto _ : state) {
        int32_t a = kA, b = kB;
        void* page = fn.page();
        bench::opaque(a);
        bench::opaque(b);
        bench::opaque(page);
        const int32_t r = npk_jit_call_i32_i32(page, a, b);
        benchmark::DoNotOptimize(r);
        last = r;
    }
    if (last != kA + kB) state.SkipWithError("wrong sum");
}

}  // namespace

BENCHMARK(call_direct_c)->Name("call/direct_c");
BENCHMARK(call_fn_ptr)->Name("call/fn_ptr");
BENCHMARK(call_npk_checked)->Name("call/npk_checked");
