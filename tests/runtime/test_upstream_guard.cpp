// WildXGuard (upstream's runtime/allocators.h) over the registry: the
// states, stale copies of a guard, quota, guard pages, the hash, audit,
// and what the signature table and npk_jit_invoke make of a guard page.
// Runs on every host; only the calls need x86-64 (elsewhere they are
// refused, which is checked too).
#include "runtime/allocators.h"

#include <npk/jitbuild.h>
#include <npk/status.h>

#include "skip.h"
#include "support.h"

#include <cstring>
#include <string>

namespace {

// mov rax, rdi; ret (x86-64): returns its argument. Only called on x86-64.
constexpr unsigned char kReturnArg[] = {0x48, 0x89, 0xF8, 0xC3};

}  // namespace

TEST_CASE("a guard goes WRITABLE -> EXECUTABLE -> FREED on a registry page", "[upstream][guard]") {
    npk::test::StatsWatch w;
    WildXGuard g = npk_alloc_exec(100);
    REQUIRE(g.ptr != nullptr);
    CHECK(g.state == WILDX_STATE_WRITABLE);
    CHECK_FALSE(g.sealed);
    CHECK(g.code_hash == 0);
    CHECK(g.size == npk::test::page_size());
    CHECK(g.map_size == g.size);
    CHECK(reinterpret_cast<uintptr_t>(g.ptr) % npk::test::page_size() == 0);
    CHECK(npk_wildx_state(g.ptr) == NPK_WILDX_WRITABLE);
    std::memcpy(g.ptr, kReturnArg, sizeof kReturnArg);

    REQUIRE(npk_mem_protect_exec(&g) == 0);
    CHECK(g.state == WILDX_STATE_EXECUTABLE);
    CHECK(g.sealed);
    uint64_t recorded = 0;
    REQUIRE(npk_wildx_code_hash(g.ptr, &recorded) == 0);
    CHECK(g.code_hash == recorded);
    CHECK(npk_wildx_verify_hash(&g) == g.code_hash);
    CHECK(npk_wildx_verify_hash(&g) == npk::test::fnv1a64_naive(g.ptr, g.size));
    CHECK(npk_wildx_state(g.ptr) == NPK_WILDX_EXECUTABLE);

    void* page = g.ptr;
    npk_free_exec(&g);
    CHECK(g.state == WILDX_STATE_FREED);
    CHECK(g.ptr == nullptr);
    CHECK(npk_wildx_state(page) == NPK_WILDX_UNKNOWN);
    CHECK(npk_wildx_verify_hash(&g) == 0);
    npk_free_exec(&g);  // twice: nothing happens
    npk_free_exec(nullptr);
    const npk::test::Delta d = w.delta();
    CHECK(d.allocs == 1);
    CHECK(d.seals == 1);
    CHECK(d.frees == 1);
    CHECK(d.rejections == 0);
}

TEST_CASE("a guard in the wrong state cannot be sealed", "[upstream][guard][rejection]") {
    npk::test::StderrCapture cap;
    CHECK(npk_mem_protect_exec(nullptr) == -1);
    CHECK(npk_last_error() == NPK_ERR_NULL);
    WildXGuard empty{};
    CHECK(npk_mem_protect_exec(&empty) == -1);
    WildXGuard g = npk_alloc_exec(1);
    REQUIRE(g.ptr != nullptr);
    REQUIRE(npk_mem_protect_exec(&g) == 0);
    CHECK(npk_mem_protect_exec(&g) == -1);
    CHECK(npk_last_error() == NPK_ERR_SEALED);
    npk_free_exec(&g);
    CHECK(npk_mem_protect_exec(&g) == -1);
    CHECK(npk_last_error() == NPK_ERR_FREED);
}

TEST_CASE("a stale copy of a guard can neither seal nor free the page", "[upstream][guard][rejection]") {
    WildXGuard g = npk_alloc_exec(1);
    REQUIRE(g.ptr != nullptr);
    WildXGuard copy = g;  // still says WRITABLE
    REQUIRE(npk_mem_protect_exec(&g) == 0);
    npk::test::StderrCapture cap;
    CHECK(npk_mem_protect_exec(&copy) == -1);  // the registry knows better
    CHECK(npk_last_error() == NPK_ERR_SEALED);
    CHECK(npk_wildx_state(g.ptr) == NPK_WILDX_EXECUTABLE);

    WildXGuard sealed_copy = g;
    npk_free_exec(&g);
    // The address may already hold another page: a sealed guard's hash
    // tells them apart, so nothing is freed through the stale copy.
    WildXGuard other = npk_alloc_exec(1);
    REQUIRE(other.ptr != nullptr);
    npk_free_exec(&sealed_copy);
    CHECK(sealed_copy.state == WILDX_STATE_FREED);
    CHECK(npk_last_error() == NPK_ERR_FREED);
    CHECK(npk_wildx_state(other.ptr) == NPK_WILDX_WRITABLE);
    npk_free_exec(&other);
    CHECK(npk::test::count_lines(cap.text()) == 2);
}

