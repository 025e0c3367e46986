// The `use` loader (nitpick-subset.md §3): resolution order, load once,
// cycles, missing files, UTF-8 and empty files, and the root file's I/O
// errors.
#include <catch2/catch.hpp>

#include <sys/stat.h>

#include <cstdlib>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>

#include "driver/loader.h"
#include "test_util.h"

using namespace npk;
using namespace npk::test;
using npk::ast::Program;
namespace fs = std::filesystem;

namespace {

// Sets NPK_PATH for one scope, restoring the old value after.
class ScopedNpkPath {
public:
    explicit ScopedNpkPath(const std::optional<std::string>& value) {
        const char* old = std::getenv("NPK_PATH");
        if (old) old_ = old;
        if (value) setenv("NPK_PATH", value->c_str(), 1);
        else unsetenv("NPK_PATH");
    }
    ~ScopedNpkPath() {
        if (old_) setenv("NPK_PATH", old_->c_str(), 1);
        else unsetenv("NPK_PATH");
    }

private:
    std::optional<std::string> old_;
};

// A temporary tree of folders; removed at the end of the test.
struct Tree {
    fs::path dir = make_temp_dir();
    ~Tree() {
        std::error_code ec;
        fs::remove_all(dir, ec);
    }
    std::string put(const std::string& rel, const std::string& text) {
        write_file(dir / rel, text);
        return (dir / rel).string();
    }
    std::string path(const std::string& rel) const { return (dir / rel).string(); }
};

struct Load {
    SourceManager sources;
    Diagnostics diag{sources};
    Program prog;
    bool ok = false;
};

std::unique_ptr<Load> load(const std::string& root, const Options& opts) {
    auto l = std::make_unique<Load>();
    l->ok = load_program(root, opts, l->sources, l->prog, l->diag);
    return l;
}

std::string diags(const Load& l) {
    std::string s;
    for (const auto& d : l.diag.all()) s += l.diag.format_line(d) + "\n";
    return s;
}

bool has_err(const Load& l, uint32_t line, uint32_t col, const std::string& frag) {
    for (const auto& d : l.diag.all())
        if (d.severity == Severity::Error && (line == 0 || d.loc.line == line) &&
            (col == 0 || d.loc.col == col) && d.message.find(frag) != std::string::npos)
            return true;
    return false;
}

// A library whose only function's name says where it was found.
std::string lib(const std::string& tag) { return "pub func:from_" + tag + " = int32() { pass 1; };\n"; }

// Which copy of lib.npk module `i` is.
std::string tag_of(const Program& prog, size_t i) {
    REQUIRE(prog.modules.size() > i);
    const auto& funcs = prog.modules[i]->funcs;
    REQUIRE(funcs.size() == 1);
    return funcs[0]->name.substr(5);
}
template <class L>
std::string tag_of(const L& l, size_t i) {
    return tag_of(l.prog, i);
}

}  // namespace

TEST_CASE("loader: the root is modules[0] and its uses resolve", "[loader]") {
    auto l = load_text("use \"lib.npk\".*;\nfunc:main = int32() { exit 0; };\n",
                       {{"lib.npk", lib("here")}});
    INFO(dump(*l));
    REQUIRE(l->loaded);
    REQUIRE(l->prog.modules.size() == 2);
    CHECK(l->prog.modules[0]->is_root);
    CHECK_FALSE(l->prog.modules[1]->is_root);
    CHECK(l->prog.modules[0]->path == l->path);
    CHECK(&l->prog.root() == l->prog.modules[0].get());
    CHECK(l->prog.modules[0]->uses.at(0).resolved_module == 2);
    CHECK(l->prog.modules[1]->funcs.at(0)->name == "from_here");
    CHECK(l->prog.modules[1]->path == (l->dir / "lib.npk").string());
    CHECK(l->sources.file(l->prog.modules[1]->file).path == l->prog.modules[1]->path);
}

