// Runs one annotated Nitpick program through npk and checks the outcome
// its header promised (see cmake/NpkProgramTests.cmake for the header
// format). Exit status: 0 pass, 1 fail, 77 skip, 2 usage.
//
// The skip decision is made here, at run time: `requires: jit` from the
// runtime's own npk_jit_host_supported(), `requires: x86-64` from the CPU
// the kernel (or qemu-user) reports. The same test binary skips under
// qemu-aarch64 and runs on x86-64.
#include <npk/jit.h>

#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace {

struct Args {
    std::string npk, mode, file, expect_error, at;
    int expect_exit = -1;
    bool requires_jit = false;
    bool requires_x86_64 = false;
    std::vector<std::string> outputs, flags, emulator;
};

[[noreturn]] void usage(const char* why) {
    std::fprintf(stderr, "program_test: %s\n"
                 "usage: program_test --npk PATH --mode run|check [--expect-exit N]\n"
                 "       [--expect-error CODE [--at L:C]] [--expect-output TEXT]...\n"
                 "       [--npk-flag F]... [--emulator E]... [--requires-jit] [--requires-x86-64] FILE\n", why);
    std::exit(2);
}

Args parse(int argc, char** argv) {
    Args a;
    for (int i = 1; i < argc; ++i) {
        std::string s = argv[i];
        auto value = [&]() -> std::string {
            if (i + 1 >= argc) usage(("missing value after " + s).c_str());
            return argv[++i];
        };
        if (s == "--npk") a.npk = value();
        else if (s == "--mode") a.mode = value();
        else if (s == "--expect-exit") a.expect_exit = std::atoi(value().c_str());
        else if (s == "--expect-error") a.expect_error = value();
        else if (s == "--at") a.at = value();
        else if (s == "--expect-output") a.outputs.push_back(value());
        else if (s == "--npk-flag") a.flags.push_back(value());
        else if (s == "--emulator") a.emulator.push_back(value());
        else if (s == "--requires-jit") a.requires_jit = true;
        else if (s == "--requires-x86-64") a.requires_x86_64 = true;
        else if (!s.empty() && s[0] == '-') usage(("unknown option " + s).c_str());
        else if (a.file.empty()) a.file = s;
        else usage("more than one FILE");
    }
    if (a.npk.empty() || a.file.empty()) usage("--npk and FILE are required");
    if (a.mode != "run" && a.mode != "check") usage("--mode must be run or check");
    if (a.mode == "run" && a.expect_exit < 0) usage("--mode run needs --expect-exit");
    return a;
}

// Runs argv, returns its exit status (or 128+signal), output in `out`.
int run(const std::vector<std::string>& argv, std::string& out) {
    int fds[2];
    if (pipe(fds) != 0) { std::perror("program_test: pipe"); std::exit(1); }
    pid_t pid = fork();
    if (pid < 0) { std::perror("program_test: fork"); std::exit(1); }
    if (pid == 0) {
        dup2(fds[1], 1);
        dup2(fds[1], 2);
        close(fds[0]);
        close(fds[1]);
        std::vector<char*> cargv;
        for (const auto& s : argv) cargv.push_back(const_cast<char*>(s.c_str()));
        cargv.push_back(nullptr);
        execvp(cargv[0], cargv.data());
        std::fprintf(stderr, "program_test: cannot run %s: %s\n", cargv[0], std::strerror(errno));
        _exit(127);
    }
    close(fds[1]);
    char buf[4096];
    ssize_t n;
    while ((n = read(fds[0], buf, sizeof buf)) > 0 || (n < 0 && errno == EINTR))
        if (n > 0) out.append(buf, static_cast<size_t>(n));
    close(fds[0]);
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {}
    if (WIFEXITED(status)) return WEXITSTATUS(status);
    if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
    return -1;
}

}  // namespace

int main(int argc, char** argv) {
    Args a = parse(argc, argv);

    struct utsname u {};
    uname(&u);
    if (a.requires_jit && !npk_jit_host_supported()) {
        std::printf("SKIP: %s needs JIT support; this host is %s (npk_jit_host_supported() = 0)\n",
                    a.file.c_str(), u.machine);
        return 77;
    }
    if (a.requires_x86_64 && std::strcmp(u.machine, "x86_64") != 0) {
        std::printf("SKIP: %s needs an x86-64 host; this host is %s\n", a.file.c_str(), u.machine);
        return 77;
    }

    std::vector<std::string> cmd = a.emulator;
    cmd.push_back(a.npk);
    cmd.push_back(a.mode);
    for (const auto& f : a.flags) cmd.push_back(f);
    cmd.push_back(a.file);

    std::string out;
    int status = run(cmd, out);
    std::fwrite(out.data(), 1, out.size(), stdout);

    bool ok = true;
    auto fail = [&](const std::string& why) {
        std::printf("FAIL: %s\n", why.c_str());
        ok = false;
    };
    if (a.mode == "run") {
        if (status != a.expect_exit)
            fail("expected exit status " + std::to_string(a.expect_exit) + ", got " + std::to_string(status));
    } else {
        if (status != 1) fail("expected npk check to exit 1, got " + std::to_string(status));
        if (!a.expect_error.empty()) {
            std::string tag = "error: [" + a.expect_error + "]";
            size_t at = out.find(tag);
            if (at == std::string::npos) {
                fail("expected an error tagged [" + a.expect_error + "]");
            } else if (!a.at.empty()) {
                // The tag must appear on a line starting FILE:L:C:.
                std::string want = ":" + a.at + ": " + tag;
                if (out.find(want) == std::string::npos)
                    fail("expected [" + a.expect_error + "] at " + a.at);
            }
        }
    }
    for (const auto& o : a.outputs)
        if (out.find(o) == std::string::npos) fail("expected output containing: " + o);

    if (ok) std::printf("PASS: %s\n", a.file.c_str());
    return ok ? 0 : 1;
}
