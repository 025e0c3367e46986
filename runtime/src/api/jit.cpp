// jit.cpp — the JIT helpers of npk/jit.h: one hand-assembled function and
// the checked call.
#include <npk/jit.h>

#include "arch/arch.h"
#include "core/errors.h"
#include "core/page_table.h"
#include "core/registry.h"

#include <cstdint>

namespace {

// The one place where a sealed page becomes a typed function pointer.
template <class Fn>
Fn code_as(void* page) {
    return reinterpret_cast<Fn>(page);
}

using AddI32 = int32_t (*)(int32_t, int32_t);

// Out of line, so that the hot path saves no registers: both of its
// branches end in a tail call.
[[gnu::noinline, gnu::cold]] int32_t call_i32_i32_slow(void* page, int32_t a, int32_t b) {
    npk::wildx::require_executable(page);  // aborts unless sealed (and unchanged, if verifying)
    return code_as<AddI32>(page)(a, b);
}

}  // namespace

extern "C" {

int32_t npk_jit_host_supported(void) { return npk::arch::kCanRunCode ? 1 : 0; }

int32_t npk_jit_install_add_i32(void* page) {
    constexpr npk::arch::Code code = npk::arch::kAddI32;
    if constexpr (code.size == 0) {
        return npk::fail(NPK_FACILITY_JIT, "install", npk::Subject::pointer(page), NPK_ERR_UNSUPPORTED_HOST);
    } else {
        return npk::wildx::write_code(page, code.bytes, code.size);
    }
}

int32_t npk_jit_call_i32_i32(void* page, int32_t a, int32_t b) {
    // The hot path: one lock-free look at the page table. Anything but the
    // start of an EXECUTABLE page goes to the slow path, which aborts
    // rather than jump into unmapped or writable memory; so does every
    // call under NPK_WILDX_VERIFY=call, which re-hashes the page first.
    if (npk::wildx::is_executable(page) && !npk::wildx::verify_calls()) [[likely]] {
        return code_as<AddI32>(page)(a, b);
    }
    return call_i32_i32_slow(page, a, b);
}

}  // extern "C"