TEST_CASE("loader: resolution order is importing folder, -I, NPK_PATH, stdlib", "[loader]") {
    Tree t;
    std::string root = t.put("proj/main.npk", "use \"lib.npk\".*;\n");
    t.put("inc1/lib.npk", lib("inc1"));
    t.put("inc2/lib.npk", lib("inc2"));
    t.put("env1/lib.npk", lib("env1"));
    t.put("env2/lib.npk", lib("env2"));
    t.put("std/lib.npk", lib("std"));
    Options opts;
    opts.include_dirs = {t.path("inc1"), t.path("inc2")};
    opts.stdlib_dir = t.path("std");
    ScopedNpkPath env(t.path("env1") + ":" + t.path("env2"));

    SECTION("the importing file's folder wins") {
        t.put("proj/lib.npk", lib("proj"));
        auto l = load(root, opts);
        INFO(diags(*l));
        REQUIRE(l->ok);
        CHECK(tag_of(*l, 1) == "proj");
    }
    SECTION("then each -I folder, in order") {
        auto l = load(root, opts);
        REQUIRE(l->ok);
        CHECK(tag_of(*l, 1) == "inc1");
        fs::remove(t.path("inc1/lib.npk"));
        auto m = load(root, opts);
        REQUIRE(m->ok);
        CHECK(tag_of(*m, 1) == "inc2");
    }
    SECTION("then each NPK_PATH entry, in order") {
        opts.include_dirs.clear();
        auto l = load(root, opts);
        REQUIRE(l->ok);
        CHECK(tag_of(*l, 1) == "env1");
        fs::remove(t.path("env1/lib.npk"));
        auto m = load(root, opts);
        REQUIRE(m->ok);
        CHECK(tag_of(*m, 1) == "env2");
    }
    SECTION("empty NPK_PATH entries are skipped") {
        opts.include_dirs.clear();
        ScopedNpkPath env2("::" + t.path("env2") + ":");
        auto l = load(root, opts);
        REQUIRE(l->ok);
        CHECK(tag_of(*l, 1) == "env2");
    }
    SECTION("the stdlib folder comes last") {
        opts.include_dirs.clear();
        ScopedNpkPath none(std::nullopt);
        auto l = load(root, opts);
        REQUIRE(l->ok);
        CHECK(tag_of(*l, 1) == "std");
        CHECK(l->prog.modules[1]->path == (t.dir / "std/lib.npk").string());
    }
}

TEST_CASE("loader: a use resolves against the importing file's folder, not the root's", "[loader]") {
    auto l = load_text("use \"sub/a.npk\".*;\n",
                       {{"sub/a.npk", "use \"b.npk\".*;\n"},
                        {"sub/b.npk", lib("sub")},
                        {"b.npk", lib("root")}});
    INFO(dump(*l));
    REQUIRE(l->loaded);
    REQUIRE(l->prog.modules.size() == 3);
    CHECK(tag_of(*l, 2) == "sub");
}

TEST_CASE("loader: a folder or FIFO named like the file is skipped", "[loader]") {
    Tree t;
    std::string root = t.put("main.npk", "use \"lib.npk\".*;\n");
    fs::create_directories(t.dir / "lib.npk");
    fs::create_directories(t.dir / "inc");
    REQUIRE(mkfifo(t.path("inc/lib.npk").c_str(), 0600) == 0);
    t.put("std/lib.npk", lib("std"));
    Options opts;
    opts.include_dirs = {t.path("inc")};
    opts.stdlib_dir = t.path("std");
    ScopedNpkPath none(std::nullopt);
    auto l = load(root, opts);
    INFO(diags(*l));
    REQUIRE(l->ok);
    CHECK(tag_of(*l, 1) == "std");
}

