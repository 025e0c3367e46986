#include "support.h"

#include "skip.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <string_view>
#include <cstdlib>
#include <cstring>
#include <thread>

namespace npk::test {

size_t page_size() { return static_cast<size_t>(sysconf(_SC_PAGESIZE)); }

uint64_t fnv1a64_naive(const void* data, size_t len) {
    const unsigned char* p = static_cast<const unsigned char*>(data);
    uint64_t h = 0xcbf29ce484222325ULL;
    for (size_t i = 0; i < len; ++i) {
        h ^= p[i];
        h *= 0x100000001b3ULL;
    }
    return h;
}

npk_wildx_stats stats_now() {
    npk_wildx_stats s{};
    npk_wildx_get_stats(&s);
    return s;
}

Delta StatsWatch::delta() const {
    const npk_wildx_stats a = stats_now();
    auto d = [](uint64_t x, uint64_t y) { return static_cast<int64_t>(x - y); };
    Delta r;
    r.live_pages = d(a.live_pages, before_.live_pages);
    r.live_bytes = d(a.live_bytes, before_.live_bytes);
    r.allocs = d(a.total_allocs, before_.total_allocs);
    r.seals = d(a.total_seals, before_.total_seals);
    r.frees = d(a.total_frees, before_.total_frees);
    r.rejections = d(a.total_rejections, before_.total_rejections);
    return r;
}

StderrCapture::StderrCapture() {
    std::fflush(stderr);
    char path[] = "/tmp/npk_stderr_XXXXXX";
    file_ = mkstemp(path);
    REQUIRE(file_ >= 0);
    unlink(path);
    saved_ = dup(2);
    REQUIRE(saved_ >= 0);
    REQUIRE(dup2(file_, 2) == 2);
}

StderrCapture::~StderrCapture() { (void)text(); }

std::string StderrCapture::text() {
    if (saved_ >= 0) {
        std::fflush(stderr);
        dup2(saved_, 2);
        close(saved_);
        saved_ = -1;
        lseek(file_, 0, SEEK_SET);
        char buf[4096];
        ssize_t n;
        while ((n = read(file_, buf, sizeof buf)) > 0) text_.append(buf, static_cast<size_t>(n));
        close(file_);
        file_ = -1;
    }
    return text_;
}

size_t count_lines(const std::string& s) {
    size_t n = 0;
    for (char c : s) n += c == '\n';
    return n;
}

namespace {

// Whether a forked child runs at all: under qemu-user 7.2 (the aarch64
// test setup) a forked child never gets to exit, so a death test there
// can only hang. Probed once: a child that exits at once, 5 s to do so.
bool fork_works() {
    static const bool works = [] {
        const pid_t pid = fork();
        if (pid == 0) _exit(0);
        if (pid < 0) return false;
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
        int status = 0;
        while (std::chrono::steady_clock::now() < deadline) {
            if (waitpid(pid, &status, WNOHANG) == pid) return WIFEXITED(status) && WEXITSTATUS(status) == 0;
            usleep(1000);
        }
        kill(pid, SIGKILL);
        waitpid(pid, &status, 0);
        return false;
    }();
    return works;
}

}  // namespace

namespace {
char g_thread_skip_line[256];
void thread_probe_timed_out(int) {
    // Only async-signal-safe calls: the line was formatted beforehand.
    (void)!write(1, g_thread_skip_line, std::strlen(g_thread_skip_line));
    _exit(77);
}
}  // namespace

void require_threads() {
    static const bool ok = [] {
        struct utsname u {};
        uname(&u);
        std::snprintf(g_thread_skip_line, sizeof g_thread_skip_line,
                      "SKIP: a thread could not be started within 5 s on this host (qemu-user) (host: %s)\n",
                      u.machine);
        std::fflush(stdout);
        struct sigaction on_alarm {}, old {};
        on_alarm.sa_handler = thread_probe_timed_out;
        sigemptyset(&on_alarm.sa_mask);
        sigaction(SIGALRM, &on_alarm, &old);
        alarm(5);
        std::thread([] {}).join();
        alarm(0);
        sigaction(SIGALRM, &old, nullptr);
        return true;
    }();
    (void)ok;
}

void require_fork() {
    if (!fork_works()) npk_test_skip("a forked child never exits on this host (qemu-user), so no death test can run");
}

ChildResult run_child(const std::function<void()>& body) {
    require_fork();
    int fds[2];
    REQUIRE(pipe(fds) == 0);
    std::fflush(stdout);
    std::fflush(stderr);
    const pid_t pid = fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        close(fds[0]);
        dup2(fds[1], 2);
        close(fds[1]);
        struct rlimit no_core {};
        setrlimit(RLIMIT_CORE, &no_core);
        struct sigaction dfl {};
        dfl.sa_handler = SIG_DFL;
        sigemptyset(&dfl.sa_mask);
        for (int sig : {SIGSEGV, SIGBUS, SIGABRT}) sigaction(sig, &dfl, nullptr);
        body();
        std::fflush(stderr);
        _exit(0);
    }
    close(fds[1]);
    ChildResult r;
    char buf[4096];
    ssize_t n;
    while ((n = read(fds[0], buf, sizeof buf)) > 0) r.err.append(buf, static_cast<size_t>(n));
    close(fds[0]);
    // qemu-user reports a fatal guest signal on the guest's own stderr
    // ("qemu: uncaught target signal 6 (Aborted) - core dumped"). That line
    // is the emulator's, not the child's: leave it out of what we compare.
    static constexpr std::string_view emulator_line = "qemu: uncaught target signal";
    for (size_t at = r.err.find(emulator_line); at != std::string::npos; at = r.err.find(emulator_line, at)) {
        if (at != 0 && r.err[at - 1] != '\n') { ++at; continue; }
        const size_t end = r.err.find('\n', at);
        r.err.erase(at, end == std::string::npos ? std::string::npos : end - at + 1);
    }
    int status = 0;
    REQUIRE(waitpid(pid, &status, 0) == pid);
    if (WIFSIGNALED(status)) {
        r.signaled = true;
        r.signal = WTERMSIG(status);
    } else if (WIFEXITED(status)) {
        r.exit_code = WEXITSTATUS(status);
    }
    return r;
}

