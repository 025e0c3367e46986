// config.h — process-wide settings of the runtime (private).
//
// Read from the environment at the first read or write of any setting
// (NPK_WILDX_QUOTA, NPK_WILDX_AUDIT, NPK_WILDX_QUIET, NPK_WILDX_VERIFY,
// NPK_JIT_PERF, NPK_JIT_GDB, NPK_JIT_DUMP); the setters of the
// C ABI override them afterwards, and can never be undone by a late read
// of the environment.
#pragma once

#include <atomic>
#include <cstddef>

namespace npk::config {

inline constexpr size_t kDefaultQuota = size_t{64} << 20;  // 64 MiB

// The bits of jit_perf: NPK_JIT_PERF=map, =jitdump, or =map,jitdump.
inline constexpr size_t kPerfMap = 1;
inline constexpr size_t kPerfJitdump = 2;
// The bits of jit_dump: NPK_JIT_DUMP=ir, =asm, or =ir,asm.
inline constexpr size_t kDumpIr = 1;
inline constexpr size_t kDumpAsm = 2;

enum Setting : unsigned {
    quota,        // bytes the live wildx pages may use (NPK_WILDX_QUOTA)
    audit,        // 0/1: a line per alloc, seal, free and rejection (NPK_WILDX_AUDIT)
    quiet,        // 0/1: no rejection lines (NPK_WILDX_QUIET)
    guard_pages,  // 0/1: an inaccessible page on either side of new pages
    jit_perf,     // kPerfMap | kPerfJitdump: what perf is told of built code (NPK_JIT_PERF)
    jit_gdb,      // 0/1: register built code with the GDB JIT interface (NPK_JIT_GDB)
    verify_call,  // 0/1: checked calls re-hash the code first (NPK_WILDX_VERIFY=call)
    jit_dump,     // kDumpIr | kDumpAsm: print each built function (NPK_JIT_DUMP)
    kSettingCount
};

size_t get(Setting s);
void set(Setting s, size_t value);

// get(), inline for hot paths (the checked call): two loads once loaded.
extern std::atomic<size_t> g_value[kSettingCount];
extern std::atomic<bool> g_loaded;
inline size_t get_inline(Setting s) {
    if (!g_loaded.load(std::memory_order_acquire)) [[unlikely]] return get(s);
    return g_value[s].load(std::memory_order_relaxed);
}

// fork(): the registry's handlers call these, so that a fork while another
// thread reads the environment leaves the child a usable lock.
void before_fork();
void after_fork_in_parent();
void after_fork_in_child();

}  // namespace npk::config