TEST_CASE("loader: each file loads once, however it is spelled", "[loader]") {
    auto l = load_text(
        "use \"a.npk\".*;\nuse \"b.npk\".*;\nuse \"./c.npk\".*;\n",
        {{"a.npk", "use \"c.npk\".*;\npub func:fa = int32() { pass 1; };\n"},
         {"b.npk", "use \"sub/../c.npk\".*;\n"},
         {"c.npk", lib("c")}});
    INFO(dump(*l));
    REQUIRE(l->loaded);
    const auto& m = l->prog.modules;
    REQUIRE(m.size() == 4);
    // Depth first, in source order: root, a, c (a's import), b.
    CHECK(m[1]->funcs.at(0)->name == "fa");
    CHECK(tag_of(*l, 2) == "c");
    CHECK(m[0]->uses[0].resolved_module == 2);
    CHECK(m[1]->uses[0].resolved_module == 3);
    CHECK(m[0]->uses[1].resolved_module == 4);
    CHECK(m[3]->uses[0].resolved_module == 3);
    CHECK(m[0]->uses[2].resolved_module == 3);
    CHECK(l->sources.size() == 4);
}

TEST_CASE("loader: every use form resolves its file", "[loader]") {
    auto l = load_text("use \"a.npk\";\nuse \"a.npk\".{x, y};\nuse \"a.npk\" as a;\nuse \"a.npk\".*;\n",
                       {{"a.npk", lib("a")}});
    INFO(dump(*l));
    REQUIRE(l->loaded);
    REQUIRE(l->prog.modules.size() == 2);
    for (const auto& u : l->prog.modules[0]->uses) CHECK(u.resolved_module == 2);
}

TEST_CASE("loader: an absolute use path", "[loader]") {
    Tree t;
    std::string libp = t.put("elsewhere/lib.npk", lib("abs"));
    auto l = load_text("use \"" + libp + "\".*;\n");
    INFO(dump(*l));
    REQUIRE(l->loaded);
    CHECK(tag_of(*l, 1) == "abs");
    CHECK(l->prog.modules[1]->path == libp);
}

TEST_CASE("loader: import cycles are errors naming the cycle", "[loader]") {
    SECTION("a file importing itself") {
        auto l = load_text("func:main = int32() { exit 0; };\nuse \"main.npk\".*;\n");
        INFO(dump(*l));
        CHECK_FALSE(l->loaded);
        CHECK(has_error(*l, "", 2, 1, "Import cycle: " + l->path + " -> " + l->path));
        CHECK(l->prog.modules.size() == 1);
    }
    SECTION("a longer cycle") {
        auto l = load_text("use \"a.npk\".*;\n",
                           {{"a.npk", "use \"b.npk\".*;\n"},
                            {"b.npk", "\n\n   use \"a.npk\".*;\n"}});
        INFO(dump(*l));
        CHECK_FALSE(l->loaded);
        std::string a = (l->dir / "a.npk").string(), b = (l->dir / "b.npk").string();
        CHECK(has_error(*l, "", 3, 4, "Import cycle: " + a + " -> " + b + " -> " + a));
        CHECK(l->diag.error_count() == 1);
        // The error is in b.npk.
        CHECK(l->sources.file(l->diag.all()[0].loc.file).path == b);
    }
    SECTION("a diamond is not a cycle") {
        auto l = load_text("use \"a.npk\".*;\nuse \"b.npk\".*;\n",
                           {{"a.npk", "use \"d.npk\".*;\n"},
                            {"b.npk", "use \"d.npk\".*;\n"},
                            {"d.npk", lib("d")}});
        INFO(dump(*l));
        CHECK(l->loaded);
        CHECK(l->prog.modules.size() == 4);
    }
}

TEST_CASE("loader: a missing file names the path and every folder searched", "[loader]") {
    Tree t;
    std::string root = t.put("proj/main.npk", "func:main = int32() { exit 0; };\n  use \"nope.npk\".*;\n");
    Options opts;
    opts.include_dirs = {t.path("inc1"), t.path("inc2")};
    opts.stdlib_dir = t.path("std");
    ScopedNpkPath env(t.path("env1") + ":" + t.path("env2"));
    auto l = load(root, opts);
    INFO(diags(*l));
    CHECK_FALSE(l->ok);
    CHECK(l->diag.error_count() == 1);
    CHECK(has_err(*l, 2, 3,
                  "Cannot find 'nope.npk' (searched: " + t.path("proj") + ", " + t.path("inc1") + ", " +
                      t.path("inc2") + ", " + t.path("env1") + ", " + t.path("env2") + ", " +
                      t.path("std") + ")"));
}

