// The lifecycle checker (nitpick-subset.md §8.2): ARIA-014 leaks,
// ARIA-015 uses after free, ARIA-022 double frees.
//
// Each program is loaded (lex, parse, `use`), type checked for the facts
// the lifecycle check reads, and handed to check_lifecycle. Positions are found in the source text itself
// (`at`), so a test names the very token it expects the message on.
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>

#include "analysis/analyses.h"
#include "test_util.h"

namespace {

using npk::Severity;
using npk::test::Loaded;

struct At {
    uint32_t line = 0;
    uint32_t col = 0;
};

// Line and column of the nth occurrence (from 1) of `needle` in `src`.
At at(std::string_view src, std::string_view needle, int nth = 1) {
    size_t pos = std::string_view::npos;
    size_t from = 0;
    for (int i = 0; i < nth; ++i) {
        pos = src.find(needle, from);
        REQUIRE(pos != std::string_view::npos);
        from = pos + 1;
    }
    At a{1, 1};
    for (size_t i = 0; i < pos; ++i) {
        if (src[i] == '\n') {
            ++a.line;
            a.col = 1;
        } else {
            ++a.col;
        }
    }
    return a;
}

std::unique_ptr<Loaded> life(std::string_view src,
                             const std::vector<std::pair<std::string, std::string>>& extra = {},
                             bool strict = false) {
    auto l = npk::test::load_text(src, extra, strict);
    INFO(npk::test::dump(*l));
    REQUIRE(l->loaded);
    REQUIRE(l->diag.error_count() == 0);
    // The lifecycle check reads the type checker's facts (slots, callees).
    // Its own messages are what these tests are about, and the programs
    // stay small (no failsafe, a few undeclared helpers): the type
    // checker reports into a diagnostics list of its own.
    npk::Diagnostics type_diag(l->sources);
    l->sema = npk::check_types(l->prog, l->opts, type_diag);
    npk::check_lifecycle(l->prog, *l->sema, l->opts, l->diag);
    return l;
}

std::unique_ptr<Loaded> life_strict(std::string_view src,
                                    const std::vector<std::pair<std::string, std::string>>& extra = {}) {
    return life(src, extra, true);
}

size_t count(const Loaded& l, Severity s, std::string_view code = "") {
    return static_cast<size_t>(std::count_if(l.diag.all().begin(), l.diag.all().end(), [&](const auto& d) {
        return d.severity == s && (code.empty() || d.code == code);
    }));
}

size_t errors(const Loaded& l, std::string_view code = "") { return count(l, Severity::Error, code); }

bool has_error(const Loaded& l, std::string_view code, At a, std::string_view fragment) {
    return npk::test::has_error(l, code, a.line, a.col, fragment);
}

// The error (code, position, text) is followed, among its notes, by one
// at `n` whose text contains `note`.
bool error_with_note(const Loaded& l, std::string_view code, At a, std::string_view fragment, At n,
                     std::string_view note) {
    const auto& all = l.diag.all();
    for (size_t i = 0; i < all.size(); ++i) {
        const auto& d = all[i];
        if (d.severity == Severity::Note || d.code != code || d.loc.line != a.line || d.loc.col != a.col ||
            d.message.find(fragment) == std::string::npos)
            continue;
        for (size_t j = i + 1; j < all.size() && all[j].severity == Severity::Note; ++j)
            if (all[j].loc.line == n.line && all[j].loc.col == n.col &&
                all[j].message.find(note) != std::string::npos)
                return true;
    }
    return false;
}

constexpr std::string_view kDouble = "Double free of variable 'p' (already freed)";
constexpr std::string_view kUaf = "Use after free: variable 'p' was already freed";
constexpr std::string_view kUnknown =
    "Use of wild pointer 'p' with unknown state (may have been freed or moved in a branch)";
constexpr std::string_view kEarly =
    "Memory leak on early exit: wild variable 'p' was not freed before pass/fail/return/exit";
constexpr std::string_view kScope = "Memory leak: wild variable 'p' was not freed before scope exit";
constexpr std::string_view kConditional =
    "Defer block contains conditional/loop - free of 'p' may not execute on all paths";

}  // namespace

