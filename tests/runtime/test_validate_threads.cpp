// The validator from several threads at once: each call owns its decoder
// state, so verdicts and findings never mix. Run under ThreadSanitizer
// with the other concurrency tests (ctest -L concurrency).
#include "support.h"

#include <npk/validate.h>
#include <npk/wildx.h>

#include <catch2/catch.hpp>

#include <atomic>
#include <cstring>
#include <thread>
#include <vector>

namespace {

struct Snippet {
    std::vector<uint8_t> bytes;
    uint32_t arch;
    int32_t rule;
    size_t offset;
};

}  // namespace

TEST_CASE("validator: threads validating x86-64 and AArch64 code at once get their own findings",
          "[validate][concurrency]") {
    npk::test::require_threads();
    npk::test::SwitchesGuard guard;
    npk_wildx_set_quiet(1);
    const Snippet snippets[] = {
        {{0x31, 0xc0, 0xc3}, NPK_JIT_ARCH_X86_64, NPK_OK, 0},                       // xor eax, eax; ret
        {{0x90, 0x0f, 0x05, 0xc3}, NPK_JIT_ARCH_X86_64, NPK_ERR_CODE_SYSCALL, 1},   // nop; syscall; ret
        {{0xeb, 0x01, 0x48, 0x31, 0xc0, 0xc3}, NPK_JIT_ARCH_X86_64, NPK_ERR_CODE_MISALIGNED_TARGET, 0},
        {{0xc0, 0x03, 0x5f, 0xd6}, NPK_JIT_ARCH_AARCH64, NPK_OK, 0},                 // ret
        {{0x1f, 0x20, 0x03, 0xd5, 0x01, 0x00, 0x00, 0xd4}, NPK_JIT_ARCH_AARCH64, NPK_ERR_CODE_SYSCALL, 4},
        {{0x00, 0x10, 0x18, 0xd5, 0xc0, 0x03, 0x5f, 0xd6}, NPK_JIT_ARCH_AARCH64, NPK_ERR_CODE_PRIVILEGED, 0},
    };
    constexpr int kThreads = 4;
    constexpr int kRounds = 300;
    std::atomic<int> wrong {0};
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
        threads.emplace_back([&, t] {
            for (int i = 0; i < kRounds; ++i) {
                const Snippet& s = snippets[static_cast<size_t>(i + t) % std::size(snippets)];
                npk_jit_finding f;
                const int32_t rc = npk_jit_validate(s.bytes.data(), s.bytes.size(), s.arch, &f);
                const bool ok = s.rule == NPK_OK ? rc == 0 && f.rule == NPK_OK
                                                 : rc == -1 && f.rule == s.rule && f.offset == s.offset &&
                                                       npk_last_error() == s.rule;
                if (!ok) wrong.fetch_add(1);
            }
        });
    }
    for (auto& th : threads) th.join();
    CHECK(wrong.load() == 0);
}
