// The npk command line, run as a separate process: help, version, usage
// errors (64), unreadable input (66), diagnostics on stderr, and the
// options that steer loading. Every expectation here holds whatever the
// later phases decide, because each program used either fails before
// type checking or is only checked for npk's own behaviour.
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "skip.h"
#include "test_util.h"

#ifndef NPK_EXE
#error "NPK_EXE (path of the built npk) must be defined by the build"
#endif

namespace fs = std::filesystem;
using npk::test::make_temp_dir;
using npk::test::write_file;

namespace {

using Result = npk::test::NpkResult;
using npk::test::run_npk;
using npk::test::slurp;

bool contains(const std::string& s, const std::string& frag) { return s.find(frag) != std::string::npos; }

struct Dir {
    fs::path path = make_temp_dir();
    ~Dir() {
        std::error_code ec;
        fs::remove_all(path, ec);
    }
    std::string put(const std::string& rel, const std::string& text) {
        write_file(path / rel, text);
        return (path / rel).string();
    }
};

const char* const kSyntaxError = "func:main = int32() {\n  ;\n  exit 0;\n};\n";

}  // namespace

TEST_CASE("cli: --help prints usage, options, exit statuses and examples", "[cli]") {
    for (const char* flag : {"--help", "-h"}) {
        Result r = run_npk({flag});
        INFO(r.err);
        CHECK(r.status == 0);
        CHECK(r.err.empty());
        CHECK(contains(r.out, "usage: npk check [options] FILE..."));
        CHECK(contains(r.out, "npk run [options] FILE [-- ARGS...]"));
        for (const char* opt : {"-I DIR", "--strict", "--unchecked", "--load LIB.so", "--color=WHEN", "--version"})
            CHECK(contains(r.out, opt));
        CHECK(contains(r.out, "NPK_PATH"));
        CHECK(contains(r.out, "64  bad command line"));
        CHECK(contains(r.out, "66  a FILE does not exist"));
        CHECK(contains(r.out, "examples:\n  npk check "));
    }
    // After the command, and as a command, too.
    CHECK(run_npk({"check", "--help"}).status == 0);
    CHECK(contains(run_npk({"help"}).out, "usage: npk check"));
}

TEST_CASE("cli: --help names the stdlib folder of the build tree", "[cli]") {
    Result r = run_npk({"--help"});
    CHECK(contains(r.out, std::string("  ") + NPK_SOURCE_STDLIB_DIR + "\n"));
}

TEST_CASE("cli: --version", "[cli]") {
    Result r = run_npk({"--version"});
    CHECK(r.status == 0);
    CHECK(r.err.empty());
    CHECK(r.out.rfind("npk ", 0) == 0);
    CHECK(r.out.find_first_of("0123456789") == 4);
    CHECK(r.out.back() == '\n');
}

TEST_CASE("cli: usage errors exit 64 with one clear line and the usage", "[cli]") {
    Dir d;
    std::string f = d.put("main.npk", kSyntaxError);
    struct Case { std::vector<std::string> args; const char* message; };
    const std::vector<Case> cases = {
        {{}, "npk: error: Missing command ('check' or 'run')"},
        {{"compile", f}, "npk: error: Unknown command 'compile' (the commands are 'check' and 'run')"},
        {{"--bogus"}, "npk: error: Unknown option '--bogus' before the command"},
        {{"check", "--bogus", f}, "npk: error: Unknown option '--bogus'"},
        {{"check", "-x", f}, "npk: error: Unknown option '-x'"},
        {{"check"}, "npk: error: Missing FILE for 'npk check'"},
        {{"run"}, "npk: error: Missing FILE for 'npk run'"},
        {{"check", "--strict"}, "npk: error: Missing FILE for 'npk check'"},
        {{"check", "--unchecked", f}, "npk: error: '--unchecked' is an option of 'npk run' (npk check always checks)"},
        {{"run", f, f}, "npk: error: 'npk run' takes one FILE (arguments for the program go after '--')"},
        {{"check", f, "-I"}, "npk: error: Option '-I' needs a value"},
        {{"check", f, "--load"}, "npk: error: Option '--load' needs a value"},
        {{"check", "--load=", f}, "npk: error: Option '--load=' needs a value"},
        {{"check", "--color=purple", f}, "npk: error: Invalid value 'purple' for --color (use auto, always or never)"},
        {{"check", f, "--color"}, "npk: error: Option '--color' needs a value"},
    };
    for (const Case& c : cases) {
        Result r = run_npk(c.args);
        INFO(r.err);
        CHECK(r.status == 64);
        CHECK(r.out.empty());
        CHECK(r.err.rfind(std::string(c.message) + "\n", 0) == 0);
        CHECK(contains(r.err, "usage: npk check [options] FILE..."));
        CHECK(contains(r.err, "Try 'npk --help'"));
    }
}