// ---------------------------------------------------------------------
// Tracked bindings
// ---------------------------------------------------------------------

TEST_CASE("lifecycle: a freed wild binding is clean", "[lifecycle]") {
    auto l = life(R"(func:main = int32() {
    wild int8->:p = alloc(16);
    free(p);
    exit 0;
};
)");
    INFO(npk::test::dump(*l));
    CHECK(l->diag.all().empty());
}

TEST_CASE("lifecycle: any initializer of a wild or wildx local makes it tracked", "[lifecycle]") {
    const std::string src = R"(func:make = wildx int8->() {
    wildx int8->:page = wildx_alloc(64);
    pass page;
};
func:main = int32() {
    wildx int8->:f = raw make();
    wild int64:n = 5;
    exit 0;
};
)";
    auto l = life(src);
    INFO(npk::test::dump(*l));
    CHECK(errors(*l, "ARIA-014") == 2);
    CHECK(has_error(*l, "ARIA-014", at(src, "exit 0;"), "wild variable 'f' was not freed"));
    CHECK(has_error(*l, "ARIA-014", at(src, "exit 0;"), "wild variable 'n' was not freed"));
}

TEST_CASE("lifecycle: locals without wild, without initializer, and parameters are not tracked",
          "[lifecycle]") {
    auto l = life(R"(func:use_param = int32(wild int8->:p) {
    free(p);
    free(p);
    pass 0;
};
func:main = int32() {
    int8->:q = alloc(16);
    wild int8->:z;
    fixed int32:rc = 0;
    free(q);
    free(q);
    exit rc;
};
)");
    INFO(npk::test::dump(*l));
    CHECK(l->diag.all().empty());
}

// ---------------------------------------------------------------------
// Release calls and ARIA-022
// ---------------------------------------------------------------------

TEST_CASE("lifecycle: a second free is ARIA-022 with a note at the first", "[lifecycle][aria022]") {
    const std::string src = R"(func:main = int32() {
    wild int8->:p = alloc(16);
    free(p);
    free(p);
    exit 0;
};
)";
    auto l = life(src);
    INFO(npk::test::dump(*l));
    REQUIRE(errors(*l) == 1);
    CHECK(npk::test::has_error(*l, "ARIA-022", 4, 5, kDouble));
    CHECK(error_with_note(*l, "ARIA-022", {4, 5}, kDouble, {3, 5}, "first freed here"));
    // The released argument is not also a use after free.
    CHECK(errors(*l, "ARIA-015") == 0);
}

TEST_CASE("lifecycle: every release name of §8.2 releases", "[lifecycle][aria022]") {
    const char* names[] = {"free",       "wildx_free",    "npk_free",    "dealloc",     "deallocate",
                           "destroy",    "close",         "dispose",     "cleanup",     "arena_reset",
                           "arena_destroy", "buffer_free", "string_free", "pool_free",  "file_close",
                           "tree_destroy", "lock_release", "_free"};
    for (const char* name : names) {
        const std::string n = name;
        const std::string src = "func:main = int32() {\n"
                                "    wild int8->:p = alloc(16);\n"
                                "    " + n + "(p);\n"
                                "    " + n + "(p);\n"
                                "    exit 0;\n"
                                "};\n" +
                                // Declared after main, so positions stay put.
                                (n == "free" || n == "wildx_free" ? "" : "extern func:" + n + " = void(?*:p);\n");
        auto l = life(src);
        INFO(name << "\n" << npk::test::dump(*l));
        CHECK(errors(*l) == 1);
        CHECK(error_with_note(*l, "ARIA-022", {4, 5}, kDouble, {3, 5}, "first freed here"));
    }
}

