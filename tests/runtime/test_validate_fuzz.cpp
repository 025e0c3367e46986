// The validator against random bytes: it never crashes nor reads past
// the code, every verdict is well formed, and what it accepts for this
// host runs (single-stepped in a child) without leaving the code or
// reaching a forbidden instruction. What "runs" asserts, and why no
// more, is written in validate_run.h.
//
// Seeded (NPK_VALIDATE_FUZZ_SEED overrides the seed); the counts are
// a fifth under qemu, half under a sanitizer (the runs a quarter there),
// to stay well within ~30 s.
#include "arch/arch.h"
#include "skip.h"
#include "support.h"
#include "validate_run.h"

#include <npk/validate.h>
#include <npk/wildx.h>

#include <catch2/catch.hpp>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <vector>

namespace {

#if defined(NPK_TEST_EMULATED)
constexpr int kScale = 5;  // qemu on a busy machine: 50,000 strings took 17 s
#elif defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
constexpr int kScale = 2;
#else
constexpr int kScale = 1;
#endif
// Forks get slower as an AddressSanitizer process grows: 2500 runs took 13 s.
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
constexpr int kRunScale = 4;
#else
constexpr int kRunScale = 1;
#endif

uint64_t seed() {
    const char* s = std::getenv("NPK_VALIDATE_FUZZ_SEED");
    return s != nullptr ? std::strtoull(s, nullptr, 0) : 0x6e706b76616c6964ull;  // "npkvalid"
}

// xorshift64*: small, and the same sequence on every host.
struct Rng {
    uint64_t s;
    uint64_t next() {
        s ^= s >> 12;
        s ^= s << 25;
        s ^= s >> 27;
        return s * 0x2545f4914f6cdd1dull;
    }
    size_t below(size_t n) { return static_cast<size_t>(next() % n); }
};

// Random bytes, and half the time the last instruction replaced by a
// return, so that enough of them pass to run.
std::vector<uint8_t> random_code(Rng& rng, uint32_t arch, size_t max_len) {
    std::vector<uint8_t> code(1 + rng.below(max_len));
    for (auto& b : code) b = static_cast<uint8_t>(rng.next());
    if (rng.below(2) == 0) {
        if (arch == NPK_JIT_ARCH_AARCH64) {
            code.resize((code.size() + 3) / 4 * 4);
            const uint8_t ret[] = {0xc0, 0x03, 0x5f, 0xd6};
            std::memcpy(code.data() + code.size() - 4, ret, 4);
        } else {
            code.back() = 0xc3;
        }
    }
    return code;
}

// The last bytes of a writable page with a guard page after it: reading
// one byte too far is a SIGSEGV, i.e. a failed test.
class PageEnd {
public:
    PageEnd() {
        npk_wildx_set_guard_pages(1);
        page_ = static_cast<uint8_t*>(npk_wildx_alloc(npk::test::page_size()));
        npk_wildx_set_guard_pages(0);
    }
    ~PageEnd() {
        if (page_ != nullptr) npk_wildx_free(page_);
    }
    PageEnd(const PageEnd&) = delete;
    PageEnd& operator=(const PageEnd&) = delete;
    bool ok() const { return page_ != nullptr; }
    const uint8_t* place(const std::vector<uint8_t>& code) {
        uint8_t* at = page_ + npk_wildx_size(page_) - code.size();
        std::memcpy(at, code.data(), code.size());
        return at;
    }

private:
    uint8_t* page_ = nullptr;
};

void check_well_formed(const npk_jit_finding& f, int32_t rc, size_t size) {
    if (rc == 0) {
        REQUIRE(f.rule == NPK_OK);
        return;
    }
    REQUIRE(rc == -1);
    REQUIRE(f.rule >= NPK_ERR_CODE_UNDECODABLE);
    REQUIRE(f.rule <= NPK_ERR_CODE_FALLS_OFF_END);
    REQUIRE(npk_last_error() == f.rule);
    REQUIRE(f.offset < size);
    REQUIRE(f.offset + f.length <= size);
    REQUIRE(std::memchr(f.text, '\0', sizeof f.text) != nullptr);
    REQUIRE(std::memchr(f.message, '\0', sizeof f.message) != nullptr);
    REQUIRE(f.text[0] != '\0');
    REQUIRE(f.message[0] != '\0');
    // Nothing decodes where the sweep stopped; elsewhere an instruction does.
    const bool no_insn = f.rule == NPK_ERR_CODE_UNDECODABLE || f.rule == NPK_ERR_CODE_TRUNCATED;
    REQUIRE(no_insn == (f.length == 0));
}

void fuzz_decode(uint32_t arch, const char* name) {
    npk::test::SwitchesGuard guard;
    npk_wildx_set_quiet(1);
    PageEnd page;
    REQUIRE(page.ok());
    Rng rng {seed()};
    const int iterations = 100000 / kScale;
    std::map<int32_t, int> by_rule;
    for (int i = 0; i < iterations; ++i) {
        const std::vector<uint8_t> code = random_code(rng, arch, 48);
        const uint8_t* at = page.place(code);
        npk_jit_finding f;
        const int32_t rc = npk_jit_validate(at, code.size(), arch, &f);
        INFO("iteration " << i << ", " << code.size() << " bytes");
        check_well_formed(f, rc, code.size());
        // The same bytes, the same verdict.
        npk_jit_finding again;
        REQUIRE(npk_jit_validate(at, code.size(), arch, &again) == rc);
        REQUIRE(std::memcmp(&f, &again, sizeof f) == 0);
        ++by_rule[f.rule];
    }
    std::printf("validator fuzz (%s, seed 0x%llx): %d random strings, %d accepted;", name,
                static_cast<unsigned long long>(seed()), iterations, by_rule[NPK_OK]);
    for (const auto& [rule, n] : by_rule) {
        if (rule != NPK_OK) std::printf(" %d x %s;", n, npk_status_string(rule));
    }
    std::printf("\n");
    CHECK(by_rule[NPK_OK] > 0);
}

}  // namespace

