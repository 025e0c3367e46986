// 8 threads building, sealing, invoking and freeing functions and regions
// at once, while all of them also invoke the functions of one shared
// region (run under ThreadSanitizer in CI: ctest -L concurrency).
#include "jitbuild_support.h"

#include <atomic>
#include <thread>
#include <vector>

using namespace npk::test;

namespace {

// i64 f(i64 x) = x * k + t
npk_jit_builder* affine(int64_t k, int64_t t) {
    npk_jit_builder* b = npk_jit_builder_new(NPK_JIT_I64);
    const int32_t x = npk_jit_param(b, NPK_JIT_I64), c = npk_jit_var(b, NPK_JIT_I64);
    npk_jit_const_i64(b, c, k);
    npk_jit_op(b, NPK_JIT_MUL, x, x, c);
    npk_jit_const_i64(b, c, t);
    npk_jit_op(b, NPK_JIT_ADD, x, x, c);
    npk_jit_ret(b, x);
    return b;
}

int64_t invoke1(const void* fn, int64_t x) {
    npk_jit_value a{}, r{};
    a.type = NPK_JIT_I64;
    a.i64 = x;
    if (npk_jit_invoke(fn, &a, 1, &r) != 0) return INT64_MIN;
    return r.i64;
}

}  // namespace

TEST_CASE("jitbuild: 8 threads build, seal, invoke and free functions and regions at once", "[jitbuild][concurrency]") {
    require_threads();
    StatsWatch w;
    constexpr int kShared = 64;
    npk_jit_region* shared = npk_jit_region_new();
    std::vector<void*> shared_fns;
    for (int k = 0; k < kShared; ++k) shared_fns.push_back(npk_jit_region_add(shared, affine(k, -k)));
    REQUIRE(npk_jit_region_seal(shared) == 0);

    constexpr int kThreads = 8, kRounds = 60, kPerRegion = 16;
    std::atomic<int> bad{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
        threads.emplace_back([&, t] {
            for (int round = 0; round < kRounds; ++round) {
                const int64_t k = t * 1000 + round;
                void* f = npk_jit_build(affine(k, 7));
                if (f == nullptr || invoke1(f, 3) != 3 * k + 7 ||
                    reinterpret_cast<int64_t (*)(int64_t)>(f)(-2) != -2 * k + 7) {
                    ++bad;
                }
                npk_jit_region* r = npk_jit_region_new();
                void* fns[kPerRegion];
                for (int i = 0; i < kPerRegion; ++i) fns[i] = npk_jit_region_add(r, affine(k, i));
                if (npk_jit_region_seal(r) != 0) ++bad;
                for (int i = 0; i < kPerRegion; ++i) {
                    if (invoke1(fns[i], 5) != 5 * k + i) ++bad;
                }
                for (int i = 0; i < kShared; i += 7) {
                    if (invoke1(shared_fns[static_cast<size_t>(i)], round) != round * i - i) ++bad;
                }
                if (npk_jit_region_free(r) != 0 || npk_wildx_free(f) != 0) ++bad;
            }
        });
    }
    for (std::thread& th : threads) th.join();
    CHECK(bad.load() == 0);
    CHECK(npk_jit_region_free(shared) == 0);
    CHECK(w.delta().live_pages == 0);
    MapsReader maps;
    maps.read();
    CHECK(maps.writable_and_executable() == nullptr);
}
