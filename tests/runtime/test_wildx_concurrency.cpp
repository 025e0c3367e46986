// Many threads on the heap at once: private life cycles, plus races on
// shared pages (double frees, seal against free, seal against seal) that
// must each have exactly the outcomes a one-at-a-time order allows. Run
// under ThreadSanitizer too (-DNPK_SANITIZE=thread).
#include "skip.h"
#include "support.h"

#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <barrier>
#include <thread>
#include <vector>

using namespace npk::test;

namespace {

constexpr int kThreads = 8;
constexpr int kCycles = 10000;

struct Quiet {
    Quiet() { npk_wildx_set_quiet(1); }
    ~Quiet() { npk_wildx_set_quiet(0); }
};

}  // namespace

TEST_CASE("8 threads x 10000 alloc / install / seal / call / free cycles", "[concurrency]") {
    require_threads();
    SwitchesGuard g;
    npk_wildx_set_quota(stats_now().live_bytes + size_t{kThreads} * 4 * page_size());
    const bool jit = npk_test_host_is_x86_64() != 0;
    StatsWatch w;
    std::atomic<int> failures{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
        threads.emplace_back([&, t] {
            for (int i = 0; i < kCycles; ++i) {
                void* p = npk_wildx_alloc(static_cast<size_t>(1 + (i * 131 + t) % 8000));
                if (p == nullptr) {
                    ++failures;
                    continue;
                }
                if (jit && npk_jit_install_add_i32(p) != 0) ++failures;
                if (npk_wildx_seal(p) != 0) ++failures;
                if (npk_wildx_state(p) != NPK_WILDX_EXECUTABLE) ++failures;
                if (jit && npk_jit_call_i32_i32(p, i, t) != i + t) ++failures;
                if (i % 16 == 0 && npk_wildx_verify(p) != 0) ++failures;
                if (npk_wildx_free(p) != 0) ++failures;
            }
        });
    }
    for (auto& th : threads) th.join();
    CHECK(failures == 0);
    const int64_t n = int64_t{kThreads} * kCycles;
    CHECK(w.delta() == Delta{.allocs = n, .seals = n, .frees = n});
}

TEST_CASE("racing double frees: exactly one free of each page wins", "[concurrency]") {
    require_threads();
    Quiet q;
    constexpr int kRounds = 300;
    constexpr int kPages = 16;
    StatsWatch w;
    std::vector<void*> pages(kPages);
    std::atomic<int> wins{0}, freed_losses{0}, other{0};
    std::barrier setup(kThreads + 1);
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
        threads.emplace_back([&] {
            for (int r = 0; r < kRounds; ++r) {
                setup.arrive_and_wait();  // the main thread has allocated this round's pages
                for (int i = 0; i < kPages; ++i) {
                    const int32_t rc = npk_wildx_free(pages[static_cast<size_t>(i)]);
                    if (rc == 0) ++wins;
                    else if (npk_wildx_last_error() == NPK_WILDX_ERR_FREED) ++freed_losses;
                    else ++other;
                }
                setup.arrive_and_wait();  // everyone is done with this round
            }
        });
    }
    for (int r = 0; r < kRounds; ++r) {
        for (auto& p : pages) {
            p = npk_wildx_alloc(1);
            REQUIRE(p != nullptr);
            if (r % 2) REQUIRE(npk_wildx_seal(p) == 0);
        }
        setup.arrive_and_wait();
        setup.arrive_and_wait();
    }
    for (auto& th : threads) th.join();
    const int total = kRounds * kPages;
    CHECK(wins == total);
    CHECK(freed_losses == total * (kThreads - 1));
    CHECK(other == 0);
    CHECK(w.delta() == Delta{.allocs = total,
                             .seals = total / 2,
                             .frees = total,
                             .rejections = int64_t{total} * (kThreads - 1)});
}

