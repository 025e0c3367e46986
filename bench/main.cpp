// The benchmark executable's entry point: Google Benchmark's own, plus
// the facts about the host that the ratios depend on, recorded in the
// JSON context so a result file explains itself.
#include <benchmark/benchmark.h>
#include <sys/utsname.h>

#include <cstdio>
#include <cstring>
#include <string>
#include <thread>

namespace {

std::string first_line_with(const char* path, const char* key) {
    FILE* f = std::fopen(path, "r");
    if (!f) return "";
    char line[512];
    std::string found;
    while (std::fgets(line, sizeof line, f)) {
        if (std::strncmp(line, key, std::strlen(key)) != 0) continue;
        const char* colon = std::strchr(line, ':');
        found = colon ? colon + 1 : line;
        break;
    }
    std::fclose(f);
    while (!found.empty() && (found.front() == ' ' || found.front() == '\t')) found.erase(0, 1);
    while (!found.empty() && (found.back() == '\n' || found.back() == ' ')) found.pop_back();
    return found;
}

}  // namespace

int main(int argc, char** argv) {
    // glibc takes a cheaper, non-atomic path through its locks while a
    // process has never started a second thread, and leaves it for good
    // at the first pthread_create. The 2-thread cases would flip that in
    // the middle of a run and, with interleaved repetitions, make every
    // later single-thread repetition slower than the earlier ones. One
    // short-lived thread at start puts every case in the same, multi-
    // threaded regime (the one a program with any thread runs in).
    // --keep_single_threaded skips it; pair it with
    // --benchmark_filter=-threads to measure the single-threaded regime.
    bool keep_single_threaded = false;
    for (int i = 1; i < argc; ++i) {
        if (std::strcmp(argv[i], "--keep_single_threaded") != 0) continue;
        keep_single_threaded = true;
        for (int j = i; j + 1 < argc; ++j) argv[j] = argv[j + 1];
        --argc;
        break;
    }
    if (!keep_single_threaded) std::thread([] {}).join();
    benchmark::AddCustomContext("process_regime", keep_single_threaded ? "single-threaded" : "multi-threaded");

    struct utsname u {};
    uname(&u);
    benchmark::AddCustomContext("cpu_model", first_line_with("/proc/cpuinfo", "model name"));
    benchmark::AddCustomContext("kernel", std::string(u.sysname) + " " + u.release + " " + u.machine);
    benchmark::AddCustomContext("max_map_count", first_line_with("/proc/sys/vm/max_map_count", ""));
    benchmark::Initialize(&argc, argv);
    if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    return 0;
}