TEST_CASE("lifecycle: a Type method releases by its mangled name", "[lifecycle][aria022]") {
    const std::string src = R"(Type:Pool = {
    func:give_back = int32(wild int8->:p) { pass 0; };
    func:free = int32(wild int8->:p) { pass 0; };
};
func:main = int32() {
    wild int8->:p = alloc(16);
    drop Pool.free(p);
    drop Pool.free(p);
    wild int8->:q = alloc(16);
    drop Pool.give_back(q);
    exit 0;
};
)";
    auto l = life(src);
    INFO(npk::test::dump(*l));
    // Pool.free is Pool_free (ends in _free); Pool.give_back is no release.
    CHECK(has_error(*l, "ARIA-022", at(src, "Pool.free(p);", 2), kDouble));
    CHECK(has_error(*l, "ARIA-014", at(src, "exit 0;"), "wild variable 'q' was not freed"));
    CHECK(errors(*l) == 2);
}

TEST_CASE("lifecycle: names that only look like releases do not release", "[lifecycle]") {
    for (const char* name : {"freeze", "free_list", "releaser", "closer", "undestroy_now", "my_freer"}) {
        const std::string src = std::string("func:main = int32() {\n"
                                            "    wild int8->:p = alloc(16);\n"
                                            "    ") + name + "(p);\n"
                                "    exit 0;\n"
                                "};\n";
        auto l = life(src);
        INFO(name << "\n" << npk::test::dump(*l));
        CHECK(errors(*l) == 1);
        CHECK(npk::test::has_error(*l, "ARIA-014", 4, 5, kEarly));
    }
}

TEST_CASE("lifecycle: only a bare tracked first argument is released", "[lifecycle]") {
    const std::string src = R"(func:main = int32() {
    wild int8->:p = alloc(16);
    wild int8->:q = alloc(16);
    free(q, p);
    free(p);
    exit 0;
};
)";
    auto l = life(src);
    INFO(npk::test::dump(*l));
    // free(q, p) releases q only; p is an ordinary (live) argument there.
    CHECK(l->diag.all().empty());
}

TEST_CASE("lifecycle: freeing a maybe-released binding is ARIA-022", "[lifecycle][aria022]") {
    const std::string src = R"(func:main = int32(bool:c) {
    wild int8->:p = alloc(16);
    if (c) {
        free(p);
    }
    free(p);
    exit 0;
};
)";
    auto l = life(src);
    INFO(npk::test::dump(*l));
    CHECK(errors(*l) == 1);
    CHECK(npk::test::has_error(*l, "ARIA-022", 6, 5, kDouble));
    CHECK(error_with_note(*l, "ARIA-022", {6, 5}, kDouble, {4, 9}, "first freed here"));
}

// ---------------------------------------------------------------------
// Uses and ARIA-015
// ---------------------------------------------------------------------

TEST_CASE("lifecycle: uses of a live binding are clean", "[lifecycle][aria015]") {
    auto l = life(R"(extern func:npk_jit_install_add_i32 = int32(?*:page);
func:main = int32() {
    wildx int8->:p = wildx_alloc(64);
    fixed int32:w = npk_jit_install_add_i32(p);
    fixed int32:s = wildx_seal(p);
    int8->:alias = p;
    bool:same = p == alias;
    fixed int32:rc = wildx_free(p);
    exit 0;
};
)");
    INFO(npk::test::dump(*l));
    CHECK(l->diag.all().empty());
}

