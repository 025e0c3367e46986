// Robustness test of `npk check`: feeds it thousands of mutated,
// truncated and spliced versions of real programs, token soup and random
// bytes, and requires every run to end with exit 0 or 1: no signal, no
// hang, no other status, no sanitizer report.
//
//   npk_robustness --npk PATH [--count N] [--seed S] [--jobs J]
//                  [--timeout-ms T] [--save-dir DIR] CORPUS...
//
// CORPUS entries are .npk files or folders searched recursively for
// them; a built-in corpus is always added. The inputs are a pure function
// of the seed, so a failure reproduces with the same --seed and --count;
// each failing input is also saved to --save-dir with the reason.
// Exit status: 0 all inputs passed, 1 some failed, 2 usage.
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace fs = std::filesystem;

namespace {

// Small programs that touch every token and construct, so the test has
// something to mutate even where the corpus folders are empty.
const char* const kBuiltinCorpus[] = {
    R"(extern func:npk_jit_install_add_i32 = int32(wild ?*:page);
extern func:npk_jit_call_i32_i32 = int32(wild ?*:page, int32:a, int32:b);
func:failsafe = int32(tbb32:err) { exit 1; };
func:main = int32() {
    wildx int8->:page = wildx_alloc(64);
    fixed int32:write_rc = npk_jit_install_add_i32(page);
    fixed int32:seal_rc = wildx_seal(page);
    fixed int32:result = npk_jit_call_i32_i32(page, 7i32, 35i32);
    fixed int32:free_rc = wildx_free(page);
    if (write_rc == 0 && seal_rc == 0 && free_rc == 0 && result == 42i32) {
        exit 0;
    }
    exit 2;
};
)",
    R"(use "jit.npk".*;
func:failsafe = int32(tbb32:err) { exit 1; };
func:main = int32() {
    wildx int8->:f = raw Jit.compile_add_i32();
    defer { drop Jit.free(f); }
    int32:r = raw Jit.call_i32_i32(f, 7i32, 35i32);
    if (r != 42) { exit 1; } else if (r == 0) { exit 2; } else { }
    exit 0;
};
)",
    R"(struct:Pair = { int32:a; int64:b; };
pub struct:Empty = { };
impl:Drop:for:Pair = { func:drop = NIL($$m Pair:self) { pass; }; };
Type:Calc = {
    func:add = int32(int32:x, int32:y) { pass x + y; };
    func:neg = Result<int32>(const int32:x) { return Result{val: -x, err: 0, is_error: false}; };
};
func:process = int32(int32:buffer, stack int32:obj, gc int8->:p, $$i int32:q) {
    int32:stack = buffer * 2 / 3 % 4 - -1;
    Result<int32>:r = Calc.neg(stack);
    if (!r.is_error || false) { stack = r.value; }
    fail 3tbb32;
};
#[destroys_arena(arena)]
extern func:npk_handle_arena_destroy = void(int64:arena);
func:main = int32() {
    Pair:p = Pair{a: 1, b: 2i64,};
    p.a = 300i16 + 255u8 + 18446744073709551615u64;
    wild Pair:w = Pair{a: 0};
    { { int32:x = 1_000; } }
    pass;
    return;
    exit raw process(1, 2, p, 4);
};
)",
    R"(// comment /* not nested */
/* block
   comment */ use "a.npk"; use "b.npk".{x, y}; use "c.npk" as c; use "lib/../d.aria".*;