TEST_CASE("loader: a missing file beside a relative root path", "[loader]") {
    Tree t;
    t.put("main.npk", "use \"nope.npk\".*;\n");
    fs::path old = fs::current_path();
    fs::current_path(t.dir);
    Options opts;
    ScopedNpkPath none(std::nullopt);
    auto l = load("main.npk", opts);
    fs::current_path(old);
    INFO(diags(*l));
    CHECK(has_err(*l, 1, 1, "Cannot find 'nope.npk' (searched: .)"));
    CHECK(l->diag.all()[0].loc.file != 0);
}

TEST_CASE("loader: use paths must name .npk or .aria files", "[loader]") {
    auto l = load_text("use \"lib.txt\".*;\nuse \"x.aria\".*;\n", {{"lib.txt", ""}, {"x.aria", lib("aria")}});
    INFO(dump(*l));
    CHECK(l->diag.error_count() == 1);
    CHECK(has_error(*l, "", 1, 1, "'use' must name a .npk (or .aria) file, not 'lib.txt'"));
    CHECK(l->prog.modules.size() == 2);  // x.aria loaded
}

TEST_CASE("loader: syntax errors of an imported file carry its path", "[loader]") {
    auto l = load_text("use \"bad.npk\".*;\nfunc:main = int32() { exit 0; };\n",
                       {{"bad.npk", "func:f = int32() {\n  ;\n};\n"}});
    INFO(dump(*l));
    CHECK_FALSE(l->loaded);
    REQUIRE(l->diag.error_count() == 1);
    const auto& d = l->diag.all()[0];
    CHECK(l->diag.format_line(d) == (l->dir / "bad.npk").string() + ":2:3: error: Expected expression, found ';'");
}

TEST_CASE("loader: non-UTF-8 input is one error with its position", "[loader]") {
    struct Case { std::string text; uint32_t line, col; const char* byte; };
    const Case cases[] = {
        {"func:main = int32() {\n  x = \"\xFF\";\n};\n", 2, 8, "0xFF"},
        {"\xC0\xAF", 1, 1, "0xC0"},                   // overlong '/'
        {"// \xED\xA0\x80\n", 1, 4, "0xED"},          // a UTF-16 surrogate
        {"// ok \xE2\x82\xAC then \xE2\x82", 1, 14, "0xE2"},  // truncated; the euro sign is one column
        {"x\n\n\x80", 3, 1, "0x80"},                  // lone continuation byte
        {"\xF4\x90\x80\x80", 1, 1, "0xF4"},           // above U+10FFFF
    };
    for (const Case& c : cases) {
        auto l = load_text(c.text);
        INFO(dump(*l));
        CHECK_FALSE(l->loaded);
        CHECK(l->diag.error_count() == 1);
        CHECK(has_error(*l, "", c.line, c.col, std::string("Invalid UTF-8 (byte ") + c.byte +
                                                   "): source files must be UTF-8 text"));
    }
    // ... in an imported file as well.
    auto l = load_text("use \"lib.npk\".*;\n", {{"lib.npk", "\n \xFE"}});
    CHECK(l->diag.error_count() == 1);
    CHECK(has_error(*l, "", 2, 2, "Invalid UTF-8 (byte 0xFE)"));
}

TEST_CASE("loader: valid UTF-8 passes", "[loader]") {
    CHECK(find_invalid_utf8("") == std::string_view::npos);
    CHECK(find_invalid_utf8("plain ascii\n") == std::string_view::npos);
    CHECK(find_invalid_utf8("\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80\xF4\x8F\xBF\xBF") == std::string_view::npos);
    CHECK(find_invalid_utf8("ab\xC3") == 2);
    CHECK(find_invalid_utf8("\xE0\x80\x80") == 0);  // overlong 3-byte
    CHECK(find_invalid_utf8("\xF0\x80\x80\x80") == 0);  // overlong 4-byte
    CHECK(find_invalid_utf8("a\xF8\x88\x80\x80\x80") == 1);
    CHECK(find_invalid_utf8("\xC3\x28") == 0);
}