TEST_CASE("cli: a missing FILE exits 66", "[cli]") {
    Dir d;
    std::string missing = (d.path / "absent.npk").string();
    for (const char* cmd : {"check", "run"}) {
        Result r = run_npk({cmd, missing});
        CHECK(r.status == 66);
        CHECK(r.out.empty());
        CHECK(r.err == "npk: error: Cannot read '" + missing + "': No such file or directory\n");
    }
}

TEST_CASE("cli: a directory as FILE exits 66", "[cli]") {
    Dir d;
    for (const char* cmd : {"check", "run"}) {
        Result r = run_npk({cmd, d.path.string()});
        CHECK(r.status == 66);
        CHECK(r.err == "npk: error: Cannot read '" + d.path.string() + "': Is a directory\n");
    }
}

TEST_CASE("cli: check goes on after an unreadable FILE, and 66 outranks 1", "[cli]") {
    Dir d;
    std::string bad = d.put("bad.npk", kSyntaxError);
    std::string missing = (d.path / "absent.npk").string();
    Result r = run_npk({"check", missing, bad});
    CHECK(r.status == 66);
    CHECK(contains(r.err, "Cannot read '" + missing + "'"));
    CHECK(contains(r.err, bad + ":2:3: error: Expected expression, found ';'"));
    Result s = run_npk({"check", bad, missing});
    CHECK(s.status == 66);
}

TEST_CASE("cli: syntax errors print FILE:LINE:COL, the line and a caret, exit 1", "[cli]") {
    Dir d;
    std::string f = d.put("main.npk", kSyntaxError);
    for (const char* cmd : {"check", "run"}) {
        Result r = run_npk({cmd, "--color=never", f});
        CHECK(r.status == 1);
        CHECK(r.out.empty());
        CHECK(r.err == f + ":2:3: error: Expected expression, found ';'\n      ;\n      ^\n");
    }
}

TEST_CASE("cli: every error of the file is printed, in order", "[cli]") {
    Dir d;
    std::string f = d.put("three.npk",
                          "func:a = int32() { x = ; };\n"
                          "func:b = int32() { defer free(p); };\n"
                          "func:c = int32() { y = 300i8; };\n");
    Result r = run_npk({"check", f});
    CHECK(r.status == 1);
    size_t a = r.err.find(f + ":1:24: error: Expected expression, found ';'");
    size_t b = r.err.find(f + ":2:26: error: 'defer' must be followed by a block");
    size_t c = r.err.find(f + ":3:24: error: Integer literal 300i8 does not fit in int8");
    CHECK(a != std::string::npos);
    CHECK(b != std::string::npos);
    CHECK(c != std::string::npos);
    CHECK(a < b);
    CHECK(b < c);
}

TEST_CASE("cli: non-UTF-8 bytes are one error with a position", "[cli]") {
    Dir d;
    std::string f = d.put("latin1.npk", "// caf\xE9\nfunc:main = int32() { exit 0; };\n");
    Result r = run_npk({"check", f});
    CHECK(r.status == 1);
    CHECK(r.err.rfind(f + ":1:7: error: Invalid UTF-8 (byte 0xE9): source files must be UTF-8 text\n", 0) == 0);
    CHECK(std::count(r.err.begin(), r.err.end(), '^') == 1);
}

TEST_CASE("cli: an empty file is an error of a later phase, not a crash", "[cli]") {
    Dir d;
    std::string f = d.put("empty.npk", "");
    for (const char* cmd : {"check", "run"}) {
        Result r = run_npk({cmd, f});
        INFO(r.err);
        CHECK(r.status == 1);  // no `main` (or, before the type checker, its placeholder)
        CHECK(contains(r.err, "error: "));
    }
}

TEST_CASE("cli: --color decides escape sequences", "[cli]") {
    Dir d;
    std::string f = d.put("main.npk", kSyntaxError);
    Result always = run_npk({"check", "--color=always", f});
    CHECK(contains(always.err, "\x1b["));
    Result never = run_npk({"check", "--color=never", f});
    CHECK_FALSE(contains(never.err, "\x1b["));
    // auto: stderr is a file here, not a terminal.
    Result autom = run_npk({"check", "--color", "auto", f});
    CHECK_FALSE(contains(autom.err, "\x1b["));
    CHECK(autom.status == 1);
}