TEST_CASE("the quota of the registry bounds guards too", "[upstream][guard][quota]") {
    const size_t pg = npk::test::page_size();
    const size_t old = npk_wildx_quota();
    const npk_wildx_stats s = npk::test::stats_now();
    npk_wildx_set_quota(static_cast<size_t>(s.live_bytes) + 2 * pg);
    WildXGuard a = npk_alloc_exec(1);
    WildXGuard b = npk_alloc_exec(1);
    npk::test::StderrCapture cap;
    WildXGuard c = npk_alloc_exec(1);
    CHECK(a.ptr != nullptr);
    CHECK(b.ptr != nullptr);
    CHECK(c.ptr == nullptr);
    CHECK(c.state == WILDX_STATE_UNINITIALIZED);
    CHECK(npk_last_error() == NPK_ERR_QUOTA);
    npk_free_exec(&a);
    WildXGuard d = npk_alloc_exec(1);
    CHECK(d.ptr != nullptr);
    npk_free_exec(&b);
    npk_free_exec(&d);
    npk_wildx_set_quota(old);
    CHECK(npk_wildx_quota() == old);
    WildXGuard zero = npk_alloc_exec(0);
    CHECK(zero.ptr == nullptr);
    CHECK(npk_last_error() == NPK_ERR_ZERO_SIZE);
}

TEST_CASE("guard pages show in map_size and fault on either side", "[upstream][guard]") {
    const size_t pg = npk::test::page_size();
    npk_wildx_enable_guard_pages(true);
    WildXGuard g = npk_alloc_exec(2 * pg);
    npk_wildx_enable_guard_pages(false);
    REQUIRE(g.ptr != nullptr);
    CHECK(g.size == 2 * pg);
    CHECK(g.map_size == g.size + 2 * pg);
    const auto* p = static_cast<const volatile char*>(g.ptr);
    const npk::test::ChildResult before = npk::test::run_child([p] { (void)p[-1]; });
    CHECK(before.signaled);
    const npk::test::ChildResult after = npk::test::run_child([p, &g] { (void)p[g.size]; });
    CHECK(after.signaled);
    npk_free_exec(&g);
    WildXGuard plain = npk_alloc_exec(1);
    CHECK(plain.map_size == plain.size);
    npk_free_exec(&plain);
}

TEST_CASE("audit writes a line for alloc, seal and free of a guard", "[upstream][guard]") {
    npk::test::StderrCapture cap;
    npk_wildx_enable_audit(true);
    WildXGuard g = npk_alloc_exec(1);
    npk_mem_protect_exec(&g);
    npk_free_exec(&g);
    npk_wildx_enable_audit(false);
    const std::string t = cap.text();
    CHECK(t.find("audit alloc") != std::string::npos);
    CHECK(t.find("audit seal") != std::string::npos);
    CHECK(t.find("audit free") != std::string::npos);
}

TEST_CASE("a sealed guard is in the signature table, with a signature nobody guesses", "[upstream][guard]") {
    WildXGuard g = npk_alloc_exec(1);
    REQUIRE(g.ptr != nullptr);
    char sig[32];
    npk::test::StderrCapture cap;
    CHECK(npk_jit_signature(g.ptr, sig, sizeof sig) == -1);  // not yet sealed: not a function
    CHECK(npk_last_error() == NPK_ERR_JIT_NOT_FUNCTION);
    REQUIRE(npk_mem_protect_exec(&g) == 0);
    REQUIRE(npk_jit_signature(g.ptr, sig, sizeof sig) >= 0);
    CHECK(std::string(sig) == "?()");
    npk_jit_value ret{};
    CHECK(npk_jit_invoke(g.ptr, nullptr, 0, &ret) == -1);
    CHECK(npk_last_error() == NPK_ERR_JIT_SIGNATURE);
    void* page = g.ptr;
    npk_free_exec(&g);
    CHECK(npk_jit_signature(page, sig, sizeof sig) == -1);  // forgotten with the page
}

TEST_CASE("npk_exec_jit calls a sealed guard only", "[upstream][guard]") {
    WildXGuard g = npk_alloc_exec(1);
    REQUIRE(g.ptr != nullptr);
    std::memcpy(g.ptr, kReturnArg, sizeof kReturnArg);
    npk::test::StderrCapture cap;
    CHECK(npk_exec_jit(&g, nullptr) == nullptr);  // WRITABLE: refused
    CHECK(npk_last_error() == (npk_test_host_is_x86_64() ? NPK_ERR_NOT_EXECUTABLE : NPK_ERR_UNSUPPORTED_HOST));
    CHECK(npk_exec_jit(nullptr, nullptr) == nullptr);
    REQUIRE(npk_mem_protect_exec(&g) == 0);
    if (npk_test_host_is_x86_64()) {
        int dummy = 0;
        CHECK(npk_exec_jit(&g, &dummy) == &dummy);
        npk_free_exec(&g);
        CHECK(npk_exec_jit(&g, nullptr) == nullptr);
        CHECK(npk_last_error() == NPK_ERR_NULL);
    } else {
        CHECK(npk_exec_jit(&g, nullptr) == nullptr);
        CHECK(npk_last_error() == NPK_ERR_UNSUPPORTED_HOST);
        npk_free_exec(&g);
    }
}