TEST_CASE("lifecycle: a use after free is ARIA-015 wherever it appears", "[lifecycle][aria015]") {
    const std::string head = "extern func:npk_jit_install_add_i32 = int32(?*:page);\n"
                             "func:f = int32(int32:n) {\n"
                             "    wild int8->:p = alloc(16);\n"
                             "    free(p);\n";
    const std::string tail = "    pass 0;\n};\n";
    struct Case {
        const char* stmt;
        const char* needle;  // the `p` the error points at
    };
    const Case cases[] = {
        {"    fixed int32:s = wildx_seal(p);\n", "p);"},
        {"    fixed int32:w = npk_jit_install_add_i32(p);\n", "p);"},
        {"    bool:b = p == p;\n", "p =="},
        {"    int8->:q = p;\n", "p;"},
        {"    wild int8->:q = p;\n    free(q);\n", "p;"},
        {"    drop p;\n", "p;"},
        {"    if (p != p) { pass 1; }\n", "p !="},
        {"    pass p;\n", "p;"},
        {"    fail p;\n", "p;"},
        {"    exit p;\n", "p;"},
    };
    for (const Case& c : cases) {
        const std::string src = head + c.stmt + tail;
        auto l = life(src);
        INFO(c.stmt << npk::test::dump(*l));
        const size_t line_start = head.size();
        At want = at(std::string_view(src).substr(line_start), c.needle);
        want.line += 4;
        CHECK(has_error(*l, "ARIA-015", want, kUaf));
        CHECK(error_with_note(*l, "ARIA-015", want, kUaf, {4, 5}, "freed here"));
        CHECK(errors(*l, "ARIA-022") == 0);
    }
}

TEST_CASE("lifecycle: a use after a free on one path reports the unknown state", "[lifecycle][aria015]") {
    const std::string src = R"(func:main = int32(bool:c) {
    wildx int8->:p = wildx_alloc(64);
    if (c) {
        fixed int32:rc = wildx_free(p);
    }
    fixed int32:s = wildx_seal(p);
    exit 0;
};
)";
    auto l = life(src);
    INFO(npk::test::dump(*l));
    CHECK(npk::test::has_error(*l, "ARIA-015", 6, 32, kUnknown));
    CHECK(error_with_note(*l, "ARIA-015", {6, 32}, kUnknown, {4, 26}, "may have been freed here"));
    // Still pending on the path that did not free it.
    CHECK(npk::test::has_error(*l, "ARIA-014", 7, 5, kEarly));
    CHECK(errors(*l) == 2);
}

TEST_CASE("lifecycle: the object of x.f is not a use", "[lifecycle][aria015]") {
    const std::string src = R"(struct:Cell = { int64:v; };
func:main = int32() {
    wild Cell:c = Cell{v: 1};
    free(c);
    int64:v = c.v;
    c.v = 2;
    exit 0;
};
)";
    auto l = life(src);
    INFO(npk::test::dump(*l));
    CHECK(l->diag.all().empty());
}

TEST_CASE("lifecycle: drop p is a use, not a release (deviation from upstream)", "[lifecycle][deviation]") {
    const std::string src = R"(func:main = int32() {
    wild int8->:p = alloc(16);
    drop p;
    exit 0;
};
)";
    auto l = life(src);
    INFO(npk::test::dump(*l));
    // Upstream counts `drop p` as freeing p; npk: it frees nothing, so p leaks.
    CHECK(errors(*l) == 1);
    CHECK(npk::test::has_error(*l, "ARIA-014", 4, 5, kEarly));

    const std::string after = R"(func:main = int32() {
    wild int8->:p = alloc(16);
    free(p);
    drop p;
    exit 0;
};
)";
    auto l2 = life(after);
    INFO(npk::test::dump(*l2));
    CHECK(errors(*l2) == 1);
    CHECK(npk::test::has_error(*l2, "ARIA-015", 4, 10, kUaf));
}

// ---------------------------------------------------------------------
// Leaks (ARIA-014)
// ---------------------------------------------------------------------