TEST_CASE("loader: an empty file loads as an empty module", "[loader]") {
    for (const char* text : {"", "\n\n", "// just a comment\n", "\xEF\xBB\xBF"}) {
        auto l = load_text(text);
        INFO(dump(*l));
        CHECK(l->loaded);
        CHECK(l->diag.error_count() == 0);
        REQUIRE(l->prog.modules.size() == 1);
        CHECK(l->prog.modules[0]->is_root);
        CHECK(l->prog.modules[0]->funcs.empty());
    }
    auto l = load_text("use \"empty.npk\".*;\n", {{"empty.npk", ""}});
    CHECK(l->loaded);
    CHECK(l->prog.modules.size() == 2);
}

TEST_CASE("loader: root file I/O errors", "[loader]") {
    Tree t;
    Options opts;
    auto missing = load(t.path("absent.npk"), opts);
    CHECK_FALSE(missing->ok);
    REQUIRE(missing->diag.error_count() == 1);
    CHECK(missing->diag.format_line(missing->diag.all()[0]) ==
          "npk: error: Cannot read '" + t.path("absent.npk") + "': No such file or directory");
    CHECK(missing->prog.modules.empty());

    auto dir = load(t.dir.string(), opts);
    CHECK_FALSE(dir->ok);
    CHECK(has_err(*dir, 0, 0, "Cannot read '" + t.dir.string() + "': Is a directory"));

    std::string text, why;
    CHECK(read_source_file(t.path("absent.npk"), text, why) == ReadStatus::NotFound);
    CHECK(read_source_file(t.dir.string(), text, why) == ReadStatus::NotAFile);
    REQUIRE(mkfifo(t.path("fifo.npk").c_str(), 0600) == 0);
    CHECK(read_source_file(t.path("fifo.npk"), text, why) == ReadStatus::NotAFile);
    CHECK(why == "Is a FIFO (named pipe), not a regular file");
    CHECK(read_source_file(t.path("absent/x.npk"), text, why) == ReadStatus::NotFound);
    t.put("ok.npk", "abc");
    CHECK(read_source_file(t.path("ok.npk"), text, why) == ReadStatus::Ok);
    CHECK(text == "abc");
}

TEST_CASE("loader: a file too large is refused", "[loader]") {
    Tree t;
    std::string big = t.path("big.npk");
    {
        std::ofstream out(big, std::ios::binary);
        out.seekp(static_cast<std::streamoff>(kMaxSourceBytes));
        out.put('\n');
    }
    std::string text, why;
    CHECK(read_source_file(big, text, why) == ReadStatus::TooLarge);
    CHECK(why.find("the limit is 16 MiB") != std::string::npos);
}

TEST_CASE("loader: an import chain deeper than the limit is an error, not a crash", "[loader]") {
    std::vector<std::pair<std::string, std::string>> files;
    for (int i = 0; i < 300; ++i)
        files.push_back({"m" + std::to_string(i) + ".npk", "use \"m" + std::to_string(i + 1) + ".npk\".*;\n"});
    files.push_back({"m300.npk", lib("end")});
    auto l = load_text("use \"m0.npk\".*;\n", files);
    CHECK_FALSE(l->loaded);
    CHECK(l->diag.error_count() == 1);
    CHECK(has_error(*l, "", 1, 1, "Imports nested too deeply"));
}

TEST_CASE("loader: load_program_text takes the root's text from the caller", "[loader]") {
    Tree t;
    t.put("lib.npk", lib("t"));
    SourceManager sources;
    Diagnostics diag(sources);
    Program prog;
    Options opts;
    bool ok = load_program_text(t.path("virtual.npk"), "use \"lib.npk\".*;\n", opts, sources, prog, diag);
    CHECK(ok);
    REQUIRE(prog.modules.size() == 2);
    CHECK(prog.modules[0]->path == t.path("virtual.npk"));
}

