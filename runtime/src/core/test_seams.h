// test_seams.h — private hooks for the runtime's own tests (not installed).
//
// The tests link npk::jit_static, where these hidden symbols are
// reachable; the shared library does not export them.
#pragma once

#include <cerrno>
#include <cstddef>
#include <cstdint>

namespace npk::os::testing {

enum class OsCall { mmap = 0, mprotect = 1, munmap = 2 };

// Arms a failure: the `nth` next call of that kind (1: the very next one)
// fails with `err` instead of reaching the OS. 0 disarms. Calls that fail
// this way do nothing (a failed munmap leaves the mapping in place).
void fail_nth_os_call(OsCall call, uint32_t nth, int err = ENOMEM);

// Disarms every pending failure.
void clear_os_faults();

// How many calls of that kind the runtime has made (failed ones included).
uint64_t os_calls(OsCall call);

// The next heap mapping (map_rw, map_guarded) asks for `addr` as a hint,
// not MAP_FIXED: where the program unmapped a page itself, the kernel
// hands that address back (qemu-user, which places mappings bottom-up
// and never reuses a hole by itself, too). Once; nullptr clears it.
void hint_next_mapping(void* addr);

}  // namespace npk::os::testing

namespace npk::wildx::testing {

// Reads NPK_WILDX_QUOTA, NPK_WILDX_AUDIT and NPK_WILDX_QUIET again, as at
// the first call into the heap (a malformed quota is reported again).
void reload_config_from_env();

// How many freed page addresses the registry remembers (a ring): a page
// freed among the last kFreedMemory frees reads as "already freed",
// older ones as "not a wildx page".
inline constexpr size_t kFreedMemory = 1024;

}  // namespace npk::wildx::testing

namespace npk::testing {

// The rate limit of rejection lines (core/errors.cpp): the window's length
// (5000 ms by default).
void set_log_window_ms(int64_t ms);

}  // namespace npk::testing
