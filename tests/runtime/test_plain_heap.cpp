// npk_alloc / npk_free: the plain `wild` heap.
#include "support.h"

#include <cstring>

using namespace npk::test;

TEST_CASE("npk_alloc gives a zero-filled writable block that is never executable", "[heap]") {
    for (size_t size : {size_t{1}, size_t{16}, size_t{4096}, size_t{1} << 20}) {
        CAPTURE(size);
        StatsWatch w;
        unsigned char* b = static_cast<unsigned char*>(npk_alloc(size));
        REQUIRE(b != nullptr);
        for (size_t i = 0; i < size; ++i) {
            if (b[i] != 0) FAIL("byte " << i << " is not zero");
        }
        std::memset(b, 0x5A, size);
        CHECK(b[size - 1] == 0x5A);
        MapsReader maps;
        maps.read();
        const uintptr_t a = reinterpret_cast<uintptr_t>(b);
        bool found = false;
        for (const Vma& v : maps.read()) {
            if (v.lo <= a && a < v.hi) {
                found = true;
                CHECK(v.perms[2] == '-');
                CHECK(v.perms[1] == 'w');
            }
        }
        CHECK(found);
        // Not a wildx page, and the wildx counters do not see it.
        CHECK(npk_wildx_state(b) == NPK_WILDX_UNKNOWN);
        CHECK(w.delta() == Delta{});
        npk_free(b);
    }
}

TEST_CASE("npk_alloc returns NULL for 0 and for impossible sizes, npk_free ignores NULL", "[heap]") {
    CHECK(npk_alloc(0) == nullptr);
    CHECK(npk_alloc(SIZE_MAX) == nullptr);
    CHECK(npk_alloc(SIZE_MAX / 2 + 1) == nullptr);
    npk_free(nullptr);
}

TEST_CASE("an npk_alloc block cannot be sealed or freed as a wildx page", "[heap][rejection]") {
    void* b = npk_alloc(4096);
    REQUIRE(b != nullptr);
    npk_wildx_set_quiet(1);
    CHECK(npk_wildx_seal(b) == -1);
    CHECK(npk_wildx_last_error() == NPK_WILDX_ERR_NOT_WILDX);
    CHECK(npk_wildx_free(b) == -1);
    CHECK(npk_wildx_last_error() == NPK_WILDX_ERR_NOT_WILDX);
    npk_wildx_set_quiet(0);
    npk_free(b);
}
