// The alternative a C++ user would reach for: asmjit's JitRuntime, with
// the same add assembled, added, called and released. Built only when
// asmjit is found. The case also reads /proc/self/maps to record what
// protection asmjit's code pages carry while the function is live.
#include <asmjit/x86.h>
#include <benchmark/benchmark.h>

#include <string>

#include "common.h"

namespace {

constexpr int32_t kA = 7, kB = 35;

void lifecycle_asmjit(benchmark::State& state) {
    if (!bench::host_is_x86_64()) {
        state.SkipWithError("host cannot run x86-64 code");
        return;
    }
    // One runtime per case, as a program keeps one for its lifetime.
    asmjit::JitRuntime rt;
    std::string perms;
    long rwx = -1;
    for (auto _ : state) {
        int32_t a = kA, b = kB;
        bench::opaque(a);
        bench::opaque(b);
        asmjit::CodeHolder code;
        code.init(rt.environment());
        asmjit::x86::Assembler as(&code);
        as.mov(asmjit::x86::eax, asmjit::x86::edi);
        as.add(asmjit::x86::eax, asmjit::x86::esi);
        as.ret();
        bench::AddFn fn = nullptr;
        if (rt.add(&fn, &code) != asmjit::kErrorOk) {
            state.SkipWithError("JitRuntime::add failed");
            break;
        }
        const int32_t r = fn(a, b);
        benchmark::DoNotOptimize(r);
        if (perms.empty()) {
            state.PauseTiming();
            perms = bench::mapping_perms(reinterpret_cast<const void*>(fn));
            rwx = bench::count_rwx_mappings();
            state.ResumeTiming();
        }
        if (rt.release(fn) != asmjit::kErrorOk || r != kA + kB) {
            state.SkipWithError("JitRuntime::release failed or wrong sum");
            break;
        }
    }
    state.SetLabel("code page " + (perms.empty() ? std::string("?") : perms) +
                   ", rwx mappings " + std::to_string(rwx));
    state.counters["rwx_mappings"] = static_cast<double>(rwx);
}

}  // namespace

BENCHMARK(lifecycle_asmjit)->Name("lifecycle/asmjit");