TEST_CASE("seal racing free: free always wins, seal either ran first or sees the page freed",
          "[concurrency]") {
    require_threads();
    Quiet q;
    constexpr int kRounds = 2000;
    const bool jit = npk_test_host_is_x86_64() != 0;
    StatsWatch w;
    int seals_won = 0, seals_lost = 0, frees_won = 0, odd = 0;
    std::barrier start(2);
    void* page = nullptr;
    int32_t seal_rc = 0, seal_err = 0;
    std::thread sealer([&] {
        for (int r = 0; r < kRounds; ++r) {
            start.arrive_and_wait();
            seal_rc = npk_wildx_seal(page);
            seal_err = npk_wildx_last_error();
            start.arrive_and_wait();
        }
    });
    for (int r = 0; r < kRounds; ++r) {
        page = npk_wildx_alloc(static_cast<size_t>(1 + r % 3) * page_size());
        REQUIRE(page != nullptr);
        if (jit) REQUIRE(npk_jit_install_add_i32(page) == 0);
        start.arrive_and_wait();
        const int32_t free_rc = npk_wildx_free(page);
        start.arrive_and_wait();
        if (free_rc == 0) ++frees_won;
        else ++odd;
        if (seal_rc == 0) ++seals_won;
        else if (seal_err == NPK_WILDX_ERR_FREED) ++seals_lost;
        else ++odd;
    }
    sealer.join();
    CHECK(odd == 0);
    CHECK(frees_won == kRounds);
    CHECK(seals_won + seals_lost == kRounds);
    CHECK(w.delta() == Delta{.allocs = kRounds, .seals = seals_won, .frees = kRounds, .rejections = seals_lost});
    WARN("seal won " << seals_won << " of " << kRounds << " races against free");
}

TEST_CASE("racing seals: exactly one seal of each page wins, the others see it sealed", "[concurrency]") {
    require_threads();
    Quiet q;
    constexpr int kRounds = 500;
    constexpr int kRacers = 4;
    StatsWatch w;
    void* page = nullptr;
    std::atomic<int> wins{0}, sealed_losses{0}, other{0};
    std::barrier start(kRacers + 1);
    std::vector<std::thread> threads;
    for (int t = 0; t < kRacers; ++t) {
        threads.emplace_back([&] {
            for (int r = 0; r < kRounds; ++r) {
                start.arrive_and_wait();
                if (npk_wildx_seal(page) == 0) ++wins;
                else if (npk_wildx_last_error() == NPK_WILDX_ERR_SEALED) ++sealed_losses;
                else ++other;
                start.arrive_and_wait();
            }
        });
    }
    for (int r = 0; r < kRounds; ++r) {
        page = npk_wildx_alloc(2 * page_size());
        REQUIRE(page != nullptr);
        start.arrive_and_wait();
        start.arrive_and_wait();
        REQUIRE(npk_wildx_state(page) == NPK_WILDX_EXECUTABLE);
        REQUIRE(npk_wildx_free(page) == 0);
    }
    for (auto& th : threads) th.join();
    CHECK(wins == kRounds);
    CHECK(sealed_losses == kRounds * (kRacers - 1));
    CHECK(other == 0);
    CHECK(w.delta() == Delta{.allocs = kRounds, .seals = kRounds, .frees = kRounds,
                             .rejections = int64_t{kRounds} * (kRacers - 1)});
}

TEST_CASE("checked calls on one thread while others alloc, seal and free their own pages", "[concurrency]") {
    require_threads();
    if (!npk_test_host_is_x86_64()) npk_test_skip("needs x86-64 machine code");
    void* mine = npk_wildx_alloc(1);
    REQUIRE(mine != nullptr);
    REQUIRE(npk_jit_install_add_i32(mine) == 0);
    REQUIRE(npk_wildx_seal(mine) == 0);
    std::atomic<bool> stop{false};
    std::atomic<int> failures{0};
    std::vector<std::thread> churn;
    for (int t = 0; t < kThreads - 1; ++t) {
        churn.emplace_back([&] {
            while (!stop.load()) {
                void* p = npk_wildx_alloc(1);
                if (p == nullptr || npk_wildx_seal(p) != 0 || npk_wildx_free(p) != 0) ++failures;
            }
        });
    }
    int64_t sum = 0;
    for (int i = 0; i < 200000; ++i) sum += npk_jit_call_i32_i32(mine, i, 1);
    stop = true;
    for (auto& th : churn) th.join();
    CHECK(failures == 0);
    CHECK(sum == int64_t{200000} * 199999 / 2 + 200000);
    REQUIRE(npk_wildx_free(mine) == 0);
}

