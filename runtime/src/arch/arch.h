// arch.h — facts about the host CPU (private; header-only, no dependencies).
//
// The only file of the project that tests __x86_64__ / __aarch64__: the
// runtime, its tests and the benchmarks ask here. A CPU this file does not
// know builds and runs the wildx heap; it just cannot run generated code,
// and says so (kCanRunCode false, npk_jit_host_supported() 0). The
// hand-assembled kAddI32 exists for x86-64 only (npk_jit_install_add_i32).
#pragma once

#include <cstddef>
#include <cstdint>

namespace npk::arch {

enum class Cpu { x86_64, aarch64, other };

#if defined(__x86_64__)
inline constexpr Cpu kCpu = Cpu::x86_64;
inline constexpr const char* kCpuName = "x86-64";
#elif defined(__aarch64__)
inline constexpr Cpu kCpu = Cpu::aarch64;
inline constexpr const char* kCpuName = "aarch64";
#else
inline constexpr Cpu kCpu = Cpu::other;
inline constexpr const char* kCpuName = "unknown";
#endif

// Whether this process can run code for its CPU that the runtime wrote:
// x86-64 System V and AArch64 AAPCS64 (Linux), the two the code generator
// (codegen/) knows. Windows uses another calling convention for x86-64,
// Apple another for variadics and another mapping rule (MAP_JIT).
#if (defined(__x86_64__) || defined(__aarch64__)) && !defined(_WIN32) && !defined(__APPLE__)
inline constexpr bool kCanRunCode = true;
#else
inline constexpr bool kCanRunCode = false;
#endif

// The ELF e_machine of the host's code (EM_X86_64, EM_AARCH64; 0: none
// known): the in-memory objects of the GDB JIT interface and the jitdump
// header say it (tools/).
inline constexpr unsigned kElfMachine = kCpu == Cpu::x86_64 ? 62 : kCpu == Cpu::aarch64 ? 183 : 0;

// Whether instruction fetch sees data writes without an explicit flush.
inline constexpr bool kCoherentIcache = kCpu == Cpu::x86_64;

// Makes freshly written code visible to instruction fetch. Called before
// the page turns executable (see the seal order in core/registry.cpp).
inline void flush_icache(void* p, size_t len) {
    if constexpr (kCoherentIcache) {
        (void)p;
        (void)len;
    } else {
        char* b = static_cast<char*>(p);
        __builtin___clear_cache(b, b + len);
    }
}

// A piece of machine code the runtime installs as is.
struct Code {
    const unsigned char* bytes = nullptr;  // nullptr, size 0: none for this host
    size_t size = 0;
};

// int32 add(int32 a, int32 b) in the host's C calling convention.
#if defined(__x86_64__) && !defined(_WIN32)
// System V x86-64: a in edi, b in esi, the result in eax.
inline constexpr unsigned char kAddI32Bytes[] = {
    0x89, 0xF8,  // mov eax, edi
    0x01, 0xF0,  // add eax, esi
    0xC3,        // ret
};
inline constexpr Code kAddI32{kAddI32Bytes, sizeof kAddI32Bytes};
#else
inline constexpr Code kAddI32{};
#endif

}  // namespace npk::arch