TEST_CASE("lifecycle: a leak at exit/pass/fail/return is reported at the statement", "[lifecycle][aria014]") {
    for (const char* leave : {"exit 1;", "pass 1;", "fail 1;", "return r;"}) {
        const std::string src = std::string("func:f = int32(Result<int32>:r) {\n"
                                            "    wild int8->:p = alloc(16);\n"
                                            "    ") + leave + "\n};\n";
        auto l = life(src);
        INFO(leave << "\n" << npk::test::dump(*l));
        CHECK(errors(*l) == 1);
        CHECK(npk::test::has_error(*l, "ARIA-014", 3, 5, kEarly));
        CHECK(error_with_note(*l, "ARIA-014", {3, 5}, kEarly, {2, 17}, "'p' declared here"));
    }
}

TEST_CASE("lifecycle: freed before the early exit is clean", "[lifecycle][aria014]") {
    auto l = life(R"(func:f = int32(bool:c) {
    wild int8->:p = alloc(16);
    if (c) {
        free(p);
        fail 2;
    }
    free(p);
    pass 0;
};
)");
    INFO(npk::test::dump(*l));
    CHECK(l->diag.all().empty());
}

TEST_CASE("lifecycle: an early exit reports every pending binding of every enclosing block once",
          "[lifecycle][aria014]") {
    const std::string src = R"(func:f = int32(bool:c) {
    wild int8->:p = alloc(16);
    wild int8->:done = alloc(16);
    free(done);
    {
        wild int8->:inner = alloc(8);
        if (c) {
            pass 1;
        }
        free(inner);
    }
    free(p);
    pass 0;
};
)";
    auto l = life(src);
    INFO(npk::test::dump(*l));
    CHECK(errors(*l) == 2);
    CHECK(has_error(*l, "ARIA-014", at(src, "pass 1;"), kEarly));
    CHECK(has_error(*l, "ARIA-014", at(src, "pass 1;"), "wild variable 'inner' was not freed before"));
    CHECK(error_with_note(*l, "ARIA-014", at(src, "pass 1;"), "'inner'", at(src, "inner = "),
                          "'inner' declared here"));
}

TEST_CASE("lifecycle: a leak at a block's end is reported at its closing brace", "[lifecycle][aria014]") {
    const std::string src = R"(func:main = int32() {
    {
        wild int8->:p = alloc(16);
    } // inner end
    exit 0;
};
)";
    auto l = life(src);
    INFO(npk::test::dump(*l));
    CHECK(errors(*l) == 1);
    CHECK(has_error(*l, "ARIA-014", at(src, "} // inner end"), kScope));
    CHECK(error_with_note(*l, "ARIA-014", at(src, "} // inner end"), kScope, at(src, "p = alloc"),
                          "'p' declared here"));
}

TEST_CASE("lifecycle: a function that falls off its end leaks at its closing brace", "[lifecycle][aria014]") {
    const std::string src = R"(func:f = NIL() {
    wild int8->:p = alloc(16);
};
)";
    auto l = life(src);
    INFO(npk::test::dump(*l));
    CHECK(errors(*l) == 1);
    CHECK(npk::test::has_error(*l, "ARIA-014", 3, 1, kScope));
}

TEST_CASE("lifecycle: a block ending in exit reports its leak once (deviation from upstream)",
          "[lifecycle][deviation]") {
    const std::string src = R"(func:main = int32() {
    wildx int8->:buffer = alloc(64);
    exit 1;
};
)";
    auto l = life(src);
    INFO(npk::test::dump(*l));
    // Upstream adds a second, scope-exit report for the same leak.
    CHECK(errors(*l) == 1);
    CHECK(npk::test::has_error(*l, "ARIA-014", 3, 5,
                               "Memory leak on early exit: wild variable 'buffer' was not freed"));
}

