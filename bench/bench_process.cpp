// Whole processes: `npk run bugs/bug264_jit_add_i32_smoke.npk` against
// a small C program doing the same five steps through the C ABI. Each
// iteration spawns the program (posix_spawn: glibc's vfork + exec) and
// waits for it; a non-zero exit fails the case rather than timing it.
#include <benchmark/benchmark.h>
#include <fcntl.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <string>
#include <vector>

extern char** environ;

namespace {

// Paths come from CMake; NPK_BENCH_NPK in the environment overrides the
// npk binary (e.g. an installed one).
#ifndef NPK_BENCH_NPK
#define NPK_BENCH_NPK ""
#endif

bool is_executable(const std::string& path) {
    struct stat st {};
    return !path.empty() && stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) && access(path.c_str(), X_OK) == 0;
}

// Runs argv to completion; its exit status, or -1 if it could not run
// or did not exit normally. Adds the child's user + system CPU time to
// *cpu_seconds.
int run_process(const std::vector<std::string>& args, double* cpu_seconds) {
    std::vector<char*> argv;
    for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    // The programs are silent on success; anything they say on failure
    // is of no use inside a timing loop.
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    pid_t pid = 0;
    const int rc = posix_spawn(&pid, argv[0], &fa, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&fa);
    if (rc != 0) return -1;
    int status = 0;
    struct rusage ru {};
    while (wait4(pid, &status, 0, &ru) < 0)
        if (errno != EINTR) return -1;
    *cpu_seconds += static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
                    static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1e-6;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

// The child's CPU time per run goes into the "child_cpu_ns" counter: the
// work of the process itself, which a busy machine inflates far less than
// the wall time (the case's own CPU time is only the parent's spawn/wait).
void time_process(benchmark::State& state, const std::vector<std::string>& args) {
    double cpu_seconds = 0;
    for (auto _ : state) {
        const int status = run_process(args, &cpu_seconds);
        if (status != 0) {
            state.SkipWithError(("'" + args[0] + "' exited with status " + std::to_string(status) +
                                 (status == 77 ? " (skipped: host cannot JIT)" : ""))
                                    .c_str());
            break;
        }
    }
    if (state.iterations() > 0)
        state.counters["child_cpu_ns"] = cpu_seconds * 1e9 / static_cast<double>(state.iterations());
}

void process_c_abi(benchmark::State& state) {
    const std::string prog = NPK_BENCH_SMOKE_C;
    if (!is_executable(prog)) {
        state.SkipWithError(("C smoke program not built: " + prog).c_str());
        return;
    }
    time_process(state, {prog});
}

void process_npk_run(benchmark::State& state) {
    const char* env = std::getenv("NPK_BENCH_NPK");
    const std::string npk = env && *env ? env : NPK_BENCH_NPK;
    if (!is_executable(npk)) {
        state.SkipWithError(npk.empty() ? "npk binary absent: the driver is not built in this tree (skipped)"
                                        : ("npk binary absent: " + npk + " (skipped)").c_str());
        return;
    }
    time_process(state, {npk, "run", NPK_BENCH_BUG264});
}

}  // namespace

BENCHMARK(process_c_abi)->Name("process/c_abi")->UseRealTime()->Unit(benchmark::kMicrosecond);
BENCHMARK(process_npk_run)->Name("process/npk_run")->UseRealTime()->Unit(benchmark::kMicrosecond);
