// npk_program_fuzz: the differential program fuzzer (tests/fuzz/README.md).
//
// For each seed in [SEED, SEED + COUNT): generate a program
// (program_gen.h), load and check it in process (`npk check --strict`'s
// phases, through the front end's object library), then run it the way
// `npk run --unchecked` does in a forked child, with stdout discarded and
// stderr captured, under a time limit. A divergence is:
//
//   invalid      the generator wrote a program with a syntax or type error
//   crash        the child died of a signal (npk corrupted itself)
//   hang         no exit within the time limit
//   internal     exit 70 (npk's internal error)
//   sanitizer    an AddressSanitizer / UBSan report in the child's stderr
//   unsound      `npk check --strict` accepted the program, yet the
//                run-time gate stopped it (a checker gap: issue 16)
//   unsound-runtime  accepted, yet the runtime refused a call
//
// One line per divergence (with the seed that regenerates it), a summary,
// and last `N passed, N failed`. Exit status 0 when nothing failed.
#include <fcntl.h>
#include <fnmatch.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <npk/jit.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "diag/diag.h"
#include "driver/loader.h"
#include "phases.h"
#include "program_gen.h"
#include "sema/sema.h"

namespace {

using npk::fuzz::Generated;

struct Config {
    uint64_t seed = 1;
    uint64_t count = 1000;
    int timeout_ms = 5000;
    std::string save_dir;
    bool show = false;      // print the program of --seed and stop
    bool verbose = false;   // print the program of each divergence
    std::vector<std::string> known;  // --known-gaps: planted-mistake patterns the checker misses today
    npk::fuzz::GenOptions gen;
};

struct Verdict {
    std::string cls;      // empty: passed
    std::string detail;
    bool accepted = false;  // npk check --strict found nothing
    bool gate = false;      // the run stopped at a run-time error
};

const char* const kRoot = "/nonexistent-npk-fuzz/prog.npk";

// The first line of `text` containing `needle` (without its end of line).
std::string line_with(const std::string& text, const std::string& needle) {
    size_t at = text.find(needle);
    if (at == std::string::npos) return {};
    size_t start = text.rfind('\n', at);
    start = start == std::string::npos ? 0 : start + 1;
    size_t end = text.find('\n', at);
    std::string line = text.substr(start, end == std::string::npos ? std::string::npos : end - start);
    if (line.rfind(kRoot, 0) == 0) line = "prog.npk" + line.substr(std::strlen(kRoot));
    return line;
}

// A sanitizer's report, not npk's own "FILE:L:C: runtime error:" (whose
// file is a .npk).
bool sanitizer_report(const std::string& err) {
    if (err.find("Sanitizer") != std::string::npos) return true;
    size_t at = 0;
    while ((at = err.find("runtime error:", at)) != std::string::npos) {
        size_t start = err.rfind('\n', at);
        std::string head = err.substr(start == std::string::npos ? 0 : start + 1, at);
        if (head.find(".npk:") == std::string::npos) return true;
        ++at;
    }
    return false;
}

struct Child {
    int status = 0;
    bool timed_out = false;
    std::string err;
};

// Runs the checked program in a forked child, as `npk run --unchecked`.
Child run_child(const npk::ast::Program& prog, const npk::Sema& sema, const npk::SourceManager& sources,
                const npk::Options& opts, int timeout_ms) {
    Child c;
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) != 0) {
        c.err = "pipe failed";
        c.status = -1;
        return c;
    }
    std::fflush(nullptr);
    pid_t pid = fork();
    if (pid == 0) {
        int null = open("/dev/null", O_WRONLY);
        dup2(null, 1);
        dup2(fds[1], 2);
        npk::Options run = opts;
        run.unchecked = true;
        npk::Diagnostics diag(sources);
        diag.stream_to(&std::cerr, false);
        int st = npk::run_program(prog, sema, run, diag);
        std::cerr.flush();
        std::fflush(nullptr);
        _exit(st & 0xff);
    }
    close(fds[1]);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    char buf[4096];
    for (;;) {
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0) {
            c.timed_out = true;
            kill(pid, SIGKILL);
            break;
        }
        pollfd p{fds[0], POLLIN, 0};
        if (poll(&p, 1, static_cast<int>(left.count())) <= 0) continue;
        ssize_t n = read(fds[0], buf, sizeof buf);
        if (n <= 0) break;
        if (c.err.size() < (1u << 20)) c.err.append(buf, static_cast<size_t>(n));
    }
    close(fds[0]);
    waitpid(pid, &c.status, 0);
    return c;
}