TEST_CASE("lifecycle: pass p / return p transfers ownership (deviation from upstream)",
          "[lifecycle][deviation]") {
    auto l = life(R"(func:make = wild int8->() {
    wild int8->:p = alloc(16);
    pass p;
};
func:wrap = wild int8->() {
    wild int8->:q = alloc(16);
    Result<int8->>:r = make();
    return q;
};
func:main = int32() {
    wild int8->:got = raw make();
    free(got);
    exit 0;
};
)");
    INFO(npk::test::dump(*l));
    CHECK(l->diag.all().empty());

    // Only a bare name moves: anything else is a use, and fail moves nothing.
    const std::string src = R"(func:g = int32() {
    wild int8->:p = alloc(16);
    pass raw use_it(p);
};
func:h = int32() {
    wild int8->:p = alloc(16);
    fail p;
};
)";
    auto l2 = life(src);
    INFO(npk::test::dump(*l2));
    CHECK(errors(*l2) == 2);
    CHECK(npk::test::has_error(*l2, "ARIA-014", 3, 5, kEarly));
    CHECK(npk::test::has_error(*l2, "ARIA-014", 7, 5, kEarly));
}

// ---------------------------------------------------------------------
// defer
// ---------------------------------------------------------------------

TEST_CASE("lifecycle: a deferred free discharges, and uses after it are fine (deviation)",
          "[lifecycle][defer][deviation]") {
    auto l = life(R"(extern func:npk_jit_call_i32_i32 = int32(?*:page, int32:a, int32:b);
func:main = int32() {
    wildx int8->:p = wildx_alloc(64);
    defer { fixed int32:rc = wildx_free(p); }
    fixed int32:s = wildx_seal(p);
    fixed int32:v = npk_jit_call_i32_i32(p, 1, 2);
    exit 0;
};
)");
    INFO(npk::test::dump(*l));
    // Upstream applies the defer at once and reports the seal as a use after free.
    CHECK(l->diag.all().empty());
}

TEST_CASE("lifecycle: an explicit free after a deferred one is ARIA-022", "[lifecycle][defer]") {
    const std::string src = R"(func:main = int32() {
    wild int8->:p = alloc(16);
    defer { free(p); }
    free(p);
    exit 0;
};
)";
    auto l = life(src);
    INFO(npk::test::dump(*l));
    CHECK(errors(*l) == 1);
    CHECK(npk::test::has_error(*l, "ARIA-022", 4, 5, kDouble));
    CHECK(error_with_note(*l, "ARIA-022", {4, 5}, kDouble, {3, 13}, "first freed here"));
}

TEST_CASE("lifecycle: a defer body is checked from the state at the defer", "[lifecycle][defer]") {
    const std::string src = R"(func:main = int32() {
    wild int8->:p = alloc(16);
    free(p);
    defer { free(p); }
    wild int8->:q = alloc(16);
    free(q);
    defer { drop q; }
    exit 0;
};
)";
    auto l = life(src);
    INFO(npk::test::dump(*l));
    CHECK(errors(*l) == 2);
    CHECK(npk::test::has_error(*l, "ARIA-022", 4, 13, kDouble));
    CHECK(npk::test::has_error(*l, "ARIA-015", 7, 18, "Use after free: variable 'q' was already freed"));
}

TEST_CASE("lifecycle: a defer body's effects do not flow past the defer", "[lifecycle][defer]") {
    // The body frees p only when the block ends, so nothing is freed yet
    // at the seal; the body's own binding is its own business.
    auto l = life(R"(func:main = int32() {
    wildx int8->:p = wildx_alloc(64);
    defer {
        wild int8->:scratch = alloc(8);
        free(scratch);
        fixed int32:rc = wildx_free(p);
    }
    fixed int32:s = wildx_seal(p);
    exit 0;
};
)");
    INFO(npk::test::dump(*l));
    CHECK(l->diag.all().empty());
}