// The options that steer `use` resolution reach the loader: each test
// imports a library whose only content is a syntax error, so finding it
// is an error in *that* file (and not finding it would be a different
// error), before any later phase runs.
TEST_CASE("cli: -I DIR and -IDIR are searched, in order", "[cli]") {
    Dir d;
    std::string main = d.put("proj/main.npk", "use \"lib.npk\".*;\n");
    std::string lib1 = d.put("inc1/lib.npk", "func:x = ;\n");
    d.put("inc2/lib.npk", "func:y = ;\n");
    Result r = run_npk({"check", "-I", (d.path / "inc1").string(), "-I" + (d.path / "inc2").string(), main},
                   {{"NPK_PATH", ""}});
    CHECK(r.status == 1);
    CHECK(contains(r.err, lib1 + ":1:10: error: Expected a return type after '=', found ';'"));
    Result s = run_npk({"check", "-I" + (d.path / "inc2").string(), main}, {{"NPK_PATH", ""}});
    CHECK(contains(s.err, (d.path / "inc2/lib.npk").string() + ":1:10: error:"));
}

TEST_CASE("cli: NPK_PATH entries are searched after -I", "[cli]") {
    Dir d;
    std::string main = d.put("proj/main.npk", "use \"lib.npk\".*;\n");
    std::string lib = d.put("env/lib.npk", "func:x = ;\n");
    Result r = run_npk({"check", main}, {{"NPK_PATH", "/nonexistent:" + (d.path / "env").string()}});
    CHECK(r.status == 1);
    CHECK(contains(r.err, lib + ":1:10: error:"));
}

TEST_CASE("cli: a missing import lists every folder, the stdlib last", "[cli]") {
    Dir d;
    std::string main = d.put("proj/main.npk", "use \"zz_missing.npk\".*;\n");
    Result r = run_npk({"check", "-I", "/inc/a", main}, {{"NPK_PATH", "/env/b"}});
    CHECK(r.status == 1);
    CHECK(contains(r.err, main + ":1:1: error: Cannot find 'zz_missing.npk' (searched: " +
                              (d.path / "proj").string() + ", /inc/a, /env/b, " +
                              NPK_SOURCE_STDLIB_DIR + ")\n"));
}

TEST_CASE("cli: a relative FILE resolves its imports from its own folder", "[cli]") {
    Dir d;
    d.put("sub/main.npk", "use \"lib.npk\".*;\n");
    d.put("sub/lib.npk", "func:x = ;\n");
    Result r = run_npk({"check", "sub/main.npk"}, {{"NPK_PATH", ""}}, d.path);
    CHECK(r.status == 1);
    CHECK(contains(r.err, "sub/lib.npk:1:10: error:"));
}

TEST_CASE("cli: '--' ends the options", "[cli]") {
    Dir d;
    d.put("-odd.npk", kSyntaxError);
    Result r = run_npk({"check", "--", "-odd.npk"}, {}, d.path);
    CHECK(r.status == 1);
    CHECK(contains(r.err, "-odd.npk:2:3: error:"));
    // For run, what follows '--' is the program's and ignored.
    d.put("main.npk", kSyntaxError);
    Result s = run_npk({"run", "main.npk", "--", "--bogus", "x"}, {}, d.path);
    CHECK(s.status == 1);
    CHECK(contains(s.err, "main.npk:2:3: error:"));
}

TEST_CASE("cli: hostile input is an error, never a crash", "[cli]") {
    Dir d;
    std::string deep = d.put("deep.npk", "func:main = int32() { exit " + std::string(100000, '(') + "0" +
                                             std::string(100000, ')') + "; };\n");
    Result r = run_npk({"check", deep});
    CHECK(r.status == 1);
    CHECK(contains(r.err, "Nesting too deep"));
    std::string junk;
    for (int i = 0; i < 4096; ++i) junk += static_cast<char>((i * 7919) % 251 + 1);
    std::string bin = d.put("junk.npk", junk);
    Result s = run_npk({"check", bin});
    CHECK(s.status == 1);
}

// An installed npk (PREFIX/bin/npk) takes its stdlib from
// PREFIX/share/npk/stdlib (CMAKE_INSTALL_DATADIR is "share" on this
// platform) when that folder exists.
TEST_CASE("cli: an installed npk uses PREFIX/share/npk/stdlib", "[cli]") {
    Dir d;
    fs::create_directories(d.path / "bin");
    fs::copy_file(NPK_EXE, d.path / "bin/npk");
    fs::permissions(d.path / "bin/npk", fs::perms::owner_all);
    std::string main = d.put("main.npk", "use \"zz_missing.npk\".*;\n");
    std::string exe = (d.path / "bin/npk").string();
    auto run_installed = [&](const std::vector<std::string>& args) {
        return run_npk(args, {{"NPK_PATH", ""}}, {}, exe);
    };
    // Not installed yet: the source tree's stdlib.
    CHECK(contains(run_installed({"--help"}).out, std::string("  ") + NPK_SOURCE_STDLIB_DIR + "\n"));
    fs::create_directories(d.path / "share/npk/stdlib");
    std::string installed = (d.path / "share/npk/stdlib").string();
    CHECK(contains(run_installed({"--help"}).out, "  " + installed + "\n"));
    Result r = run_installed({"check", main});
    CHECK(r.status == 1);
    CHECK(contains(r.err, "(searched: " + d.path.string() + ", " + installed + ")"));
}

