// support.h — helpers for the runtime tests: stats deltas, stderr capture,
// forked children, /proc/self/maps, and an independent FNV-1a.
#pragma once

#include <npk/jit.h>
#include <npk/wildx.h>

#include <catch2/catch.hpp>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace npk::test {

size_t page_size();

// The reference FNV-1a 64: the definition, one byte at a time.
uint64_t fnv1a64_naive(const void* data, size_t len);

// ---------------------------------------------------------------------------
// Stats are process-wide: tests compare deltas.
struct Delta {
    int64_t live_pages = 0;
    int64_t live_bytes = 0;
    int64_t allocs = 0;
    int64_t seals = 0;
    int64_t frees = 0;
    int64_t rejections = 0;
    bool operator==(const Delta&) const = default;
};

npk_wildx_stats stats_now();

// Remembers the counters at construction; delta() is the change since.
class StatsWatch {
public:
    StatsWatch() : before_(stats_now()) {}
    Delta delta() const;

private:
    npk_wildx_stats before_;
};

// ---------------------------------------------------------------------------
// Captures what this process writes to stderr (fd 2) between construction
// and text(). Not for forked children: see run_child.
class StderrCapture {
public:
    StderrCapture();
    ~StderrCapture();
    StderrCapture(const StderrCapture&) = delete;
    StderrCapture& operator=(const StderrCapture&) = delete;
    // Stops capturing (if not yet) and returns everything captured.
    std::string text();

private:
    int saved_ = -1;
    int file_ = -1;
    std::string text_;
};

size_t count_lines(const std::string& s);

// ---------------------------------------------------------------------------
// Runs `body` in a forked child with its stderr captured through a pipe.
// Skips the test (exit 77) where forked children cannot run (qemu-user).
// The child exits 0 if body returns. SIGSEGV / SIGABRT / SIGBUS get their
// default action back first (sanitizers install handlers) and core dumps
// are off.
struct ChildResult {
    bool signaled = false;
    int signal = 0;
    int exit_code = -1;
    std::string err;
};
ChildResult run_child(const std::function<void()>& body);

// Skips the test (exit 77) where a forked child cannot run (qemu-user).
void require_fork();

// Skips the test (exit 77) where a thread cannot even be started: under
// qemu-user 7.2 here, pthread_create never returns (a SIGALRM after 5 s
// ends the process as a skip). Call before the first thread.
void require_threads();

// ---------------------------------------------------------------------------
// /proc/self/maps, parsed without allocating once warmed up.
struct Vma {
    uintptr_t lo = 0, hi = 0;
    char perms[5] = {};  // e.g. "rw-p"
};

class MapsReader {
public:
    MapsReader();
    ~MapsReader();
    MapsReader(const MapsReader&) = delete;
    MapsReader& operator=(const MapsReader&) = delete;
    // Reads the current mappings (sorted by address, as the kernel lists them).
    const std::vector<Vma>& read();
    // Whether [lo, hi) is entirely covered by mappings with exactly `perms`.
    bool covered(uintptr_t lo, uintptr_t hi, const char* perms) const;
    // Whether any mapping intersects [lo, hi).
    bool any_in(uintptr_t lo, uintptr_t hi) const;
    // The mappings within `slack` bytes of [lo, hi), one per line, for
    // failure messages.
    std::string around(uintptr_t lo, uintptr_t hi, uintptr_t slack = 1 << 16) const;
    // The first mapping both writable and executable, or nullptr.
    const Vma* writable_and_executable() const;

private:
    std::vector<char> buf_;
    std::vector<Vma> vmas_;
};

// Restores the process-wide switches a test changes.
// No rejection lines on stderr for the life of a test (statuses still set).
struct QuietGuard {
    QuietGuard() { npk_wildx_set_quiet(1); }
    ~QuietGuard() { npk_wildx_set_quiet(0); }
};

struct SwitchesGuard {
    size_t quota = npk_wildx_quota();
    ~SwitchesGuard() {
        npk_wildx_set_quota(quota);
        npk_wildx_set_guard_pages(0);
        npk_wildx_set_audit(0);
        npk_wildx_set_quiet(0);
    }
};

}  // namespace npk::test

namespace Catch {
template <>
struct StringMaker<npk::test::Delta> {
    static std::string convert(const npk::test::Delta& d);
};
}  // namespace Catch

// The last error as its text, so a failed check says what it was.
#define NPK_LAST_ERROR() std::string(npk_wildx_error_string(npk_wildx_last_error()))
#define NPK_ERR(code) std::string(npk_wildx_error_string(code))
