// perf.cpp — telling perf where built functions are (NPK_JIT_PERF).
//
// map: perf's documented symbol file for JIT code,
//     /tmp/perf-<pid>.map, one line per function: "START SIZE name",
//     START and SIZE in hex without 0x (tools/perf/Documentation/
//     jit-interface.txt). perf report reads it for any address of the
//     process outside its mapped files. Created afresh by the first
//     function of a process, appended to afterwards.
// jitdump: perf's binary format for JIT code (tools/perf/Documentation/
//     jitdump-specification.txt): jit-<pid>.dump in NPK_JIT_DUMP_DIR, or
//     the working directory (as V8 and wasmtime do): a file header, then
//     one JIT_CODE_LOAD record per function carrying its bytes. The file
//     is mapped once read+execute (the marker): `perf record` sees that
//     mmap, and `perf inject --jit` finds the file through it, turns each
//     record into a small ELF file and points the samples at it.
//     Timestamps are CLOCK_MONOTONIC: record with `perf record -k 1`.
//
// Both files have names anyone can guess, /tmp/perf-<pid>.map in a
// directory anyone can write: neither is ever opened through a symbolic
// link, nor written when it is not ours (another user's file, or a second
// name of one): a planted link would make us truncate and fill whatever
// it points at. Either file is created afresh (O_EXCL), or else reused
// only if it is a regular file of our effective user with one name (left
// by an earlier process with this pid). Anything else is refused with one
// line; the code runs the same.
//
// One mutex orders the writes of both files. After a fork, the child's
// first function opens files of its own (the names carry the pid).
#include "tools/sinks.h"

#include <npk/status.h>

