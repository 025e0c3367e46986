// The lifecycle checker (nitpick-subset.md §8.2): shadowing and
// assignment, the worked example of §8.2, and which bodies are checked
// (default vs --strict).
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>

#include "lifecycle_test_util.h"

using namespace npk::test;
using npk::Severity;

// ---------------------------------------------------------------------
// Shadowing and assignment
// ---------------------------------------------------------------------

TEST_CASE("lifecycle: an inner declaration of the same name is a different binding", "[lifecycle]") {
    const std::string src = R"(func:f = NIL(int8->:arg) {
    wild int8->:p = alloc(16);
    {
        wild int8->:p = alloc(8);
        free(p);
    }
    drop p;
    {
        int8->:p = arg;
        free(p);
    }
    free(p);
};
)";
    auto l = life(src);
    INFO(npk::test::dump(*l));
    CHECK(l->diag.all().empty());

    const std::string leak = R"(func:f = NIL() {
    wild int8->:p = alloc(16);
    {
        wild int8->:p = alloc(8);
        free(p);
        free(p);
    }
};
)";
    auto l2 = life(leak);
    INFO(npk::test::dump(*l2));
    CHECK(errors(*l2) == 2);
    CHECK(npk::test::has_error(*l2, "ARIA-022", 6, 9, kDouble));
    CHECK(error_with_note(*l2, "ARIA-014", {8, 1}, kScope, {2, 17}, "'p' declared here"));
}

TEST_CASE("lifecycle: an initializer reads the outer binding of the same name", "[lifecycle]") {
    const std::string src = R"(func:f = NIL() {
    wild int8->:p = alloc(16);
    free(p);
    {
        wild int8->:p = p;
        free(p);
    }
};
)";
    auto l = life(src);
    INFO(npk::test::dump(*l));
    // The inner p is the outer p's (freed) block under the same name.
    CHECK(errors(*l) == 2);
    CHECK(npk::test::has_error(*l, "ARIA-015", 5, 25, kUaf));
    CHECK(npk::test::has_error(*l, "ARIA-022", 6, 9, "Double free of variable 'p'"));
}

TEST_CASE("lifecycle: assigning a freed binding makes it live and owed again", "[lifecycle][assign]") {
    auto l = life(R"(func:f = NIL() {
    wild int8->:p = alloc(16);
    free(p);
    p = alloc(32);
    free(p);
};
)");
    INFO(npk::test::dump(*l));
    CHECK(l->diag.all().empty());

    const std::string leak = R"(func:f = NIL() {
    wild int8->:p = alloc(16);
    free(p);
    p = alloc(32);
};
)";
    auto l2 = life(leak);
    INFO(npk::test::dump(*l2));
    CHECK(errors(*l2) == 1);
    CHECK(npk::test::has_error(*l2, "ARIA-014", 5, 1, kScope));
}

TEST_CASE("lifecycle: overwriting a binding that is still owed a free leaks the old value",
          "[lifecycle][assign]") {
    const std::string src = R"(func:f = NIL() {
    wild int8->:p = alloc(16);
    p = alloc(32);
    free(p);
    wild int8->:q = alloc(16);
    defer { free(q); }
    q = alloc(32);
};
)";
    auto l = life(src);
    INFO(npk::test::dump(*l));
    CHECK(errors(*l) == 2);
    const At p_assign = at(src, "p = alloc(32)");
    const At q_assign = at(src, "q = alloc(32)");
    bool p_found = false, q_found = false;
    for (const auto& d : l->diag.all()) {
        if (d.severity != Severity::Error) continue;
        CHECK(d.code == "ARIA-014");
        if (d.message == "Memory leak: wild variable 'p' was overwritten before being freed") {
            p_found = d.loc.line == p_assign.line;
        }
        if (d.message == "Memory leak: wild variable 'q' was overwritten before being freed") {
            q_found = d.loc.line == q_assign.line;
        }
    }
    CHECK(p_found);
    CHECK(q_found);
}

TEST_CASE("lifecycle: the right side of an assignment is checked first", "[lifecycle][assign]") {
    const std::string src = R"(func:f = NIL() {
    wild int8->:p = alloc(16);
    free(p);
    p = grow(p);
    free(p);
};
)";
    auto l = life(src);
    INFO(npk::test::dump(*l));
    CHECK(errors(*l) == 1);
    CHECK(npk::test::has_error(*l, "ARIA-015", 4, 14, kUaf));
}