TEST_CASE("validator fuzz: random x86-64 bytes never crash it, every verdict is well formed", "[validate][fuzz]") {
    fuzz_decode(NPK_JIT_ARCH_X86_64, "x86-64");
}

TEST_CASE("validator fuzz: random AArch64 bytes never crash it, every verdict is well formed", "[validate][fuzz]") {
    fuzz_decode(NPK_JIT_ARCH_AARCH64, "aarch64");
}

TEST_CASE("validator fuzz: what it accepts for this host runs without leaving the code", "[validate][fuzz]") {
    if (npk::arch::kCpu == npk::arch::Cpu::other) npk_test_skip("no validator backend for this host's instruction set");
    const bool x86 = npk::arch::kCpu == npk::arch::Cpu::x86_64;
    const uint32_t arch = x86 ? NPK_JIT_ARCH_X86_64 : NPK_JIT_ARCH_AARCH64;
    const size_t max_len = x86 ? 24 : 32;
    if (!npk::test::tracing_works()) {
        npk_test_skip("a forked child cannot be traced and single-stepped here (qemu-user has no ptrace)");
    }
    npk::test::SwitchesGuard guard;
    npk_wildx_set_quiet(1);
    npk_wildx_set_guard_pages(1);
    Rng rng {seed() ^ 0x72756e};  // "run"
    const int runs_wanted = 5000 / kRunScale;
    constexpr int kMaxSteps = 200;
    int runs = 0;
    long attempts = 0;
    std::map<npk::test::RunOutcome, int> by_outcome;
    while (runs < runs_wanted && attempts < 400L * runs_wanted) {
        ++attempts;
        const std::vector<uint8_t> code = random_code(rng, arch, max_len);
        if (npk_jit_validate(code.data(), code.size(), arch | NPK_JIT_SELF_CONTAINED, nullptr) != 0) continue;
        void* page = npk_wildx_alloc(code.size());
        REQUIRE(page != nullptr);
        std::memcpy(page, code.data(), code.size());
        REQUIRE(npk_wildx_seal(page) == 0);
        // Validated again where it runs: targets are addresses.
        npk_jit_finding f;
        const bool valid_there = npk_jit_validate(page, code.size(), arch | NPK_JIT_SELF_CONTAINED, &f) == 0;
        const npk::test::RunResult r = npk::test::run_traced(page, code.size(), kMaxSteps);
        std::string hex;
        for (uint8_t b : code) {
            char h[4];
            std::snprintf(h, sizeof h, "%02x ", b);
            hex += h;
        }
        INFO("code: " << hex << "\nrun: " << npk::test::outcome_name(r.outcome) << " at offset "
                      << static_cast<intptr_t>(r.pc - reinterpret_cast<uintptr_t>(page)) << ", signal " << r.signal
                      << " " << r.detail);
        REQUIRE(valid_there);
        REQUIRE(npk::test::run_ok(r));
        npk_wildx_free(page);
        ++by_outcome[r.outcome];
        ++runs;
    }
    std::printf("validator run (seed 0x%llx): %ld random strings, %d accepted and run:", 
                static_cast<unsigned long long>(seed() ^ 0x72756e), attempts, runs);
    for (const auto& [o, n] : by_outcome) std::printf(" %d %s;", n, npk::test::outcome_name(o));
    std::printf("\n");
    CHECK(runs == runs_wanted);
}