TEST_CASE("lifecycle: a conditional free in a defer warns but discharges", "[lifecycle][defer]") {
    const std::string src = R"(func:main = int32(bool:c) {
    wild int8->:p = alloc(16);
    defer {
        if (c) {
            free(p);
        }
    }
    exit 0;
};
)";
    auto l = life(src);
    INFO(npk::test::dump(*l));
    CHECK(errors(*l) == 0);
    CHECK(count(*l, Severity::Warning) == 1);
    CHECK(npk::test::has_diag(*l, Severity::Warning, "", 3, 5, kConditional));
    CHECK(npk::test::has_diag(*l, Severity::Note, "", 5, 13, "'p' is freed here"));
}

TEST_CASE("lifecycle: a deferred free covers exit too", "[lifecycle][defer]") {
    auto l = life(R"(func:main = int32() {
    wildx int8->:p = alloc(64);
    defer { free(p); }
    exit 0;
};
)");
    INFO(npk::test::dump(*l));
    CHECK(l->diag.all().empty());
}

TEST_CASE("lifecycle: when a defer's block ends, what it freed is released", "[lifecycle][defer]") {
    const std::string src = R"(func:main = int32() {
    wild int8->:p = alloc(16);
    {
        defer { free(p); }
        drop p;
    }
    drop p;
    free(p);
    exit 0;
};
)";
    auto l = life(src);
    INFO(npk::test::dump(*l));
    CHECK(errors(*l) == 2);
    CHECK(npk::test::has_error(*l, "ARIA-015", 7, 10, kUaf));
    CHECK(error_with_note(*l, "ARIA-015", {7, 10}, kUaf, {4, 17}, "freed here"));
    CHECK(npk::test::has_error(*l, "ARIA-022", 8, 5, kDouble));
}

TEST_CASE("lifecycle: a conditional deferred free leaves the binding maybe-released", "[lifecycle][defer]") {
    const std::string src = R"(func:main = int32(bool:c) {
    wild int8->:p = alloc(16);
    {
        defer { if (c) { free(p); } }
    }
    drop p;
    exit 0;
};
)";
    auto l = life(src);
    INFO(npk::test::dump(*l));
    CHECK(npk::test::has_error(*l, "ARIA-015", 6, 10, kUnknown));
    CHECK(errors(*l) == 1);
}

TEST_CASE("lifecycle: two defers freeing one binding are a double free", "[lifecycle][defer]") {
    const std::string src = R"(func:main = int32() {
    wild int8->:p = alloc(16);
    defer { free(p); }
    defer { free(p); }
    exit 0;
};
)";
    auto l = life(src);
    INFO(npk::test::dump(*l));
    CHECK(errors(*l) == 1);
    CHECK(npk::test::has_error(*l, "ARIA-022", 4, 13, kDouble));
}

// ---------------------------------------------------------------------
// Branches
// ---------------------------------------------------------------------

TEST_CASE("lifecycle: freed in both arms is released", "[lifecycle][branch]") {
    const std::string src = R"(func:main = int32(bool:c) {
    wild int8->:p = alloc(16);
    if (c) {
        free(p);
    } else {
        free(p);
    }
    drop p;
    exit 0;
};
)";
    auto l = life(src);
    INFO(npk::test::dump(*l));
    CHECK(errors(*l) == 1);
    CHECK(npk::test::has_error(*l, "ARIA-015", 8, 10, kUaf));
}

TEST_CASE("lifecycle: a free on one arm only leaves the obligation pending", "[lifecycle][branch]") {
    const std::string src = R"(func:f = NIL(bool:c) {
    wild int8->:p = alloc(16);
    if (c) {
        free(p);
    }
};
)";
    auto l = life(src);
    INFO(npk::test::dump(*l));
    CHECK(errors(*l) == 1);
    CHECK(npk::test::has_error(*l, "ARIA-014", 6, 1, kScope));
}

