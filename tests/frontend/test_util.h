// Shared helpers for the front-end unit tests: write a program to a
// fresh temporary folder, load it as npk would, run the checking phases,
// and look for a diagnostic by code, position and text.
#pragma once

#include <catch2/catch.hpp>

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "syntax/ast.h"
#include "diag/diag.h"
#include "phases.h"
#include "sema/sema.h"

namespace npk::test {

// A program loaded from text, with everything the phases need. Not
// movable (Diagnostics refers to sources): always behind a unique_ptr.
struct Loaded {
    std::filesystem::path dir;   // the temporary folder holding main.npk
    std::string path;            // dir / "main.npk"
    Options opts;
    SourceManager sources;
    Diagnostics diag{sources};
    ast::Program prog;
    std::unique_ptr<Sema> sema;
    bool loaded = false;

    ~Loaded() {
        std::error_code ec;
        if (!dir.empty()) std::filesystem::remove_all(dir, ec);
    }
};

inline std::filesystem::path make_temp_dir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "npk-test-XXXXXX").string();
    char* made = mkdtemp(tmpl.data());
    REQUIRE(made != nullptr);
    return made;
}

inline void write_file(const std::filesystem::path& p, std::string_view text) {
    std::filesystem::create_directories(p.parent_path());
    std::ofstream out(p, std::ios::binary);
    out << text;
    REQUIRE(out.good());
}

// Writes `text` as main.npk (and `extra` files, relative paths, beside
// it) into a fresh temporary folder and loads it (lex, parse, `use`).
// The stdlib folder is the source tree's stdlib/.
inline std::unique_ptr<Loaded> load_text(
    std::string_view text,
    const std::vector<std::pair<std::string, std::string>>& extra = {},
    bool strict = false) {
    auto l = std::make_unique<Loaded>();
    l->dir = make_temp_dir();
    l->path = (l->dir / "main.npk").string();
    write_file(l->path, text);
    for (const auto& [name, body] : extra) write_file(l->dir / name, body);
    l->opts.strict = strict;
#ifdef NPK_SOURCE_STDLIB_DIR
    l->opts.stdlib_dir = NPK_SOURCE_STDLIB_DIR;
#endif
    l->loaded = load_program(l->path, l->opts, l->sources, l->prog, l->diag);
    return l;
}

// load_text, then every checking phase the driver would run, stopping at
// the first phase that reports an error (as npk check does).
inline std::unique_ptr<Loaded> check_text(
    std::string_view text,
    const std::vector<std::pair<std::string, std::string>>& extra = {},
    bool strict = false) {
    auto l = load_text(text, extra, strict);
    if (!l->loaded || l->diag.error_count() != 0) return l;
    l->sema = check_program(l->prog, l->opts, l->diag);
    return l;
}

// All diagnostics as text lines (FILE:L:C: severity: [CODE] message),
// for failure messages.
inline std::string dump(const Loaded& l) {
    std::string s;
    for (const auto& d : l.diag.all()) s += l.diag.format_line(d) + "\n";
    return s;
}

// True if some diagnostic of `severity` has this code (empty: any), this
// line and column (0: any) and a message containing `fragment`.
inline bool has_diag(const Loaded& l, Severity severity, std::string_view code,
                     uint32_t line, uint32_t col, std::string_view fragment) {
    for (const auto& d : l.diag.all()) {
        if (d.severity != severity) continue;
        if (!code.empty() && d.code != code) continue;
        if (line != 0 && d.loc.line != line) continue;
        if (col != 0 && d.loc.col != col) continue;
        if (d.message.find(fragment) == std::string::npos) continue;
        return true;
    }
    return false;
}

inline bool has_error(const Loaded& l, std::string_view code, uint32_t line, uint32_t col,
                      std::string_view fragment) {
    return has_diag(l, Severity::Error, code, line, col, fragment);
}

// ---------------------------------------------------------------------
// Running the built npk as a separate process.
// ---------------------------------------------------------------------
#ifdef NPK_EXE
struct NpkResult {
    int status = -1;     // exit status, or 128 + signal
    std::string out, err;
};

inline std::string slurp(const std::filesystem::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

// Runs npk (the built one unless `exe_path` says otherwise) with `args`,
// `env` set ("" value = unset), in `cwd`, stdin from /dev/null. In a cross
// build the tests run under an emulator, and so must the npk they start:
// NPK_TEST_EMULATOR (CMAKE_CROSSCOMPILING_EMULATOR, ';'-separated) is put
// in front of it.
inline NpkResult run_npk(const std::vector<std::string>& args,
                         const std::map<std::string, std::string>& env = {},
                         const std::filesystem::path& cwd = {},
                         const std::string& exe_path = NPK_EXE) {
    std::vector<std::string> cmd;
#ifdef NPK_TEST_EMULATOR
    std::string_view emu = NPK_TEST_EMULATOR;
    while (!emu.empty()) {
        const size_t semi = emu.find(';');
        if (semi != 0) cmd.emplace_back(emu.substr(0, semi));
        emu = semi == std::string_view::npos ? std::string_view{} : emu.substr(semi + 1);
    }
#endif
    cmd.push_back(exe_path);
    cmd.insert(cmd.end(), args.begin(), args.end());

    const std::filesystem::path tmp = make_temp_dir();
    const std::filesystem::path out = tmp / "out", err = tmp / "err";
    const pid_t pid = fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        int o = open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
        int e = open(err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
        int in = open("/dev/null", O_RDONLY);
        if (o < 0 || e < 0 || in < 0) _exit(125);
        dup2(in, 0);
        dup2(o, 1);
        dup2(e, 2);
        for (const auto& [k, v] : env) {
            if (v.empty()) unsetenv(k.c_str());
            else setenv(k.c_str(), v.c_str(), 1);
        }
        if (!cwd.empty() && chdir(cwd.c_str()) != 0) _exit(125);
        std::vector<char*> argv;
        for (auto& a : cmd) argv.push_back(a.data());
        argv.push_back(nullptr);
        execv(argv[0], argv.data());
        _exit(127);
    }
    int status = 0;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    for (;;) {
        const pid_t r = waitpid(pid, &status, WNOHANG);
        if (r == pid) break;
        if (std::chrono::steady_clock::now() > deadline) {
            kill(pid, SIGKILL);
            waitpid(pid, &status, 0);
            FAIL("npk did not finish within 60 s");
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    NpkResult r;
    r.status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    r.out = slurp(out);
    r.err = slurp(err);
    std::error_code ec;
    std::filesystem::remove_all(tmp, ec);
    return r;
}
#endif  // NPK_EXE

}  // namespace npk::test
