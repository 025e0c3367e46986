// npk_jit_validate at its C ABI: misuse, the policy and architecture
// bits, the known function entries, and how a finding is reported.
#include "arch/arch.h"
#include "skip.h"
#include "support.h"
#include "tools/tools_support.h"
#include "validate_support.h"

#include <npk/jitbuild.h>
#include <npk/validate.h>
#include <npk/wildx.h>

#include <catch2/catch.hpp>

#include <cstring>
#include <string>

namespace {

const uint8_t kRet[] = {0xc3};
const uint8_t kHltRet[] = {0xf4, 0xc3};

bool zeroed(const npk_jit_finding& f) {
    npk_jit_finding z;
    std::memset(&z, 0, sizeof z);
    return std::memcmp(&f, &z, sizeof f) == 0;
}

npk_jit_finding garbage_finding() {
    npk_jit_finding f;
    std::memset(&f, 0x5a, sizeof f);
    return f;
}

}  // namespace

TEST_CASE("validator misuse: NULL code, zero size, unknown bits fail with a clear error and a zeroed finding",
          "[validate]") {
    npk::test::SwitchesGuard guard;
    npk_wildx_set_quiet(1);
    npk_jit_finding f = garbage_finding();

    CHECK(npk_jit_validate(nullptr, 1, NPK_JIT_ARCH_X86_64, &f) == -1);
    CHECK(npk_last_error() == NPK_ERR_NULL);
    CHECK(zeroed(f));

    f = garbage_finding();
    CHECK(npk_jit_validate(kRet, 0, NPK_JIT_ARCH_X86_64, &f) == -1);
    CHECK(npk_last_error() == NPK_ERR_ZERO_SIZE);
    CHECK(zeroed(f));

    CHECK(npk_jit_validate(kRet, 1, NPK_JIT_ARCH_X86_64 | (1u << 10), &f) == -1);
    CHECK(npk_last_error() == NPK_ERR_INVALID_ARGUMENT);
    CHECK(npk_jit_validate(kRet, 1, 3u << 24, &f) == -1);  // no third architecture
    CHECK(npk_last_error() == NPK_ERR_INVALID_ARGUMENT);
    // Refused before a byte is read: the one byte given is all there is.
    CHECK(npk_jit_validate(kRet, NPK_JIT_VALIDATE_MAX_SIZE + 1, NPK_JIT_ARCH_X86_64, &f) == -1);
    CHECK(npk_last_error() == NPK_ERR_INVALID_ARGUMENT);
    CHECK(zeroed(f));
}

TEST_CASE("validator: the finding is optional, the verdict and last error are not", "[validate]") {
    npk::test::SwitchesGuard guard;
    npk_wildx_set_quiet(1);
    CHECK(npk_jit_validate(kRet, sizeof kRet, NPK_JIT_ARCH_X86_64, nullptr) == 0);
    CHECK(npk_jit_validate(kHltRet, sizeof kHltRet, NPK_JIT_ARCH_X86_64, nullptr) == -1);
    CHECK(npk_last_error() == NPK_ERR_CODE_PRIVILEGED);

    npk_jit_finding f = garbage_finding();
    CHECK(npk_jit_validate(kRet, sizeof kRet, NPK_JIT_ARCH_X86_64, &f) == 0);
    CHECK(zeroed(f));
}

TEST_CASE("validator: NPK_JIT_ARCH_HOST decodes as the host's instruction set", "[validate]") {
    npk::test::SwitchesGuard guard;
    npk_wildx_set_quiet(1);
    // One byte is a whole x86-64 instruction and a quarter of an AArch64 one.
    const int32_t x86 = npk_jit_validate(kRet, 1, NPK_JIT_ARCH_X86_64, nullptr);
    const int32_t a64 = npk_jit_validate(kRet, 1, NPK_JIT_ARCH_AARCH64, nullptr);
    REQUIRE(x86 == 0);
    REQUIRE(a64 == -1);
    const int32_t host = npk_jit_validate(kRet, 1, NPK_JIT_ARCH_HOST, nullptr);
    switch (npk::arch::kCpu) {
    case npk::arch::Cpu::x86_64: CHECK(host == x86); break;
    case npk::arch::Cpu::aarch64: CHECK(host == a64); break;
    case npk::arch::Cpu::other:
        CHECK(host == -1);
        CHECK(npk_last_error() == NPK_ERR_UNSUPPORTED_HOST);
        break;
    }
}