// The harness itself must be able to fail: unvalidated code that breaks
// each rule is run, and the outcome says so.
TEST_CASE("validator run harness: it sees code leave, trap, return, fault and loop", "[validate][fuzz]") {
    if (!npk::test::tracing_works()) {
        npk_test_skip("a forked child cannot be traced and single-stepped here (qemu-user has no ptrace)");
    }
    struct Case {
        std::vector<uint8_t> code;
        npk::test::RunOutcome expected;
    };
    auto words = [](std::initializer_list<uint32_t> ws) {
        std::vector<uint8_t> v;
        for (uint32_t w : ws) {
            for (int i = 0; i < 4; ++i) v.push_back(static_cast<uint8_t>(w >> (8 * i)));
        }
        return v;
    };
    const std::vector<Case> x86_cases = {
        {{0x0f, 0x05, 0xc3}, npk::test::RunOutcome::forbidden},             // syscall; ret
        {{0xf4, 0xc3}, npk::test::RunOutcome::forbidden},                   // hlt; ret
        {{0xe9, 0x00, 0x10, 0x00, 0x00}, npk::test::RunOutcome::left_code}, // jmp .+0x1005
        {{0x6a, 0x00, 0xc3}, npk::test::RunOutcome::returned},              // push 0; ret (to 0)
        {{0xc3}, npk::test::RunOutcome::returned},                          // ret (to the sentinel)
        {{0x48, 0x8b, 0x00, 0xc3}, npk::test::RunOutcome::faulted_inside},  // mov rax, [rax]; ret
        {{0xeb, 0xfe}, npk::test::RunOutcome::step_limit},                  // jmp .
    };
    const std::vector<Case> a64_cases = {
        {words({0xd4000001, 0xd65f03c0}), npk::test::RunOutcome::forbidden},       // svc #0; ret
        {words({0xd4200000, 0xd65f03c0}), npk::test::RunOutcome::forbidden},       // brk #0; ret
        {words({0x14000400}), npk::test::RunOutcome::left_code},                   // b .+0x1000
        {words({0xd65f03c0}), npk::test::RunOutcome::returned},                    // ret (to the sentinel)
        {words({0xf9400000, 0xd65f03c0}), npk::test::RunOutcome::faulted_inside},  // ldr x0, [x0]; ret
        {words({0x14000000}), npk::test::RunOutcome::step_limit},                  // b .
    };
    const std::vector<Case>& cases = npk::arch::kCpu == npk::arch::Cpu::x86_64 ? x86_cases : a64_cases;
    npk::test::SwitchesGuard guard;
    npk_wildx_set_guard_pages(1);
    for (const Case& c : cases) {
        void* page = npk_wildx_alloc(c.code.size());
        REQUIRE(page != nullptr);
        std::memcpy(page, c.code.data(), c.code.size());
        REQUIRE(npk_wildx_seal(page) == 0);
        const npk::test::RunResult r = npk::test::run_traced(page, c.code.size(), 50);
        INFO("expected " << npk::test::outcome_name(c.expected) << ", got " << npk::test::outcome_name(r.outcome)
                         << " " << r.detail);
        CHECK(r.outcome == c.expected);
        CHECK(npk::test::run_ok(r) == npk::test::run_ok({c.expected, 0, 0, ""}));
        npk_wildx_free(page);
    }
}