TEST_CASE("verify racing free: free waits for the hash, verify sees the page or its absence", "[concurrency]") {
    require_threads();
    Quiet q;
    constexpr int kRounds = 1000;
    std::barrier start(2);
    void* page = nullptr;
    int32_t verify_rc = 0, verify_err = 0;
    std::thread verifier([&] {
        for (int r = 0; r < kRounds; ++r) {
            start.arrive_and_wait();
            verify_rc = npk_wildx_verify(page);
            verify_err = npk_wildx_last_error();
            start.arrive_and_wait();
        }
    });
    int ok = 0, freed = 0, odd = 0;
    for (int r = 0; r < kRounds; ++r) {
        page = npk_wildx_alloc(64 * page_size());  // long enough to hash for the race to matter
        REQUIRE(page != nullptr);
        REQUIRE(npk_wildx_seal(page) == 0);
        start.arrive_and_wait();
        if (npk_wildx_free(page) != 0) ++odd;
        start.arrive_and_wait();
        if (verify_rc == 0) ++ok;
        else if (verify_err == NPK_WILDX_ERR_FREED) ++freed;
        else ++odd;
    }
    verifier.join();
    CHECK(odd == 0);
    CHECK(ok + freed == kRounds);
}

TEST_CASE("children forked while other threads are inside the heap can alloc, seal, verify and free",
          "[concurrency][fork]") {
    require_threads();
    require_fork();
    SwitchesGuard g;
    npk_wildx_set_quiet(1);  // the hammering threads race on nothing, but stay quiet if they do
    constexpr int kHammers = 3;
    constexpr int kForks = 200;
    std::atomic<bool> stop{false};
    std::atomic<int> hammer_failures{0};
    std::vector<std::thread> hammers;
    for (int t = 0; t < kHammers; ++t) {
        hammers.emplace_back([&, t] {
            // Every operation that puts an entry in flight: seal, verify, free.
            for (int i = 0; !stop.load(std::memory_order_relaxed); ++i) {
                void* p = npk_wildx_alloc(static_cast<size_t>(1 + (i * 97 + t) % (4 * page_size())));
                if (p == nullptr || npk_wildx_seal(p) != 0 || npk_wildx_verify(p) != 0 || npk_wildx_free(p) != 0) {
                    ++hammer_failures;
                }
            }
        });
    }
    // A page the parent holds across every fork: the child can seal and free its copy.
    void* held = npk_wildx_alloc(1);
    REQUIRE(held != nullptr);
    int hung = 0, failed = 0;
    for (int i = 0; i < kForks && hung == 0; ++i) {
        const pid_t pid = fork();
        REQUIRE(pid >= 0);
        if (pid == 0) {
            alarm(10);  // a child stuck on the registry dies of SIGALRM
            void* p = npk_wildx_alloc(100);
            const bool ok = p != nullptr && npk_wildx_seal(p) == 0 && npk_wildx_verify(p) == 0 &&
                            npk_wildx_free(p) == 0 && npk_wildx_seal(held) == 0 && npk_wildx_free(held) == 0;
            _exit(ok ? 0 : 1);
        }
        int status = 0;
        REQUIRE(waitpid(pid, &status, 0) == pid);
        if (WIFSIGNALED(status)) ++hung;
        else if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) ++failed;
    }
    stop = true;
    for (std::thread& t : hammers) t.join();
    CHECK(hung == 0);
    CHECK(failed == 0);
    CHECK(hammer_failures == 0);
    // The parent's copy is untouched by what the children did.
    CHECK(npk_wildx_state(held) == NPK_WILDX_WRITABLE);
    CHECK(npk_wildx_free(held) == 0);
}