TEST_CASE("validator: a rejection is one stderr line naming the offset, the instruction and the rule",
          "[validate]") {
    npk::test::SwitchesGuard guard;
    npk_wildx_set_quiet(0);
    const uint64_t before = npk_rejections(NPK_FACILITY_VALIDATE);
    npk::test::StderrCapture err;
    const uint8_t code[] = {0x31, 0xc0, 0x0f, 0x05, 0xc3};  // xor eax, eax; syscall; ret
    CHECK(npk_jit_validate(code, sizeof code, NPK_JIT_ARCH_X86_64, nullptr) == -1);
    const std::string text = err.text();
    CHECK(npk::test::count_lines(text) == 1);
    const std::string message = npk_last_error_message();
    CHECK(text == "validate: " + message + "\n");
    CHECK_THAT(message, Catch::Matchers::StartsWith("code(0x") &&
                            Catch::Matchers::Contains("rejected: system call or software interrupt (offset 2: syscall: "));
    CHECK(npk_rejections(NPK_FACILITY_VALIDATE) == before + 1);
}

TEST_CASE("validator: every NPK_ERR_CODE_* has its own text", "[validate]") {
    std::string seen;
    for (int32_t code = NPK_ERR_CODE_UNDECODABLE; code <= NPK_ERR_CODE_FALLS_OFF_END; ++code) {
        const std::string text = npk_status_string(code);
        INFO(code << ": " << text);
        CHECK(text != "unknown error");
        CHECK(seen.find("|" + text + "|") == std::string::npos);
        seen += "|" + text + "|";
    }
}

TEST_CASE("validator: a long instruction's text is cut to fit, NUL-terminated", "[validate]") {
    npk::test::SwitchesGuard guard;
    npk_wildx_set_quiet(1);
    // vpgatherdd zmm0{k1}, [rax+zmm1*4+0x12345678] and nothing after it.
    const uint8_t code[] = {0x62, 0xf2, 0x7d, 0x49, 0x90, 0x84, 0x88, 0x78, 0x56, 0x34, 0x12};
    npk_jit_finding f;
    REQUIRE(npk_jit_validate(code, sizeof code, NPK_JIT_ARCH_X86_64, &f) == -1);
    CHECK(f.rule == NPK_ERR_CODE_FALLS_OFF_END);
    CHECK(f.length == sizeof code);
    CHECK(std::memchr(f.text, '\0', sizeof f.text) != nullptr);
    CHECK_THAT(std::string(f.text), Catch::Matchers::StartsWith("vpgatherdd zmm0"));
}

// Known function entries: a direct call may leave the code for the start
// of a live EXECUTABLE wildx page, and for nothing else. Both encodings
// are checked on any host: the check is arithmetic on addresses.
namespace {

struct Pages {
    void* callee = npk_wildx_alloc(1);
    void* code = npk_wildx_alloc(64);
    ~Pages() {
        if (callee != nullptr) npk_wildx_free(callee);
        if (code != nullptr) npk_wildx_free(code);
    }
};

// `call target` (x86-64 rel32) or `bl target` (AArch64 imm26), then a
// return, written at the start of `code`. False if out of reach.
bool write_call(void* code, uintptr_t target, uint32_t arch, size_t* size) {
    const auto at = reinterpret_cast<uintptr_t>(code);
    uint8_t bytes[8];
    if (arch == NPK_JIT_ARCH_X86_64) {
        const int64_t rel = static_cast<int64_t>(target - (at + 5));
        if (rel != static_cast<int32_t>(rel)) return false;
        const auto r = static_cast<uint32_t>(rel);
        const uint8_t call[] = {0xe8, uint8_t(r), uint8_t(r >> 8), uint8_t(r >> 16), uint8_t(r >> 24), 0xc3};
        std::memcpy(bytes, call, sizeof call);
        *size = sizeof call;
    } else {
        const int64_t rel = static_cast<int64_t>(target - at) / 4;
        if (rel < -(1 << 25) || rel >= (1 << 25) || (target - at) % 4 != 0) return false;
        const uint32_t words[] = {0x94000000u | (static_cast<uint32_t>(rel) & 0x3ffffffu), 0xd65f03c0u};
        std::memcpy(bytes, words, sizeof words);  // little-endian hosts only, as the runtime
        *size = sizeof words;
    }
    std::memcpy(code, bytes, *size);
    return true;
}

void check_known_entries(uint32_t arch) {
    npk::test::SwitchesGuard guard;
    npk_wildx_set_quiet(1);
    Pages p;
    REQUIRE(p.callee != nullptr);
    REQUIRE(p.code != nullptr);
    const auto callee = reinterpret_cast<uintptr_t>(p.callee);
    size_t size = 0;
    if (!write_call(p.code, callee, arch, &size)) {
        npk_test_skip("the two pages are further apart than a direct call reaches");
    }
    npk_jit_finding f;

    // Not sealed yet: no function.
    CHECK(npk_jit_validate(p.code, size, arch, &f) == -1);
    CHECK(f.rule == NPK_ERR_CODE_OUTSIDE_TARGET);
    CHECK(f.offset == 0);

    REQUIRE(npk_wildx_seal(p.callee) == 0);
    CHECK(npk_jit_validate(p.code, size, arch, &f) == 0);
    // ... unless the policy asks for self-contained code.
    CHECK(npk_jit_validate(p.code, size, arch | NPK_JIT_SELF_CONTAINED, &f) == -1);
    CHECK(f.rule == NPK_ERR_CODE_OUTSIDE_TARGET);
    CHECK_THAT(std::string(f.message), Catch::Matchers::Contains("NPK_JIT_SELF_CONTAINED"));

    // Inside the function is no entry.
    REQUIRE(write_call(p.code, callee + 4, arch, &size));
    CHECK(npk_jit_validate(p.code, size, arch, &f) == -1);
    CHECK(f.rule == NPK_ERR_CODE_OUTSIDE_TARGET);

    // Freed, it is gone.
    REQUIRE(write_call(p.code, callee, arch, &size));
    CHECK(npk_jit_validate(p.code, size, arch, &f) == 0);
    REQUIRE(npk_wildx_free(p.callee) == 0);
    p.callee = nullptr;
    CHECK(npk_jit_validate(p.code, size, arch, &f) == -1);
    CHECK(f.rule == NPK_ERR_CODE_OUTSIDE_TARGET);
}

}  // namespace

