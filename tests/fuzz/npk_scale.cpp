// npk_scale: `npk check` stays fast on large generated bodies (issue 9:
// the duplicate-name scan of a block and the lifecycle check's copy of
// its state at every `if` made them quadratic: 100k declarations took
// 8–12 s, 200k took 38 s, 40k `wild` declarations each followed by an
// `if` took 9–13 s). Issue 16: nested `while` loops were walked 9^depth
// times (depth 25: 9.5 s), and each borrow was checked against every
// live one (100k borrows of one buffer: 3.5–4.7 s).
//
// Each case is written to a temporary file and checked by the real npk
// in a child process; it must exit 0 within the time limit. The limits
// leave room for a busy machine and sanitizer builds, yet sit far below
// what the quadratic versions took for these sizes.
//
//   npk_scale --npk build/frontend/npk [--limit-ms 20000]
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <thread>

namespace fs = std::filesystem;

namespace {

struct Case {
    const char* name;
    int count;
    std::function<std::string(int)> line;   // the statements for one i
    std::function<std::string(int)> close;  // after all lines, for i = count-1 .. 0 (may be empty)
    std::string before = "";                // statements before the lines
};

std::string program(const Case& c) {
    std::string s = "func:failsafe = int32(tbb32:err) {\n    exit 1;\n};\nfunc:main = int32() {\n" + c.before;
    for (int i = 0; i < c.count; ++i) s += c.line(i);
    if (c.close)
        for (int i = c.count - 1; i >= 0; --i) s += c.close(i);
    s += "    exit 0;\n};\n";
    return s;
}

// Runs `npk check FILE`; returns its exit status (128+signal, or -1 on a
// timeout) and the wall time.
int run_check(const std::string& npk, const fs::path& file, long limit_ms, long& elapsed_ms) {
    std::fflush(stdout);  // or the child's stdio would write our lines again
    auto start = std::chrono::steady_clock::now();
    pid_t pid = fork();
    if (pid < 0) return -2;
    if (pid == 0) {
        std::freopen("/dev/null", "w", stdout);
        std::freopen("/dev/null", "w", stderr);
        execl(npk.c_str(), npk.c_str(), "check", "--color=never", file.c_str(), static_cast<char*>(nullptr));
        _exit(127);
    }
    int status = 0;
    for (;;) {
        if (waitpid(pid, &status, WNOHANG) == pid) break;
        elapsed_ms = static_cast<long>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                           std::chrono::steady_clock::now() - start).count());
        if (elapsed_ms > limit_ms) {
            kill(pid, SIGKILL);
            waitpid(pid, &status, 0);
            return -1;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    elapsed_ms = static_cast<long>(
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start).count());
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

}  // namespace

int main(int argc, char** argv) {
    std::string npk;
    long limit_ms = 20000;
    for (int i = 1; i < argc; ++i) {
        std::string a = argv[i];
        if (a == "--npk" && i + 1 < argc) npk = argv[++i];
        else if (a == "--limit-ms" && i + 1 < argc) limit_ms = std::atol(argv[++i]);
        else {
            std::fprintf(stderr, "usage: npk_scale --npk PATH [--limit-ms N]\n");
            return 2;
        }
    }
    if (npk.empty()) {
        std::fprintf(stderr, "npk_scale: --npk is required\n");
        return 2;
    }
    // (An `if` on a variable, not on `true`: a literal condition has one
    // way on in the graph, and the point is a join after each.)
    const Case cases[] = {
        {"200k declarations in one block", 200000,
         [](int i) { return "    int32:v" + std::to_string(i) + " = 1;\n"; }},
        {"100k pointers, each followed by an if", 100000,
         [](int i) { return "    int8->:p" + std::to_string(i) + " = alloc(1);\n    if (k == 0) { }\n"; },
         nullptr, "    int32:k = 0;\n"},
        {"50k wild pointers with a defer and an if each", 50000,
         [](int i) {
             std::string p = "p" + std::to_string(i);
             return "    wild int8->:" + p + " = alloc(1);\n    defer { free(" + p + "); }\n    if (k == 0) { }\n";
         },
         nullptr, "    int32:k = 0;\n"},
        {"while loops nested 100 deep around a tracked pointer", 100,
         [](int) { return std::string("    while (i < 3) {\n    i = i + 1;\n    if (i == 2) { p[0] = 1i8; }\n"); },
         [](int) { return std::string("    }\n"); },
         "    wild int8->:p = alloc(1);\n    defer { free(p); }\n    int32:i = 0;\n"},
        {"200k live shared borrows of one buffer", 200000,
         [](int i) { return "    $$i int8->:b" + std::to_string(i) + " = buf;\n"; },
         nullptr, "    int8->:buf = alloc(1);\n"},
    };
    fs::path dir = fs::temp_directory_path() / ("npk-scale-" + std::to_string(getpid()));
    fs::create_directories(dir);
    int failures = 0;
    for (const Case& c : cases) {
        fs::path file = dir / "big.npk";
        std::ofstream(file) << program(c);
        long ms = 0;
        int status = run_check(npk, file, limit_ms, ms);
        bool ok = status == 0;
        std::printf("%s  %-48s %6ld ms  (%s)\n", ok ? "ok  " : "FAIL", c.name, ms,
                    status == -1 ? "over the limit" : ("exit " + std::to_string(status)).c_str());
        failures += ok ? 0 : 1;
    }
    std::error_code ec;
    fs::remove_all(dir, ec);
    std::printf("failures: %d\n", failures);
    return failures == 0 ? 0 : 1;
}
