// npk_jit_build_bytes: user bytes become a function with a signature only
// when they validate; every refusal leaves nothing behind.
#include "support.h"
#include "skip.h"
#include "tools_support.h"

#include "arch/arch.h"

#include <npk/jitbuild.h>
#include <npk/validate.h>

#include <string>
#include <vector>

using namespace npk::test;

namespace {

constexpr bool kX86 = npk::arch::kCpu == npk::arch::Cpu::x86_64;

// i64 add(i64 a, i64 b), hand-assembled for the host.
std::vector<unsigned char> add_i64() {
    if (kX86) return {0x48, 0x8D, 0x04, 0x37, 0xC3};  // lea rax, [rdi + rsi]; ret
    return {0x00, 0x00, 0x01, 0x8B, 0xC0, 0x03, 0x5F, 0xD6};  // add x0, x0, x1; ret
}

// A privileged / system instruction, then a return.
std::vector<unsigned char> forbidden() {
    if (kX86) return {0x90, 0xF4, 0xC3};  // nop; hlt; ret
    return {0x1F, 0x20, 0x03, 0xD5, 0x01, 0x00, 0x00, 0xD4, 0xC0, 0x03, 0x5F, 0xD6};  // nop; svc #0; ret
}

const int32_t kTwoI64[] = {NPK_JIT_I64, NPK_JIT_I64};

std::string message() { return npk_last_error_message(); }

void skip_without_codegen() {
    if (!npk_jit_host_supported()) npk_test_skip("no code generator for this CPU");
}

}  // namespace

TEST_CASE("build_bytes: validated bytes are a function with the checked signature", "[tools][build_bytes]") {
    skip_without_codegen();
    const std::vector<unsigned char> code = add_i64();
    StatsWatch w;
    void* fn = npk_jit_build_bytes(code.data(), code.size(), NPK_JIT_I64, 2, kTwoI64, 0);
    REQUIRE(fn != nullptr);
    CHECK(npk_wildx_state(fn) == NPK_WILDX_EXECUTABLE);
    npk_jit_value args[2], r;
    args[0].type = args[1].type = NPK_JIT_I64;
    args[0].i64 = 40;
    args[1].i64 = 2;
    REQUIRE(npk_jit_invoke(fn, args, 2, &r) == 0);
    CHECK(r.type == NPK_JIT_I64);
    CHECK(r.i64 == 42);
    char sig[64];
    REQUIRE(npk_jit_signature(fn, sig, sizeof sig) > 0);
    CHECK(std::string(sig) == "i64(i64, i64)");
    CHECK(npk_jit_invoke(fn, args, 1, &r) == -1);  // the recorded signature is enforced
    CHECK(npk_last_error() == NPK_ERR_JIT_SIGNATURE);
    CHECK(name_of(fn) == hex_name(fn));
    REQUIRE(npk_wildx_free(fn) == 0);
    CHECK(w.delta().live_pages == 0);

    fn = npk_jit_build_bytes_named(code.data(), code.size(), NPK_JIT_I64, 2, kTwoI64, 0, "user_add");
    REQUIRE(fn != nullptr);
    CHECK(name_of(fn) == "user_add");
    REQUIRE(npk_jit_invoke(fn, args, 2, &r) == 0);
    CHECK(r.i64 == 42);
    REQUIRE(npk_wildx_free(fn) == 0);
}