MapsReader::MapsReader() : buf_(1 << 20) { vmas_.reserve(1 << 14); }

MapsReader::~MapsReader() = default;

namespace {
uintptr_t parse_hex(const char*& p) {
    uintptr_t v = 0;
    for (;; ++p) {
        const char c = *p;
        if (c >= '0' && c <= '9') v = v * 16 + static_cast<uintptr_t>(c - '0');
        else if (c >= 'a' && c <= 'f') v = v * 16 + static_cast<uintptr_t>(c - 'a' + 10);
        else return v;
    }
}
}  // namespace

const std::vector<Vma>& MapsReader::read() {
    // Opened afresh each time: qemu-user produces the text once, at open.
    const int fd = open("/proc/self/maps", O_RDONLY | O_CLOEXEC);
    REQUIRE(fd >= 0);
    size_t len = 0;
    for (;;) {
        if (len + 4096 > buf_.size()) buf_.resize(buf_.size() * 2);
        const ssize_t n = ::read(fd, buf_.data() + len, buf_.size() - len - 1);
        if (n <= 0) {
            close(fd);
            REQUIRE(n == 0);
            break;
        }
        len += static_cast<size_t>(n);
    }
    buf_[len] = '\0';
    vmas_.clear();
    const char* p = buf_.data();
    const char* end = p + len;
    while (p < end) {
        Vma v;
        v.lo = parse_hex(p);
        ++p;  // '-'
        v.hi = parse_hex(p);
        ++p;  // ' '
        std::memcpy(v.perms, p, 4);
        vmas_.push_back(v);
        const void* nl = std::memchr(p, '\n', static_cast<size_t>(end - p));
        p = nl ? static_cast<const char*>(nl) + 1 : end;
    }
    return vmas_;
}

bool MapsReader::covered(uintptr_t lo, uintptr_t hi, const char* perms) const {
    // First mapping that ends after lo.
    size_t a = 0, b = vmas_.size();
    while (a < b) {
        const size_t m = (a + b) / 2;
        if (vmas_[m].hi <= lo) a = m + 1;
        else b = m;
    }
    uintptr_t at = lo;
    for (size_t i = a; i < vmas_.size() && at < hi; ++i) {
        const Vma& v = vmas_[i];
        if (v.lo > at || std::memcmp(v.perms, perms, 4) != 0) return false;
        at = v.hi;
    }
    return at >= hi;
}

bool MapsReader::any_in(uintptr_t lo, uintptr_t hi) const {
    for (const Vma& v : vmas_) {
        if (v.lo < hi && lo < v.hi) return true;
    }
    return false;
}

std::string MapsReader::around(uintptr_t lo, uintptr_t hi, uintptr_t slack) const {
    std::string out;
    char line[80];
    for (const Vma& v : vmas_) {
        if (v.hi + slack > lo && v.lo < hi + slack) {
            std::snprintf(line, sizeof line, "\n  %lx-%lx %.4s", static_cast<unsigned long>(v.lo),
                          static_cast<unsigned long>(v.hi), v.perms);
            out += line;
        }
    }
    return out;
}

const Vma* MapsReader::writable_and_executable() const {
    for (const Vma& v : vmas_) {
        if (v.perms[1] == 'w' && v.perms[2] == 'x') return &v;
    }
    return nullptr;
}

}  // namespace npk::test

std::string Catch::StringMaker<npk::test::Delta>::convert(const npk::test::Delta& d) {
    char buf[256];
    std::snprintf(buf, sizeof buf,
                  "{live_pages %+lld, live_bytes %+lld, allocs %+lld, seals %+lld, frees %+lld, rejections %+lld}",
                  static_cast<long long>(d.live_pages), static_cast<long long>(d.live_bytes),
                  static_cast<long long>(d.allocs), static_cast<long long>(d.seals),
                  static_cast<long long>(d.frees), static_cast<long long>(d.rejections));
    return buf;
}
