// NPK_WILDX_VERIFY=call (issue 18, finding 9): every checked call re-hashes
// the code it is about to run and refuses when it no longer hashes as at
// its seal; off by default. The code is changed behind the runtime's back
// the only way a program can: mprotect the sealed page writable, write,
// make it executable again. The byte changed is past the function's code
// (the hash covers every usable byte), so the function itself still runs
// right: only the check can tell.
#include "core/test_seams.h"
#include "skip.h"
#include "support.h"
#include "tools/tools_support.h"

#include <npk/jitbuild.h>

#include <sys/mman.h>
#include <unistd.h>

#include <csignal>

#include <cstdlib>
#include <string>

using namespace npk::test;

namespace {

void set_verify(const char* v) { set_env("NPK_WILDX_VERIFY", v); }

// Flips the last usable byte of the allocation at `page` behind the
// runtime's back (it is past any code there), and back on a second call.
void flip_last_byte(void* page) {
    const size_t n = npk_wildx_size(page);
    REQUIRE(n > 0);
    auto* p = static_cast<unsigned char*>(page);
    REQUIRE(mprotect(p, n, PROT_READ | PROT_WRITE) == 0);
    p[n - 1] ^= 0xA5;
    REQUIRE(mprotect(p, n, PROT_READ | PROT_EXEC) == 0);
}

void check_invoke(void* fn, void* page, int64_t k) {
    npk_jit_value r{};
    set_verify(nullptr);
    REQUIRE(npk_jit_invoke(fn, nullptr, 0, &r) == 0);  // off by default
    CHECK(r.i64 == k);
    set_verify("call");
    REQUIRE(npk_jit_invoke(fn, nullptr, 0, &r) == 0);  // unchanged: runs
    CHECK(r.i64 == k);

    flip_last_byte(page);
    set_verify(nullptr);
    REQUIRE(npk_jit_invoke(fn, nullptr, 0, &r) == 0);  // not verified: runs the changed page
    set_verify("call");
    std::string line;
    {
        StderrCapture err;
        r = npk_jit_value{};
        CHECK(npk_jit_invoke(fn, nullptr, 0, &r) == -1);
        line = err.text();
    }
    CHECK(r.i64 == 0);  // nothing ran
    CHECK(npk_last_error() == NPK_ERR_HASH_MISMATCH);
    char want[64];
    std::snprintf(want, sizeof want, "invoke(%p) rejected: code changed since seal (NPK_WILDX_VERIFY=call", page);
    CHECK_THAT(std::string(npk_last_error_message()), Catch::StartsWith(want));
    CHECK(line == "jitbuild: " + std::string(npk_last_error_message()) + "\n");

    flip_last_byte(page);  // as sealed again
    REQUIRE(npk_jit_invoke(fn, nullptr, 0, &r) == 0);
    CHECK(r.i64 == k);
    set_verify(nullptr);
}

}  // namespace

TEST_CASE("NPK_WILDX_VERIFY=call: npk_jit_invoke refuses a function whose page changed since its seal",
          "[verify]") {
    if (npk_jit_host_supported() == 0) npk_test_skip("built code cannot run on this host");
    void* fn = npk_jit_build(const_builder(17, nullptr));
    REQUIRE(fn != nullptr);
    check_invoke(fn, fn, 17);
    REQUIRE(npk_wildx_free(fn) == 0);
}

TEST_CASE("NPK_WILDX_VERIFY=call: npk_jit_invoke refuses a region function whose chunk changed since its seal",
          "[verify]") {
    if (npk_jit_host_supported() == 0) npk_test_skip("built code cannot run on this host");
    npk_jit_region* r = npk_jit_region_new();
    void* a = npk_jit_region_add(r, const_builder(3, nullptr));
    void* b = npk_jit_region_add(r, const_builder(4, nullptr));
    REQUIRE((a != nullptr && b != nullptr));
    REQUIRE(npk_jit_region_seal(r) == 0);
    void* chunk = reinterpret_cast<void*>(reinterpret_cast<uintptr_t>(a) & ~(page_size() - 1));
    REQUIRE(npk_wildx_state(chunk) == NPK_WILDX_EXECUTABLE);
    check_invoke(b, chunk, 4);
    REQUIRE(npk_jit_region_free(r) == 0);
}

TEST_CASE("NPK_WILDX_VERIFY=call: npk_jit_call_i32_i32 aborts on a page changed since its seal", "[verify]") {
    if (!npk_test_host_is_x86_64()) npk_test_skip("needs x86-64 machine code (add_i32)");
    void* page = npk_wildx_alloc(1);
    REQUIRE(page != nullptr);
    REQUIRE(npk_jit_install_add_i32(page) == 0);
    REQUIRE(npk_wildx_seal(page) == 0);
    set_verify("call");
    CHECK(npk_jit_call_i32_i32(page, 2, 3) == 5);  // unchanged: runs, verified
    flip_last_byte(page);
    set_verify(nullptr);
    CHECK(npk_jit_call_i32_i32(page, 2, 3) == 5);  // not verified: runs the changed page
    const ChildResult child = run_child([page] {
        setenv("NPK_WILDX_VERIFY", "call", 1);
        npk::wildx::testing::reload_config_from_env();
        (void)npk_jit_call_i32_i32(page, 2, 3);
        _exit(0);  // must not get here
    });
    CHECK(child.signaled);
    CHECK(child.signal == SIGABRT);
    char want[128];
    std::snprintf(want, sizeof want, "wildx: call(%p) refused: NPK_WILDX_VERIFY=call: the code no longer hashes", page);
    CHECK_THAT(child.err, Catch::StartsWith(want));
    flip_last_byte(page);
    REQUIRE(npk_wildx_free(page) == 0);
}

TEST_CASE("NPK_WILDX_VERIFY with a value other than call is ignored with one line", "[verify]") {
    std::string text;
    {
        StderrCapture err;
        set_verify("always");
        text = err.text();
    }
    CHECK(text == "wildx: ignoring NPK_WILDX_VERIFY='always': expected call; checked calls do not re-hash\n");
    set_verify(nullptr);
}