TEST_CASE("build_bytes: rejected bytes give NULL, the finding in the last error, nothing leaked",
          "[tools][build_bytes]") {
    skip_without_codegen();
    struct Case {
        std::vector<unsigned char> code;
        int32_t rule;
        const char* text;
    };
    const std::vector<Case> cases = {
        {forbidden(), kX86 ? NPK_ERR_CODE_PRIVILEGED : NPK_ERR_CODE_SYSCALL, kX86 ? "hlt" : "svc"},
        {kX86 ? std::vector<unsigned char>{0x90, 0x90} : std::vector<unsigned char>{0x1F, 0x20, 0x03, 0xD5},
         NPK_ERR_CODE_FALLS_OFF_END, "nop"},
    };
    for (const Case& c : cases) {
        StatsWatch w;
        void* fn = npk_jit_build_bytes(c.code.data(), c.code.size(), NPK_JIT_I64, 2, kTwoI64, 0);
        CHECK(fn == nullptr);
        CHECK(npk_last_error() == c.rule);
        CHECK_THAT(message(), Catch::Contains("npk_jit_build_bytes") && Catch::Contains(c.text) &&
                                  Catch::Contains(npk_status_string(c.rule)));
        CHECK(w.delta().live_pages == 0);
        CHECK(w.delta().live_bytes == 0);
    }
    // The x86 hlt sits at offset 1, the AArch64 svc at offset 4.
    const std::vector<unsigned char> bad = forbidden();
    CHECK(npk_jit_build_bytes(bad.data(), bad.size(), NPK_JIT_VOID, 0, nullptr, 0) == nullptr);
    CHECK_THAT(message(), Catch::Contains(kX86 ? "offset 1" : "offset 4"));
    // A policy bit that allows it lets it through (and it is never called here).
    const uint32_t allow = kX86 ? NPK_JIT_ALLOW_PRIVILEGED : NPK_JIT_ALLOW_SYSCALL;
    void* fn = npk_jit_build_bytes(bad.data(), bad.size(), NPK_JIT_VOID, 0, nullptr, allow);
    REQUIRE(fn != nullptr);
    REQUIRE(npk_wildx_free(fn) == 0);
}

TEST_CASE("build_bytes: misuse is refused and leaves nothing behind", "[tools][build_bytes]") {
    const std::vector<unsigned char> code = add_i64();
    const int32_t bad_types[] = {NPK_JIT_I64, NPK_JIT_VOID};
    StatsWatch w;
    CHECK(npk_jit_build_bytes(nullptr, 5, NPK_JIT_I64, 0, nullptr, 0) == nullptr);
    CHECK(npk_last_error() == NPK_ERR_NULL);
    CHECK(npk_jit_build_bytes(code.data(), 0, NPK_JIT_I64, 0, nullptr, 0) == nullptr);
    CHECK(npk_last_error() == NPK_ERR_ZERO_SIZE);
    CHECK(npk_jit_build_bytes(code.data(), code.size(), 9, 0, nullptr, 0) == nullptr);
    CHECK(npk_last_error() == NPK_ERR_JIT_BAD_TYPE);
    CHECK(npk_jit_build_bytes(code.data(), code.size(), NPK_JIT_I64, 9, kTwoI64, 0) == nullptr);
    CHECK(npk_last_error() == NPK_ERR_JIT_TOO_MANY_PARAMS);
    CHECK(npk_jit_build_bytes(code.data(), code.size(), NPK_JIT_I64, -1, kTwoI64, 0) == nullptr);
    CHECK(npk_last_error() == NPK_ERR_JIT_TOO_MANY_PARAMS);
    CHECK(npk_jit_build_bytes(code.data(), code.size(), NPK_JIT_I64, 2, nullptr, 0) == nullptr);
    CHECK(npk_last_error() == NPK_ERR_NULL);
    CHECK(npk_jit_build_bytes(code.data(), code.size(), NPK_JIT_I64, 2, bad_types, 0) == nullptr);
    CHECK(npk_last_error() == NPK_ERR_JIT_BAD_TYPE);
    CHECK(npk_jit_build_bytes_named(code.data(), code.size(), NPK_JIT_I64, 2, kTwoI64, 0, "bad name") == nullptr);
    CHECK(npk_last_error() == NPK_ERR_INVALID_ARGUMENT);
    const uint32_t other = kX86 ? NPK_JIT_ARCH_AARCH64 : NPK_JIT_ARCH_X86_64;
    CHECK(npk_jit_build_bytes(code.data(), code.size(), NPK_JIT_I64, 2, kTwoI64, other) == nullptr);
    CHECK(npk_last_error() == NPK_ERR_INVALID_ARGUMENT);
    CHECK(w.delta().allocs == 0);
    // Policy bits are the validator's to judge, on the copy: a page comes
    // and goes, nothing stays.
    CHECK(npk_jit_build_bytes(code.data(), code.size(), NPK_JIT_I64, 2, kTwoI64, 1u << 20) == nullptr);
    CHECK(npk_last_error() == NPK_ERR_INVALID_ARGUMENT);
    CHECK_THAT(message(), Catch::Contains("npk_jit_build_bytes") && Catch::Contains("policy"));
    CHECK(w.delta().live_pages == 0);
    CHECK(w.delta().live_bytes == 0);
}
