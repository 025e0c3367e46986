// What a program may do to wildx pages behind the runtime's back (issue
// 9): the registry must survive it, say so once, and never hang. Each case
// runs in a forked child with an alarm, so a hang fails the test instead
// of stalling the suite.
#include "skip.h"
#include "support.h"

#include "core/test_seams.h"

#include <sys/mman.h>
#include <unistd.h>

#include <cinttypes>
#include <cstdio>
#include <string>

using namespace npk::test;

namespace {

// In the child: a failed expectation says which and exits with `code`.
#define CHILD_EXPECT(cond, code)                                                   \
    do {                                                                           \
        if (!(cond)) {                                                             \
            std::fprintf(stderr, "child: %s failed (line %d)\n", #cond, __LINE__); \
            std::fflush(stderr);                                                   \
            _exit(code);                                                           \
        }                                                                          \
    } while (0)

constexpr int kNoReuse = 77;  // the kernel did not hand the hole back

// In the child: one-page wildx allocations until one lands in [lo, hi)
// (top-down placement: at once; the hint seam asks for the hole's last
// page, where a top-down kernel puts it, also under qemu-user, which
// never reuses a hole by itself); the others are freed again. Exits
// kNoReuse if none does.
char* alloc_into_hole(const char* lo, const char* hi) {
    char* inside = nullptr;
    void* outside[16] = {};
    for (int i = 0; i < 16 && inside == nullptr; ++i) {
        npk::os::testing::hint_next_mapping(const_cast<char*>(hi) - page_size());
        char* p = static_cast<char*>(npk_wildx_alloc(page_size()));
        CHILD_EXPECT(p != nullptr, 4);
        if (p >= lo && p < hi) inside = p;
        else outside[i] = p;
    }
    for (void* p : outside) {
        if (p != nullptr) CHILD_EXPECT(npk_wildx_free(p) == 0, 5);
    }
    if (inside == nullptr) _exit(kNoReuse);
    return inside;
}

// The child must have ended well and written, after its "victim 0x..."
// line, exactly one report naming that page.
void check_one_report(const ChildResult& r, size_t victim_bytes) {
    if (r.exit_code == kNoReuse) npk_test_skip("this host's mmap does not hand an unmapped hole back");
    INFO(r.err);
    CAPTURE(r.signal);
    REQUIRE_FALSE(r.signaled);  // SIGALRM: alloc hung on the unmapped page
    REQUIRE(r.exit_code == 0);
    const std::string head = "victim ";
    const size_t eol = r.err.find('\n');
    REQUIRE(eol != std::string::npos);
    const std::string victim = r.err.substr(head.size(), eol - head.size());
    const std::string rest = r.err.substr(eol + 1);
    CHECK(count_lines(rest) == 1);
    CHECK(rest.rfind("wildx: page " + victim + " (" + std::to_string(victim_bytes) + " bytes, allocation ", 0) == 0);
    CHECK(rest.find(") was unmapped behind the runtime's back (in whole or in part); the registry forgets it\n") !=
          std::string::npos);
}

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
        // Top-down, the first page lands in the hole's last page: an
        // interior page of the victim.
        char* inside = alloc_into_hole(victim, victim + 4 * pg);

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
    check_one_report(r, 4 * pg);
}

TEST_CASE("a page whose guard page was unmapped behind the runtime's back is forgotten when the guard is reused",
          "[lifecycle][hostile]") {
    const size_t pg = page_size();
    const ChildResult r = run_child([&] {
        alarm(10);
        npk_wildx_set_guard_pages(1);
        char* victim = static_cast<char*>(npk_wildx_alloc(pg));
        CHILD_EXPECT(victim != nullptr, 2);
        npk_wildx_set_guard_pages(0);
        std::fprintf(stderr, "victim 0x%" PRIxPTR "\n", reinterpret_cast<uintptr_t>(victim));
        CHILD_EXPECT(munmap(victim + pg, pg) == 0, 3);  // the guard page after it
        char* inside = alloc_into_hole(victim + pg, victim + 2 * pg);
        // Kept registered, the victim's free would unmap the new page and
        // its seal would make it executable: it reads as foreign now.
        CHILD_EXPECT(npk_wildx_state(victim) == NPK_WILDX_UNKNOWN, 6);
        npk_wildx_set_quiet(1);
        CHILD_EXPECT(npk_wildx_free(victim) == -1, 7);
        CHILD_EXPECT(npk_wildx_seal(victim) == -1, 8);
        npk_wildx_set_quiet(0);
        CHILD_EXPECT(npk_wildx_state(inside) == NPK_WILDX_WRITABLE, 9);
        CHILD_EXPECT(npk_wildx_seal(inside) == 0, 10);
        CHILD_EXPECT(npk_wildx_free(inside) == 0, 11);
    });
    check_one_report(r, pg);
}