Verdict classify(const Child& c, bool accepted, const Config& cfg);

Verdict check_one(const Generated& g, const Config& cfg) {
    npk::SourceManager sources;
    npk::Diagnostics diag(sources);
    npk::ast::Program prog;
    npk::Options opts;
    opts.strict = true;
    opts.stdlib_dir = NPK_SOURCE_STDLIB_DIR;
    npk::load_program_text(kRoot, g.text, opts, sources, prog, diag);
    std::unique_ptr<npk::Sema> sema;
    if (diag.error_count() == 0) sema = npk::check_types(prog, opts, diag);
    if (diag.error_count() != 0) {
        std::ostringstream out;
        diag.print(out, false);
        return {"invalid", line_with(out.str(), "error")};
    }
    npk::run_analyses(prog, *sema, opts, diag);
    const bool accepted = diag.error_count() == 0;
    Verdict v = classify(run_child(prog, *sema, sources, opts, cfg.timeout_ms), accepted, cfg);
    v.accepted = accepted;
    return v;
}

Verdict classify(const Child& c, bool accepted, const Config& cfg) {
    if (c.timed_out) return {"hang", "no exit within " + std::to_string(cfg.timeout_ms) + " ms"};
    if (WIFSIGNALED(c.status)) return {"crash", std::string("killed by signal ") + strsignal(WTERMSIG(c.status))};
    if (sanitizer_report(c.err)) return {"sanitizer", line_with(c.err, c.err.find("Sanitizer") != std::string::npos ? "Sanitizer" : "runtime error:")};
    const int st = WEXITSTATUS(c.status);
    if (st == 70) return {"internal", line_with(c.err, "error")};
    if (accepted && c.err.find("runtime error:") != std::string::npos)
        return {"unsound", line_with(c.err, "runtime error:")};
    if (accepted && c.err.find("the runtime rejected this call") != std::string::npos)
        return {"unsound-runtime", line_with(c.err, "the runtime rejected")};
    if (st != 0 && st != 99) return {"exit", "unexpected exit status " + std::to_string(st)};
    Verdict ok;
    ok.gate = c.err.find("runtime error:") != std::string::npos;
    return ok;
}

// The known checker gaps (issue 16): one fnmatch pattern per line over
// the planted mistakes' kinds ("heap:*+defer-order"); '#' starts a comment.
bool read_known(const std::string& path, std::vector<std::string>& out) {
    std::ifstream in(path);
    if (!in) return false;
    for (std::string line; std::getline(in, line);) {
        line = line.substr(0, line.find('#'));
        while (!line.empty() && (line.back() == ' ' || line.back() == '\t')) line.pop_back();
        size_t b = line.find_first_not_of(" \t");
        if (b != std::string::npos) out.push_back(line.substr(b));
    }
    return true;
}

// An unsound verdict is a known gap when every mistake planted in the
// program is one the checker is known to miss.
bool known_gap(const Generated& g, const Config& cfg) {
    if (g.planted == 0 || cfg.known.empty()) return false;
    size_t start = 0;
    while (start < g.episodes.size()) {
        size_t end = g.episodes.find(", ", start);
        std::string kind = g.episodes.substr(start, end == std::string::npos ? std::string::npos : end - start);
        start = end == std::string::npos ? g.episodes.size() : end + 2;
        if (kind.find('+') == std::string::npos) continue;
        bool hit = false;
        for (const std::string& pat : cfg.known) hit = hit || fnmatch(pat.c_str(), kind.c_str(), 0) == 0;
        if (!hit) return false;
    }
    return true;
}

