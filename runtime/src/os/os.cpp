// os.cpp — the only caller of mmap / mprotect / munmap in the runtime.
//
// Each system call goes through one wrapper that first consults the test
// seam (test_seams.h): a test can make the Nth call of a kind fail with an
// errno of its choice, so every OS error path of the heap can be run, and
// can suggest where the next mapping goes (an address hint the kernel, or
// qemu-user, is free to ignore).
#include "os/os.h"

#include "core/test_seams.h"

#if !defined(__unix__) && !defined(__APPLE__)
#  error "libnpkjit needs a POSIX host (mmap / mprotect / munmap)"
#endif

#include <sys/mman.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdint>

#ifndef MAP_ANONYMOUS
#  define MAP_ANONYMOUS MAP_ANON
#endif

namespace npk::os {
namespace {

constexpr int kCalls = 3;

// Per kind of call: how many calls were made, and a countdown to an
// injected failure (0: none armed; 1: the next call fails).
struct Seam {
    std::atomic<uint64_t> made{0};
    std::atomic<uint32_t> countdown{0};
    std::atomic<int> err{0};
};
Seam g_seam[kCalls];

// True if this call is the one a test asked to fail; sets errno then.
bool injected_failure(testing::OsCall kind) {
    Seam& s = g_seam[static_cast<int>(kind)];
    s.made.fetch_add(1, std::memory_order_relaxed);
    uint32_t n = s.countdown.load(std::memory_order_relaxed);
    while (n != 0) {
        if (s.countdown.compare_exchange_weak(n, n - 1, std::memory_order_relaxed)) {
            if (n != 1) return false;
            errno = s.err.load(std::memory_order_relaxed);
            return true;
        }
    }
    return false;
}

// A placement hint for the next mapping (a test seam; 0: none).
std::atomic<uintptr_t> g_next_hint{0};

void* sys_mmap(size_t len, int prot) {
    if (injected_failure(testing::OsCall::mmap)) return MAP_FAILED;
    void* hint = reinterpret_cast<void*>(g_next_hint.exchange(0, std::memory_order_relaxed));
    return ::mmap(hint, len, prot, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
}

int sys_mprotect(void* p, size_t len, int prot) {
    if (injected_failure(testing::OsCall::mprotect)) return -1;
    return ::mprotect(p, len, prot);
}

int sys_munmap(void* p, size_t len) {
    if (injected_failure(testing::OsCall::munmap)) return -1;
    return ::munmap(p, len);
}

}  // namespace

size_t page_size() {
    // Racing first calls all store the same value.
    static std::atomic<size_t> cached{0};
    size_t page = cached.load(std::memory_order_relaxed);
    if (page == 0) {
        const long v = ::sysconf(_SC_PAGESIZE);
        page = v > 0 ? static_cast<size_t>(v) : size_t{4096};
        cached.store(page, std::memory_order_relaxed);
    }
    return page;
}

Status map_rw(size_t len, void** out) {
    void* p = sys_mmap(len, PROT_READ | PROT_WRITE);
    if (p == MAP_FAILED) return {errno, "mmap"};
    *out = p;
    return {};
}

Status map_guarded(size_t usable, void** out) {
    const size_t page = page_size();
    if (usable > SIZE_MAX - 2 * page) return {ENOMEM, "mmap"};
    const size_t span = usable + 2 * page;
    // Reserve the whole span inaccessible, then open up the middle: the
    // guard pages never exist in any accessible state.
    void* base = sys_mmap(span, PROT_NONE);
    if (base == MAP_FAILED) return {errno, "mmap"};
    char* start = static_cast<char*>(base) + page;
    if (sys_mprotect(start, usable, PROT_READ | PROT_WRITE) != 0) {
        const int err = errno;
        (void)sys_munmap(base, span);  // nothing was handed out: best effort
        return {err, "mprotect"};
    }
    *out = start;
    return {};
}

Status protect_rx(void* p, size_t len) {
    if (sys_mprotect(p, len, PROT_READ | PROT_EXEC) != 0) return {errno, "mprotect"};
    return {};
}

Status unmap(void* p, size_t len) {
    if (sys_munmap(p, len) != 0) return {errno, "munmap"};
    return {};
}

Status map_file_rx(int fd, size_t len, void** out) {
    void* p = ::mmap(nullptr, len, PROT_READ | PROT_EXEC, MAP_PRIVATE, fd, 0);
    if (p == MAP_FAILED) return {errno, "mmap"};
    *out = p;
    return {};
}

namespace testing {

void fail_nth_os_call(OsCall call, uint32_t nth, int err) {
    Seam& s = g_seam[static_cast<int>(call)];
    s.err.store(err, std::memory_order_relaxed);
    s.countdown.store(nth, std::memory_order_relaxed);
}

void clear_os_faults() {
    for (Seam& s : g_seam) s.countdown.store(0, std::memory_order_relaxed);
}

uint64_t os_calls(OsCall call) {
    return g_seam[static_cast<int>(call)].made.load(std::memory_order_relaxed);
}

void hint_next_mapping(void* addr) { g_next_hint.store(reinterpret_cast<uintptr_t>(addr), std::memory_order_relaxed); }

}  // namespace testing
}  // namespace npk::os