TEST_CASE("validator: x86-64 call to a known function entry, and to what is none", "[validate]") {
    check_known_entries(NPK_JIT_ARCH_X86_64);
}

TEST_CASE("validator: AArch64 bl to a known function entry, and to what is none", "[validate]") {
    check_known_entries(NPK_JIT_ARCH_AARCH64);
}

// Known function entries include the functions of a sealed region: they
// start inside a chunk, and the signature table knows each of them.
namespace {

void check_region_entries(uint32_t arch) {
    npk::test::SwitchesGuard guard;
    npk_wildx_set_quiet(1);
    npk_jit_region* r = npk_jit_region_new();
    REQUIRE(r != nullptr);
    void* fns[3];
    for (int i = 0; i < 3; ++i) {
        fns[i] = npk_jit_region_add(r, npk::test::const_builder(i, nullptr));
        REQUIRE(fns[i] != nullptr);
    }
    void* code = npk_wildx_alloc(64);
    REQUIRE(code != nullptr);
    const auto target = reinterpret_cast<uintptr_t>(fns[1]);
    size_t size = 0;
    if (!write_call(code, target, arch, &size)) {
        npk_wildx_free(code);
        npk_jit_region_free(r);
        npk_test_skip("the region and the page are further apart than a direct call reaches");
    }
    npk_jit_finding f;
    // Not sealed: not callable yet.
    CHECK(npk_jit_validate(code, size, arch, &f) == -1);
    CHECK(f.rule == NPK_ERR_CODE_OUTSIDE_TARGET);

    REQUIRE(npk_jit_region_seal(r) == 0);
    CHECK(npk_jit_validate(code, size, arch, &f) == 0);
    CHECK(npk_jit_validate(code, size, arch | NPK_JIT_SELF_CONTAINED, &f) == -1);
    CHECK(f.rule == NPK_ERR_CODE_OUTSIDE_TARGET);
    // Between two entries is no entry.
    REQUIRE(write_call(code, target + 4, arch, &size));
    CHECK(npk_jit_validate(code, size, arch, &f) == -1);
    CHECK(f.rule == NPK_ERR_CODE_OUTSIDE_TARGET);

    // Freed, they are gone.
    REQUIRE(write_call(code, target, arch, &size));
    REQUIRE(npk_jit_region_free(r) == 0);
    CHECK(npk_jit_validate(code, size, arch, &f) == -1);
    CHECK(f.rule == NPK_ERR_CODE_OUTSIDE_TARGET);
    REQUIRE(npk_wildx_free(code) == 0);
}

}  // namespace

TEST_CASE("validator: a call to a sealed region's function is to a known entry (x86-64 encoding)", "[validate]") {
    check_region_entries(NPK_JIT_ARCH_X86_64);
}

TEST_CASE("validator: a bl to a sealed region's function is to a known entry (AArch64 encoding)", "[validate]") {
    check_region_entries(NPK_JIT_ARCH_AARCH64);
}
