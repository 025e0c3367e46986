// npk_jit_install_add_i32, npk_jit_call_i32_i32 and npk_jit_host_supported.
#include "skip.h"
#include "support.h"

#include <sys/utsname.h>

#include <climits>
#include <cstring>
#include <vector>

using namespace npk::test;

namespace {

void require_jit_host() {
    if (!npk_test_host_is_x86_64()) npk_test_skip("needs x86-64 machine code");
}

// What install must write on x86-64 System V, byte by byte.
const unsigned char kExpectedAdd[] = {
    0x89, 0xF8,  // mov eax, edi
    0x01, 0xF0,  // add eax, esi
    0xC3,        // ret
};

}  // namespace

TEST_CASE("host support is decided by the target architecture", "[jit]") {
    // Asked of the kernel, not of the compiler's macros: under
    // qemu-aarch64 the machine reads "aarch64".
    struct utsname u {};
    REQUIRE(uname(&u) == 0);
    CAPTURE(u.machine);
    // The code generator runs on x86-64 and AArch64; add_i32 is x86-64 only.
    const bool known = std::strcmp(u.machine, "x86_64") == 0 || std::strcmp(u.machine, "aarch64") == 0;
    CHECK(npk_jit_host_supported() == (known ? 1 : 0));
}

TEST_CASE("install matches the host: add_i32 on x86-64 and unsupported host elsewhere", "[jit]") {
    const size_t pg = page_size();
    unsigned char* p = static_cast<unsigned char*>(npk_wildx_alloc(1));
    REQUIRE(p != nullptr);
    StatsWatch w;
    if (npk_test_host_is_x86_64()) {
        CHECK(npk_jit_install_add_i32(p) == 0);
        CHECK(w.delta() == Delta{});
        CHECK(std::memcmp(p, kExpectedAdd, sizeof kExpectedAdd) == 0);
    } else {
        npk_wildx_set_quiet(1);
        CHECK(npk_jit_install_add_i32(p) == -1);
        npk_wildx_set_quiet(0);
        CHECK(npk_wildx_last_error() == NPK_WILDX_ERR_UNSUPPORTED_HOST);
        CHECK(w.delta() == Delta{.rejections = 1});
    }
    // Nothing else was written; the page is still WRITABLE.
    const size_t written = npk_test_host_is_x86_64() ? sizeof kExpectedAdd : 0;
    std::vector<unsigned char> zeros(pg - written, 0);
    CHECK(std::memcmp(p + written, zeros.data(), zeros.size()) == 0);
    CHECK(npk_wildx_state(p) == NPK_WILDX_WRITABLE);
    REQUIRE(npk_wildx_free(p) == 0);
}

TEST_CASE("install writes exactly mov eax edi / add eax esi / ret at the page start", "[jit]") {
    require_jit_host();
    const size_t pg = page_size();
    unsigned char* p = static_cast<unsigned char*>(npk_wildx_alloc(2 * pg));
    REQUIRE(p != nullptr);
    std::memset(p, 0xCC, 2 * pg);
    REQUIRE(npk_jit_install_add_i32(p) == 0);
    CHECK(std::memcmp(p, kExpectedAdd, sizeof kExpectedAdd) == 0);
    for (size_t i = sizeof kExpectedAdd; i < 2 * pg; ++i) {
        if (p[i] != 0xCC) FAIL("byte " << i << " changed");
    }
    REQUIRE(npk_wildx_free(p) == 0);
}

TEST_CASE("install into a sealed page is rejected with not writable and writes nothing", "[jit][rejection]") {
    require_jit_host();
    void* p = npk_wildx_alloc(1);
    REQUIRE(p != nullptr);
    REQUIRE(npk_wildx_seal(p) == 0);
    npk_wildx_set_quiet(1);
    StatsWatch w;
    CHECK(npk_jit_install_add_i32(p) == -1);
    CHECK(npk_wildx_last_error() == NPK_WILDX_ERR_NOT_WRITABLE);
    CHECK(npk_wildx_verify(p) == 0);  // still all zero, as sealed
    CHECK(npk_wildx_state(p) == NPK_WILDX_EXECUTABLE);
    CHECK(w.delta() == Delta{.rejections = 1});
    npk_wildx_set_quiet(0);
    REQUIRE(npk_wildx_free(p) == 0);
}

