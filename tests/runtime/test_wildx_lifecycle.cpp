// Every transition and every rejection of the wildx state machine, each
// checked by return value, state afterwards, last error and stats delta.
#include "skip.h"
#include "support.h"
#include "core/test_seams.h"

#include <sys/mman.h>

#include <cstdlib>
#include <cstring>
#include <thread>

using namespace npk::test;

namespace {

// Pointers that are not wildx pages, of every kind we can make.
struct Foreign {
    int on_stack = 0;
    void* heap = std::malloc(64);
    void* mapped = mmap(nullptr, page_size(), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    ~Foreign() {
        std::free(heap);
        munmap(mapped, page_size());
    }
    std::vector<void*> all() {
        static int in_data = 0;
        return {&on_stack, heap, mapped, &in_data, reinterpret_cast<void*>(&std::abort),
                reinterpret_cast<void*>(uintptr_t{0x1000})};
    }
};

// Quiet rejections: these tests make hundreds on purpose.
struct Quiet {
    Quiet() { npk_wildx_set_quiet(1); }
    ~Quiet() { npk_wildx_set_quiet(0); }
};

// Whether this host's own mmap hands a freed hole straight back and fills
// holes top-down, as Linux does. Where it does, wildx (which gives the
// kernel no address hint) must behave the same; qemu-user places its
// guests' mappings bottom-up and never reuses a hole at once.
bool os_reuses_holes_top_down() {
    const size_t pg = page_size();
    void* two = mmap(nullptr, 2 * pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    REQUIRE(two != MAP_FAILED);
    munmap(two, 2 * pg);
    void* one = mmap(nullptr, pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    REQUIRE(one != MAP_FAILED);
    munmap(one, pg);
    void* again = mmap(nullptr, pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    REQUIRE(again != MAP_FAILED);
    munmap(again, pg);
    return one == static_cast<char*>(two) + pg && again == one;
}

bool all_zero(const void* p, size_t n) {
    const unsigned char* b = static_cast<const unsigned char*>(p);
    for (size_t i = 0; i < n; ++i) {
        if (b[i] != 0) return false;
    }
    return true;
}

}  // namespace

TEST_CASE("alloc: a fresh page is WRITABLE page-rounded zero-filled and counted", "[lifecycle]") {
    const size_t pg = page_size();
    for (size_t size : {size_t{1}, pg - 1, pg, pg + 1, 3 * pg}) {
        CAPTURE(size);
        StatsWatch w;
        void* p = npk_wildx_alloc(size);
        REQUIRE(p != nullptr);
        const size_t usable = (size + pg - 1) / pg * pg;
        CHECK(reinterpret_cast<uintptr_t>(p) % pg == 0);
        CHECK(npk_wildx_state(p) == NPK_WILDX_WRITABLE);
        CHECK(npk_wildx_size(p) == usable);
        CHECK(all_zero(p, usable));
        std::memset(p, 0xAB, usable);  // writable in fact, to the last byte
        CHECK(w.delta() == Delta{.live_pages = 1, .live_bytes = static_cast<int64_t>(usable), .allocs = 1});
        REQUIRE(npk_wildx_free(p) == 0);
    }
}

TEST_CASE("alloc of 0 bytes is rejected with zero size", "[lifecycle][rejection]") {
    Quiet q;
    StatsWatch w;
    CHECK(npk_wildx_alloc(0) == nullptr);
    CHECK(npk_wildx_last_error() == NPK_WILDX_ERR_ZERO_SIZE);
    CHECK(w.delta() == Delta{.rejections = 1});
}

TEST_CASE("alloc of a size that cannot be rounded to pages is rejected with quota exceeded",
          "[lifecycle][rejection]") {
    Quiet q;
    StatsWatch w;
    CHECK(npk_wildx_alloc(SIZE_MAX) == nullptr);
    CHECK(npk_wildx_last_error() == NPK_WILDX_ERR_QUOTA);
    CHECK(npk_wildx_alloc(SIZE_MAX - page_size() + 2) == nullptr);
    CHECK(npk_wildx_last_error() == NPK_WILDX_ERR_QUOTA);
    CHECK(w.delta() == Delta{.rejections = 2});
}

TEST_CASE("alloc the OS refuses (an impossible size) is rejected with OS refused", "[lifecycle][rejection]") {
    SwitchesGuard g;
    Quiet q;
    npk_wildx_set_quota(SIZE_MAX);
    StatsWatch w;
    CHECK(npk_wildx_alloc(size_t{1} << 62) == nullptr);
    CHECK(npk_wildx_last_error() == NPK_WILDX_ERR_OS);
    CHECK(w.delta() == Delta{.rejections = 1});
}

TEST_CASE("seal: WRITABLE -> EXECUTABLE records the FNV-1a of the whole page", "[lifecycle]") {
    const size_t pg = page_size();
    unsigned char* p = static_cast<unsigned char*>(npk_wildx_alloc(pg + 10));
    REQUIRE(p != nullptr);
    for (size_t i = 0; i < 2 * pg; i += 97) p[i] = static_cast<unsigned char>(i * 7 + 1);
    const uint64_t expected = fnv1a64_naive(p, 2 * pg);

    StatsWatch w;
    REQUIRE(npk_wildx_seal(p) == 0);
    CHECK(npk_wildx_state(p) == NPK_WILDX_EXECUTABLE);
    CHECK(npk_wildx_size(p) == 2 * pg);
    uint64_t h = 0;
    REQUIRE(npk_wildx_code_hash(p, &h) == 0);
    CHECK(h == expected);
    CHECK(npk_wildx_verify(p) == 0);
    CHECK(w.delta() == Delta{.seals = 1});

    REQUIRE(npk_wildx_free(p) == 0);
}

TEST_CASE("free: WRITABLE -> gone and EXECUTABLE -> gone", "[lifecycle]") {
    const size_t pg = page_size();
    for (bool sealed : {false, true}) {
        CAPTURE(sealed);
        void* p = npk_wildx_alloc(2 * pg);
        REQUIRE(p != nullptr);
        if (sealed) REQUIRE(npk_wildx_seal(p) == 0);
        MapsReader maps;  // before the free: its buffer must not land in the hole
        StatsWatch w;
        REQUIRE(npk_wildx_free(p) == 0);
        CHECK(npk_wildx_state(p) == NPK_WILDX_UNKNOWN);
        CHECK(npk_wildx_size(p) == 0);
        CHECK(w.delta() == Delta{.live_pages = -1, .live_bytes = -2 * static_cast<int64_t>(pg), .frees = 1});
        maps.read();
        CHECK_FALSE(maps.any_in(reinterpret_cast<uintptr_t>(p), reinterpret_cast<uintptr_t>(p) + 2 * pg));
    }
}

TEST_CASE("a second seal is rejected with already sealed and the page stays EXECUTABLE", "[lifecycle][rejection]") {
    void* p = npk_wildx_alloc(1);
    REQUIRE(p != nullptr);
    REQUIRE(npk_wildx_seal(p) == 0);
    uint64_t h1 = 0, h2 = 0;
    REQUIRE(npk_wildx_code_hash(p, &h1) == 0);
    StatsWatch w;
    {
        StderrCapture err;
        CHECK(npk_wildx_seal(p) == -1);
        char line[128];
        std::snprintf(line, sizeof line, "wildx: seal(%p) rejected: already sealed\n", p);
        CHECK(err.text() == line);
    }
    CHECK(npk_wildx_last_error() == NPK_WILDX_ERR_SEALED);
    CHECK(npk_wildx_state(p) == NPK_WILDX_EXECUTABLE);
    REQUIRE(npk_wildx_code_hash(p, &h2) == 0);
    CHECK(h1 == h2);
    CHECK(w.delta() == Delta{.rejections = 1});
    REQUIRE(npk_wildx_free(p) == 0);
}

TEST_CASE("seal / free / install / verify / code_hash of NULL are rejected with null pointer",
          "[lifecycle][rejection]") {
    Quiet q;
    StatsWatch w;
    uint64_t h = 7;
    CHECK(npk_wildx_seal(nullptr) == -1);
    CHECK(npk_wildx_last_error() == NPK_WILDX_ERR_NULL);
    CHECK(npk_wildx_free(nullptr) == -1);
    CHECK(npk_wildx_last_error() == NPK_WILDX_ERR_NULL);
    CHECK(npk_wildx_verify(nullptr) == -1);
    CHECK(npk_wildx_last_error() == NPK_WILDX_ERR_NULL);
    CHECK(npk_wildx_code_hash(nullptr, &h) == -1);
    CHECK(npk_wildx_last_error() == NPK_WILDX_ERR_NULL);
    CHECK(h == 7);
    CHECK(npk_wildx_state(nullptr) == NPK_WILDX_UNKNOWN);
    CHECK(npk_wildx_size(nullptr) == 0);
    CHECK(w.delta() == Delta{.rejections = 4});
}

TEST_CASE("foreign pointers are rejected with not a wildx page by every operation", "[lifecycle][rejection]") {
    Quiet q;
    Foreign f;
    for (void* p : f.all()) {
        CAPTURE(p);
        StatsWatch w;
        uint64_t h = 7;
        CHECK(npk_wildx_state(p) == NPK_WILDX_UNKNOWN);
        CHECK(npk_wildx_size(p) == 0);
        CHECK(npk_wildx_seal(p) == -1);
        CHECK(npk_wildx_last_error() == NPK_WILDX_ERR_NOT_WILDX);
        CHECK(npk_wildx_free(p) == -1);
        CHECK(npk_wildx_last_error() == NPK_WILDX_ERR_NOT_WILDX);
        CHECK(npk_wildx_verify(p) == -1);
        CHECK(npk_wildx_last_error() == NPK_WILDX_ERR_NOT_WILDX);
        CHECK(npk_wildx_code_hash(p, &h) == -1);
        CHECK(npk_wildx_last_error() == NPK_WILDX_ERR_NOT_WILDX);
        CHECK(h == 7);
        CHECK(w.delta() == Delta{.rejections = 4});
    }
    // Still intact: a rejected free unmapped nothing.
    static_cast<char*>(f.mapped)[0] = 1;
}

TEST_CASE("interior pointers are rejected with interior pointer and the page is untouched",
          "[lifecycle][rejection]") {
    Quiet q;
    const size_t pg = page_size();
    char* p = static_cast<char*>(npk_wildx_alloc(3 * pg));
    REQUIRE(p != nullptr);
    for (char* i : {p + 1, p + pg - 1, p + pg, p + 2 * pg, p + 3 * pg - 1}) {
        CAPTURE(static_cast<void*>(i), i - p);
        StatsWatch w;
        uint64_t h = 7;
        CHECK(npk_wildx_state(i) == NPK_WILDX_UNKNOWN);
        CHECK(npk_wildx_size(i) == 0);
        CHECK(npk_wildx_seal(i) == -1);
        CHECK(npk_wildx_last_error() == NPK_WILDX_ERR_INTERIOR);
        CHECK(npk_wildx_free(i) == -1);
        CHECK(npk_wildx_last_error() == NPK_WILDX_ERR_INTERIOR);
        CHECK(npk_wildx_verify(i) == -1);
        CHECK(npk_wildx_last_error() == NPK_WILDX_ERR_INTERIOR);
        CHECK(npk_wildx_code_hash(i, &h) == -1);
        CHECK(npk_wildx_last_error() == NPK_WILDX_ERR_INTERIOR);
        CHECK(w.delta() == Delta{.rejections = 4});
    }
    CHECK(npk_wildx_state(p) == NPK_WILDX_WRITABLE);
    // Just past the end is not interior.
    CHECK(npk_wildx_seal(p + 3 * pg) == -1);
    CHECK(npk_wildx_last_error() == NPK_WILDX_ERR_NOT_WILDX);

    REQUIRE(npk_wildx_seal(p) == 0);
    CHECK(npk_wildx_seal(p + 5) == -1);
    CHECK(npk_wildx_last_error() == NPK_WILDX_ERR_INTERIOR);
    REQUIRE(npk_wildx_free(p) == 0);
    // Once the page is gone, its interior is nobody's.
    CHECK(npk_wildx_free(p + pg) == -1);
    CHECK(npk_wildx_last_error() == NPK_WILDX_ERR_NOT_WILDX);
}

TEST_CASE("freed pages are rejected with already freed by every operation", "[lifecycle][rejection]") {
    Quiet q;
    for (bool sealed : {false, true}) {
        CAPTURE(sealed);
        void* p = npk_wildx_alloc(1);
        REQUIRE(p != nullptr);
        if (sealed) REQUIRE(npk_wildx_seal(p) == 0);
        REQUIRE(npk_wildx_free(p) == 0);
        StatsWatch w;
        uint64_t h = 7;
        CHECK(npk_wildx_free(p) == -1);  // double free
        CHECK(npk_wildx_last_error() == NPK_WILDX_ERR_FREED);
        CHECK(npk_wildx_seal(p) == -1);
        CHECK(npk_wildx_last_error() == NPK_WILDX_ERR_FREED);
        CHECK(npk_wildx_verify(p) == -1);
        CHECK(npk_wildx_last_error() == NPK_WILDX_ERR_FREED);
        CHECK(npk_wildx_code_hash(p, &h) == -1);
        CHECK(npk_wildx_last_error() == NPK_WILDX_ERR_FREED);
        CHECK(h == 7);
        CHECK(npk_wildx_state(p) == NPK_WILDX_UNKNOWN);
        CHECK(w.delta() == Delta{.rejections = 4});
    }
}

TEST_CASE("the double-free line names the operation, the pointer and the error", "[lifecycle][rejection]") {
    void* p = npk_wildx_alloc(1);
    REQUIRE(p != nullptr);
    REQUIRE(npk_wildx_free(p) == 0);
    StderrCapture err;
    CHECK(npk_wildx_free(p) == -1);
    char line[128];
    std::snprintf(line, sizeof line, "wildx: free(%p) rejected: already freed\n", p);
    CHECK(err.text() == line);
}

TEST_CASE("a freed address that a later alloc maps again is live again", "[lifecycle]") {
    if (!os_reuses_holes_top_down()) npk_test_skip("this host's mmap does not hand a freed hole straight back");
    void* p = npk_wildx_alloc(1);
    REQUIRE(p != nullptr);
    REQUIRE(npk_wildx_free(p) == 0);
    // The kernel hands the hole straight back (no address hints are used).
    void* again = npk_wildx_alloc(1);
    REQUIRE(again == p);
    CHECK(npk_wildx_state(again) == NPK_WILDX_WRITABLE);
    CHECK(npk_wildx_seal(again) == 0);
    CHECK(npk_wildx_free(again) == 0);
}

TEST_CASE("a freed address covered by a later, larger page reads as interior, not freed",
          "[lifecycle][rejection]") {
    if (!os_reuses_holes_top_down()) npk_test_skip("this host's mmap does not fill holes top-down");
    Quiet q;
    const size_t pg = page_size();
    // Make a 2-page hole, put a 1-page page in its upper half (the kernel
    // places top-down), free it, then let a 2-page page fill the hole.
    char* two = static_cast<char*>(npk_wildx_alloc(2 * pg));
    REQUIRE(two != nullptr);
    REQUIRE(npk_wildx_free(two) == 0);
    char* one = static_cast<char*>(npk_wildx_alloc(pg));
    REQUIRE(one == two + pg);
    REQUIRE(npk_wildx_free(one) == 0);
    REQUIRE(npk_wildx_seal(one) == -1);
    REQUIRE(npk_wildx_last_error() == NPK_WILDX_ERR_FREED);

    char* cover = static_cast<char*>(npk_wildx_alloc(2 * pg));
    REQUIRE(cover == two);
    CHECK(npk_wildx_free(one) == -1);
    CHECK(npk_wildx_last_error() == NPK_WILDX_ERR_INTERIOR);
    CHECK(npk_wildx_state(cover) == NPK_WILDX_WRITABLE);
    REQUIRE(npk_wildx_free(cover) == 0);
}

TEST_CASE("freed addresses are remembered for the last kFreedMemory frees, then read as foreign",
          "[lifecycle][rejection]") {
    Quiet q;
    const size_t pg = page_size();
    void* old = npk_wildx_alloc(1);
    REQUIRE(old != nullptr);
    REQUIRE(npk_wildx_free(old) == 0);
    // Keep the kernel from handing `old` out again while the ring turns over.
    void* hold = mmap(old, pg, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
    REQUIRE(hold == old);

    for (size_t i = 0; i + 1 < npk::wildx::testing::kFreedMemory; ++i) {
        void* p = npk_wildx_alloc(1);
        REQUIRE(p != nullptr);
        REQUIRE(npk_wildx_free(p) == 0);
    }
    CHECK(npk_wildx_free(old) == -1);
    CHECK(npk_wildx_last_error() == NPK_WILDX_ERR_FREED);  // the oldest of the last kFreedMemory frees

    void* p = npk_wildx_alloc(1);
    REQUIRE(p != nullptr);
    REQUIRE(npk_wildx_free(p) == 0);
    CHECK(npk_wildx_free(old) == -1);
    CHECK(npk_wildx_last_error() == NPK_WILDX_ERR_NOT_WILDX);  // fell out of the ring
    CHECK(npk_wildx_free(p) == -1);
    CHECK(npk_wildx_last_error() == NPK_WILDX_ERR_FREED);
    munmap(hold, pg);
}

TEST_CASE("code_hash: NULL out is an invalid argument and an unsealed page is not executable",
          "[lifecycle][rejection]") {
    Quiet q;
    void* p = npk_wildx_alloc(1);
    REQUIRE(p != nullptr);
    StatsWatch w;
    uint64_t h = 7;
    CHECK(npk_wildx_code_hash(p, nullptr) == -1);
    CHECK(npk_wildx_last_error() == NPK_WILDX_ERR_INVALID_ARGUMENT);
    CHECK(npk_wildx_code_hash(p, &h) == -1);
    CHECK(npk_wildx_last_error() == NPK_WILDX_ERR_NOT_EXECUTABLE);
    CHECK(h == 7);
    CHECK(npk_wildx_verify(p) == -1);
    CHECK(npk_wildx_last_error() == NPK_WILDX_ERR_NOT_EXECUTABLE);
    CHECK(npk_wildx_state(p) == NPK_WILDX_WRITABLE);
    CHECK(w.delta() == Delta{.rejections = 3});
    REQUIRE(npk_wildx_seal(p) == 0);
    CHECK(npk_wildx_code_hash(p, nullptr) == -1);
    CHECK(npk_wildx_last_error() == NPK_WILDX_ERR_INVALID_ARGUMENT);
    REQUIRE(npk_wildx_free(p) == 0);
}

TEST_CASE("verify notices code changed behind the registry's back", "[lifecycle][rejection]") {
    Quiet q;
    const size_t pg = page_size();
    unsigned char* p = static_cast<unsigned char*>(npk_wildx_alloc(1));
    REQUIRE(p != nullptr);
    p[10] = 0x90;
    REQUIRE(npk_wildx_seal(p) == 0);
    CHECK(npk_wildx_verify(p) == 0);
    // Only a caller bypassing the runtime can do this.
    REQUIRE(mprotect(p, pg, PROT_READ | PROT_WRITE) == 0);
    p[pg - 1] = 1;
    REQUIRE(mprotect(p, pg, PROT_READ | PROT_EXEC) == 0);
    StatsWatch w;
    CHECK(npk_wildx_verify(p) == -1);
    CHECK(npk_wildx_last_error() == NPK_WILDX_ERR_HASH_MISMATCH);
    CHECK(npk_wildx_state(p) == NPK_WILDX_EXECUTABLE);
    CHECK(w.delta() == Delta{.rejections = 1});
    REQUIRE(npk_wildx_free(p) == 0);
}

TEST_CASE("last error is per thread and kept across successful calls", "[lifecycle]") {
    Quiet q;
    CHECK(npk_wildx_alloc(0) == nullptr);
    CHECK(npk_wildx_last_error() == NPK_WILDX_ERR_ZERO_SIZE);
    void* p = npk_wildx_alloc(1);
    REQUIRE(p != nullptr);
    CHECK(npk_wildx_last_error() == NPK_WILDX_ERR_ZERO_SIZE);
    REQUIRE(npk_wildx_free(p) == 0);
    require_threads();
    int32_t other = -1;
    std::thread([&] { other = npk_wildx_last_error(); }).join();
    CHECK(other == NPK_WILDX_OK);
}

TEST_CASE("every error code has its own text and unknown codes say so", "[lifecycle]") {
    const std::pair<int32_t, const char*> table[] = {
        {NPK_WILDX_OK, "no error"},
        {NPK_WILDX_ERR_NULL, "null pointer"},
        {NPK_WILDX_ERR_ZERO_SIZE, "zero size"},
        {NPK_WILDX_ERR_QUOTA, "quota exceeded"},
        {NPK_WILDX_ERR_OS, "OS refused"},
        {NPK_WILDX_ERR_NOT_WILDX, "not a wildx page"},
        {NPK_WILDX_ERR_INTERIOR, "interior pointer"},
        {NPK_WILDX_ERR_FREED, "already freed"},
        {NPK_WILDX_ERR_SEALED, "already sealed"},
        {NPK_WILDX_ERR_NOT_WRITABLE, "not writable"},
        {NPK_WILDX_ERR_NOT_EXECUTABLE, "not executable"},
        {NPK_WILDX_ERR_UNSUPPORTED_HOST, "unsupported host"},
        {NPK_WILDX_ERR_INVALID_ARGUMENT, "invalid argument"},
        {NPK_WILDX_ERR_HASH_MISMATCH, "code changed since seal"},
        {NPK_ERR_OUT_OF_MEMORY, "out of memory"},  // npk/status.h, after the first release
    };
    for (const auto& [code, text] : table) {
        CAPTURE(code);
        CHECK(std::string(npk_wildx_error_string(code)) == text);
    }
    CHECK(std::string(npk_wildx_error_string(15)) == "unknown error");
    CHECK(std::string(npk_wildx_error_string(-1)) == "unknown error");
}

TEST_CASE("stats: get_stats ignores NULL and peak_bytes is the largest live_bytes seen", "[lifecycle]") {
    npk_wildx_get_stats(nullptr);
    const size_t pg = page_size();
    const npk_wildx_stats before = stats_now();
    void* a = npk_wildx_alloc(4 * pg);
    void* b = npk_wildx_alloc(4 * pg);
    REQUIRE(a != nullptr);
    REQUIRE(b != nullptr);
    const npk_wildx_stats mid = stats_now();
    CHECK(mid.peak_bytes >= before.live_bytes + 8 * pg);
    CHECK(mid.peak_bytes >= mid.live_bytes);
    REQUIRE(npk_wildx_free(a) == 0);
    REQUIRE(npk_wildx_free(b) == 0);
    const npk_wildx_stats after = stats_now();
    CHECK(after.peak_bytes == mid.peak_bytes);
    CHECK(after.live_bytes == before.live_bytes);
}

TEST_CASE("npk_wildx_id: each allocation its own number while it lives, 0 for anything else", "[lifecycle]") {
    void* a = npk_wildx_alloc(1);
    void* b = npk_wildx_alloc(2 * page_size());
    REQUIRE((a != nullptr && b != nullptr));
    const uint64_t ia = npk_wildx_id(a), ib = npk_wildx_id(b);
    CHECK(ia != 0);
    CHECK(ib > ia);  // later allocations, larger numbers
    REQUIRE(npk_wildx_seal(a) == 0);
    CHECK(npk_wildx_id(a) == ia);  // a seal keeps it
    const StatsWatch w;
    CHECK(npk_wildx_id(nullptr) == 0);
    CHECK(npk_wildx_id(static_cast<char*>(b) + page_size()) == 0);  // interior
    CHECK(npk_wildx_id(static_cast<char*>(a) + 1) == 0);             // unaligned
    int local = 0;
    CHECK(npk_wildx_id(&local) == 0);  // foreign
    CHECK(w.delta() == Delta{});       // never a rejection
    REQUIRE(npk_wildx_free(a) == 0);
    CHECK(npk_wildx_id(a) == 0);  // freed
    REQUIRE(npk_wildx_free(b) == 0);
}