// ---------------------------------------------------------------------
// The worked example of §8.2
// ---------------------------------------------------------------------

TEST_CASE("lifecycle: the worked example of §8.2 gives exactly one error", "[lifecycle]") {
    const std::string src = R"(func:demo = int32(int32:n) {
    wildx int8->:code = wildx_alloc(96);
    defer { wildx_free(code); }
    fixed int32:rc = wildx_seal(code);
    if (rc != 0i32) { fail 3i32; }
    wild int8->:blk = alloc(16);
    free(blk);
    free(blk);
    pass n;
};
)";
    auto l = life(src);
    INFO(npk::test::dump(*l));
    REQUIRE(errors(*l) == 1);
    CHECK(npk::test::has_error(*l, "ARIA-022", 8, 5, "Double free of variable 'blk' (already freed)"));
    CHECK(error_with_note(*l, "ARIA-022", {8, 5}, "blk", {7, 5}, "first freed here"));
    CHECK(count(*l, Severity::Warning) == 0);
}

// ---------------------------------------------------------------------
// Scope of the check: default vs --strict
// ---------------------------------------------------------------------

namespace {
constexpr std::string_view kTypeLeak = R"(Type:Page = {
    func:make = wildx int8->() {
        wildx int8->:page = wildx_alloc(64);
        fixed int32:rc = wildx_seal(page);
        if (rc != 0) {
            fixed int32:f = wildx_free(page);
        }
        pass page;
    };
};
impl:Drop:for:Cell = {
    func:drop = NIL($$m Cell:self) {
        wild int8->:scratch = alloc(8);
        pass;
    };
};
struct:Cell = { int64:v; };
func:main = int32() {
    exit 0;
};
)";
}  // namespace

TEST_CASE("lifecycle: Type and impl bodies are checked only with strict", "[lifecycle][strict]") {
    auto plain = life(kTypeLeak);
    INFO(npk::test::dump(*plain));
    CHECK(plain->diag.all().empty());

    auto strict = life_strict(kTypeLeak);
    INFO(npk::test::dump(*strict));
    // The page may have been freed when it is passed; scratch leaks.
    CHECK(has_error(*strict, "ARIA-015", at(kTypeLeak, "page;"),
                    "Use of wild pointer 'page' with unknown state"));
    CHECK(has_error(*strict, "ARIA-014", at(kTypeLeak, "pass;"),
                    "Memory leak on early exit: wild variable 'scratch' was not freed"));
    CHECK(errors(*strict) == 2);
}

TEST_CASE("lifecycle: imported files are checked only with strict", "[lifecycle][strict]") {
    const std::string lib = R"(pub func:leaky = int32() {
    wild int8->:p = alloc(16);
    pass 0;
};
)";
    const std::string src = R"(use "lib.npk".*;
func:main = int32() {
    fixed int32:v = raw leaky();
    exit 0;
};
)";
    auto plain = life(src, {{"lib.npk", lib}});
    INFO(npk::test::dump(*plain));
    CHECK(plain->diag.all().empty());

    auto strict = life_strict(src, {{"lib.npk", lib}});
    INFO(npk::test::dump(*strict));
    REQUIRE(errors(*strict) == 1);
    const auto& d = strict->diag.all().front();
    CHECK(d.code == "ARIA-014");
    CHECK(d.loc.line == 3);
    CHECK(d.loc.col == 5);
    CHECK(d.loc.file != strict->prog.root().file);
    CHECK(d.message == kEarly);
}

TEST_CASE("lifecycle: upstream's jit.npk error paths pass by default and fail --strict", "[lifecycle][strict]") {
    // The shape of upstream Jit.compile_add_i32 (§11.1): each failure frees
    // the page and carries on, so the seal, the second free and the pass
    // may all touch a freed page.
    const std::string jit = R"(extern func:npk_jit_install_add_i32 = int32(?*:page);
Type:Jit = {
    func:compile_add_i32 = wildx int8->() {
        wildx int8->:page = wildx_alloc(64);
        fixed int32:write_rc = npk_jit_install_add_i32(page);
        if (write_rc != 0i32) {
            fixed int32:a = wildx_free(page);
        }
        fixed int32:seal_rc = wildx_seal(page);
        if (seal_rc != 0i32) {
            fixed int32:b = wildx_free(page);
        }
        pass page;
    };
    func:free = int32(wildx int8->:f) {
        pass wildx_free(f);
    };
};
)";
    const std::string src = R"(use "jit.npk".*;
