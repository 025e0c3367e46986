// jit.cpp — the JIT helpers of npk/jit.h: one hand-assembled function and
// the checked call.
#include <npk/jit.h>

#include "errors.h"
#include "page_table.h"
#include "registry.h"

#include <cstdint>

namespace {

#if defined(__x86_64__) && !defined(_WIN32)
constexpr bool kHostSupported = true;

// int32 add(int32 a, int32 b), System V x86-64: a in edi, b in esi, the
// result in eax.
constexpr unsigned char kAddI32[] = {
    0x89, 0xF8,  // mov eax, edi
    0x01, 0xF0,  // add eax, esi
    0xC3,        // ret
};
#else
constexpr bool kHostSupported = false;
#endif

// The one place where a sealed page becomes a typed function pointer.
template <class Fn>
Fn code_as(void* page) {
    return reinterpret_cast<Fn>(page);
}

using AddI32 = int32_t (*)(int32_t, int32_t);

// Out of line, so that the hot path saves no registers: both of its
// branches end in a tail call.
[[gnu::noinline, gnu::cold]] int32_t call_i32_i32_slow(void* page, int32_t a, int32_t b) {
    npk::wildx::require_executable(page);  // aborts unless sealed meanwhile
    return code_as<AddI32>(page)(a, b);
}

}  // namespace

extern "C" {

int32_t npk_jit_host_supported(void) { return kHostSupported ? 1 : 0; }

int32_t npk_jit_install_add_i32(void* page) {
#if defined(__x86_64__) && !defined(_WIN32)
    return npk::wildx::write_code(page, kAddI32, sizeof kAddI32);
#else
    return npk::wildx::fail(npk::wildx::Op::install, reinterpret_cast<uintptr_t>(page),
                            NPK_WILDX_ERR_UNSUPPORTED_HOST);
#endif
}

int32_t npk_jit_call_i32_i32(void* page, int32_t a, int32_t b) {
    // The hot path: one lock-free look at the page table. Anything but the
    // start of an EXECUTABLE page goes to the slow path, which aborts
    // rather than jump into unmapped or writable memory.
    if (npk::wildx::is_executable(page)) [[likely]] return code_as<AddI32>(page)(a, b);
    return call_i32_i32_slow(page, a, b);
}

}  // extern "C"
