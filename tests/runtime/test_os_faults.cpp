// Fault injection through the OS seam: every mmap / mprotect / munmap
// failure path of the heap.
#include "skip.h"
#include "support.h"
#include "core/test_seams.h"

#include <sys/mman.h>

#include <cerrno>
#include <cstring>

using namespace npk::test;
using npk::os::testing::OsCall;
using npk::os::testing::fail_nth_os_call;
using npk::os::testing::os_calls;

namespace {
struct FaultsOff {
    ~FaultsOff() { npk::os::testing::clear_os_faults(); }
};
}  // namespace

TEST_CASE("a failing mmap gives NULL with only total_rejections changed", "[faults][rejection]") {
    FaultsOff off;
    const uint64_t mmaps = os_calls(OsCall::mmap);
    fail_nth_os_call(OsCall::mmap, 1, ENOMEM);
    StatsWatch w;
    {
        StderrCapture err;
        CHECK(npk_wildx_alloc(100) == nullptr);
        CHECK(err.text() == "wildx: alloc(100) rejected: OS refused (mmap: " + std::string(strerror(ENOMEM)) +
                                ")\n");
    }
    CHECK(npk_wildx_last_error() == NPK_WILDX_ERR_OS);
    CHECK(w.delta() == Delta{.rejections = 1});
    CHECK(os_calls(OsCall::mmap) == mmaps + 1);
    // The quota reservation was given back: the whole quota is still there.
    void* p = npk_wildx_alloc(100);
    REQUIRE(p != nullptr);
    REQUIRE(npk_wildx_free(p) == 0);
}

TEST_CASE("the Nth mmap fails, not the ones before or after", "[faults]") {
    FaultsOff off;
    npk_wildx_set_quiet(1);
    fail_nth_os_call(OsCall::mmap, 3, EAGAIN);
    void* a = npk_wildx_alloc(1);
    void* b = npk_wildx_alloc(1);
    void* c = npk_wildx_alloc(1);
    void* d = npk_wildx_alloc(1);
    npk_wildx_set_quiet(0);
    CHECK(a != nullptr);
    CHECK(b != nullptr);
    CHECK(c == nullptr);
    CHECK(d != nullptr);
    for (void* p : {a, b, d}) {
        if (p) REQUIRE(npk_wildx_free(p) == 0);
    }
}

TEST_CASE("a guarded alloc whose mprotect fails gives NULL and leaves no mapping behind", "[faults][rejection]") {
    FaultsOff off;
    SwitchesGuard g;
    npk_wildx_set_guard_pages(1);
    npk_wildx_set_quiet(1);
    const uint64_t unmaps = os_calls(OsCall::munmap);
    fail_nth_os_call(OsCall::mprotect, 1, ENOMEM);
    StatsWatch w;
    CHECK(npk_wildx_alloc(1) == nullptr);
    CHECK(npk_wildx_last_error() == NPK_WILDX_ERR_OS);
    CHECK(w.delta() == Delta{.rejections = 1});
    CHECK(os_calls(OsCall::munmap) == unmaps + 1);  // the reserved span was given back
}

TEST_CASE("a failing mprotect at seal leaves the page WRITABLE, writable in fact and freeable",
          "[faults][rejection]") {
    FaultsOff off;
    const size_t pg = page_size();
    unsigned char* p = static_cast<unsigned char*>(npk_wildx_alloc(2 * pg));
    REQUIRE(p != nullptr);
    p[0] = 0x11;
    fail_nth_os_call(OsCall::mprotect, 1, EACCES);
    StatsWatch w;
    {
        StderrCapture err;
        CHECK(npk_wildx_seal(p) == -1);
        char line[200];
        std::snprintf(line, sizeof line, "wildx: seal(%p) rejected: OS refused (mprotect: %s)\n",
                      static_cast<void*>(p), strerror(EACCES));
        CHECK(err.text() == line);
    }
    CHECK(npk_wildx_last_error() == NPK_WILDX_ERR_OS);
    CHECK(npk_wildx_state(p) == NPK_WILDX_WRITABLE);
    CHECK(w.delta() == Delta{.rejections = 1});
    uint64_t h = 0;
    npk_wildx_set_quiet(1);
    CHECK(npk_wildx_code_hash(p, &h) == -1);  // no hash was recorded
    CHECK(npk_wildx_last_error() == NPK_WILDX_ERR_NOT_EXECUTABLE);
    npk_wildx_set_quiet(0);

    MapsReader maps;
    maps.read();
    CHECK(maps.covered(reinterpret_cast<uintptr_t>(p), reinterpret_cast<uintptr_t>(p) + 2 * pg, "rw-p"));
    p[0] = 0x22;  // writable in fact
    p[2 * pg - 1] = 0x33;
    CHECK(p[0] == 0x22);
    if (npk_test_host_is_x86_64()) CHECK(npk_jit_install_add_i32(p) == 0);

    SECTION("and can be sealed once the OS agrees") {
        const uint64_t want = fnv1a64_naive(p, 2 * pg);
        REQUIRE(npk_wildx_seal(p) == 0);
        REQUIRE(npk_wildx_code_hash(p, &h) == 0);
        CHECK(h == want);
        if (npk_test_host_is_x86_64()) CHECK(npk_jit_call_i32_i32(p, 2, 3) == 5);
    }
    SECTION("or freed") {}
    StatsWatch w2;
    REQUIRE(npk_wildx_free(p) == 0);
    CHECK(w2.delta() == Delta{.live_pages = -1, .live_bytes = -2 * static_cast<int64_t>(pg), .frees = 1});
}