func:main = int32() {
    wildx int8->:f = raw Jit.compile_add_i32();
    drop Jit.free(f);
    exit 0;
};
)";
    auto plain = life(src, {{"jit.npk", jit}});
    INFO(npk::test::dump(*plain));
    CHECK(plain->diag.all().empty());

    auto strict = life_strict(src, {{"jit.npk", jit}});
    INFO(npk::test::dump(*strict));
    CHECK(has_error(*strict, "ARIA-015", at(jit, "page);\n        if (seal_rc"),
                    "Use of wild pointer 'page' with unknown state"));
    CHECK(has_error(*strict, "ARIA-022", at(jit, "wildx_free(page)", 2),
                    "Double free of variable 'page' (already freed)"));
    CHECK(has_error(*strict, "ARIA-015", at(jit, "page;"), "Use of wild pointer 'page' with unknown state"));
    CHECK(errors(*strict) == 3);
}

// ---------------------------------------------------------------------
// Shapes of the upstream JIT / wildx regression programs, in our words.
// ---------------------------------------------------------------------

TEST_CASE("lifecycle: bug245 shape (alloc, install, seal, call, free) is clean", "[lifecycle][bugs]") {
    auto l = life(R"(extern func:npk_jit_install_add_i32 = int32(?*:page);
extern func:npk_jit_call_i32_i32 = int32(?*:page, int32:a, int32:b);
func:main = int32() {
    wildx int8->:code = wildx_alloc(64);
    fixed int32:w = npk_jit_install_add_i32(code);
    fixed int32:s = wildx_seal(code);
    fixed int32:sum = npk_jit_call_i32_i32(code, 40, 2);
    fixed int32:f = wildx_free(code);
    if (sum != 42) { exit 1; }
    exit 0;
};
)");
    INFO(npk::test::dump(*l));
    CHECK(l->diag.all().empty());
}

TEST_CASE("lifecycle: bug246 shape (a second seal) is clean statically", "[lifecycle][bugs]") {
    auto l = life(R"(func:main = int32() {
    wildx int8->:code = wildx_alloc(64);
    fixed int32:first = wildx_seal(code);
    fixed int32:again = wildx_seal(code);
    fixed int32:f = wildx_free(code);
    if (again != -1) { exit 1; }
    exit 0;
};
)");
    INFO(npk::test::dump(*l));
    CHECK(l->diag.all().empty());
}

TEST_CASE("lifecycle: bug247 shape (two wildx_free) is ARIA-022", "[lifecycle][bugs]") {
    const std::string src = R"(func:main = int32() {
    wildx int8->:code = wildx_alloc(64);
    fixed int32:s = wildx_seal(code);
    fixed int32:one = wildx_free(code);
    fixed int32:two = wildx_free(code);
    exit 0;
};
)";
    auto l = life(src);
    INFO(npk::test::dump(*l));
    CHECK(errors(*l) == 1);
    CHECK(npk::test::has_error(*l, "ARIA-022", 5, 23, "Double free of variable 'code' (already freed)"));
}

TEST_CASE("lifecycle: bug248 shape (wildx_alloc never freed) is ARIA-014", "[lifecycle][bugs]") {
    const std::string src = R"(func:main = int32() {
    wildx int8->:code = wildx_alloc(64);
    fixed int32:s = wildx_seal(code);
    exit 0;
};
)";
    auto l = life(src);
    INFO(npk::test::dump(*l));
    CHECK(errors(*l) == 1);
    CHECK(npk::test::has_error(*l, "ARIA-014", 4, 5, "wild variable 'code' was not freed"));
}

TEST_CASE("lifecycle: bug016-019 and bug100 shapes (wildx heap blocks)", "[lifecycle][bugs]") {
    // alloc then free, then exit: clean (bug016, bug100).
    auto ok = life(R"(func:main = int32() {
    wildx int8->:block = alloc(128);
    free(block);
    exit 0;
};
)");
    INFO(npk::test::dump(*ok));
    CHECK(ok->diag.all().empty());

    // never freed before exit: ARIA-014 (bug017).
    auto leak = life(R"(func:main = int32() {
    wildx int8->:block = alloc(64);
    exit 1;
};
)");
    INFO(npk::test::dump(*leak));
    CHECK(errors(*leak) == 1);
    CHECK(npk::test::has_error(*leak, "ARIA-014", 3, 5, "wild variable 'block' was not freed"));

    // a deferred free, then exit: clean although the defer never runs (bug018).
    auto deferred = life(R"(func:main = int32() {
    wildx int8->:block = alloc(64);
    defer { free(block); }
    exit 0;
};
)");
    INFO(npk::test::dump(*deferred));
    CHECK(deferred->diag.all().empty());

    // freed twice: ARIA-022 (bug019).
    auto twice = life(R"(func:main = int32() {
    wildx int8->:block = alloc(64);
    free(block);
    free(block);
    exit 1;
};
)");
    INFO(npk::test::dump(*twice));
    CHECK(errors(*twice) == 1);
    CHECK(npk::test::has_error(*twice, "ARIA-022", 4, 5, "Double free of variable 'block'"));
}

