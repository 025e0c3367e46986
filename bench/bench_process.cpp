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

#include <dirent.h>

#include <algorithm>
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

// The corpus of `process/npk_run_corpus`: every example and every
// bugs/*_pass.npk, in name order.
std::vector<std::string> corpus() {
    std::vector<std::string> out;
    for (const char* dir : {"examples", "bugs"}) {
        std::string d = std::string(NPK_BENCH_SOURCE_DIR) + "/" + dir;
        std::vector<std::string> names;
        if (DIR* h = opendir(d.c_str())) {
            while (dirent* e = readdir(h)) {
                std::string n = e->d_name;
                const bool npk = n.size() > 4 && n.compare(n.size() - 4, 4, ".npk") == 0;
                const bool pass = n.size() > 9 && n.compare(n.size() - 9, 9, "_pass.npk") == 0;
                if (npk && (std::string(dir) == "examples" || pass)) names.push_back(d + "/" + n);
            }
            closedir(h);
        }
        std::sort(names.begin(), names.end());
        out.insert(out.end(), names.begin(), names.end());
    }
    return out;
}

// The programs of corpus() that both npks run alike (the same exit
// status, no signal), decided once by running each with both: the two
// rows then time the same work. A program written for today's API (a
// JitVar example) fails at once in the baseline's type check, and would
// otherwise make the baseline look cheap.
std::string npk_of(const char* env, const char* fallback) {
    const char* e = std::getenv(env);
    return e && *e ? e : fallback;
}

const std::vector<std::string>& corpus_alike() {
    static const std::vector<std::string> alike = [] {
        const std::string now = npk_of("NPK_BENCH_NPK", NPK_BENCH_NPK);
        const std::string before = npk_of("NPK_BENCH_NPK_BASELINE", "");
        std::vector<std::string> out;
        if (!is_executable(now) || !is_executable(before)) return out;
        double unused = 0;
        for (const std::string& prog : corpus()) {
            const int a = run_process({before, "run", prog}, &unused);
            if (a >= 0 && a == run_process({now, "run", prog}, &unused)) out.push_back(prog);
        }
        return out;
    }();
    return alike;
}

// `npk run` of the corpus both run alike per iteration, with the npk of `env`
// (a program's own exit status is its business; a signal fails the case).
void time_corpus(benchmark::State& state, const char* env, const char* fallback) {
    const std::string npk = npk_of(env, fallback);
    if (!is_executable(npk)) {
        state.SkipWithError(("npk binary absent (" + std::string(env) + "): " + npk + " (skipped)").c_str());
        return;
    }
    const std::vector<std::string>& progs = corpus_alike();
    if (progs.empty()) {
        state.SkipWithError("no program of the corpus runs alike under both npks (is the baseline built?)");
        return;
    }
    double cpu_seconds = 0;
    for (auto _ : state) {
        for (const std::string& prog : progs) {
            if (run_process({npk, "run", prog}, &cpu_seconds) < 0) {
                state.SkipWithError(("'" + npk + " run " + prog + "' did not exit normally").c_str());
                return;
            }
        }
    }
    state.counters["programs"] = static_cast<double>(progs.size());
    if (state.iterations() > 0)
        state.counters["child_cpu_ns"] = cpu_seconds * 1e9 / static_cast<double>(state.iterations());
}

// Today's npk against npk as it was before the run-time gate of issue 19
// (bench/run builds it from NPK_BENCH_BASELINE_REF into its own folder: it
// shares no code with what is measured).
void process_npk_run_corpus(benchmark::State& state) { time_corpus(state, "NPK_BENCH_NPK", NPK_BENCH_NPK); }
void process_npk_run_corpus_baseline(benchmark::State& state) {
    time_corpus(state, "NPK_BENCH_NPK_BASELINE", "");
}

}  // namespace

BENCHMARK(process_npk_run_corpus_baseline)->Name("process/npk_run_corpus/before_gate")->UseRealTime()
    ->Unit(benchmark::kMillisecond)->Iterations(3);
BENCHMARK(process_npk_run_corpus)->Name("process/npk_run_corpus/npk")->UseRealTime()
    ->Unit(benchmark::kMillisecond)->Iterations(3);
BENCHMARK(process_c_abi)->Name("process/c_abi")->UseRealTime()->Unit(benchmark::kMicrosecond);
BENCHMARK(process_npk_run)->Name("process/npk_run")->UseRealTime()->Unit(benchmark::kMicrosecond);