TEST_CASE("a failing munmap is reported and the page unregistered, never silently leaked",
          "[faults][rejection]") {
    FaultsOff off;
    const size_t pg = page_size();
    for (bool sealed : {false, true}) {
        CAPTURE(sealed);
        void* p = npk_wildx_alloc(3 * pg);
        REQUIRE(p != nullptr);
        if (sealed) REQUIRE(npk_wildx_seal(p) == 0);
        fail_nth_os_call(OsCall::munmap, 1, EINVAL);
        StatsWatch w;
        {
            StderrCapture err;
            CHECK(npk_wildx_free(p) == -1);
            const std::string text = err.text();
            CHECK(count_lines(text) == 1);
            char head[120];
            std::snprintf(head, sizeof head, "wildx: free(%p) rejected: OS refused (", p);
            CHECK(text.rfind(head, 0) == 0);
            CHECK(text.find("munmap") != std::string::npos);
            CHECK(text.find(strerror(EINVAL)) != std::string::npos);
        }
        CHECK(npk_wildx_last_error() == NPK_WILDX_ERR_OS);
        CHECK(npk_wildx_state(p) == NPK_WILDX_UNKNOWN);
        CHECK(npk_wildx_size(p) == 0);
        CHECK(w.delta() == Delta{.live_pages = -1, .live_bytes = -3 * static_cast<int64_t>(pg), .rejections = 1});
        // Unregistered: it is freed as far as the heap is concerned.
        npk_wildx_set_quiet(1);
        CHECK(npk_wildx_free(p) == -1);
        CHECK(npk_wildx_last_error() == NPK_WILDX_ERR_FREED);
        CHECK(npk_wildx_seal(p) == -1);
        CHECK(npk_wildx_last_error() == NPK_WILDX_ERR_FREED);
        npk_wildx_set_quiet(0);
        // The mapping the OS kept is still there (the report says so); the
        // test cleans it up itself.
        MapsReader maps;
        maps.read();
        CHECK(maps.any_in(reinterpret_cast<uintptr_t>(p), reinterpret_cast<uintptr_t>(p) + 3 * pg));
        REQUIRE(munmap(p, 3 * pg) == 0);
    }
}

TEST_CASE("a guarded page whose munmap fails keeps its whole span reported", "[faults]") {
    FaultsOff off;
    SwitchesGuard g;
    const size_t pg = page_size();
    npk_wildx_set_guard_pages(1);
    char* p = static_cast<char*>(npk_wildx_alloc(1));
    REQUIRE(p != nullptr);
    fail_nth_os_call(OsCall::munmap, 1, ENOMEM);
    npk_wildx_set_quiet(1);
    CHECK(npk_wildx_free(p) == -1);
    CHECK(npk_wildx_last_error() == NPK_WILDX_ERR_OS);
    npk_wildx_set_quiet(0);
    REQUIRE(munmap(p - pg, 3 * pg) == 0);
    // Nothing of it is registered any more: a fresh alloc may reuse the span.
    void* q = npk_wildx_alloc(1);
    REQUIRE(q != nullptr);
    CHECK(npk_wildx_state(q) == NPK_WILDX_WRITABLE);
    REQUIRE(npk_wildx_free(q) == 0);
}
