// The handle arenas with many threads at once: private arenas, one shared
// arena, racing frees of one handle, and destroys racing derefs. Each race
// must have one of the outcomes a one-at-a-time order allows. Labelled
// `concurrency`, so CI runs it under ThreadSanitizer too.
#include "skip.h"
#include "support.h"

#include <npk/handle.h>
#include <npk/status.h>

#include <atomic>
#include <barrier>
#include <cstring>
#include <thread>
#include <vector>

using namespace npk::test;

namespace {

constexpr int kThreads = 8;

npk_handle_stats hstats() {
    npk_handle_stats s{};
    npk_handle_get_stats(&s);
    return s;
}

}  // namespace

TEST_CASE("handle: 8 threads, each with its own arenas, alloc / write / read / free", "[concurrency]") {
    require_threads();
    const npk_handle_stats before = hstats();
    std::atomic<int> failures{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
        threads.emplace_back([&, t] {
            for (int round = 0; round < 20; ++round) {
                const int64_t a = npk_handle_arena_create();
                if (a == 0) {
                    ++failures;
                    continue;
                }
                std::vector<npk_handle_t> hs;
                for (int i = 0; i < 200; ++i) {
                    const npk_handle_t h = npk_handle_alloc(a, 16);
                    auto* p = static_cast<unsigned char*>(npk_handle_deref(h));
                    if (p == nullptr) {
                        ++failures;
                        continue;
                    }
                    std::memset(p, t * 16 + round % 16, 16);
                    hs.push_back(h);
                }
                for (size_t i = 0; i < hs.size(); i += 2) npk_handle_free(hs[i]);
                for (size_t i = 1; i < hs.size(); i += 2) {
                    auto* p = static_cast<unsigned char*>(npk_handle_deref(hs[i]));
                    if (p == nullptr || p[15] != t * 16 + round % 16) ++failures;
                }
                npk_handle_arena_destroy(a);
            }
        });
    }
    for (auto& th : threads) th.join();
    CHECK(failures == 0);
    const npk_handle_stats after = hstats();
    CHECK(after.live_arenas == before.live_arenas);
    CHECK(after.live_handles == before.live_handles);
    CHECK(after.total_allocs - before.total_allocs == uint64_t{kThreads} * 20 * 200);
    CHECK(after.total_frees - before.total_frees == uint64_t{kThreads} * 20 * 200);
    CHECK(after.total_rejections == before.total_rejections);
}

TEST_CASE("handle: one shared arena, 8 threads allocating and freeing in it", "[concurrency]") {
    require_threads();
    const int64_t a = npk_handle_arena_create();
    REQUIRE(a != 0);
    std::atomic<int> failures{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
        threads.emplace_back([&, t] {
            std::vector<npk_handle_t> mine;
            for (int i = 0; i < 5000; ++i) {
                if (mine.size() < 32 || i % 3 != 0) {
                    const npk_handle_t h = npk_handle_alloc(a, 8);
                    auto* p = static_cast<int64_t*>(npk_handle_deref(h));
                    if (p == nullptr) {
                        ++failures;
                        continue;
                    }
                    *p = (int64_t{t} << 32) | i;
                    mine.push_back(h);
                } else {
                    const npk_handle_t h = mine.back();
                    mine.pop_back();
                    auto* p = static_cast<int64_t*>(npk_handle_deref(h));
                    if (p == nullptr || (*p >> 32) != t) ++failures;  // nobody else's block
                    npk_handle_free(h);
                }
            }
            for (npk_handle_t h : mine) npk_handle_free(h);
        });
    }
    for (auto& th : threads) th.join();
    CHECK(failures == 0);
    npk_handle_arena_destroy(a);
}

TEST_CASE("handle: racing frees of one handle: exactly one frees the block", "[concurrency]") {
    require_threads();
    QuietGuard q;
    const int64_t a = npk_handle_arena_create();
    REQUIRE(a != 0);
    constexpr int kRounds = 300;
    std::vector<npk_handle_t> hs(kRounds);
    for (int i = 0; i < kRounds; ++i) hs[static_cast<size_t>(i)] = npk_handle_alloc(a, 8);
    const npk_handle_stats before = hstats();
    std::barrier sync(kThreads, []() noexcept {});
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
        threads.emplace_back([&] {
            for (int i = 0; i < kRounds; ++i) {
                sync.arrive_and_wait();
                npk_handle_free(hs[static_cast<size_t>(i)]);
            }
        });
    }
    for (auto& th : threads) th.join();
    const npk_handle_stats after = hstats();
    CHECK(after.total_frees - before.total_frees == kRounds);
    CHECK(after.total_rejections - before.total_rejections == uint64_t{kRounds} * (kThreads - 1));
    CHECK(after.live_handles == before.live_handles - kRounds);
    npk_handle_arena_destroy(a);
}

TEST_CASE("handle: destroys racing derefs and allocs of the same arenas", "[concurrency]") {
    require_threads();
    QuietGuard q;
    constexpr int kRounds = 200;
    const uint64_t arenas_before = hstats().live_arenas;
    std::atomic<int> failures{0};
    for (int round = 0; round < kRounds; ++round) {
        const int64_t a = npk_handle_arena_create();
        REQUIRE(a != 0);
        std::vector<npk_handle_t> hs;
        for (int i = 0; i < 16; ++i) hs.push_back(npk_handle_alloc(a, 32));
        std::atomic<bool> destroyed{false};
        std::vector<std::thread> threads;
        for (int t = 0; t < 3; ++t) {
            threads.emplace_back([&] {
                for (int spin = 0; spin < 64; ++spin) {
                    const bool was_destroyed = destroyed.load();
                    for (npk_handle_t h : hs) {
                        // The pointer is not used: the destroyer may free it any moment.
                        const bool alive = npk_handle_deref(h) != nullptr;
                        if (was_destroyed && alive) ++failures;  // a destroy is final
                    }
                    const npk_handle_t extra = npk_handle_alloc(a, 8);
                    if (was_destroyed && extra != NPK_HANDLE_NULL) ++failures;
                }
            });
        }
        threads.emplace_back([&] {
            npk_handle_arena_destroy(a);
            destroyed.store(true);
        });
        for (auto& th : threads) th.join();
        for (npk_handle_t h : hs) {
            if (npk_handle_deref(h) != nullptr) ++failures;
        }
    }
    CHECK(failures == 0);
    CHECK(hstats().live_arenas == arenas_before);
}
