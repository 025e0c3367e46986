// How many built functions can be live at once in regions: builds
// --functions functions (i64 f_k(i64 x) = x*k + 1, each compiled through
// npk_jit_region_add) into regions of 10,000, seals each, invokes every
// 997th with its signature checked, records the mappings in
// /proc/self/maps at the peak, frees everything, and prints one JSON
// object on stdout. Not a timing benchmark.
//
//   npk_bench_million_functions [--functions N]
#include <npk/jitbuild.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "common.h"

int main(int argc, char** argv) {
    size_t n = 1000000;
    if (argc == 3 && std::strcmp(argv[1], "--functions") == 0) {
        n = std::strtoul(argv[2], nullptr, 10);
    } else if (argc != 1) {
        std::fprintf(stderr, "usage: npk_bench_million_functions [--functions N]\n");
        return 64;
    }
    npk_wildx_set_quota(size_t{4} << 30);  // out of the way: the mapping count is what is measured
    constexpr size_t kPerRegion = 10000;
    std::vector<npk_jit_region*> regions;
    std::vector<void*> sample;
    size_t built = 0, add_failures = 0, seal_failures = 0, calls_ok = 0, calls_bad = 0;
    const auto t0 = std::chrono::steady_clock::now();
    while (built < n) {
        npk_jit_region* r = npk_jit_region_new();
        if (r == nullptr) break;
        regions.push_back(r);
        for (size_t i = 0; i < kPerRegion && built < n; ++i, ++built) {
            npk_jit_builder* b = npk_jit_builder_new(NPK_JIT_I64);
            const int32_t x = npk_jit_param(b, NPK_JIT_I64), c = npk_jit_var(b, NPK_JIT_I64);
            npk_jit_const_i64(b, c, static_cast<int64_t>(built));
            npk_jit_op(b, NPK_JIT_MUL, x, x, c);
            npk_jit_const_i64(b, c, 1);
            npk_jit_op(b, NPK_JIT_ADD, x, x, c);
            npk_jit_ret(b, x);
            void* f = npk_jit_region_add(r, b);
            if (f == nullptr) {
                ++add_failures;
            } else if (built % 997 == 0) {
                sample.push_back(f);
            }
        }
        if (npk_jit_region_seal(r) != 0) ++seal_failures;
    }
    const double build_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    const long maps = bench::count_mappings();
    npk_wildx_stats st{};
    npk_wildx_get_stats(&st);
    for (size_t i = 0; i < sample.size(); ++i) {
        npk_jit_value a{}, res{};
        a.type = NPK_JIT_I64;
        a.i64 = 2;
        const int64_t k = static_cast<int64_t>(i * 997);
        if (npk_jit_invoke(sample[i], &a, 1, &res) == 0 && res.i64 == 2 * k + 1) {
            ++calls_ok;
        } else {
            ++calls_bad;
        }
    }
    size_t free_failures = 0;
    for (npk_jit_region* r : regions) free_failures += npk_jit_region_free(r) != 0;
    long max_map_count = -1;
    if (FILE* f = std::fopen("/proc/sys/vm/max_map_count", "r")) {
        if (std::fscanf(f, "%ld", &max_map_count) != 1) max_map_count = -1;
        std::fclose(f);
    }
    std::printf("{\"functions\": %zu, \"live\": %zu, \"add_failures\": %zu, \"seal_failures\": %zu, "
                "\"regions\": %zu, \"wildx_allocations\": %llu, \"wildx_bytes\": %llu, \"maps_at_peak\": %ld, "
                "\"max_map_count\": %ld, \"calls_ok\": %zu, \"calls_bad\": %zu, \"free_failures\": %zu, "
                "\"build_seconds\": %.2f}\n",
                n, built - add_failures, add_failures, seal_failures, regions.size(),
                static_cast<unsigned long long>(st.live_pages), static_cast<unsigned long long>(st.live_bytes), maps,
                max_map_count, calls_ok, calls_bad, free_failures, build_s);
    return add_failures == 0 && seal_failures == 0 && calls_bad == 0 && free_failures == 0 ? 0 : 1;
}
