// Helpers shared by the benchmark cases: the machine code every case
// runs, the bare-syscall page used by the floors, and small probes of
// the process (its mappings, its stderr).
#pragma once

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>

#include "arch/arch.h"  // host facts (runtime/src, private)

namespace bench {

using AddFn = int32_t (*)(int32_t, int32_t);

// `int32 add(int32 a, int32 b)`, System V x86-64: the same five bytes
// npk_jit_install_add_i32 writes, so a floor runs exactly what the
// runtime runs.
inline constexpr unsigned char kAddI32[5] = {
    0x89, 0xf8,  // mov eax, edi
    0x01, 0xf0,  // add eax, esi
    0xc3,        // ret
};

// Makes `v` opaque to the optimiser: it must be in a register and may
// have changed, so nothing computed from it is folded or hoisted out of
// a loop. (Google Benchmark 1.7.1's DoNotOptimize on a non-const lvalue
// uses the constraint "+m,r", which GCC 12 miscompiles here: it dropped
// the store of the initial value and passed stack garbage to the call.)
template <class T>
inline void opaque(T& v) {
    asm volatile("" : "+r"(v));
}

inline bool host_is_x86_64() { return npk::arch::kCpu == npk::arch::Cpu::x86_64; }

inline size_t page_size() {
    static const size_t ps = static_cast<size_t>(sysconf(_SC_PAGESIZE));
    return ps;
}

// One page mapped read+write with no address hint, as a floor maps it.
inline void* bare_map_rw() {
    void* p = mmap(nullptr, page_size(), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    return p == MAP_FAILED ? nullptr : p;
}

// The number of lines in /proc/self/maps: one per VMA, the unit the
// kernel's vm.max_map_count limits.
inline long count_mappings() {
    FILE* f = std::fopen("/proc/self/maps", "r");
    if (!f) return -1;
    long lines = 0;
    for (int c; (c = std::fgetc(f)) != EOF;)
        if (c == '\n') ++lines;
    std::fclose(f);
    return lines;
}

// The permission field ("r-xp", "rwxp", ...) of the mapping that holds
// `addr`, or "" if none does.
inline std::string mapping_perms(const void* addr) {
    FILE* f = std::fopen("/proc/self/maps", "r");
    if (!f) return "";
    const auto a = reinterpret_cast<uintptr_t>(addr);
    char line[512];
    std::string perms;
    while (std::fgets(line, sizeof line, f)) {
        unsigned long lo = 0, hi = 0;
        char p[8] = {};
        if (std::sscanf(line, "%lx-%lx %7s", &lo, &hi, p) == 3 && a >= lo && a < hi) {
            perms = p;
            break;
        }
    }
    std::fclose(f);
    return perms;
}

// How many mappings are readable, writable and executable at once.
inline long count_rwx_mappings() {
    FILE* f = std::fopen("/proc/self/maps", "r");
    if (!f) return -1;
    char line[512];
    long n = 0;
    while (std::fgets(line, sizeof line, f)) {
        char p[8] = {};
        if (std::sscanf(line, "%*x-%*x %7s", p) == 1 && std::strncmp(p, "rwx", 3) == 0) ++n;
    }
    std::fclose(f);
    return n;
}

// Points fd 2 at /dev/null for its lifetime, so a case that makes the
// runtime write a line per operation pays for write(2) to a cheap sink
// rather than for a terminal or a pipe.
class StderrToDevNull {
public:
    StderrToDevNull() {
        std::fflush(stderr);
        saved_ = dup(2);
        const int null = open("/dev/null", O_WRONLY | O_CLOEXEC);
        if (saved_ >= 0 && null >= 0) ok_ = dup2(null, 2) == 2;
        if (null >= 0) close(null);
    }
    ~StderrToDevNull() {
        std::fflush(stderr);
        if (saved_ >= 0) {
            dup2(saved_, 2);
            close(saved_);
        }
    }
    StderrToDevNull(const StderrToDevNull&) = delete;
    StderrToDevNull& operator=(const StderrToDevNull&) = delete;
    bool ok() const { return ok_; }

private:
    int saved_ = -1;
    bool ok_ = false;
};

}  // namespace bench