#include "arch/arch.h"
#include "core/errors.h"
#include "core/sync.h"
#include "os/os.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace npk::tools {
namespace {

// One output file, opened on first use by each process.
struct Sink {
    const char* what;  // "NPK_JIT_PERF=map"
    int fd = -1;
    pid_t pid = 0;       // the process that opened fd
    bool broken = false;  // gave up after an error (said once)
};

constinit Mutex g_mu;
Sink g_map{"NPK_JIT_PERF=map"};
Sink g_dump{"NPK_JIT_PERF=jitdump"};
uint64_t g_code_index = 0;  // jitdump: a unique number per code load

// fork(): the child must not inherit the lock from another thread of the
// parent (nothing here takes another lock while holding it).
[[gnu::constructor]] void install_fork_handlers() {
    pthread_atfork([] { g_mu.lock(); }, [] { g_mu.unlock(); }, [] { g_mu.reset_after_fork(); });
}

void give_up(Sink& s, const char* doing, const char* path, int err) {
    warn_line(NPK_FACILITY_BUILDER, "%s: %s %s failed (%s); no more records are written", s.what, doing, path,
              std::strerror(err));
    if (s.fd >= 0) ::close(s.fd);
    s.fd = -1;
    s.broken = true;
}

bool write_all(int fd, const void* p, size_t n) {
    const char* c = static_cast<const char*>(p);
    while (n > 0) {
        const ssize_t w = ::write(fd, c, n);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return false;
        c += w;
        n -= static_cast<size_t>(w);
    }
    return true;
}

// Opens `path` for `access` (O_WRONLY | O_APPEND, O_RDWR), empty and
// ours (see the head of this file), or reports why not and gives up.
int open_own(Sink& s, const char* path, int access) {
    int fd = ::open(path, access | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
    if (fd >= 0 || errno != EEXIST) {
        if (fd < 0) give_up(s, "open", path, errno);
        return fd;
    }
    // There already. O_NONBLOCK: a FIFO planted there must not block us.
    fd = ::open(path, access | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    struct stat st {};
    const bool ours = fd >= 0 && ::fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_uid == ::geteuid() &&
                      st.st_nlink == 1;
    if (!ours) {
        if (fd >= 0 || errno == ELOOP || errno == ENXIO) {
            warn_line(NPK_FACILITY_BUILDER,
                      "%s: %s exists and is not this process's file (a symbolic link, another user's file, or a "
                      "second name of one); left untouched, no records are written",
                      s.what, path);
            if (fd >= 0) ::close(fd);
            s.broken = true;
        } else {
            give_up(s, "open", path, errno);
        }
        return -1;
    }
    // Ours, from an earlier process with this pid: stale.
    if (::ftruncate(fd, 0) != 0 || ::fcntl(fd, F_SETFL, access & O_APPEND) != 0) {
        const int err = errno;
        ::close(fd);
        give_up(s, "truncate", path, err);
        return -1;
    }
    return fd;
}

// Whether `s` may be written by this process now; a child of a fork
// starts over (lock held).
bool usable(Sink& s, pid_t pid) {
    if (s.fd >= 0 && s.pid != pid) {
        ::close(s.fd);  // the parent's file: not ours to write
        s.fd = -1;
        s.broken = false;
    }
    return !s.broken;
}

// --- perf map ---------------------------------------------------------------

void map_open(pid_t pid) {
    char path[64];
    std::snprintf(path, sizeof path, "/tmp/perf-%d.map", static_cast<int>(pid));
    g_map.fd = open_own(g_map, path, O_WRONLY | O_APPEND);
    g_map.pid = pid;
}

// --- jitdump ----------------------------------------------------------------

constexpr uint32_t kJitdumpMagic = 0x4A695444;  // "JiTD" in the host's byte order
constexpr uint32_t kJitdumpVersion = 1;
constexpr uint32_t kJitCodeLoad = 0;

struct FileHeader {
    uint32_t magic;
    uint32_t version;
    uint32_t total_size;  // of this header
    uint32_t elf_mach;
    uint32_t pad1;
    uint32_t pid;
    uint64_t timestamp;
    uint64_t flags;  // 0: timestamps come from the clock perf -k 1 uses, not the TSC
};
static_assert(sizeof(FileHeader) == 40);

struct CodeLoad {
    uint32_t id;
    uint32_t total_size;  // header, name with its NUL, and the code
    uint64_t timestamp;
    uint32_t pid;
    uint32_t tid;
    uint64_t vma;
    uint64_t code_addr;
    uint64_t code_size;
    uint64_t code_index;
    // then: char name[] (NUL-terminated), uint8_t code[code_size]
};
static_assert(sizeof(CodeLoad) == 56);

uint64_t now_ns() {
    struct timespec ts {};
    ::clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<uint64_t>(ts.tv_sec) * 1000000000u + static_cast<uint64_t>(ts.tv_nsec);
}

void dump_open(pid_t pid) {
    const char* dir = std::getenv("NPK_JIT_DUMP_DIR");
    if (dir == nullptr || *dir == '\0') dir = ".";
    char path[4096];
    std::snprintf(path, sizeof path, "%s/jit-%d.dump", dir, static_cast<int>(pid));
    // Read access too: the marker below maps the file.
    g_dump.fd = open_own(g_dump, path, O_RDWR);
    g_dump.pid = pid;
    if (g_dump.fd < 0) return;
    const FileHeader h{kJitdumpMagic, kJitdumpVersion, sizeof(FileHeader), arch::kElfMachine, 0,
                       static_cast<uint32_t>(pid), now_ns(), 0};
    if (!write_all(g_dump.fd, &h, sizeof h)) return give_up(g_dump, "write to", path, errno);
    // The marker: never unmapped, perf only needs to see it mapped.
    void* marker = nullptr;
    if (const os::Status st = os::map_file_rx(g_dump.fd, os::page_size(), &marker)) {
        give_up(g_dump, "mmap of", path, st.err);
    }
}

}  // namespace

void perf_map_publish(const CodeSpan* fns, size_t n) {
    const pid_t pid = ::getpid();
    Lock lk(g_mu);
    if (!usable(g_map, pid)) return;
    if (g_map.fd < 0) map_open(pid);
    char line[64 + kMaxName];
    for (size_t i = 0; i < n && g_map.fd >= 0; ++i) {
        char fallback[kDefaultNameSize];
        const char* name = name_or_default(fns[i].name, fns[i].start, fallback);
        const int len = std::snprintf(line, sizeof line, "%" PRIxPTR " %zx %s\n", fns[i].start, fns[i].size, name);
        if (!write_all(g_map.fd, line, static_cast<size_t>(len))) give_up(g_map, "write to", "the perf map", errno);
    }
}

void jitdump_publish(const CodeSpan* fns, size_t n) {
    const pid_t pid = ::getpid();
    const auto tid = static_cast<uint32_t>(::syscall(SYS_gettid));
    Lock lk(g_mu);
    if (!usable(g_dump, pid)) return;
    if (g_dump.fd < 0) dump_open(pid);
    for (size_t i = 0; i < n && g_dump.fd >= 0; ++i) {
        char fallback[kDefaultNameSize];
        const char* name = name_or_default(fns[i].name, fns[i].start, fallback);
        const size_t name_len = std::strlen(name) + 1;
        CodeLoad r{};
        r.id = kJitCodeLoad;
        r.total_size = static_cast<uint32_t>(sizeof r + name_len + fns[i].size);
        r.timestamp = now_ns();
        r.pid = static_cast<uint32_t>(pid);
        r.tid = tid;
        r.vma = r.code_addr = fns[i].start;
        r.code_size = fns[i].size;
        r.code_index = g_code_index++;
        // The code is read+execute by now: readable as it is.
        if (!write_all(g_dump.fd, &r, sizeof r) || !write_all(g_dump.fd, name, name_len) ||
            !write_all(g_dump.fd, reinterpret_cast<const void*>(fns[i].start), fns[i].size)) {
            give_up(g_dump, "write to", "the jitdump file", errno);
        }
    }
}

}  // namespace npk::tools
