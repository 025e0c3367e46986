// What a program may do to wildx pages behind the runtime's back (issue
// 9): the registry must survive it, say so once, and never hang. Each case
// runs in a forked child with an alarm, so a hang fails the test instead
// of stalling the suite.
#include "skip.h"
#include "support.h"

#include <sys/mman.h>
#include <unistd.h>

#include <cinttypes>
#include <cstdio>
#include <string>

using namespace npk::test;

namespace {

// In the child: a failed expectation says which and exits with `code`.
#define CHILD_EXPECT(cond, code)                                            \
    do {                                                                    \
        if (!(cond)) {                                                      \
            std::fprintf(stderr, "child: %s failed (line %d)\n", #cond, __LINE__); \
            std::fflush(stderr);                                            \
            _exit(code);                                                    \
        }                                                                   \
    } while (0)

constexpr int kNoReuse = 77;  // the kernel did not hand the hole back

}  // namespace

TEST_CASE("a page unmapped behind the runtime's back is reported once and forgotten, and alloc never waits for it",
          "[lifecycle][hostile]") {
    const size_t pg = page_size();
    const ChildResult r = run_child([&] {
        alarm(10);  // the hang this guards against: alloc waiting forever
        char* victim = static_cast<char*>(npk_wildx_alloc(4 * pg));
        CHILD_EXPECT(victim != nullptr, 2);
        std::fprintf(stderr, "victim 0x%" PRIxPTR "\n", reinterpret_cast<uintptr_t>(victim));
        const npk_wildx_stats before = stats_now();
        CHILD_EXPECT(munmap(victim, 4 * pg) == 0, 3);

        // One-page allocations until one lands in the hole (top-down: at
        // once, in its last page, an interior page of the victim).
        char* inside = nullptr;
        void* outside[8] = {};
        for (int i = 0; i < 8 && inside == nullptr; ++i) {
            char* p = static_cast<char*>(npk_wildx_alloc(pg));
            CHILD_EXPECT(p != nullptr, 4);
            if (p >= victim && p < victim + 4 * pg) inside = p;
            else outside[i] = p;
        }
        for (void* p : outside) {
            if (p != nullptr) CHILD_EXPECT(npk_wildx_free(p) == 0, 5);
        }
        if (inside == nullptr) _exit(kNoReuse);

        // The victim is gone from the books; the new page is a page.
        const npk_wildx_stats after = stats_now();
        CHILD_EXPECT(after.live_pages == before.live_pages, 6);  // -1 victim, +1 inside
        CHILD_EXPECT(after.live_bytes == before.live_bytes - 4 * pg + pg, 7);
        CHILD_EXPECT(npk_wildx_state(inside) == NPK_WILDX_WRITABLE, 8);
        if (inside != victim) {
            CHILD_EXPECT(npk_wildx_state(victim) == NPK_WILDX_UNKNOWN, 9);
            npk_wildx_set_quiet(1);
            CHILD_EXPECT(npk_wildx_free(victim) == -1, 10);
            CHILD_EXPECT(npk_wildx_last_error() == NPK_WILDX_ERR_NOT_WILDX, 11);
            npk_wildx_set_quiet(0);
        }
        CHILD_EXPECT(npk_wildx_seal(inside) == 0, 12);
        // The rest of the hole is free for later pages: no second report.
        void* more = npk_wildx_alloc(2 * pg);
        CHILD_EXPECT(more != nullptr, 13);
        CHILD_EXPECT(npk_wildx_free(more) == 0, 14);
        CHILD_EXPECT(npk_wildx_free(inside) == 0, 15);
    });
    if (r.exit_code == kNoReuse) npk_test_skip("this host's mmap does not hand an unmapped hole back");
    INFO(r.err);
    CAPTURE(r.signal);
    REQUIRE_FALSE(r.signaled);  // SIGALRM: alloc hung on the unmapped page
    REQUIRE(r.exit_code == 0);
    // The child's stderr: the victim's address, then exactly one report.
    const size_t eol = r.err.find('\n');
    REQUIRE(eol != std::string::npos);
    const std::string victim = r.err.substr(std::string("victim ").size(), eol - std::string("victim ").size());
    char want[200];
    std::snprintf(want, sizeof want,
                  "wildx: page %s (%zu bytes, allocation ", victim.c_str(), 4 * pg);
    const std::string rest = r.err.substr(eol + 1);
    CHECK(count_lines(rest) == 1);
    CHECK(rest.rfind(want, 0) == 0);
    CHECK(rest.find(") was unmapped behind the runtime's back; the registry forgets it\n") != std::string::npos);
}