TEST_CASE("install into NULL, foreign, interior and freed pointers is rejected and writes nothing",
          "[jit][rejection]") {
    require_jit_host();
    npk_wildx_set_quiet(1);
    const size_t pg = page_size();
    std::vector<unsigned char> foreign(64, 0xCC);
    unsigned char* live = static_cast<unsigned char*>(npk_wildx_alloc(2 * pg));
    unsigned char* freed = static_cast<unsigned char*>(npk_wildx_alloc(1));
    REQUIRE(live != nullptr);
    REQUIRE(freed != nullptr);
    REQUIRE(npk_wildx_free(freed) == 0);

    const std::pair<void*, int32_t> cases[] = {
        {nullptr, NPK_WILDX_ERR_NULL},
        {foreign.data(), NPK_WILDX_ERR_NOT_WILDX},
        {live + 8, NPK_WILDX_ERR_INTERIOR},
        {live + pg, NPK_WILDX_ERR_INTERIOR},
        {freed, NPK_WILDX_ERR_FREED},
    };
    for (const auto& [p, code] : cases) {
        CAPTURE(p, NPK_ERR(code));
        StatsWatch w;
        CHECK(npk_jit_install_add_i32(p) == -1);
        CHECK(npk_wildx_last_error() == code);
        CHECK(w.delta() == Delta{.rejections = 1});
    }
    CHECK(std::count(foreign.begin(), foreign.end(), 0xCC) == 64);
    std::vector<unsigned char> zeros(2 * pg, 0);
    CHECK(std::memcmp(live, zeros.data(), zeros.size()) == 0);
    npk_wildx_set_quiet(0);
    REQUIRE(npk_wildx_free(live) == 0);
}

TEST_CASE("a sealed add_i32 page adds, wrapping like int32 hardware", "[jit]") {
    require_jit_host();
    void* p = npk_wildx_alloc(1);
    REQUIRE(p != nullptr);
    REQUIRE(npk_jit_install_add_i32(p) == 0);
    REQUIRE(npk_wildx_seal(p) == 0);
    const struct {
        int32_t a, b, sum;
    } table[] = {
        {7, 35, 42},
        {0, 0, 0},
        {-1, 1, 0},
        {-5, -7, -12},
        {INT32_MAX, 1, INT32_MIN},
        {INT32_MIN, -1, INT32_MAX},
        {INT32_MAX, INT32_MAX, -2},
        {123456789, -987654321, -864197532},
    };
    StatsWatch w;
    for (const auto& t : table) {
        CAPTURE(t.a, t.b);
        CHECK(npk_jit_call_i32_i32(p, t.a, t.b) == t.sum);
    }
    CHECK(w.delta() == Delta{});  // calls are not counted
    REQUIRE(npk_wildx_free(p) == 0);
}

TEST_CASE("many sealed pages can be called side by side", "[jit]") {
    require_jit_host();
    std::vector<void*> pages;
    for (int i = 0; i < 64; ++i) {
        void* p = npk_wildx_alloc(static_cast<size_t>(1 + i * 100));
        REQUIRE(p != nullptr);
        REQUIRE(npk_jit_install_add_i32(p) == 0);
        REQUIRE(npk_wildx_seal(p) == 0);
        pages.push_back(p);
    }
    for (int round = 0; round < 3; ++round) {
        for (size_t i = 0; i < pages.size(); ++i) {
            REQUIRE(npk_jit_call_i32_i32(pages[i], static_cast<int32_t>(i), round) ==
                    static_cast<int32_t>(i) + round);
        }
    }
    for (void* p : pages) REQUIRE(npk_wildx_free(p) == 0);
}
