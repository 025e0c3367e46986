// N lifecycles of one kind and nothing else, for tools that count rather
// than time: run it under callgrind or perf twice with different N and
// subtract, and what is left is the cost of N lifecycles.
//
//   npk_bench_lifecycle_loop npk|floor N
//
//   valgrind --tool=callgrind build-bench/bench/npk_bench_lifecycle_loop npk 1000
//   valgrind --tool=callgrind build-bench/bench/npk_bench_lifecycle_loop npk 2000
//   (instructions per lifecycle = difference of the totals / 1000)
#include <npk/jit.h>
#include <npk/wildx.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <thread>

#include "common.h"

namespace {

[[gnu::noinline]] bool npk_once() {
    int32_t a = 7, b = 35;
    bench::opaque(a);
    bench::opaque(b);
    void* page = npk_wildx_alloc(64);
    if (!page || npk_jit_install_add_i32(page) != 0 || npk_wildx_seal(page) != 0) return false;
    const int32_t r = npk_jit_call_i32_i32(page, a, b);
    return npk_wildx_free(page) == 0 && r == 42;
}

[[gnu::noinline]] bool floor_once() {
    int32_t a = 7, b = 35;
    bench::opaque(a);
    bench::opaque(b);
    void* page = bench::bare_map_rw();
    if (!page) return false;
    std::memcpy(page, bench::kAddI32, sizeof bench::kAddI32);
    if (mprotect(page, bench::page_size(), PROT_READ | PROT_EXEC) != 0) return false;
    const int32_t r = reinterpret_cast<bench::AddFn>(page)(a, b);
    return munmap(page, bench::page_size()) == 0 && r == 42;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 3 || (std::strcmp(argv[1], "npk") != 0 && std::strcmp(argv[1], "floor") != 0)) {
        std::fprintf(stderr, "usage: npk_bench_lifecycle_loop npk|floor N\n");
        return 64;
    }
    if (!bench::host_is_x86_64() || !npk_jit_host_supported()) {
        std::fprintf(stderr, "npk_bench_lifecycle_loop: host cannot run x86-64 code\n");
        return 77;
    }
    // The same process regime as npk_bench (see main.cpp).
    std::thread([] {}).join();
    const bool npk = argv[1][0] == 'n';
    const long n = std::strtol(argv[2], nullptr, 10);
    for (long i = 0; i < n; ++i) {
        if (!(npk ? npk_once() : floor_once())) {
            std::fprintf(stderr, "npk_bench_lifecycle_loop: lifecycle %ld failed\n", i);
            return 1;
        }
    }
    return 0;
}