int usage() {
    std::fprintf(stderr,
                 "usage: npk_program_fuzz [--count N] [--seed S] [--timeout-ms MS] [--save-dir DIR]\n"
                 "                        [--no-jit] [--memory-aliases] [--episodes N] [--verbose]\n"
                 "                        [--known-gaps FILE]\n"
                 "       npk_program_fuzz --show --seed S    print program S\n");
    return 64;
}

}  // namespace

int main(int argc, char** argv) {
    Config cfg;
    for (int i = 1; i < argc; ++i) {
        std::string a = argv[i];
        auto value = [&]() -> std::string { return i + 1 < argc ? argv[++i] : ""; };
        if (a == "--count") cfg.count = std::strtoull(value().c_str(), nullptr, 10);
        else if (a == "--seed") cfg.seed = std::strtoull(value().c_str(), nullptr, 10);
        else if (a == "--timeout-ms") cfg.timeout_ms = std::atoi(value().c_str());
        else if (a == "--save-dir") cfg.save_dir = value();
        else if (a == "--episodes") cfg.gen.max_episodes = std::atoi(value().c_str());
        else if (a == "--no-jit") cfg.gen.jit = false;
        else if (a == "--memory-aliases") cfg.gen.memory_aliases = true;
        else if (a == "--show") cfg.show = true;
        else if (a == "--verbose") cfg.verbose = true;
        else if (a == "--known-gaps") {
            std::string path = value();
            if (!read_known(path, cfg.known)) {
                std::fprintf(stderr, "npk_program_fuzz: cannot read '%s'\n", path.c_str());
                return 66;
            }
        }
        else return usage();
    }
    if (cfg.gen.max_episodes < 1) return usage();
    // Generated code runs only where the runtime can make it.
    if (!npk_jit_host_supported()) cfg.gen.jit = false;
    if (cfg.show) {
        std::fputs(npk::fuzz::generate_program(cfg.seed, cfg.gen).text.c_str(), stdout);
        return 0;
    }
    uint64_t passed = 0, failed = 0, planted = 0, known = 0, accepted = 0, stopped = 0;
    std::map<std::string, uint64_t> by_class;
    const auto t0 = std::chrono::steady_clock::now();
    for (uint64_t i = 0; i < cfg.count; ++i) {
        const uint64_t seed = cfg.seed + i;
        Generated g = npk::fuzz::generate_program(seed, cfg.gen);
        planted += g.planted != 0;
        Verdict v = check_one(g, cfg);
        accepted += v.accepted;
        stopped += v.gate;
        if (v.cls.empty()) {
            ++passed;
            continue;
        }
        if (v.cls == "unsound" && known_gap(g, cfg)) {
            // Listed in --known-gaps: printed and counted, not failed (each
            // has a regression program in tests/programs/gap_*.npk).
            ++known;
            ++passed;
            v.cls = "known-gap";
        } else {
            ++failed;
            ++by_class[v.cls];
        }
        std::printf("seed %llu: %s: %s [%s]\n", static_cast<unsigned long long>(seed), v.cls.c_str(),
                    v.detail.c_str(), g.episodes.c_str());
        if (cfg.verbose) std::printf("%s\n", g.text.c_str());
        if (!cfg.save_dir.empty())
            std::ofstream(cfg.save_dir + "/seed-" + std::to_string(seed) + ".npk") << g.text;
        std::fflush(stdout);
    }
    const double secs =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::printf("# %llu programs (%llu with a planted mistake; %llu accepted by npk check --strict; %llu rejected "
                "ones stopped by the gate when run unchecked) in %.1f s, %.0f programs/s",
                static_cast<unsigned long long>(cfg.count), static_cast<unsigned long long>(planted),
                static_cast<unsigned long long>(accepted), static_cast<unsigned long long>(stopped), secs,
                secs > 0 ? static_cast<double>(cfg.count) / secs : 0.0);
    for (const auto& [cls, n] : by_class) std::printf("; %s %llu", cls.c_str(), static_cast<unsigned long long>(n));
    if (!cfg.known.empty())
        std::printf("; known checker gaps (passed) %llu", static_cast<unsigned long long>(known));
    std::printf("\n%llu passed, %llu failed\n", static_cast<unsigned long long>(passed),
                static_cast<unsigned long long>(failed));
    return failed == 0 ? 0 : 1;
}