TEST_CASE("lifecycle: an arm that leaves does not flow into the join (deviation)", "[lifecycle][branch][deviation]") {
    auto l = life(R"(func:main = int32() {
    wildx int8->:p = wildx_alloc(64);
    fixed int32:rc = wildx_seal(p);
    if (rc != 0) {
        fixed int32:a = wildx_free(p);
        exit 2;
    }
    fixed int32:b = wildx_seal(p);
    fixed int32:c = wildx_free(p);
    exit 0;
};
)");
    INFO(npk::test::dump(*l));
    // Upstream merges the leaving arm and rejects the second seal.
    CHECK(l->diag.all().empty());
}

TEST_CASE("lifecycle: when both arms leave, the code after the if starts from the state before it",
          "[lifecycle][branch][deviation]") {
    auto l = life(R"(func:f = int32(bool:c) {
    wild int8->:p = alloc(16);
    if (c) {
        free(p);
        pass 1;
    } else {
        free(p);
        fail 2;
    }
    free(p);
    pass 0;
};
)");
    INFO(npk::test::dump(*l));
    CHECK(l->diag.all().empty());
}

TEST_CASE("lifecycle: else-if chains and unbraced arms", "[lifecycle][branch]") {
    auto clean = life(R"(func:f = NIL(int32:k) {
    wild int8->:p = alloc(16);
    if (k == 0) free(p);
    else if (k == 1) { free(p); }
    else free(p);
};
)");
    INFO(npk::test::dump(*clean));
    CHECK(clean->diag.all().empty());

    const std::string src = R"(func:f = NIL(int32:k) {
    wild int8->:p = alloc(16);
    if (k == 0) free(p);
    else if (k == 1) { drop k; }
    else free(p);
    drop p;
};
)";
    auto l = life(src);
    INFO(npk::test::dump(*l));
    CHECK(npk::test::has_error(*l, "ARIA-015", 6, 10, kUnknown));
    CHECK(npk::test::has_error(*l, "ARIA-014", 7, 1, kScope));
    CHECK(errors(*l) == 2);
}

TEST_CASE("lifecycle: an unbraced arm is a scope of its own", "[lifecycle][branch]") {
    const std::string src = R"(func:f = NIL(bool:c) {
    if (c) wild int8->:p = alloc(16);
    wild int8->:q = alloc(16);
    if (c) defer { free(q); }
    drop q;
    free(q);
};
)";
    auto l = life(src);
    INFO(npk::test::dump(*l));
    // p's scope is the arm; the defer runs when the arm ends, so q may be freed.
    CHECK(npk::test::has_error(*l, "ARIA-014", 2, 12, kScope));
    CHECK(npk::test::has_error(*l, "ARIA-015", 5, 10,
                               "Use of wild pointer 'q' with unknown state"));
    CHECK(npk::test::has_error(*l, "ARIA-022", 6, 5, "Double free of variable 'q' (already freed)"));
    CHECK(errors(*l) == 3);
}

TEST_CASE("lifecycle: a free behind && or || happens on some path only", "[lifecycle][branch]") {
    const std::string src = R"(func:f = NIL(bool:c) {
    wildx int8->:p = wildx_alloc(64);
    bool:gone = c && wildx_free(p) == 0;
    fixed int32:rc = wildx_free(p);
};
)";
    auto l = life(src);
    INFO(npk::test::dump(*l));
    CHECK(errors(*l) == 1);
    CHECK(npk::test::has_error(*l, "ARIA-022", 4, 22, kDouble));
}

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
    CHECK(errors(*l) == 1);
    CHECK(npk::test::has_error(*l, "ARIA-015", 5, 25, kUaf));
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
    for (const auto& file : files) {
        std::ifstream in(file);
        std::stringstream text;
        text << in.rdbuf();
        const std::string src = text.str();
        std::string code;
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
            }
        }
        INFO(file.string());
        REQUIRE((expect_exit || !code.empty()));
        auto l = life(src);
        INFO(npk::test::dump(*l));
        if (expect_exit) {
            CHECK(errors(*l) == 0);
        } else {
            CHECK(npk::test::has_error(*l, code, want.line, want.col, ""));
        }
    }
}
