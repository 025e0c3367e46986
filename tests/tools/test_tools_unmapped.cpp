// Code that disappears behind the runtime's back (issue 18, finding 1): a
// program munmaps a built function's page itself, and the kernel hands the
// address to the next wildx allocation. Everything that indexes code by
// address must have forgotten the old function by then: its signature and
// name (npk_jit_signature, npk_jit_name, npk_jit_invoke), a region's record
// of its chunk (npk_jit_region_free must not free the new page), and what
// gdb was told (test_tools_gdb.cpp). In-process, so it runs under qemu too.
#include "skip.h"
#include "support.h"
#include "tools_support.h"

#include <npk/jitbuild.h>

#include <string>
#include <vector>

using namespace npk::test;

namespace {

void* reuse_or_skip(void* page, size_t bytes) {
    void* q = reuse_after_foreign_unmap(page, bytes);
    if (q == nullptr) npk_test_skip("this host's mmap did not hand the unmapped address back");
    return q;
}

}  // namespace

TEST_CASE("a function unmapped behind the runtime's back loses its signature and name before its address is reused",
          "[tools][hostile]") {
    void* fn = build_const(41, "victim_fn");
    REQUIRE(fn != nullptr);
    const size_t bytes = npk_wildx_size(fn);
    char sig[64];
    REQUIRE(npk_jit_signature(fn, sig, sizeof sig) > 0);
    REQUIRE(name_of(fn) == "victim_fn");
    const uint64_t id = npk_wildx_id(fn);
    REQUIRE(id != 0);

    StderrCapture err;
    void* q = reuse_or_skip(fn, bytes);
    const std::string said = err.text();
    CHECK_THAT(said, Catch::Contains("was unmapped behind the runtime's back"));
    REQUIRE(npk_wildx_state(q) == NPK_WILDX_WRITABLE);
    // The same address, another allocation: what a table keyed by address
    // (npk's gate) keeps beside it to tell them apart.
    CHECK(npk_wildx_id(q) > id);

    QuietGuard quiet;
    CHECK(npk_jit_signature(q, sig, sizeof sig) == -1);
    CHECK(npk_last_error() == NPK_ERR_JIT_NOT_FUNCTION);
    char name[NPK_JIT_MAX_NAME + 1];
    CHECK(npk_jit_name(q, name, sizeof name) == -1);
    CHECK(npk_last_error() == NPK_ERR_JIT_NOT_FUNCTION);
    // Before, the old signature sent this call into the new, writable page.
    npk_jit_value ret{};
    CHECK(npk_jit_invoke(q, nullptr, 0, &ret) == -1);
    CHECK(npk_last_error() == NPK_ERR_JIT_NOT_FUNCTION);
    CHECK_THAT(npk_last_error_message(), Catch::Contains("a writable page"));
    REQUIRE(npk_wildx_free(q) == 0);
}

TEST_CASE("a new function at a reused address has its own signature and name", "[tools][hostile]") {
    void* fn = build_const(42, "old_fn");
    REQUIRE(fn != nullptr);
    const size_t bytes = npk_wildx_size(fn);
    StderrCapture err;
    void* q = reuse_or_skip(fn, bytes);
    (void)err.text();
    REQUIRE(npk_wildx_free(q) == 0);
    // A build lands in the freed hole.
    npk::os::testing::hint_next_mapping(fn);
    npk_jit_builder* b = npk_jit_builder_new(NPK_JIT_I32);
    const int32_t p = npk_jit_param(b, NPK_JIT_I32);
    npk_jit_ret(b, p);
    npk_jit_builder_name(b, "new_fn");
    void* again = npk_jit_build(b);
    REQUIRE(again != nullptr);
    if (again != fn) {
        npk_wildx_free(again);
        npk_test_skip("this host's mmap did not hand the freed address back");
    }
    CHECK(name_of(again) == "new_fn");
    char sig[64];
    REQUIRE(npk_jit_signature(again, sig, sizeof sig) > 0);
    CHECK(std::string(sig) == "i32(i32)");
    npk_jit_value arg{};
    arg.type = NPK_JIT_I32;
    arg.i32 = 7;
    npk_jit_value ret{};
    if (npk_jit_host_supported() != 0) {
        REQUIRE(npk_jit_invoke(again, &arg, 1, &ret) == 0);
        CHECK(ret.i32 == 7);
    }
    REQUIRE(npk_wildx_free(again) == 0);
}

TEST_CASE("a region whose chunk was unmapped behind the runtime's back forgets its functions and never frees the "
          "page now at that address",
          "[tools][hostile]") {
    npk_jit_region* r = npk_jit_region_new();
    REQUIRE(r != nullptr);
    std::vector<void*> fns;
    for (int i = 0; i < 4; ++i) {
        fns.push_back(npk_jit_region_add(r, const_builder(i, ("chunk_fn_" + std::to_string(i)).c_str())));
        REQUIRE(fns.back() != nullptr);
    }
    REQUIRE(npk_jit_region_seal(r) == 0);
    // The chunk starts a page below its first function (a 16-byte header).
    void* chunk = reinterpret_cast<void*>(reinterpret_cast<uintptr_t>(fns[0]) & ~(page_size() - 1));
    const size_t bytes = npk_wildx_size(chunk);
    REQUIRE(bytes > 0);

    StderrCapture err;
    void* q = reuse_or_skip(chunk, bytes);
    (void)err.text();
    {
        QuietGuard quiet;
        char sig[64];
        for (void* f : fns) {
            CHECK(npk_jit_signature(f, sig, sizeof sig) == -1);
            CHECK(npk_last_error() == NPK_ERR_JIT_NOT_FUNCTION);
        }
    }
    // Before, this freed q, the page someone else holds now.
    CHECK(npk_jit_region_free(r) == 0);
    CHECK(npk_wildx_state(q) == NPK_WILDX_WRITABLE);
    REQUIRE(npk_wildx_free(q) == 0);
}