TEST_CASE("cli: a --load library that does not load is one clear line, exit 66 (issue 9)", "[cli][hostile]") {
    Dir d;
    std::string prog = d.put("ok.npk", "func:main = int32() { exit 0; };\n"
                                       "func:failsafe = int32(tbb32:err) { exit 1; };\n");
    std::string junk = d.put("junk.so", "not an ELF file at all\n");
    for (const char* cmd : {"check", "run"}) {
        INFO(cmd);
        Result missing = run_npk({cmd, "--load", d.path.string() + "/absent.so", prog});
        CHECK(missing.status == 66);
        CHECK(missing.err == "npk: error: Cannot load the library '" + d.path.string() +
                                 "/absent.so' given with --load: cannot open shared object file: "
                                 "No such file or directory\n");
        Result bad = run_npk({cmd, "--load=" + junk, prog});
        CHECK(bad.status == 66);
        CHECK(contains(bad.err, "npk: error: Cannot load the library '" + junk + "' given with --load: "));
        CHECK(std::count(bad.err.begin(), bad.err.end(), '\n') == 1);
        Result bare = run_npk({cmd, "--load", "libnpk-absent.so", prog});
        CHECK(bare.status == 66);
        CHECK(contains(bare.err, "(a name without '/' is searched where the dynamic linker looks; "
                                 "write ./libnpk-absent.so for a file here)"));
    }
}

TEST_CASE("cli: running out of memory while the program runs is 'out of memory', exit 70 (issue 9)", "[cli][hostile]") {
#if defined(__SANITIZE_ADDRESS__) || defined(NPK_TEST_EMULATOR)
    npk_test_skip("an address-space limit cannot be set under AddressSanitizer or an emulator");
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
    npk_test_skip("an address-space limit cannot be set under AddressSanitizer");
#endif
#endif
    // Each frame of `deep` holds an L15 (65,536 scalars, the most a struct
    // may have): a few hundred frames exhaust a 1 GiB address space.
    std::string src;
    src += "struct:L0 = { int64:a; int64:b; };\n";
    for (int k = 1; k <= 15; ++k)
        src += "struct:L" + std::to_string(k) + " = { L" + std::to_string(k - 1) + ":a; L" +
               std::to_string(k - 1) + ":b; };\n";
    src += "func:deep = int32(int32:n) {\n"
           "    L15:v;\n"
           "    if (n == 0) { pass 0; }\n"
           "    pass raw deep(n - 1);\n"
           "};\n"
           "func:main = int32() {\n"
           "    fixed int32:r = raw deep(900);\n"
           "    exit 3;\n"
           "};\n"
           "func:failsafe = int32(tbb32:err) { exit 1; };\n";
    Dir d;
    std::string prog = d.put("oom.npk", src);
    Result r = run_npk({"-c", "ulimit -v 1048576 && exec \"$0\" \"$@\"", NPK_EXE, "run", prog}, {}, {}, "/bin/sh");
    INFO(r.err);
    CHECK(r.status == 70);
    CHECK(r.err == "npk: error: Out of memory while running the program\n");
}

TEST_CASE("cli: run --unchecked skips the static checks, and the run-time gate stops the error", "[cli]") {
    Dir d;
    std::string f = d.put("main.npk",
                          "func:main = int32() {\n    wild int8->:p = alloc(16);\n    wild int8->:q = p;\n"
                          "    free(p);\n    free(q);\n    exit 0;\n};\n"
                          "func:failsafe = int32(tbb32:err) {\n    exit 9;\n};\n");
    Result checked = run_npk({"run", f});
    CHECK(checked.status == 1);
    CHECK(contains(checked.err, "main.npk:5:5: error: [ARIA-022]"));

    Result unchecked = run_npk({"run", "--unchecked", f});
    INFO(unchecked.err);
    CHECK(unchecked.status == 9);  // failsafe's exit: npk run's exit statuses
    CHECK(contains(unchecked.err, "main.npk:5:5: runtime error: 'free' refused: this heap block was already released"));
    CHECK(contains(unchecked.err, "main.npk:4:5: note: released here"));
    CHECK(!contains(unchecked.err, "ARIA-022"));

    // Types are still checked.
    std::string bad = d.put("bad.npk", "func:main = int32() {\n    int32:x = true;\n    exit 0;\n};\n"
                                       "func:failsafe = int32(tbb32:err) {\n    exit 9;\n};\n");
    CHECK(run_npk({"run", "--unchecked", bad}).status == 1);
}