func:s = NIL() { x = "esc \n\t\r\\\"\0\x41\u{1F600}"; drop s(); };
)",
    R"(func:e = int32() {
    ;
    defer free(p);
    int8*:p = 12abc + 0x1F + 1.5 + 300i8 + 99999999999999999999;
    x = "unterminated
    $$x @ & | ~ `
    /* unterminated
)",
};

// Whole tokens and fragments spliced into inputs.
const char* const kDictionary[] = {
    "(", ")", "{", "}", "[", "]", ",", ";", ":", ".", "=", "==", "!=", "<", "<=", ">", ">=",
    "+", "-", "*", "/", "%", "!", "&&", "||", "->", "?", "#", "$$i", "$$m", "wild", "wildx",
    "stack", "gc", "fixed", "const", "defer", "if", "else", "return", "pass", "fail", "exit",
    "raw", "drop", "func", "struct", "Type", "impl", "use", "pub", "extern", "as", "for",
    "true", "false", "NIL", "Result", "bool", "int8", "int32", "int64", "uint8", "uint64",
    "tbb32", "int128", "string", "buffer", "process", "obj", "void", "while", "NULL", "main",
    "failsafe", "Jit", "x", "p", "0", "1", "42i32", "300i8", "-128i8", "255u8", "3tbb32",
    "18446744073709551615", "18446744073709551616", "12abc", "\"s\"", "\"jit.npk\"",
    "\"use_lib/calc.npk\"", "\"input.npk\"", "\"\\u{41}\"", "\"\\q\"", "\"", "//", "/*", "*/",
    "\n", " ", "\t", "\r", "\xEF\xBB\xBF", "\xC3\xA9", "\xFF", "\x00", "use \"input.npk\".*;\n",
    "func:main = int32() { exit 0; };\n", "func:failsafe = int32(tbb32:err) { exit 1; };\n",
    "Type:T = { func:m = int32() { pass 1; }; };\n", "struct:S = { int32:a; };\n",
    "?*", "?->", "int8->:", "Result<int32>:", "S{a: 1}", ".*", ".{a, b}", "#[x(y)]",
};

// splitmix64: tiny, fast, and the same on every platform and library.
struct Rng {
    uint64_t s;
    uint64_t next() {
        uint64_t z = (s += 0x9E3779B97F4A7C15ull);
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
        return z ^ (z >> 31);
    }
    size_t below(size_t n) { return n == 0 ? 0 : static_cast<size_t>(next() % n); }
};

struct Args {
    std::string npk;
    size_t count = 10000;
    uint64_t seed = 1;
    unsigned jobs = 2;
    unsigned timeout_ms = 10000;
    std::string save_dir = "robustness-failures";
    std::vector<std::string> corpus;
};

[[noreturn]] void usage(const std::string& why) {
    std::fprintf(stderr, "npk_robustness: %s\n"
                 "usage: npk_robustness --npk PATH [--count N] [--seed S] [--jobs J]\n"
                 "                      [--timeout-ms T] [--save-dir DIR] CORPUS...\n", why.c_str());
    std::exit(2);
}

Args parse(int argc, char** argv) {
    Args a;
    for (int i = 1; i < argc; ++i) {
        std::string s = argv[i];
        auto value = [&]() -> std::string {
            if (i + 1 >= argc) usage("missing value after " + s);
            return argv[++i];
        };
        auto number = [&]() -> unsigned long long {
            std::string v = value();
            char* end = nullptr;
            unsigned long long n = std::strtoull(v.c_str(), &end, 10);
            if (v.empty() || *end) usage("not a number: " + v);
            return n;
        };
        if (s == "--npk") a.npk = value();
        else if (s == "--count") a.count = number();
        else if (s == "--seed") a.seed = number();
        else if (s == "--jobs") a.jobs = static_cast<unsigned>(std::max(1ull, number()));
        else if (s == "--timeout-ms") a.timeout_ms = static_cast<unsigned>(number());
        else if (s == "--save-dir") a.save_dir = value();
        else if (!s.empty() && s[0] == '-') usage("unknown option " + s);
        else a.corpus.push_back(s);
    }
    if (a.npk.empty()) usage("--npk is required");
    a.npk = fs::absolute(a.npk).string();  // the children run in their own folders
    return a;
}

std::string read_file(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

void write_file(const fs::path& p, const std::string& text) {
    std::ofstream out(p, std::ios::binary | std::ios::trunc);
    out << text;
}

struct Seed {
    fs::path rel;  // relative to its corpus folder ("" for built-in and single files)
    std::string text;
};

// Every .npk under the corpus paths (sorted, for determinism) plus the
// built-in programs.
std::vector<Seed> load_corpus(const std::vector<std::string>& paths, std::vector<fs::path>& folders) {
    std::vector<Seed> seeds;
    for (const auto& p : paths) {
        std::error_code ec;
        if (fs::is_regular_file(p, ec)) {
            seeds.push_back({fs::path(p).filename(), read_file(p)});
            continue;
        }
        if (!fs::is_directory(p, ec)) continue;  // a folder that does not exist yet
        folders.push_back(p);
        std::vector<fs::path> found;
        for (auto it = fs::recursive_directory_iterator(p, ec); !ec && it != fs::recursive_directory_iterator();
             it.increment(ec))
            if (it->is_regular_file() && it->path().extension() == ".npk") found.push_back(it->path());
        std::sort(found.begin(), found.end());
        for (const auto& f : found) seeds.push_back({fs::relative(f, p), read_file(f)});
    }
    for (const char* b : kBuiltinCorpus) seeds.push_back({"", b});
    return seeds;
}

// One mutation of `s` in place.
void mutate_once(std::string& s, const std::vector<Seed>& seeds, Rng& rng) {
    switch (rng.below(8)) {
    case 0:  // flip bytes: random values or single bits
        for (size_t n = 1 + rng.below(8); n > 0 && !s.empty(); --n) {
            size_t at = rng.below(s.size());
            if (rng.below(2)) s[at] = static_cast<char>(rng.next());
            else s[at] = static_cast<char>(s[at] ^ (1 << rng.below(8)));
        }
        break;
    case 1:  // delete ranges
        for (size_t n = 1 + rng.below(3); n > 0 && !s.empty(); --n) {
            size_t at = rng.below(s.size());
            s.erase(at, 1 + rng.below(32));
        }
        break;
    case 2:  // duplicate token-sized chunks elsewhere
        for (size_t n = 1 + rng.below(4); n > 0 && !s.empty(); --n) {
            size_t at = rng.below(s.size());
            std::string chunk = s.substr(at, 1 + rng.below(12));
            s.insert(rng.below(s.size() + 1), chunk);
        }
        break;
    case 3:  // truncate
        s.resize(rng.below(s.size() + 1));
        break;
    case 4: {  // splice: a prefix of this and a suffix of another program
        const std::string& other = seeds[rng.below(seeds.size())].text;
        s = s.substr(0, rng.below(s.size() + 1)) + other.substr(rng.below(other.size() + 1));
        break;
    }
    case 5:  // insert dictionary tokens
        for (size_t n = 1 + rng.below(4); n > 0; --n) {
            const char* tok = kDictionary[rng.below(std::size(kDictionary))];
            std::string t = tok[0] ? tok : std::string(1, '\0');
            s.insert(rng.below(s.size() + 1), t);
        }
        break;
    case 6:  // swap two lines
    {
        std::vector<std::string> lines;
        std::stringstream in(s);
        std::string line;
        while (std::getline(in, line)) lines.push_back(line);
        if (lines.size() >= 2) std::swap(lines[rng.below(lines.size())], lines[rng.below(lines.size())]);
        s.clear();
        for (const auto& l : lines) s += l + "\n";
        break;
    }
    default:  // replace a range with a copy of a range from elsewhere
        if (!s.empty()) {
            size_t a = rng.below(s.size()), b = rng.below(s.size());
            size_t n = 1 + rng.below(24);
            s.replace(a, std::min(n, s.size() - a), s.substr(b, n));
        }
        break;
    }
    if (s.size() > (256u << 10)) s.resize(256u << 10);
}

// Input number `i`: the seeds themselves first, then a mix of mutants,
// token soup and random bytes. Depends only on (seed, i).
std::string make_input(size_t i, const std::vector<Seed>& seeds, uint64_t seed) {
    if (i < seeds.size()) return seeds[i].text;
    Rng rng{seed * 0x100000001B3ull ^ (i * 0x9E3779B97F4A7C15ull)};
    rng.next();
    size_t kind = rng.below(20);
    if (kind == 0) {  // random bytes
        std::string s(rng.below(1025), '\0');
        for (char& c : s) c = static_cast<char>(rng.next());
        return s;
    }
    if (kind == 1) {  // printable random text
        std::string s(rng.below(1025), ' ');
        for (char& c : s) c = static_cast<char>(0x20 + rng.below(95));
        return s;
    }
    if (kind <= 3) {  // token soup
        std::string s;
        for (size_t n = 1 + rng.below(300); n > 0; --n) {
            const char* tok = kDictionary[rng.below(std::size(kDictionary))];
            s += tok[0] ? tok : std::string(1, '\0');
            s += rng.below(3) ? " " : "";
        }
        return s;
    }
    std::string s = seeds[rng.below(seeds.size())].text;
    for (size_t n = 1 + rng.below(3); n > 0; --n) mutate_once(s, seeds, rng);
    return s;
}

// Sanitizer output of the last run. The children write reports to
// files (log_path), because npk's own stderr echoes source lines, and a
// program may well contain the words "runtime error:". As a fallback
// (options overridden by the environment), stderr lines in the shapes
// the sanitizers print are caught too; npk's echoed source lines are
// indented and so never match.
std::string sanitizer_report(const fs::path& dir, const std::string& err) {
    std::string report;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(dir, ec)) {
        if (e.path().filename().string().rfind("sanitizer.", 0) != 0) continue;
        report += read_file(e.path());
        fs::remove(e.path(), ec);
    }
    std::istringstream lines(err);
    std::string line;
    while (std::getline(lines, line)) {
        bool asan = line.rfind("==", 0) == 0 && line.find("Sanitizer") != std::string::npos;
        bool summary = line.rfind("SUMMARY: ", 0) == 0 && line.find("Sanitizer") != std::string::npos;
        // UBSan: "/path/file.cpp:12:34: runtime error: ..."
        size_t at = line.find(": runtime error: ");
        bool ubsan = at != std::string::npos && line[0] != ' ' &&
                     (line.find(".cpp:") < at || line.find(".h:") < at || line.find(".c:") < at ||
                      line.find(".cc:") < at);
        if (asan || summary || ubsan) report += line + "\n";
    }
    return report;
}

struct Running {
    pid_t pid = -1;
    size_t input = 0;
    std::chrono::steady_clock::time_point deadline;
    fs::path dir;
};

// Each worker has a folder holding a copy of every corpus folder's
// files, so that mutated `use` lines can still find real imports.
std::vector<fs::path> make_worker_dirs(const fs::path& work, unsigned jobs, const std::vector<Seed>& seeds) {
    std::error_code ec;
    fs::remove_all(work, ec);
    std::vector<fs::path> dirs;
    for (unsigned w = 0; w < jobs; ++w) {
        fs::path d = work / ("w" + std::to_string(w));
        fs::create_directories(d);
        for (const auto& s : seeds)
            if (!s.rel.empty()) {
                if (s.rel.has_parent_path()) fs::create_directories(d / s.rel.parent_path());
                write_file(d / s.rel, s.text);
            }
        dirs.push_back(d);
    }
    return dirs;
}

// Starts `npk check --color=never input.npk` in `dir`, stdin and stdout
// on /dev/null, stderr to dir/stderr. Returns the child's pid (-1: fork
// failed).
pid_t spawn_check(const std::string& npk, const fs::path& dir) {
    pid_t pid = fork();
    if (pid != 0) return pid;
    int in = open("/dev/null", O_RDONLY);
    int out = open("/dev/null", O_WRONLY);
    int err = open((dir / "stderr").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (in < 0 || out < 0 || err < 0) _exit(125);
    dup2(in, 0);
    dup2(out, 1);
    dup2(err, 2);
    unsetenv("NPK_PATH");
    // Sanitizer reports to files of their own (see sanitizer_report).
    std::string log = "log_path=" + (dir / "sanitizer").string();
    for (const char* var : {"ASAN_OPTIONS", "UBSAN_OPTIONS"}) {
        const char* old = std::getenv(var);
        std::string v = old && *old ? std::string(old) + ":" + log : log;
        setenv(var, v.c_str(), 1);
    }
    if (chdir(dir.c_str()) != 0) _exit(125);
    execl(npk.c_str(), npk.c_str(), "check", "--color=never", "input.npk", static_cast<char*>(nullptr));
    _exit(127);
}

// Why one run failed, or "" if it did not. `err` (its stderr) gets the
// sanitizer report in front when there is one.
std::string failure_reason(int status, bool timed_out, unsigned timeout_ms, const fs::path& dir, std::string& err) {
    if (timed_out) return "no exit within " + std::to_string(timeout_ms) + " ms (hang)";
    if (WIFSIGNALED(status))
        return std::string("killed by signal ") + std::to_string(WTERMSIG(status)) + " (" +
               strsignal(WTERMSIG(status)) + ")";
    if (WIFEXITED(status) && WEXITSTATUS(status) != 0 && WEXITSTATUS(status) != 1)
        return "exit status " + std::to_string(WEXITSTATUS(status)) + " (want 0 or 1)";
    std::string report = sanitizer_report(dir, err);
    if (report.empty()) return "";
    err = report + "\n--- stderr ---\n" + err;
    return "sanitizer report";
}

}  // namespace

int main(int argc, char** argv) {
    Args a = parse(argc, argv);
    std::vector<fs::path> folders;
    std::vector<Seed> seeds = load_corpus(a.corpus, folders);

    fs::path work = fs::temp_directory_path() / ("npk-robustness-" + std::to_string(getpid()));
    std::error_code ec;
    std::vector<fs::path> worker_dirs = make_worker_dirs(work, a.jobs, seeds);

    auto start = std::chrono::steady_clock::now();
    std::map<int, size_t> statuses;
    size_t failures = 0;
    std::vector<Running> running(a.jobs);
    size_t next = 0, done = 0;

    auto report_failure = [&](size_t i, const std::string& why) {
        ++failures;
        fs::create_directories(a.save_dir, ec);
        fs::path saved = fs::path(a.save_dir) / ("input-" + std::to_string(i) + ".npk");
        write_file(saved, make_input(i, seeds, a.seed));
        write_file(fs::path(a.save_dir) / ("input-" + std::to_string(i) + ".txt"), why + "\n");
        std::printf("FAIL input %zu (seed %llu): %s\n  saved as %s\n", i,
                    static_cast<unsigned long long>(a.seed), why.c_str(), saved.c_str());
        std::fflush(stdout);
    };

    auto finish = [&](Running& r, int status, bool timed_out) {
        std::string err = read_file(r.dir / "stderr");
        std::string why = failure_reason(status, timed_out, a.timeout_ms, r.dir, err);
        if (WIFEXITED(status)) ++statuses[WEXITSTATUS(status)];
        if (!why.empty()) {
            size_t cut = std::min<size_t>(err.size(), 2000);
            report_failure(r.input, why + "\n--- stderr ---\n" + err.substr(0, cut));
        }
        r.pid = -1;
        ++done;
    };

    while (done < a.count) {
        // Start work in every idle slot.
        for (unsigned w = 0; w < a.jobs; ++w) {
            Running& r = running[w];
            if (r.pid != -1 || next >= a.count) continue;
            r.input = next++;
            r.dir = worker_dirs[w];
            write_file(r.dir / "input.npk", make_input(r.input, seeds, a.seed));
            pid_t pid = spawn_check(a.npk, r.dir);
            if (pid < 0) {
                std::perror("npk_robustness: fork");
                return 1;
            }
            r.pid = pid;
            r.deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(a.timeout_ms);
        }
        // Reap whatever finished; kill what overran.
        bool any = false;
        for (unsigned w = 0; w < a.jobs; ++w) {
            Running& r = running[w];
            if (r.pid == -1) continue;
            int status = 0;
            pid_t got = waitpid(r.pid, &status, WNOHANG);
            if (got == r.pid) {
                if (WIFEXITED(status) && WEXITSTATUS(status) == 127 && r.input == 0) {
                    std::fprintf(stderr, "npk_robustness: cannot run %s\n", a.npk.c_str());
                    return 2;
                }
                finish(r, status, false);
                any = true;
            } else if (std::chrono::steady_clock::now() > r.deadline) {
                kill(r.pid, SIGKILL);
                waitpid(r.pid, &status, 0);
                finish(r, status, true);
                any = true;
            }
        }
        if (!any) std::this_thread::sleep_for(std::chrono::microseconds(200));
    }

    double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::printf("npk_robustness: %zu inputs (%zu seeds from %zu folders + built-in, seed %llu, %u jobs) in %.1f s\n",
                a.count, seeds.size(), folders.size(), static_cast<unsigned long long>(a.seed), a.jobs, secs);
    for (const auto& [st, n] : statuses) std::printf("  exit %d: %zu\n", st, n);
    std::printf("  failures: %zu\n", failures);
    fs::remove_all(work, ec);
    return failures == 0 ? 0 : 1;
}