TEST_CASE("loader: a NUL byte in a use path is an error at the string (issue 9)", "[loader][hostile]") {
    Tree t;
    // Escaped \0, then a raw NUL byte: either would make the OS open
    // "/etc/passwd", past the .npk check.
    std::string root = t.put("main.npk", std::string("use \"/etc/passwd\\0.npk\".*;\nuse \"/etc/passwd") +
                                             '\0' + ".npk\".*;\n");
    Options opts;
    auto l = load(root, opts);
    INFO(diags(*l));
    CHECK_FALSE(l->ok);
    CHECK(l->diag.error_count() == 2);
    CHECK(has_err(*l, 1, 5, "The path of a 'use' must not contain a NUL byte"));
    CHECK(has_err(*l, 2, 5, "The path of a 'use' must not contain a NUL byte"));
    CHECK(l->prog.modules.size() == 1);  // nothing was opened
    for (const auto& d : l->diag.all()) CHECK(d.message.find("root:") == std::string::npos);
}

TEST_CASE("loader: a use that finds only a folder, FIFO or device says so (issue 9)", "[loader][hostile]") {
    Tree t;
    std::string root = t.put("main.npk", "use \"dir.npk\".*;\nuse \"pipe.npk\".*;\nuse \"dev.npk\".*;\n");
    fs::create_directories(t.dir / "dir.npk");
    REQUIRE(mkfifo(t.path("pipe.npk").c_str(), 0600) == 0);
    fs::create_symlink("/dev/null", t.dir / "dev.npk");
    Options opts;
    ScopedNpkPath none(std::nullopt);
    auto l = load(root, opts);  // must not block on the FIFO
    INFO(diags(*l));
    CHECK(l->diag.error_count() == 3);
    // The real error first, then what each searched place really holds
    // (issue 19: it said "Cannot find", and claimed the stdlib held a FIFO too).
    CHECK(has_err(*l, 1, 1, "Cannot use 'dir.npk': " + t.path("dir.npk") + " is a directory (searched: " +
                                t.dir.string() + " holds a directory)"));
    CHECK(has_err(*l, 2, 1, "Cannot use 'pipe.npk': " + t.path("pipe.npk") +
                                " is a FIFO (named pipe), not a regular file (searched: " + t.dir.string() +
                                " holds a FIFO (named pipe))"));
    CHECK(has_err(*l, 3, 1, "Cannot use 'dev.npk': " + t.path("dev.npk") + " is a device, not a regular file"));
    for (const auto& d : l->diag.all()) CHECK(d.message.find("Cannot find") == std::string::npos);

    // Another searched place that holds nothing is said to hold nothing.
    fs::create_directories(t.dir / "lib");
    Options with_lib;
    with_lib.stdlib_dir = t.path("lib");
    auto l2 = load(root, with_lib);
    INFO(diags(*l2));
    CHECK(has_err(*l2, 2, 1, "(searched: " + t.dir.string() + " holds a FIFO (named pipe); " + t.path("lib") +
                                 " holds nothing of that name)"));
}

TEST_CASE("loader: an absolute use path to a folder gives the reason", "[loader][hostile]") {
    Tree t;
    fs::create_directories(t.dir / "abs.npk");
    std::string root = t.put("main.npk", "use \"" + t.path("abs.npk") + "\".*;\n");
    auto l = load(root, Options{});
    INFO(diags(*l));
    CHECK(has_err(*l, 1, 1, "Cannot use '" + t.path("abs.npk") + "': " + t.path("abs.npk") + " is a directory"));
}

TEST_CASE("loader: a root file that is a FIFO is refused without blocking", "[loader][hostile]") {
    Tree t;
    REQUIRE(mkfifo(t.path("root.npk").c_str(), 0600) == 0);
    std::string text, why;
    CHECK(read_source_file(t.path("root.npk"), text, why) == ReadStatus::NotAFile);
    CHECK(why == "Is a FIFO (named pipe), not a regular file");
    CHECK(read_source_file("/dev/null", text, why) == ReadStatus::NotAFile);
    CHECK(why == "Is a device, not a regular file");
}