TEST_CASE("lifecycle: bug177/178 shapes (early exit with an explicit or deferred free)", "[lifecycle][bugs]") {
    // Freed on the early path and on the normal path: clean.
    auto early = life(R"(func:main = int32() {
    wildx int8->:block = alloc(64);
    fixed int32:rc = check(block);
    if (rc != 0) {
        free(block);
        exit 3;
    }
    free(block);
    exit 0;
};
)");
    INFO(npk::test::dump(*early));
    CHECK(early->diag.all().empty());

    // The deferred free covers every later exit, taken or not: clean.
    auto deferred = life(R"(func:main = int32() {
    wildx int8->:block = alloc(64);
    defer { free(block); }
    fixed int32:rc = check(block);
    if (rc != 0) { exit 3; }
    exit 0;
};
)");
    INFO(npk::test::dump(*deferred));
    CHECK(deferred->diag.all().empty());

    // Without it, the early exit leaks and says where.
    const std::string src = R"(func:main = int32() {
    wildx int8->:block = alloc(64);
    fixed int32:rc = check(block);
    if (rc != 0) { exit 3; }
    free(block);
    exit 0;
};
)";
    auto leak = life(src);
    INFO(npk::test::dump(*leak));
    CHECK(errors(*leak) == 1);
    CHECK(error_with_note(*leak, "ARIA-014", {4, 20},
                          "Memory leak on early exit: wild variable 'block' was not freed before "
                          "pass/fail/return/exit",
                          {2, 18}, "'block' declared here"));
}

// ---------------------------------------------------------------------
// The annotated programs tests/programs/life_*.npk, checked here with
// the lifecycle phase alone (npk check also needs the type checker).
// ---------------------------------------------------------------------

TEST_CASE("lifecycle: the annotated life_*.npk programs give their promised outcome",
          "[lifecycle][programs]") {
    namespace fs = std::filesystem;
    std::vector<fs::path> files;
    for (const auto& e : fs::directory_iterator(NPK_TEST_PROGRAMS_DIR)) {
        const std::string name = e.path().filename().string();
        if (name.rfind("life_", 0) == 0 && e.path().extension() == ".npk") files.push_back(e.path());
    }
    std::sort(files.begin(), files.end());
    REQUIRE(files.size() >= 10);
    const std::regex error_line(R"(^\s*//\s*expect:\s*error\s+(ARIA-[0-9]+)\s+at\s+([0-9]+):([0-9]+)\s*$)");
    const std::regex exit_line(R"(^\s*//\s*expect:\s*exit\s+([0-9]+)\s*$)");
    const std::regex text_line(R"re(^\s*//\s*expect:\s*error\s+"(.*)"\s*$)re");
    for (const auto& file : files) {
        std::ifstream in(file);
        std::stringstream text;
        text << in.rdbuf();
        const std::string src = text.str();
        std::string code, wanted_text;
        At want;
        bool expect_exit = false;
        std::istringstream lines(src);
        for (std::string line; std::getline(lines, line);) {
            std::smatch m;
            if (std::regex_match(line, m, error_line)) {
                code = m[1];
                want = {static_cast<uint32_t>(std::stoul(m[2])), static_cast<uint32_t>(std::stoul(m[3]))};
            } else if (std::regex_match(line, m, exit_line)) {
                expect_exit = true;
            } else if (std::regex_match(line, m, text_line)) {
                wanted_text = m[1];
            }
        }
        INFO(file.string());
        REQUIRE((expect_exit || !code.empty() || !wanted_text.empty()));
        auto l = life(src);
        INFO(npk::test::dump(*l));
        if (expect_exit) {
            CHECK(errors(*l) == 0);
        } else if (!code.empty()) {
            CHECK(npk::test::has_error(*l, code, want.line, want.col, ""));
        } else {
            CHECK(npk::test::has_error(*l, "", 0, 0, wanted_text));
        }
    }
}
